//! The tuner's callbacks inside a hypermodel's `fit` written in JavaScript. KerasTuner passes
//! its callbacks (best-epoch checkpoint, resume points, the search's hooks) to `hypermodel.fit`
//! in `callbacks`, and the user's fit hands them on to `model.fit`. Here they are Rust values
//! borrowed by the trial's `fit_async`, so JavaScript gets a link (a number) instead: a
//! `model.fit` whose callbacks hold it sends its fit back through the link, and the trial's
//! `fit_async`, which holds the callbacks, runs that fit with them and answers. Nothing is
//! trained twice and nothing outlives the trial: a link used after its fit returned is an error.

use crate::error::{Error, Result};
use crate::nn::callbacks::Callback;
use crate::nn::history::History;
use crate::nn::model::{FitArgs, Sequential};
use crate::tensor::Tensor;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A `model.fit` that JavaScript asked for with the tuner's callbacks.
pub(crate) struct FitRequest {
    pub model: Sequential,
    pub x: Tensor,
    pub y: Tensor,
    pub args: FitArgs,
    /// The user's own callbacks of that fit (they run before the tuner's, as in KerasTuner).
    pub callbacks: Vec<Box<dyn Callback>>,
    pub reply: Rc<Reply>,
}

/// Where the answer to a [`FitRequest`] goes: the model back, and the fit's outcome.
#[derive(Default)]
pub(crate) struct Reply {
    slot: RefCell<Option<(Option<Sequential>, Result<History>)>>,
    waker: RefCell<Option<Waker>>,
}

impl Reply {
    pub(crate) fn send(&self, model: Option<Sequential>, r: Result<History>) {
        *self.slot.borrow_mut() = Some((model, r));
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Waits for the answer.
    pub(crate) async fn recv(self: Rc<Self>) -> (Option<Sequential>, Result<History>) {
        std::future::poll_fn(move |cx| match self.slot.borrow_mut().take() {
            Some(v) => Poll::Ready(v),
            None => {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// One trial's link: the fits JavaScript sent, and the trial's waker.
#[derive(Default)]
pub(crate) struct Link {
    queue: RefCell<VecDeque<Box<FitRequest>>>,
    waker: RefCell<Option<Waker>>,
}

thread_local! {
    static LINKS: RefCell<HashMap<u32, Rc<Link>>> = RefCell::new(HashMap::new());
    static NEXT: Cell<u32> = const { Cell::new(1) };
}

/// Sends a fit through link `id`; the error when the link is gone (its trial's fit returned).
pub(crate) fn send(id: u32, req: Box<FitRequest>) -> std::result::Result<(), Box<FitRequest>> {
    let Some(link) = LINKS.with(|l| l.borrow().get(&id).cloned()) else {
        return Err(req);
    };
    link.queue.borrow_mut().push_back(req);
    if let Some(w) = link.waker.borrow_mut().take() {
        w.wake();
    }
    Ok(())
}

/// The message for a link used outside its trial's fit.
pub(crate) fn gone() -> Error {
    Error::state(
        "the tuner's callbacks (a HyperModel fit's options.callbacks) were used after that fit returned: \
         await model.fit inside the HyperModel's fit",
    )
}

/// A registered link, unregistered (and its unanswered fits refused) when dropped.
pub(crate) struct Registered {
    pub id: u32,
    link: Rc<Link>,
}

impl Registered {
    pub(crate) fn new() -> Self {
        let id = NEXT.with(|n| {
            let id = n.get();
            n.set(id.wrapping_add(1).max(1));
            id
        });
        let link = Rc::new(Link::default());
        LINKS.with(|l| l.borrow_mut().insert(id, link.clone()));
        Registered { id, link }
    }

    /// Awaits `js` (the JavaScript fit's promise) while running, with `callbacks` after the
    /// user's, every fit it sends through this link.
    pub(crate) async fn serve<F: Future + Unpin>(
        &self,
        mut js: F,
        callbacks: &mut [&mut dyn Callback],
    ) -> F::Output {
        enum Next<T> {
            Done(T),
            Fit(Box<FitRequest>),
        }
        loop {
            let next = std::future::poll_fn(|cx: &mut Context<'_>| {
                if let Poll::Ready(v) = Pin::new(&mut js).poll(cx) {
                    return Poll::Ready(Next::Done(v));
                }
                if let Some(r) = self.link.queue.borrow_mut().pop_front() {
                    return Poll::Ready(Next::Fit(r));
                }
                *self.link.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            })
            .await;
            match next {
                Next::Done(v) => return v,
                Next::Fit(req) => {
                    let FitRequest {
                        mut model,
                        x,
                        y,
                        args,
                        callbacks: mut own,
                        reply,
                    } = *req;
                    let mut cbs: Vec<&mut dyn Callback> = own
                        .iter_mut()
                        .map(|c| c.as_mut() as &mut dyn Callback)
                        .collect();
                    for c in callbacks.iter_mut() {
                        cbs.push(&mut **c);
                    }
                    let r = model.fit_async(&x, &y, &args, &mut cbs).await;
                    reply.send(Some(model), r);
                }
            }
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        LINKS.with(|l| l.borrow_mut().remove(&self.id));
        for req in self.link.queue.borrow_mut().drain(..) {
            req.reply.send(Some(req.model), Err(gone()));
        }
    }
}

//! The small async runtime every layer shares: a thread-local `block_on` for native callers,
//! a poll-once `run_ready`, `yield_now` (one turn of the browser's event loop), `join_all`
//! over non-`Send` futures, and a one-shot channel (the GPU's buffer-mapping callbacks).
//! Nothing here knows about the GPU, the CPU path or the tuner.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A boxed future that need not be `Send` (JavaScript promises are not).
pub type LocalFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

/// Awaits every future, polling each until it is ready; the outputs in the futures' order.
pub async fn join_all<T>(futures: Vec<LocalFuture<'static, T>>) -> Vec<T> {
    let mut slots: Vec<(LocalFuture<'static, T>, Option<T>)> =
        futures.into_iter().map(|f| (f, None)).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (f, out) in slots.iter_mut() {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            return std::task::Poll::Pending;
        }
        std::task::Poll::Ready(slots.iter_mut().filter_map(|(_, o)| o.take()).collect())
    })
    .await
}

/// Lets the host's event loop run once (a task in the browser, so pages repaint and IndexedDB
/// writes complete); nothing natively. A MessageChannel message rather than `setTimeout(0)`:
/// browsers clamp nested timers to 4 ms, which would cost 4 ms per epoch.
pub async fn yield_now() {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::JsValue;
        let p = js_sys::Promise::new(&mut |resolve, _| {
            let global = js_sys::global();
            let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &k.into()).ok();
            // new MessageChannel(); port1.onmessage = resolve; port2.postMessage(0)
            let channel = get(&global, "MessageChannel")
                .and_then(|c| c.dyn_into::<js_sys::Function>().ok())
                .and_then(|c| js_sys::Reflect::construct(&c, &js_sys::Array::new()).ok());
            if let Some(ch) = channel {
                if let (Some(p1), Some(p2)) = (get(&ch, "port1"), get(&ch, "port2")) {
                    // close the port once the message is in: an open port keeps Node alive
                    let (port, done) = (p1.clone(), resolve.clone());
                    let on_message = wasm_bindgen::closure::Closure::once_into_js(move || {
                        if let Some(close) = js_sys::Reflect::get(&port, &"close".into())
                            .ok()
                            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                        {
                            let _ = close.call0(&port);
                        }
                        let _ = done.call0(&JsValue::NULL);
                    });
                    let _ = js_sys::Reflect::set(&p1, &"onmessage".into(), &on_message);
                    if let Some(post) =
                        get(&p2, "postMessage").and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                    {
                        if post.call1(&p2, &JsValue::from(0)).is_ok() {
                            return;
                        }
                    }
                }
            }
            let timer =
                get(&global, "setTimeout").and_then(|f| f.dyn_into::<js_sys::Function>().ok());
            match timer {
                Some(f) => {
                    let _ = f.call2(&global, &resolve, &JsValue::from(0));
                }
                None => {
                    let _ = resolve.call0(&JsValue::NULL);
                }
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    }
}

/// Runs a future to completion on this thread (native callers of the async GPU API).
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

/// Polls a future once: its output when it is ready at once (nothing awaited a host event),
/// else `None`. The browser's blocking APIs use it for work that only the CPU touches.
pub fn run_ready<F: Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

type Slot<T> = Arc<Mutex<(Option<T>, Option<Waker>, bool)>>;

/// The sending half of [`oneshot`].
pub(crate) struct Sender<T>(Slot<T>);
/// The receiving half of [`oneshot`]: a future of the value.
pub(crate) struct Receiver<T>(Slot<T>);

/// A channel for one value, awaited on the receiving side.
pub(crate) fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let s: Slot<T> = Arc::new(Mutex::new((None, None, false)));
    (Sender(s.clone()), Receiver(s))
}

impl<T> Sender<T> {
    pub(crate) fn send(self, v: T) {
        let waker = {
            let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
            g.0 = Some(v);
            g.2 = true;
            g.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
            g.2 = true;
            g.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    /// `None` when the sender went away without sending.
    type Output = Option<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = g.0.take() {
            return Poll::Ready(Some(v));
        }
        if g.2 {
            return Poll::Ready(None);
        }
        g.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

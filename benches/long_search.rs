//! A long search (issue 9): 1,000 trials of small models, stored on disk as the CLI stores
//! them, sampling the process's resident memory (VmRSS) and the GPU buffers the engine holds
//! every 100 trials. Memory must be flat after the warm-up: the figure is the growth from trial
//! 100 to the last, which should stay under 5%. The live heap (bytes allocated and not freed,
//! counted by this bench's allocator) shows what the process keeps, apart from the allocator's
//! own slack.
//!
//! Run: `cargo bench --bench long_search` (CPU), `LONG_DEVICE=webgpu cargo bench --bench
//! long_search` (wgpu: a GPU, or llvmpipe where there is none), `LONG_TRIALS=N` to change the
//! count. Linux only (it reads /proc/self/status).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tunelab::gpu::Device;
use tunelab::hp::{HyperParameters, Sampling};
use tunelab::nn::*;
use tunelab::tuner::*;
use tunelab::{data, Result};

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn heap_kib() -> u64 {
    (LIVE.load(Ordering::Relaxed) / 1024) as u64
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn model(hp: &mut HyperParameters) -> Result<Sequential> {
    let units = hp.int("units", 4, 64).get()? as usize;
    let act = hp
        .choice("activation", vec!["relu".into(), "tanh".into()])
        .get()?;
    let lr = hp.float("lr", 1e-4, 1e-1).sampling(Sampling::Log).get()?;
    let mut m = Sequential::new();
    m.add(Dense::new(units).activation(Activation::parse(act.as_str().unwrap_or("relu"))?));
    m.add(Dense::new(1).activation(Activation::Sigmoid));
    m.compile(
        Optimizer::from_name("adam")?.learning_rate(lr as f32),
        Loss::from_name("binary_crossentropy")?,
        &["accuracy"],
    )?;
    Ok(m)
}

/// (trials ended, RSS KiB, live heap KiB, GPU buffers held after the trial, most held while
/// training)
type Sample = (usize, u64, u64, usize, usize);

/// Samples memory every `every` trials.
struct Sampler {
    done: usize,
    every: usize,
    busiest: usize,
    samples: std::rc::Rc<std::cell::RefCell<Vec<Sample>>>,
}

impl TunerHooks for Sampler {
    fn on_epoch_end(&mut self, _trial: &Trial, _epoch: usize, _logs: &Logs) {
        self.busiest = self.busiest.max(tunelab::gpu::live_buffers());
    }
    fn on_trial_end(&mut self, _trial: &Trial) {
        self.done += 1;
        if self.done.is_multiple_of(self.every) {
            self.samples.borrow_mut().push((
                self.done,
                rss_kib(),
                heap_kib(),
                tunelab::gpu::live_buffers(),
                self.busiest,
            ));
            self.busiest = 0;
        }
    }
}

fn main() -> Result<()> {
    let trials: usize = std::env::var("LONG_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let device = Device::parse(&std::env::var("LONG_DEVICE").unwrap_or_else(|_| "cpu".into()))?;
    let ds = data::builtin("circle", 10.0, 1)?;
    let dir = std::env::temp_dir().join(format!("tunelab-long-{}", std::process::id()));
    let mut t = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(model)),
        None,
        TunerConfig {
            oracle: OracleConfig {
                objective: ObjectiveSpec::Single(Objective::parse("val_accuracy")?),
                max_trials: Some(trials),
                seed: 1,
                ..Default::default()
            },
            directory: Some(dir.clone()),
            project_name: "long".into(),
            overwrite: true,
            device,
            ..Default::default()
        },
    )?;
    let samples = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let every = (trials / 10).max(1);
    t.add_hooks(Box::new(Sampler {
        done: 0,
        every,
        busiest: 0,
        samples: samples.clone(),
    }));
    let args = FitArgs {
        epochs: 1,
        batch_size: Some(32),
        validation_split: 0.2,
        verbose: 0,
        ..Default::default()
    };
    let start_rss = rss_kib();
    let t0 = Instant::now();
    t.search(&ds.x, &ds.y, &args)?;
    let secs = t0.elapsed().as_secs_f64();
    let (label, _) = t.device();
    println!(
        "long search: {} trials on {label}, {secs:.1} s ({:.1} ms a trial); RSS before the search {:.1} MiB",
        t.oracle.trial_count(),
        1e3 * secs / t.oracle.trial_count() as f64,
        start_rss as f64 / 1024.0
    );
    println!(
        "{:>8} {:>10} {:>10} {:>20} {:>20}",
        "trials", "RSS MiB", "heap KiB", "GPU buffers after", "GPU buffers training"
    );
    let s = samples.borrow();
    for (n, rss, heap, bufs, busy) in s.iter() {
        println!(
            "{n:>8} {:>10.2} {heap:>10} {bufs:>20} {busy:>20}",
            *rss as f64 / 1024.0
        );
    }
    if let (Some(first), Some(last)) = (s.first(), s.last()) {
        let growth = 100.0 * (last.1 as f64 - first.1 as f64) / first.1 as f64;
        let per_trial = 1024.0 * (last.2 as f64 - first.2 as f64) / (last.0 - first.0) as f64;
        println!(
            "growth after warm-up (trial {} -> {}): RSS {growth:+.1}%, live heap {per_trial:+.0} bytes a trial, GPU buffers {} -> {}",
            first.0, last.0, first.3, last.3
        );
        println!(
            "{}",
            if growth < 5.0 && last.3 <= first.3 && last.4 <= first.4 {
                "flat: under 5%"
            } else {
                "NOT flat"
            }
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

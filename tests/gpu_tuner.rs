//! The tuner on the GPU: trials batched into one group give the same trials and scores as
//! the CPU search (RandomSearch with executions, Hyperband's brackets), `auto` explains why it
//! took the CPU, and every trial records its device. Skipped loudly without an adapter.
#![cfg(not(target_arch = "wasm32"))]

use tunelab::data;
use tunelab::gpu::{Device, Gpu};
use tunelab::hp::{HyperParameters, Sampling};
use tunelab::nn::*;
use tunelab::tuner::*;
use tunelab::{Result, Tensor};

mod common;
use common::gpu;

fn digits() -> (Tensor, Tensor) {
    let ds = data::builtin("digits", 0.0, 0).unwrap();
    let y = data::one_hot(&ds.y, Some(10)).unwrap();
    (ds.x.slice_rows(0, 400), y.slice_rows(0, 400))
}

fn build(hp: &mut HyperParameters) -> Result<Sequential> {
    let mut m = Sequential::new();
    for i in 0..hp.int("layers", 1, 2).get()? {
        let units = hp.int(&format!("units_{i}"), 8, 64).step(8).get()?;
        let act = hp.choice("act", vec!["relu".into(), "tanh".into()]).get()?;
        m.add(
            Dense::new(units as usize)
                .activation(Activation::parse(act.as_str().unwrap_or("relu"))?),
        );
    }
    if hp.boolean("dropout").get()? {
        m.add(Dropout::new(0.2));
    }
    m.add(Dense::new(10).activation(Activation::Softmax));
    let lr = hp.float("lr", 1e-3, 3e-2).sampling(Sampling::Log).get()?;
    m.compile(
        Optimizer::from_name("adam")?.learning_rate(lr as f32),
        Loss::from_name("categorical_crossentropy")?,
        &["accuracy"],
    )?;
    Ok(m)
}

fn search(
    algorithm: Box<dyn Algorithm>,
    device: Device,
    executions: usize,
    max_trials: Option<usize>,
) -> Tuner {
    search_scheduled(algorithm, device, executions, max_trials, None)
}

fn search_scheduled(
    algorithm: Box<dyn Algorithm>,
    device: Device,
    executions: usize,
    max_trials: Option<usize>,
    schedule: Option<Schedule>,
) -> Tuner {
    let (x, y) = digits();
    let config = TunerConfig {
        oracle: OracleConfig {
            objective: ObjectiveSpec::Single(Objective::parse("val_loss").unwrap()),
            max_trials,
            seed: 3,
            ..Default::default()
        },
        executions_per_trial: executions,
        device,
        parallel_trials: Some(4),
        schedule,
        ..Default::default()
    };
    let mut t = Tuner::new(algorithm, Box::new(FnHyperModel(build)), None, config).unwrap();
    let args = FitArgs {
        epochs: 3,
        batch_size: Some(40),
        verbose: 0,
        validation_split: 0.25,
        ..Default::default()
    };
    t.search(&x, &y, &args).unwrap();
    t
}

fn assert_same_search(cpu: &Tuner, gpu: &Tuner) {
    assert_eq!(cpu.oracle.trial_count(), gpu.oracle.trial_count());
    for (a, b) in cpu
        .oracle
        .trials()
        .unwrap()
        .iter()
        .zip(&gpu.oracle.trials().unwrap())
    {
        assert_eq!(
            a.hyperparameters.values(),
            b.hyperparameters.values(),
            "trial {}",
            a.trial_id
        );
        assert_eq!(a.status, b.status, "trial {}", a.trial_id);
        let (sa, sb) = (a.score.unwrap(), b.score.unwrap());
        assert!(
            (sa - sb).abs() <= 2e-3 * sa.abs().max(1e-3),
            "trial {}: cpu {sa} vs gpu {sb}",
            a.trial_id
        );
        assert_eq!(a.device.as_deref(), Some("cpu"));
        assert!(
            b.device.as_deref().unwrap_or("").starts_with("webgpu"),
            "{:?}",
            b.device
        );
    }
}

#[test]
fn random_search_in_batches_matches_the_cpu_search() {
    if gpu().is_none() {
        return;
    }
    let cpu = search(Box::new(RandomSearch), Device::Cpu, 2, Some(6));
    let gpu = search(Box::new(RandomSearch), Device::Webgpu, 2, Some(6));
    assert_same_search(&cpu, &gpu);
    // 4 trials x 2 executions at once
    assert!(Gpu::shared().unwrap().largest_group() >= 8);
    assert!(gpu.device().0.starts_with("webgpu"));
}

#[test]
fn hyperband_brackets_in_batches_match_the_cpu_search() {
    if gpu().is_none() {
        return;
    }
    let hb = || Box::new(Hyperband::new(4, 2, Some(1)).unwrap());
    let cpu = search(hb(), Device::Cpu, 1, None);
    let gpu = search(hb(), Device::Webgpu, 1, None);
    assert!(
        cpu.oracle.trial_count() >= 6,
        "{}",
        cpu.oracle.trial_count()
    );
    assert_same_search(&cpu, &gpu);
}

#[test]
fn auto_says_why_it_chose_the_cpu() {
    let Some(g) = gpu() else { return };
    let t = search(Box::new(RandomSearch), Device::Auto, 1, Some(1));
    let (label, note) = t.device();
    if !tunelab::gpu::hardware_possible() {
        // No GPU device node: auto does not even probe the (software) adapter.
        assert_eq!(label, "cpu");
        let note = note.unwrap();
        assert!(note.contains("no GPU device"), "{note}");
    } else if g.is_software() {
        assert_eq!(label, "cpu");
        let note = note.unwrap();
        assert!(
            note.contains("software") && note.contains(&g.info().name),
            "{note}"
        );
    } else {
        assert!(label.starts_with("webgpu"), "{label}");
    }
}

/// ASHA's asynchronous pool on the GPU (4 trainings side by side on the device, each worker
/// taking the next trial as it frees up), in simulated time: the same trials and scores as the
/// CPU's pool of threads.
#[test]
fn asha_in_the_deterministic_pool_matches_the_cpu_pool() {
    if gpu().is_none() {
        return;
    }
    let asha = || Box::new(Asha::new(3, 3).unwrap());
    let det = Some(Schedule::Deterministic);
    let cpu = search_scheduled(asha(), Device::Cpu, 1, Some(8), det);
    let gpu = search_scheduled(asha(), Device::Webgpu, 1, Some(8), det);
    assert_eq!(cpu.oracle.trial_count(), 8);
    assert_same_search(&cpu, &gpu);
}

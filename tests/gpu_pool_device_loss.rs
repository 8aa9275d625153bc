//! A GPU lost in the middle of a search in the asynchronous pool (a thread per worker, each
//! submitting its own work to the GPU): the interrupted trials go on on the CPU from their last
//! completed epoch, no trial is lost, and the results say where each trial ran. (Its own test
//! binary: the simulated loss is process-wide.)
#![cfg(not(target_arch = "wasm32"))]

mod common;

use tunelab::data;
use tunelab::gpu::{Device, Gpu};
use tunelab::hp::HyperParameters;
use tunelab::nn::*;
use tunelab::tuner::*;
use tunelab::Result;

struct LoseGpuAt {
    trial: usize,
    epoch: usize,
    done: bool,
}

impl TunerHooks for LoseGpuAt {
    fn on_epoch_end(&mut self, trial: &Trial, epoch: usize, _logs: &Logs) {
        if !self.done
            && trial.trial_id.parse::<usize>().ok() == Some(self.trial)
            && epoch == self.epoch
        {
            self.done = true;
            Gpu::shared().unwrap().simulate_loss();
        }
    }
}

fn build(hp: &mut HyperParameters) -> Result<Sequential> {
    let mut m = Sequential::new();
    m.add(Dense::new(hp.int("units", 4, 32).step(4).get()? as usize).activation(Activation::Relu));
    m.add(Dense::new(1).activation(Activation::Sigmoid));
    m.compile(
        Optimizer::from_name("adam")?.learning_rate(0.02),
        Loss::from_name("bce")?,
        &["accuracy"],
    )?;
    Ok(m)
}

#[test]
fn a_lost_gpu_sends_the_pool_on_to_the_cpu() {
    if common::gpu().is_none() {
        return;
    }
    let ds = data::builtin("xor", 0.1, 2).unwrap();
    let config = TunerConfig {
        oracle: OracleConfig {
            objective: ObjectiveSpec::Single(Objective::parse("val_accuracy").unwrap()),
            max_trials: Some(6),
            seed: 9,
            ..Default::default()
        },
        device: Device::Webgpu,
        parallel_trials: Some(2),
        schedule: Some(Schedule::Deterministic),
        ..Default::default()
    };
    let mut t = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(build)),
        None,
        config,
    )
    .unwrap();
    t.add_hooks(Box::new(LoseGpuAt {
        trial: 2,
        epoch: 1,
        done: false,
    }));
    let args = FitArgs {
        epochs: 4,
        verbose: 0,
        validation_split: 0.2,
        ..Default::default()
    };
    t.search(&ds.x, &ds.y, &args).unwrap();
    let trials = &t.oracle.trials().unwrap();
    assert_eq!(trials.len(), 6);
    assert!(
        trials.iter().all(|tr| tr.status == TrialStatus::Completed),
        "{:?}",
        trials
            .iter()
            .map(|t| (&t.status, &t.message))
            .collect::<Vec<_>>()
    );
    // trial 0 ended before trial 2 began (in simulated time it is the first to end); the
    // loss comes when the tuner's thread relays trial 2's epoch (its thread may have gone on),
    // and the last trials, begun after it, ran on the CPU
    let on = |i: usize| trials[i].device.clone().unwrap();
    assert!(on(0).starts_with("webgpu"), "{}", on(0));
    assert_eq!(on(5), "cpu");
    for tr in trials {
        // every trial has its 4 epochs of history, the interrupted ones too
        assert_eq!(
            tr.curves[0]
                .iter()
                .find(|(k, _)| k == "loss")
                .unwrap()
                .1
                .len(),
            4,
            "{}",
            tr.trial_id
        );
    }
    let (label, note) = t.device();
    assert_eq!(label, "cpu");
    assert!(note.unwrap().contains("lost"), "{note:?}");
    assert!(t.output().contains("Retrying on the CPU"));
}

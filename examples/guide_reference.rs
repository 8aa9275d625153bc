//! The KerasTuner getting-started search (digits, RandomSearch, objective val_accuracy,
//! 3 trials x 2 executions x 2 epochs, seed 1) run natively, printing
//! `{"search_space_summary": ..., "results_summary": ...}`: the reference the JavaScript tests
//! compare the npm package's texts with. Storage goes to a temporary directory, shown as
//! `my_dir/helloworld` as in the guide.

use tunelab::data;
use tunelab::nn::*;
use tunelab::tuner::*;
use tunelab::Result;

#[path = "support/guide_model.rs"]
mod guide_model;
use guide_model::build_model;

fn main() -> Result<()> {
    let ds = data::builtin("digits", 0.0, 0)?;
    let y = data::one_hot(&ds.y, Some(10))?;
    let full = data::Dataset::new(ds.x, y)?;
    let (train, val) = data::split_validation(&full, 0.2)?;
    let dir = std::env::temp_dir().join(format!("tunelab-guide-ref-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| tunelab::Error::Io(e.to_string()))?;
    std::env::set_current_dir(&dir).map_err(|e| tunelab::Error::Io(e.to_string()))?;
    let config = TunerConfig {
        oracle: OracleConfig {
            objective: ObjectiveSpec::Single(Objective::parse("val_accuracy")?),
            max_trials: Some(3),
            seed: 1,
            ..Default::default()
        },
        executions_per_trial: 2,
        directory: Some("my_dir".into()),
        project_name: "helloworld".into(),
        overwrite: true,
        ..Default::default()
    };
    let mut tuner = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(build_model)),
        None,
        config,
    )?;
    let space = tuner.search_space_summary();
    let args = FitArgs {
        epochs: 2,
        verbose: 0,
        validation_data: Some(ValidationData {
            x: val.x,
            y: val.y,
            sample_weight: None,
        }),
        ..Default::default()
    };
    tuner.search(&train.x, &train.y, &args)?;
    let out = serde_json::json!({
        "search_space_summary": space,
        "results_summary": tuner.results_summary(10).unwrap(),
    });
    println!("{out}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

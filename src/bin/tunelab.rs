//! The `tunelab` command line: `tunelab fit SPEC ...` trains a model described as JSON on a
//! built-in data set or on CSV / .npy files and prints Keras-style progress (or JSON);
//! `tunelab tune SPEC ...` searches the hyperparameters in the spec with KerasTuner's
//! algorithms and prints its live display and results summary (or JSON).
//!
//! The arguments are parsed by clap (derive). Exit codes: 0 on success, 2 for a usage error
//! (clap's own, or an option value this program refuses before doing any work), 1 when the work
//! itself fails (a file that cannot be read, a spec that does not build, a training or search
//! that fails, a database that cannot be reached).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use serde_json::{json, Value};
use tunelab::data::playground::{Playground, FEATURE_NAMES};
use tunelab::data::{self, csv, npy, Dataset};
use tunelab::gpu::{Device, Resolved};
use tunelab::hp::{HpKind, HyperParameters};
use tunelab::nn::callbacks::{Callback, EarlyStopping, ModelAccess};
use tunelab::nn::{FitArgs, LossKind, ValidationData};
use tunelab::nn::{History, Logs};
use tunelab::spec::{hyper, saved, ModelSpec};
use tunelab::tuner::storage::StudyStorage;
use tunelab::tuner::{options, SpecHyperModel, Tuner};
use tunelab::{Error, Result, Tensor};

// ---------------------------------------------------------------------------------------------
// The help texts (each subcommand's `--help` ends with the ones that concern it).

macro_rules! data_help {
    () => {
        "Data sets (--dataset): circle, xor, gauss, spiral, reg-plane, reg-gauss are TensorFlow \
Playground's (2 features; --noise 0..50 and --data-seed, default --seed; --features \
x1,x2,x1^2,x2^2,x1x2,sin(x1),sin(x2) picks Playground's input features); digits is the 1,797 \
8x8 handwritten digits (64 features scaled to [0, 1]). `tunelab datasets` lists them.
With --dataset the validation split defaults to 0.2 (Keras's: the last rows); --train-percent P \
instead trains on P% of the rows drawn at random with --data-seed and validates on the rest, \
exactly as the playground page splits.
Files: --x takes a .npy or a .csv (with a header line); --y the targets, or --label COLUMN \
names the targets' column of the --x CSV. Integer class ids are one-hot encoded for \
categorical_crossentropy."
    };
}

macro_rules! device_help {
    () => {
        "Devices (--device): auto (the default) trains on a hardware GPU through wgpu when there \
is one and on the CPU otherwise (a software adapter such as llvmpipe is slower than the CPU \
path), saying why; webgpu insists on the GPU (a software adapter included); cpu never uses it."
    };
}

macro_rules! exit_help {
    () => {
        "Exit status: 0 on success, 2 for a usage error (an unknown flag, a bad value, flags that \
do not go together), 1 when the work fails (a file that cannot be read, a spec that does not \
build, a training or search that fails, a database that cannot be reached)."
    };
}

const FIT_HELP: &str = concat!(
    data_help!(),
    "\n\n",
    device_help!(),
    "\n\n",
    "--json prints one object {\"history\": {...}, \"epoch\": [...], \"weights\": [...], \
\"device\": ...} with the weights in Keras's get_weights order as nested lists (validation \
entries only for the epochs that validated); --initial-weights takes the same list (or that \
whole object), so a model initialised in Keras can be trained here and compared step by step.
Early stopping: --early-stopping-patience N stops when --early-stopping-monitor (default \
val_loss with validation data, else loss) has not improved for N epochs; \
--restore-best-weights then ends on the best epoch's weights.",
    "\n\n",
    exit_help!()
);

const TUNE_HELP: &str = concat!(
    "The tuner options (--max-trials ... --max-model-size) are read over the engine's defaults \
for the chosen tuner, which `tunelab catalog` prints; a flag of another tuner is refused \
naming the tuners that have it. --tune-new-entries false fixes the spec's hyperparameters at \
their defaults (KerasTuner's HyperParameters(tune_new_entries=False)); --allow-new-entries \
false refuses hyperparameters the search space does not hold yet (so it only suits a resumed \
project, whose stored space holds them). Running the same command again without --overwrite \
resumes the search, even inside an interrupted trial.
--csv FILE and --json write the engine's trials export (the one the npm package and the page \
write).
--parallel-trials: trials trained together: in one dispatch on the GPU (default 8), on threads \
of their own on the CPU (default 1; one per core uses them all), with the same results as one \
after the other. --schedule async gives a worker that frees up the next trial at once instead \
of waiting for the batch (ASHA's default); deterministic does so in simulated time (epochs), so \
the same seed and worker count give the same search on any machine.",
    "\n\n",
    "Shared studies: --storage keeps the search in a SQL database in Optuna's schema instead of \
--directory: start several `tunelab tune` processes (on one machine with SQLite, on many with \
PostgreSQL) with the same --storage and --study-name (default: --project-name) and they share \
the study (optuna.load_study and optuna-dashboard read it). A worker that stops sending \
heartbeats (every --heartbeat-interval seconds, default 10) for --grace-period seconds \
(default 60) has its running trial taken over and resumed from its last stored epoch. See \
docs/shared-studies.md.",
    "\n\n",
    data_help!(),
    "\n\n",
    device_help!(),
    "\n\n",
    exit_help!()
);

const MAIN_HELP: &str = concat!(
    "Run `tunelab COMMAND --help` for a command's flags and what they do.\n\n",
    exit_help!()
);

// ---------------------------------------------------------------------------------------------
// The command line.

/// tunelab: KerasTuner and a small Keras, in Rust.
#[derive(Parser, Debug)]
#[command(name = "tunelab", version, after_help = MAIN_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

/// The subcommands. A new one (e.g. `evaluate`, `predict`) is a variant here, its flags a
/// struct of its own (sharing [`DataArgs`] / [`TrainArgs`] through `#[command(flatten)]`), and
/// an arm in [`run`].
#[derive(Subcommand, Debug)]
// One value, parsed once per run: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Train a model described in a JSON spec and print Keras-style progress (or JSON).
    #[command(after_long_help = FIT_HELP)]
    Fit(FitCmd),
    /// Search the hyperparameters written into a spec with KerasTuner's algorithms.
    #[command(after_long_help = TUNE_HELP)]
    Tune(TuneCmd),
    /// Evaluate a saved model (`fit --save`) on data: its loss and metrics, as Keras's
    /// `model.evaluate`.
    Evaluate(EvalCmd),
    /// Predict with a saved model (`fit --save`): one row of outputs per input row, as CSV (or
    /// JSON with --json).
    Predict(PredictCmd),
    /// Print Keras's summary table of a spec's model.
    Summary(SummaryCmd),
    /// List the built-in data sets.
    Datasets,
    /// Print the engine's tables as JSON: tuners with their options and defaults, data sets,
    /// features, losses.
    Catalog,
    /// Print a shell completion script (e.g. `tunelab completions bash > /etc/bash_completion.d/tunelab`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The data flags of `fit` and `tune`.
#[derive(Args, Debug)]
#[command(next_help_heading = "Data")]
struct DataArgs {
    /// A built-in data set (see `tunelab datasets`).
    #[arg(long, value_name = "NAME")]
    dataset: Option<String>,
    /// The inputs, a .npy or .csv file (instead of --dataset).
    #[arg(long, value_name = "X.npy|X.csv", conflicts_with = "dataset")]
    x: Option<String>,
    /// The targets, a .npy or .csv file.
    #[arg(long, value_name = "Y.npy|Y.csv", requires = "x")]
    y: Option<String>,
    /// The targets' column of the --x (or --validation-x) CSV, instead of --y.
    #[arg(long, value_name = "COLUMN")]
    label: Option<String>,
    /// The fraction of the last rows held out for validation (default 0.2 with --dataset).
    #[arg(long, value_name = "F", value_parser = fraction)]
    validation_split: Option<f32>,
    /// Validation inputs (.npy or .csv), instead of --validation-split.
    #[arg(long, value_name = "VX", conflicts_with = "validation_split")]
    validation_x: Option<String>,
    /// Validation targets (.npy or .csv).
    #[arg(long, value_name = "VY", requires = "validation_x")]
    validation_y: Option<String>,
    /// Train on P% of the rows drawn at random (--data-seed), validate on the rest.
    #[arg(long, value_name = "P", value_parser = percent,
          conflicts_with_all = ["validation_split", "validation_x"])]
    train_percent: Option<f64>,
    /// Noise of a playground data set, in percent (default 0).
    #[arg(long, value_name = "PERCENT", value_parser = noise)]
    noise: Option<f32>,
    /// Seed of a playground data set's points and of --train-percent's split (default --seed).
    #[arg(long, value_name = "S")]
    data_seed: Option<u64>,
    /// Playground's input features, e.g. x1,x2,x1x2.
    #[arg(long, value_name = "F1,F2,...", value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// Put a Normalization layer in front of the model: each input column standardized with
    /// the mean and variance of the training rows (saved with the model).
    #[arg(long)]
    normalize: bool,
}

/// Training flags of `fit` and `tune`.
#[derive(Args, Debug)]
#[command(next_help_heading = "Training")]
struct TrainArgs {
    /// Epochs to train (the index of the last epoch + 1).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = at_least_one)]
    epochs: usize,
    /// Samples per gradient step (Keras's default 32).
    #[arg(long, value_name = "B", value_parser = at_least_one)]
    batch_size: Option<usize>,
    /// The seed of the weights, the shuffles and (by default) the data.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Keep the rows in order in every epoch.
    #[arg(long)]
    no_shuffle: bool,
    /// Where to train: cpu, webgpu or auto.
    #[arg(long, value_name = "cpu|webgpu|auto", default_value = "auto", value_parser = device)]
    device: Device,
    /// Print JSON instead of the progress display.
    #[arg(long)]
    json: bool,
}

/// The data of `evaluate` and `predict`: a built-in set or files (no split: every row).
#[derive(Args, Debug)]
#[command(next_help_heading = "Data")]
struct RowsArgs {
    /// A built-in data set (see `tunelab datasets`).
    #[arg(long, value_name = "NAME")]
    dataset: Option<String>,
    /// The inputs, a .npy or .csv file (instead of --dataset).
    #[arg(long, value_name = "X.npy|X.csv", conflicts_with = "dataset")]
    x: Option<String>,
    /// Noise of a playground data set, in percent (default 0).
    #[arg(long, value_name = "PERCENT", value_parser = noise)]
    noise: Option<f32>,
    /// Seed of a playground data set's points (default 0).
    #[arg(long, value_name = "S")]
    data_seed: Option<u64>,
    /// Playground's input features, e.g. x1,x2,x1x2 (as the model was trained on).
    #[arg(long, value_name = "F1,F2,...", value_delimiter = ',')]
    features: Option<Vec<String>>,
}

/// `tunelab evaluate`.
#[derive(Args, Debug)]
#[command(args_override_self = true)]
struct EvalCmd {
    /// A model saved by `tunelab fit --save` (or `model.save()` in the npm package).
    #[arg(value_name = "MODEL")]
    model: String,
    #[command(flatten)]
    rows: RowsArgs,
    /// The targets, a .npy or .csv file (with --x).
    #[arg(
        long,
        value_name = "Y.npy|Y.csv",
        requires = "x",
        help_heading = "Data"
    )]
    y: Option<String>,
    /// The targets' column of the --x CSV, instead of --y.
    #[arg(
        long,
        value_name = "COLUMN",
        requires = "x",
        conflicts_with = "y",
        help_heading = "Data"
    )]
    label: Option<String>,
    /// Rows per batch (Keras's default 32).
    #[arg(long, value_name = "B", value_parser = at_least_one, help_heading = "Output")]
    batch_size: Option<usize>,
    /// Print {"loss": ..., metric: ...} as JSON.
    #[arg(long, help_heading = "Output")]
    json: bool,
}

/// `tunelab predict`.
#[derive(Args, Debug)]
#[command(args_override_self = true)]
struct PredictCmd {
    /// A model saved by `tunelab fit --save` (or `model.save()` in the npm package).
    #[arg(value_name = "MODEL")]
    model: String,
    #[command(flatten)]
    rows: RowsArgs,
    /// Rows per batch (Keras's default 32).
    #[arg(long, value_name = "B", value_parser = at_least_one, help_heading = "Output")]
    batch_size: Option<usize>,
    /// Print {"predictions": [[...], ...]} as JSON instead of CSV.
    #[arg(long, help_heading = "Output")]
    json: bool,
}

/// `tunelab fit`. A flag given twice takes its last value (as the hand-written parser did).
#[derive(Args, Debug)]
#[command(args_override_self = true, allow_negative_numbers = true)]
struct FitCmd {
    /// The model spec, a JSON file (docs/model-spec.md).
    #[arg(value_name = "SPEC.json")]
    spec: String,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    train: TrainArgs,
    /// Start from these weights (a list in get_weights order, or --json's whole output).
    #[arg(long, value_name = "W.json")]
    initial_weights: Option<String>,
    /// 0: silent, 1: progress bar, 2: one line per epoch (default 1 on a terminal, else 2).
    #[arg(long, value_name = "0|1|2", value_parser = clap::value_parser!(u8).range(0..=2))]
    verbose: Option<u8>,
    /// Class id to weight, multiplied into each training sample's loss, e.g. 0:1.0,1:3.5.
    #[arg(long, value_name = "ID:W,...", value_parser = class_weights)]
    class_weight: Option<ClassWeights>,
    /// One weight per training row (before any split): a .npy or a one-column .csv.
    #[arg(long, value_name = "W.npy|W.csv")]
    sample_weight: Option<String>,
    /// The epoch to start at (training runs epochs initial_epoch..epochs).
    #[arg(long, value_name = "N")]
    initial_epoch: Option<usize>,
    /// Batches per epoch; the batch stream then runs on across epochs (Keras's behaviour).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    steps_per_epoch: Option<usize>,
    /// Validate every N epochs (default 1).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    validation_freq: Option<usize>,
    /// Stop when the monitored value has not improved for N epochs (Keras's EarlyStopping).
    #[arg(long, value_name = "N", help_heading = "Early stopping")]
    early_stopping_patience: Option<usize>,
    /// The value early stopping watches (default val_loss with validation data, else loss).
    #[arg(
        long,
        value_name = "NAME",
        requires = "early_stopping_patience",
        help_heading = "Early stopping"
    )]
    early_stopping_monitor: Option<String>,
    /// Save the trained model to this file (spec, weights, optimizer state), for `tunelab
    /// evaluate` / `predict`, the npm package's `tl.loadModel` and Rust's `load_model`.
    #[arg(long, value_name = "MODEL", help_heading = "Output")]
    save: Option<String>,
    /// Also write the trained model in TensorFlow.js's LayersModel format (DIR/model.json and
    /// DIR/weights.bin, for `tf.loadLayersModel`).
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    save_tfjs: Option<String>,
    /// End on the weights of the best epoch early stopping saw.
    #[arg(
        long,
        requires = "early_stopping_patience",
        help_heading = "Early stopping"
    )]
    restore_best_weights: bool,
}

/// Class id -> weight (a named type: clap reads a `Vec` or `Option` field type specially).
#[derive(Debug, Clone)]
struct ClassWeights(HashMap<usize, f32>);

/// `tunelab tune`.
#[derive(Args, Debug)]
#[command(args_override_self = true, allow_negative_numbers = true)]
struct TuneCmd {
    /// The model spec with hyperparameters, a JSON file (docs/tuning.md).
    #[arg(value_name = "SPEC.json")]
    spec: String,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    train: TrainArgs,
    /// The tuner: random, grid, hyperband, bayesian, bohb or asha (or a class name).
    #[arg(
        long,
        value_name = "random|grid|hyperband|bayesian|bohb|asha",
        default_value = "random",
        help_heading = "Search"
    )]
    tuner: String,
    /// What to optimize: NAME[:min|max], several separated by commas (default val_loss with
    /// validation data, else loss).
    #[arg(long, value_name = "NAME[:min|max][,...]", help_heading = "Search")]
    objective: Option<String>,
    #[command(flatten)]
    options: TunerFlags,
    /// Fix the spec's new hyperparameters at their defaults (false) or search them (true).
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set,
          value_parser = clap::value_parser!(bool), help_heading = "Search")]
    tune_new_entries: Option<bool>,
    /// Allow hyperparameters the search space does not hold yet (false refuses them).
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set,
          value_parser = clap::value_parser!(bool), help_heading = "Search")]
    allow_new_entries: Option<bool>,
    /// Trials trained together (GPU default 8, CPU default 1).
    #[arg(long, value_name = "N", value_parser = at_least_one, help_heading = "Search")]
    parallel_trials: Option<usize>,
    /// How the parallel trials' workers take trials: in batches, or each the moment it frees
    /// up (async; deterministic: in simulated time, the same search on any machine). Default:
    /// async for ASHA, batches for the others.
    #[arg(long, value_name = "S", value_parser = ["batches", "async", "deterministic"],
          help_heading = "Search")]
    schedule: Option<String>,
    /// Where the project folder goes.
    #[arg(long, value_name = "D", default_value = ".", help_heading = "Project")]
    directory: String,
    /// The project's name (its folder; the default study name).
    #[arg(long, value_name = "P", help_heading = "Project")]
    project_name: Option<String>,
    /// Start the project (or study) afresh instead of resuming it.
    #[arg(long, help_heading = "Project")]
    overwrite: bool,
    /// Also write the trials as CSV to FILE.
    #[arg(long, value_name = "FILE", help_heading = "Project")]
    csv: Option<String>,
    /// Each trial's fit: 0 silent, 1 Keras's progress bar under the trial display, 2 one line
    /// per epoch (default 1 on a terminal, else 0; always 0 with --json).
    #[arg(long, value_name = "0|1|2", value_parser = clap::value_parser!(u8).range(0..=2),
          help_heading = "Search")]
    verbose: Option<u8>,
    #[command(flatten)]
    storage: StorageArgs,
}

/// The tuner's options, given on the command line by flag and read into JSON over the engine's
/// defaults (`options::tuner_defaults`): no defaults here.
#[derive(Args, Debug)]
#[command(next_help_heading = "Tuner options (defaults: `tunelab catalog`)")]
struct TunerFlags {
    /// Trials to run in all.
    #[arg(long, value_name = "N")]
    max_trials: Option<u64>,
    /// Models trained per trial (their scores averaged).
    #[arg(long, value_name = "N")]
    executions_per_trial: Option<u64>,
    /// Hyperband, BOHB, ASHA: the most epochs one model trains.
    #[arg(long, value_name = "N")]
    max_epochs: Option<u64>,
    /// Hyperband, BOHB, ASHA: the reduction factor between rounds (rungs).
    #[arg(long, value_name = "N")]
    factor: Option<u64>,
    /// Hyperband, BOHB: how many times to run the whole algorithm.
    #[arg(long, value_name = "N")]
    hyperband_iterations: Option<u64>,
    /// BOHB, ASHA with --model gp: the share of new configurations drawn at random (0 to 1).
    #[arg(long, value_name = "F")]
    random_fraction: Option<f64>,
    /// BOHB, ASHA with --model gp: completed trials a budget needs before the model proposes
    /// for it (default: 3 per hyperparameter).
    #[arg(long, value_name = "N")]
    min_points_in_model: Option<u64>,
    /// ASHA: new configurations at random, or from BOHB's Gaussian process.
    #[arg(long, value_name = "random|gp")]
    model: Option<String>,
    /// Bayesian: random trials before the Gaussian process takes over.
    #[arg(long, value_name = "N")]
    num_initial_points: Option<u64>,
    /// Bayesian: the noise added to the Gaussian process's diagonal.
    #[arg(long, value_name = "A")]
    alpha: Option<f64>,
    /// Bayesian with --acquisition lcb: the exploration weight (mean - beta * sd).
    #[arg(long, value_name = "B")]
    beta: Option<f64>,
    /// Bayesian: the acquisition function, ei (expected improvement) or lcb (KerasTuner's lower
    /// confidence bound).
    #[arg(long, value_name = "ei|lcb")]
    acquisition: Option<String>,
    /// Models with more parameters than this fail their trial instead of training.
    #[arg(long, value_name = "N")]
    max_model_size: Option<u64>,
    /// Retries of a failed trial.
    #[arg(long, value_name = "N")]
    max_retries_per_trial: Option<u64>,
    /// Failed trials in a row that end the search.
    #[arg(long, value_name = "N")]
    max_consecutive_failed_trials: Option<u64>,
    /// Draws of an already tried configuration before the search ends.
    #[arg(long, value_name = "N")]
    max_collisions: Option<u64>,
}

impl TunerFlags {
    /// The options given: (flag, the option's name in the engine's table, value).
    fn given(&self) -> Vec<(&'static str, &'static str, Value)> {
        let int = |v: Option<u64>| v.map(|n| json!(n));
        let float = |v: Option<f64>| v.map(|f| json!(f));
        [
            ("--max-trials", "max_trials", int(self.max_trials)),
            (
                "--executions-per-trial",
                "executions_per_trial",
                int(self.executions_per_trial),
            ),
            ("--max-epochs", "max_epochs", int(self.max_epochs)),
            ("--factor", "factor", int(self.factor)),
            (
                "--hyperband-iterations",
                "hyperband_iterations",
                int(self.hyperband_iterations),
            ),
            (
                "--random-fraction",
                "random_fraction",
                float(self.random_fraction),
            ),
            (
                "--min-points-in-model",
                "min_points_in_model",
                int(self.min_points_in_model),
            ),
            ("--model", "model", self.model.as_ref().map(|s| json!(s))),
            (
                "--num-initial-points",
                "num_initial_points",
                int(self.num_initial_points),
            ),
            ("--alpha", "alpha", float(self.alpha)),
            ("--beta", "beta", float(self.beta)),
            (
                "--acquisition",
                "acquisition",
                self.acquisition.as_ref().map(|s| json!(s)),
            ),
            (
                "--max-model-size",
                "max_model_size",
                int(self.max_model_size),
            ),
            (
                "--max-retries-per-trial",
                "max_retries_per_trial",
                int(self.max_retries_per_trial),
            ),
            (
                "--max-consecutive-failed-trials",
                "max_consecutive_failed_trials",
                int(self.max_consecutive_failed_trials),
            ),
            (
                "--max-collisions",
                "max_collisions",
                int(self.max_collisions),
            ),
        ]
        .into_iter()
        .filter_map(|(flag, key, v)| v.map(|v| (flag, key, v)))
        .collect()
    }
}

/// A study in a SQL database (`tune --storage`).
#[derive(Args, Debug)]
#[command(next_help_heading = "Shared studies")]
struct StorageArgs {
    /// Keep the study in a SQL database in Optuna's schema instead of --directory.
    #[arg(long, value_name = "sqlite:///FILE.db|postgresql://USER@HOST/DB")]
    storage: Option<String>,
    /// The study's name in the database (default: the project's name).
    #[arg(long, value_name = "NAME")]
    study_name: Option<String>,
    /// Seconds between a running trial's heartbeats (default 10).
    #[arg(long, value_name = "S", value_parser = seconds)]
    heartbeat_interval: Option<f64>,
    /// Seconds without a heartbeat after which another worker takes a trial over (default 60).
    #[arg(long, value_name = "S", value_parser = seconds)]
    grace_period: Option<f64>,
}

/// `tunelab summary`.
#[derive(Args, Debug)]
#[command(args_override_self = true, allow_negative_numbers = true)]
struct SummaryCmd {
    /// The model spec, a JSON file (docs/model-spec.md).
    #[arg(value_name = "SPEC.json")]
    spec: String,
    /// The per-sample input shape, when the spec has no "input_shape".
    #[arg(long, value_name = "D1,D2,...", value_delimiter = ',', value_parser = at_least_one)]
    input_shape: Option<Vec<usize>>,
}

// ---------------------------------------------------------------------------------------------
// Values (clap prints "invalid value 'V' for '--flag <F>': allowed: ..." and exits 2).

fn at_least_one(s: &str) -> std::result::Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("allowed: an integer >= 1".into()),
    }
}

fn fraction(s: &str) -> std::result::Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(f) if (0.0..1.0).contains(&f) => Ok(f),
        _ => Err("allowed: a float in [0, 1)".into()),
    }
}

fn percent(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(p) if p > 0.0 && p < 100.0 => Ok(p),
        _ => Err("allowed: a number above 0 and below 100".into()),
    }
}

fn noise(s: &str) -> std::result::Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(p) if (0.0..=50.0).contains(&p) => Ok(p),
        _ => Err("allowed: a number in [0, 50]".into()),
    }
}

fn seconds(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(t) if t > 0.0 && t.is_finite() => Ok(t),
        _ => Err("allowed: seconds > 0".into()),
    }
}

fn device(s: &str) -> std::result::Result<Device, String> {
    Device::parse(s).map_err(|_| "allowed: one of cpu, webgpu, auto".into())
}

/// `0:1.0,1:3.5`.
fn class_weights(s: &str) -> std::result::Result<ClassWeights, String> {
    let allowed = "allowed: CLASS_ID:WEIGHT pairs separated by commas (e.g. 0:1.0,1:3.5), \
                   class ids integers >= 0 given once, weights finite numbers >= 0";
    let mut m = HashMap::new();
    for pair in s.split(',') {
        let (id, w) = pair.split_once(':').ok_or(allowed)?;
        let id: usize = id.trim().parse().map_err(|_| allowed)?;
        let w: f32 = w.trim().parse().map_err(|_| allowed)?;
        if !(w.is_finite() && w >= 0.0) || m.insert(id, w).is_some() {
            return Err(allowed.into());
        }
    }
    Ok(ClassWeights(m))
}

// ---------------------------------------------------------------------------------------------
// Errors: a usage error exits 2, a failure of the work exits 1.

enum CliError {
    /// A value or combination of flags this program refuses before doing the work.
    Usage(String),
    /// The work failed.
    Run(Error),
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Run(e)
    }
}

/// An error about the options the user gave (exit 2).
fn usage(e: Error) -> CliError {
    CliError::Usage(e.to_string())
}

type CliResult<T> = std::result::Result<T, CliError>;

/// Checks the data flags together (what clap's relations between flags cannot say).
fn check_data(d: &DataArgs) -> CliResult<()> {
    let playground = d
        .dataset
        .as_deref()
        .is_some_and(|n| Playground::parse(n).is_ok());
    match (&d.dataset, &d.x) {
        (None, None) => {
            return Err(usage(Error::invalid(
                "data",
                "none given",
                "--dataset NAME or --x FILE",
            )))
        }
        (Some(name), _) if !data::BUILTIN.contains(&name.as_str()) => {
            return Err(usage(Error::unknown(
                "dataset",
                name.as_str(),
                data::BUILTIN,
            )))
        }
        _ => {}
    }
    if let Some(names) = &d.features {
        if !playground {
            return Err(usage(Error::invalid(
                "--features",
                names.join(","),
                "only with --dataset and a playground data set (circle, xor, gauss, spiral, reg-plane, reg-gauss)",
            )));
        }
        if let Some(bad) = names.iter().find(|n| !FEATURE_NAMES.contains(&n.trim())) {
            return Err(usage(Error::unknown(
                "feature",
                bad.as_str(),
                FEATURE_NAMES,
            )));
        }
    }
    // (no noise, 0, is what digits and files have: that much is honoured everywhere)
    if let (Some(n), false) = (d.noise.filter(|n| *n != 0.0), playground) {
        return Err(usage(Error::invalid(
            "--noise",
            n,
            "only with a playground data set (circle, xor, gauss, spiral, reg-plane, reg-gauss): digits and files have no generated noise",
        )));
    }
    if let (Some(s), false, None) = (d.data_seed, playground, d.train_percent) {
        return Err(usage(Error::invalid(
            "--data-seed",
            s,
            "only with a playground data set (it seeds the points) or --train-percent (it seeds the split)",
        )));
    }
    let label_for_x = d.x.is_some() && d.y.is_none();
    let label_for_vx = d.validation_x.is_some() && d.validation_y.is_none();
    if let Some(label) = &d.label {
        if !label_for_x && !label_for_vx {
            return Err(usage(Error::invalid(
                "--label",
                label,
                "only with a --x (or --validation-x) CSV given without --y (or --validation-y)",
            )));
        }
        for (flag, file, used) in [
            ("--x", &d.x, label_for_x),
            ("--validation-x", &d.validation_x, label_for_vx),
        ] {
            if let (Some(f), true) = (file, used) {
                if !f.to_ascii_lowercase().ends_with(".csv") {
                    return Err(usage(Error::invalid(
                        "--label",
                        label,
                        format!("only with a .csv file given to {flag}"),
                    )));
                }
            }
        }
    } else {
        for (flag, missing) in [("--y", label_for_x), ("--validation-y", label_for_vx)] {
            if missing {
                return Err(usage(Error::invalid(
                    flag,
                    "missing",
                    "a targets file or, for a CSV, the label column (--label)",
                )));
            }
        }
    }
    Ok(())
}
/// Loads an array from .npy or .csv (all columns).
fn load_array(path: &str, flag: &str) -> Result<Tensor> {
    let p = Path::new(path);
    match p
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
    {
        Some(e) if e == "npy" => npy::load_npy(p),
        Some(e) if e == "csv" => Ok(csv::load_csv(p, None, None)?.x),
        _ => Err(Error::invalid(flag, path, "a .npy or .csv file")),
    }
}

/// x and y from --x/--y (or --x with --label for one CSV holding both).
fn load_xy(x: &str, y: Option<&str>, label: Option<&str>, what: &str) -> Result<(Tensor, Tensor)> {
    match (y, label) {
        (Some(y), _) => Ok((
            load_array(x, &format!("--{what}x"))?,
            load_array(y, &format!("--{what}y"))?,
        )),
        (None, Some(label)) => {
            if !x.to_ascii_lowercase().ends_with(".csv") {
                return Err(Error::invalid(
                    "--label",
                    label,
                    "only with a .csv file given to --x",
                ));
            }
            let d = csv::load_csv(Path::new(x), Some(label), None)?;
            let y =
                d.y.ok_or_else(|| Error::invalid("--label", label, "a column of the CSV header"))?;
            Ok((d.x, y))
        }
        (None, None) => Err(Error::invalid(
            format!("--{what}y"),
            "missing",
            "a targets file (--y) or, for a CSV, the label column (--label)",
        )),
    }
}

/// Makes y a column when it is 1-D, and one-hot when the loss wants rows shaped like the
/// output but got class ids (a convenience Keras does not offer: it would fail on shapes).
fn fit_targets(y: Tensor, loss: LossKind, out_units: usize, quiet: bool) -> Result<Tensor> {
    let y = if y.shape().len() == 1 {
        let n = y.rows();
        y.reshape(vec![n, 1])?
    } else {
        y
    };
    let wants_rows = loss.targets() == "one_hot";
    if wants_rows && y.cols() == 1 && out_units > 1 {
        if !quiet {
            eprintln!(
                "note: one-hot encoding integer class ids for {} ({out_units} classes)",
                loss.name()
            );
        }
        return data::one_hot(&y, Some(out_units));
    }
    Ok(y)
}

fn weights_from_json(text: &str) -> Result<Vec<Tensor>> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::parse(format!("--initial-weights is not valid JSON: {e}")))?;
    let list = match &v {
        Value::Array(a) => a,
        Value::Object(m) => m.get("weights").and_then(|w| w.as_array()).ok_or_else(|| {
            Error::invalid(
                "--initial-weights",
                "an object",
                "a list of arrays or {\"weights\": [...]}",
            )
        })?,
        _ => {
            return Err(Error::invalid(
                "--initial-weights",
                "a scalar",
                "a list of nested arrays",
            ))
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, w)| nested_to_tensor(w, &format!("--initial-weights[{i}]")))
        .collect()
}

fn nested_to_tensor(v: &Value, path: &str) -> Result<Tensor> {
    fn walk(
        v: &Value,
        depth: usize,
        shape: &mut Vec<usize>,
        out: &mut Vec<f32>,
        path: &str,
    ) -> Result<()> {
        match v {
            Value::Array(a) => {
                if depth > 8 {
                    return Err(Error::invalid(
                        path,
                        "deeper nesting",
                        "at most 8 dimensions",
                    ));
                }
                if shape.len() <= depth {
                    shape.push(a.len());
                } else if shape[depth] != a.len() {
                    return Err(Error::invalid(
                        path,
                        "ragged nested lists",
                        "rectangular arrays",
                    ));
                }
                for x in a {
                    walk(x, depth + 1, shape, out, path)?;
                }
                Ok(())
            }
            Value::Number(n) => {
                if depth != shape.len() {
                    return Err(Error::invalid(
                        path,
                        "ragged nested lists",
                        "rectangular arrays",
                    ));
                }
                out.push(n.as_f64().unwrap_or(f64::NAN) as f32);
                Ok(())
            }
            other => Err(Error::invalid(
                path,
                other.to_string(),
                "numbers in nested lists",
            )),
        }
    }
    let mut shape = Vec::new();
    let mut data = Vec::new();
    walk(v, 0, &mut shape, &mut data, path)?;
    Tensor::new(shape, data)
}

fn tensor_to_json(t: &Tensor) -> Value {
    match t.shape() {
        [_] => json!(t.data()),
        [_, c] => Value::Array(t.data().chunks((*c).max(1)).map(|r| json!(r)).collect()),
        _ => json!(t.data()),
    }
}

/// Training and validation data from the command line, targets shaped for the loss.
struct Loaded {
    x: Tensor,
    y: Tensor,
    validation_split: f32,
    validation_data: Option<ValidationData>,
    /// `--sample-weight`, one per row of `x` (split along with it).
    sample_weight: Option<Vec<f32>>,
}

impl Loaded {
    /// Whether fit will validate (a split or validation data).
    fn validates(&self) -> bool {
        self.validation_split > 0.0 || self.validation_data.is_some()
    }
}

/// Reads `--sample-weight`: one weight per row, as a vector or a one-column table.
fn load_sample_weight(path: &str, rows: usize) -> Result<Vec<f32>> {
    let t = load_array(path, "--sample-weight")?;
    let flat = matches!(t.shape(), [_] | [_, 1]);
    if !flat || t.rows() != rows {
        return Err(Error::invalid(
            "--sample-weight",
            format!("{path} of shape {:?}", t.shape()),
            format!(
                "one weight per row of the training data ({rows} rows): a vector or one column"
            ),
        ));
    }
    Ok(t.data().to_vec())
}

/// Reads --dataset or --x/--y (and the validation options, and `--sample-weight`).
/// `out_units` and `loss` decide whether class ids get one-hot encoded.
fn load_data(
    d: &DataArgs,
    seed: u64,
    sample_weight: Option<&str>,
    loss: LossKind,
    model: &mut tunelab::nn::Sequential,
    quiet: bool,
) -> Result<Loaded> {
    let (x, y, mut validation_split) = match (&d.dataset, &d.x) {
        (Some(name), _) => {
            let ds = data::builtin(name, d.noise.unwrap_or(0.0), d.data_seed.unwrap_or(seed))?;
            let x = match &d.features {
                Some(names) => {
                    let names: Vec<&str> = names.iter().map(|n| n.trim()).collect();
                    data::playground::features(&ds.x, &names)?
                }
                None => ds.x,
            };
            let split = if d.train_percent.is_some() {
                None
            } else {
                d.validation_split.or(Some(0.2))
            };
            (x, ds.y, split)
        }
        (None, Some(xp)) => {
            let (x, y) = load_xy(xp, d.y.as_deref(), d.label.as_deref(), "")?;
            (x, y, d.validation_split)
        }
        (None, None) => {
            return Err(Error::invalid(
                "data",
                "none given",
                "--dataset NAME or --x FILE",
            ))
        }
    };
    Dataset::new(x.clone(), y.clone())?;
    let weights = match sample_weight {
        Some(path) => Some(load_sample_weight(path, x.rows())?),
        None => None,
    };
    // --train-percent: the playground page's split (random rows, seeded by --data-seed).
    let (x, y, weights, held_out) = match d.train_percent {
        Some(percent) => {
            let (train, val) =
                data::holdout_indices(x.rows(), percent, d.data_seed.unwrap_or(seed))?;
            let weights = weights.map(|w| train.iter().map(|&i| w[i]).collect());
            let held_out = Dataset::new(x.gather_rows(&val), y.gather_rows(&val))?;
            (
                x.gather_rows(&train),
                y.gather_rows(&train),
                weights,
                Some(held_out),
            )
        }
        None => (x, y, weights, None),
    };
    if !model.is_built() {
        model.build(&x.shape()[1..])?;
    }
    let out_units = model.output_width()?;
    let y = fit_targets(y, loss, out_units, quiet)?;
    let validation_data = match &d.validation_x {
        Some(vx) => {
            let (vx, vyv) = load_xy(
                vx,
                d.validation_y.as_deref(),
                d.label.as_deref(),
                "validation-",
            )?;
            validation_split = None;
            Some(ValidationData {
                x: vx,
                y: fit_targets(vyv, loss, out_units, true)?,
                sample_weight: None,
            })
        }
        None => match held_out {
            Some(val) => Some(ValidationData {
                x: val.x,
                y: fit_targets(val.y, loss, out_units, true)?,
                sample_weight: None,
            }),
            None => None,
        },
    };
    Ok(Loaded {
        x,
        y,
        validation_split: validation_split.unwrap_or(0.0),
        validation_data,
        sample_weight: weights,
    })
}

fn read_spec(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Io(format!("cannot read SPEC {path}: {e}")))
}

/// The spec as JSON, with a Normalization layer in front for `--normalize`.
fn read_spec_value(path: &str, normalize: bool) -> Result<Value> {
    let mut v: Value = serde_json::from_str(&read_spec(path)?)
        .map_err(|e| Error::parse(format!("model spec is not valid JSON: {e}")))?;
    if normalize {
        tunelab::spec::prepend_normalization(&mut v)?;
    }
    Ok(v)
}

/// Warns (on stderr) when the input columns' scales differ by orders of magnitude and the model
/// does not normalize its input: such a search mostly measures the scales.
fn warn_scales(x: &Tensor, normalized: bool) {
    if normalized {
        return;
    }
    if let Some((ratio, hi, lo)) = data::scale_spread(x) {
        if ratio >= data::SCALE_WARNING_RATIO {
            eprintln!(
                "warning: the input columns differ in scale by a factor of {ratio:.0} (column {hi} \
                 vs column {lo}, root mean square) and the model has no Normalization layer: \
                 training will mostly fit the large columns. Pass --normalize (or put a \
                 Normalization layer first in the spec)."
            );
        }
    }
}

/// Keras's EarlyStopping, refusing a monitor that the fit does not log (Keras only warns,
/// and the flag would then do nothing).
struct CheckedEarlyStopping(EarlyStopping);

impl Callback for CheckedEarlyStopping {
    fn on_train_begin(&mut self, m: &mut dyn ModelAccess) -> Result<()> {
        self.0.on_train_begin(m)
    }
    fn on_train_end(&mut self, m: &mut dyn ModelAccess, logs: &Logs) -> Result<()> {
        self.0.on_train_end(m, logs)
    }
    fn on_epoch_begin(&mut self, epoch: usize, m: &mut dyn ModelAccess) -> Result<()> {
        self.0.on_epoch_begin(epoch, m)
    }
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        m: &mut dyn ModelAccess,
    ) -> Result<()> {
        let monitor = &self.0.monitor;
        // An epoch that did not validate (--validation-freq) has no val_ entries to check.
        let validated = logs.0.iter().any(|(k, _)| k.starts_with("val_"));
        if logs.get(monitor).is_none() && (validated || !monitor.starts_with("val_")) {
            let names: Vec<&str> = logs.0.iter().map(|(k, _)| k.as_str()).collect();
            return Err(Error::invalid(
                "--early-stopping-monitor",
                monitor,
                format!("one of the values this fit logs: {}", names.join(", ")),
            ));
        }
        self.0.on_epoch_end(epoch, logs, m)
    }
    fn on_train_batch_begin(&mut self, batch: usize, m: &mut dyn ModelAccess) -> Result<()> {
        self.0.on_train_batch_begin(batch, m)
    }
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        m: &mut dyn ModelAccess,
    ) -> Result<()> {
        self.0.on_train_batch_end(batch, logs, m)
    }
}

fn fit(o: &FitCmd) -> CliResult<()> {
    check_data(&o.data)?;
    if let Some(n) = o.initial_epoch.filter(|n| *n > o.train.epochs) {
        return Err(usage(Error::invalid(
            "--initial-epoch",
            n,
            format!(
                "at most --epochs ({}): training runs the epochs from --initial-epoch up to --epochs",
                o.train.epochs
            ),
        )));
    }
    let spec = ModelSpec::from_value(&read_spec_value(&o.spec, o.data.normalize)?)?;
    let compile = spec.compile.clone().ok_or_else(|| {
        Error::invalid(
            "compile",
            "missing",
            "a \"compile\" object with optimizer, loss and metrics",
        )
    })?;
    let mut model = spec.build(o.train.seed)?;
    let quiet = o.train.json;
    let data = load_data(
        &o.data,
        o.train.seed,
        o.sample_weight.as_deref(),
        compile.loss.kind,
        &mut model,
        quiet,
    )?;
    warn_scales(&data.x, model.normalization().is_some());
    // Flags that only mean something with validation data, or with these classes.
    if let (Some(n), false) = (o.validation_freq, data.validates()) {
        return Err(usage(Error::invalid(
            "--validation-freq",
            n,
            "only with validation data (--validation-split, --validation-x, --train-percent or --dataset's default split)",
        )));
    }
    let monitor = match &o.early_stopping_monitor {
        Some(m) => m.clone(),
        None if data.validates() => "val_loss".into(),
        None => "loss".into(),
    };
    if o.early_stopping_patience.is_some() && monitor.starts_with("val_") && !data.validates() {
        return Err(usage(Error::invalid(
            "--early-stopping-monitor",
            &monitor,
            "a value this fit logs: without validation data there are no val_ values",
        )));
    }
    if let Some(cw) = &o.class_weight {
        let classes = model.output_width()?.max(2);
        if let Some(id) = cw.0.keys().find(|id| **id >= classes) {
            return Err(usage(Error::invalid(
                "--class-weight",
                format!("class {id}"),
                format!("class ids below {classes}, the model's number of classes"),
            )));
        }
    }
    if o.save_tfjs.is_some() {
        // A layer TF.js cannot express is refused before any training.
        saved::tfjs_layers_model(&model, "weights.bin").map_err(usage)?;
    }
    if let Some(w) = &o.initial_weights {
        let text = std::fs::read_to_string(w)
            .map_err(|e| Error::Io(format!("cannot read --initial-weights {w}: {e}")))?;
        model.set_weights(&weights_from_json(&text)?)?;
    }
    model.set_device(o.train.device);
    let resolved = tunelab::gpu::resolve(o.train.device)?;
    if !quiet {
        match &resolved {
            Resolved::Cpu { reason: Some(why) } => eprintln!("device: cpu ({why})"),
            r => eprintln!("device: {}", r.label()),
        }
    }
    let verbose = if quiet {
        0
    } else {
        o.verbose.unwrap_or(if std::io::stdout().is_terminal() {
            1
        } else {
            2
        })
    };
    let defaults = FitArgs::default();
    let fit_args = FitArgs {
        epochs: o.train.epochs,
        batch_size: o.train.batch_size,
        verbose,
        validation_split: data.validation_split,
        validation_data: data.validation_data,
        shuffle: !o.train.no_shuffle,
        class_weight: o.class_weight.as_ref().map(|c| c.0.clone()),
        sample_weight: data.sample_weight,
        initial_epoch: o.initial_epoch.unwrap_or(defaults.initial_epoch),
        steps_per_epoch: o.steps_per_epoch,
        validation_freq: o.validation_freq.unwrap_or(defaults.validation_freq),
        seed: Some(o.train.seed),
        ..defaults
    };
    let mut early = o.early_stopping_patience.map(|patience| {
        CheckedEarlyStopping(
            EarlyStopping::new(monitor)
                .patience(patience)
                .restore_best_weights(o.restore_best_weights),
        )
    });
    let history: History = match &mut early {
        Some(cb) => model.fit(&data.x, &data.y, &fit_args, &mut [cb])?,
        None => model.fit(&data.x, &data.y, &fit_args, &mut [])?,
    };
    if let (false, Resolved::Gpu(_), Some(note)) = (quiet, &resolved, model.device_note()) {
        // The GPU was there but this model's layers need the CPU path.
        eprintln!("trained on the CPU: {note}");
    }
    if let (false, Some(cb)) = (quiet, &early) {
        if cb.0.stopped_epoch > 0 {
            eprintln!(
                "early stopping: {} did not improve for {} epochs; stopped after epoch {}{}",
                cb.0.monitor,
                cb.0.patience,
                cb.0.stopped_epoch + 1,
                if o.restore_best_weights {
                    format!(", weights of epoch {} restored", cb.0.best_epoch + 1)
                } else {
                    String::new()
                }
            );
        }
    }
    if let Some(path) = &o.save {
        saved::save_model(&model, path)?;
        if !quiet {
            eprintln!("saved the model to {path}");
        }
    }
    if let Some(dir) = &o.save_tfjs {
        saved::save_tfjs(&model, dir)?;
        if !quiet {
            eprintln!("saved the TensorFlow.js model to {dir}/model.json and {dir}/weights.bin");
        }
    }
    if quiet {
        let weights: Vec<Value> = model.get_weights()?.iter().map(tensor_to_json).collect();
        let out = json!({
            "history": history,
            "epoch": history.epoch,
            "weights": weights,
            "device": model.device(),
        });
        println!("{out}");
    }
    Ok(())
}

/// Refuses a `--storage` URL whose scheme tunelab does not speak, before opening anything (the
/// URL is not echoed: it may hold a password).
fn check_storage_url(url: &str) -> CliResult<()> {
    let scheme = url.split_once("://").map(|(s, _)| s);
    let postgres = scheme
        .and_then(|s| s.split('+').next())
        .is_some_and(|s| s == "postgresql" || s == "postgres");
    if url.starts_with("sqlite:///") || postgres {
        return Ok(());
    }
    Err(usage(Error::invalid(
        "--storage",
        match scheme {
            Some(s) => format!("a URL of scheme `{s}`"),
            None => "not a URL".into(),
        },
        "sqlite:///PATH (a file) or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
    )))
}

/// Whether an hp is searched (not `Fixed`).
fn tunable(kind: &HpKind) -> bool {
    !matches!(kind, HpKind::Fixed { .. })
}

fn tune(o: &TuneCmd) -> CliResult<()> {
    check_data(&o.data)?;
    // The options alone, before any work: the tuner, its flags, the storage flags.
    let kind = options::tuner_kind(&o.tuner).map_err(usage)?;
    let known = options::tuner_defaults(kind).map_err(usage)?;
    let tuner_options = o.options.given();
    for (flag, key, v) in &tuner_options {
        if !known.contains_key(*key) {
            let owners: Vec<&str> = options::TUNERS
                .iter()
                .filter(|(_, class, _)| {
                    options::tuner_defaults(class).is_ok_and(|d| d.contains_key(*key))
                })
                .map(|(short, _, _)| *short)
                .collect();
            return Err(usage(Error::invalid(
                *flag,
                v,
                format!("only with --tuner {}", owners.join(" or ")),
            )));
        }
    }
    let s = &o.storage;
    match &s.storage {
        Some(url) => check_storage_url(url)?,
        None => {
            for (flag, given) in [
                ("--study-name", s.study_name.is_some()),
                ("--heartbeat-interval", s.heartbeat_interval.is_some()),
                ("--grace-period", s.grace_period.is_some()),
            ] {
                if given {
                    return Err(usage(Error::invalid(
                        flag,
                        "given without --storage",
                        "only with --storage (a study in a SQL database)",
                    )));
                }
            }
        }
    }
    // The command line's options, read over the tuner's defaults (the table the npm package
    // and the page read too: tunelab::tuner::options). An error in them is the user's (exit 2),
    // named by the flag they typed; they are checked here, before any work, and read again
    // once the data tell the default objective.
    let mut given: serde_json::Map<String, Value> = tuner_options
        .iter()
        .map(|(_, key, v)| (key.to_string(), v.clone()))
        .collect();
    match &o.objective {
        Some(names) if names.contains(',') => {
            let names: Vec<&str> = names.split(',').map(str::trim).collect();
            given.insert("objective".into(), json!(names));
        }
        Some(name) => {
            given.insert("objective".into(), json!(name));
        }
        None => {}
    }
    given.insert("seed".into(), json!(o.train.seed));
    given.insert("directory".into(), json!(o.directory));
    if let Some(p) = &o.project_name {
        given.insert("project_name".into(), json!(p));
    }
    given.insert("overwrite".into(), json!(o.overwrite));
    given.insert("verbose".into(), json!(!o.train.json));
    given.insert("device".into(), json!(o.train.device.name()));
    if let Some(n) = o.parallel_trials {
        given.insert("parallel_trials".into(), json!(n));
    }
    if let Some(s) = &o.schedule {
        given.insert("schedule".into(), json!(s));
    }
    let read_options = |given: &serde_json::Map<String, Value>| {
        options::tuner(kind, &Value::Object(given.clone())).map_err(|e| match e {
            Error::InvalidArgument {
                field,
                value,
                allowed,
            } => {
                let flag = tuner_options
                    .iter()
                    .find(|(_, key, _)| *key == field)
                    .map(|(flag, _, _)| flag.to_string());
                usage(Error::InvalidArgument {
                    field: flag.unwrap_or(field),
                    value,
                    allowed,
                })
            }
            e => usage(e),
        })
    };
    read_options(&given)?;
    let raw = read_spec_value(&o.spec, o.data.normalize)?;
    // The spec with every hp at its default: checks it and shapes the targets.
    let mut declared = HyperParameters::new();
    let mut plain = hyper::resolve(&raw, &mut declared)?;
    if let Some(m) = plain.as_object_mut() {
        m.remove("fit"); // the hypermodel applies it per trial
    }
    let spec = ModelSpec::from_value(&plain)?;
    let compile = spec.compile.clone().ok_or_else(|| {
        Error::invalid(
            "compile",
            "missing",
            "a \"compile\" object with optimizer, loss and metrics",
        )
    })?;
    let mut probe = spec.build(o.train.seed)?;
    let data = load_data(
        &o.data,
        o.train.seed,
        None,
        compile.loss.kind,
        &mut probe,
        o.train.json,
    )?;
    warn_scales(&data.x, probe.normalization().is_some());
    if !given.contains_key("objective") {
        let default = if data.validates() { "val_loss" } else { "loss" };
        given.insert("objective".into(), json!(default));
    }
    let (algorithm, mut config) = read_options(&given)?;
    if let Some(url) = &s.storage {
        let name = s.study_name.as_deref().unwrap_or(&config.project_name);
        let mut study = StudyStorage::new(url.as_str(), name);
        if let Some(t) = s.heartbeat_interval {
            study.heartbeat_interval = t;
        }
        if let Some(t) = s.grace_period {
            study.grace_period = t;
        }
        config.storage = Some(study);
    }
    // KerasTuner's HyperParameters(tune_new_entries=..., allow_new_entries=...), handed to the
    // tuner as its initial search space.
    let mut space = HyperParameters::new();
    if let Some(t) = o.tune_new_entries {
        space.tune_new_entries = t;
    }
    if let Some(a) = o.allow_new_entries {
        space.allow_new_entries = a;
    }
    let hypermodel = SpecHyperModel::new(raw)?;
    let mut tuner =
        Tuner::new(algorithm, Box::new(hypermodel), Some(space), config).map_err(|e| {
            match (o.allow_new_entries, e) {
                (Some(false), Error::State(msg)) if msg.contains("allow_new_entries") => {
                    Error::State(format!(
                        "--allow-new-entries false: {msg}; the command line declares no \
                         hyperparameters up front, so the spec's are new unless a resumed \
                         project already holds them"
                    ))
                }
                (_, e) => e,
            }
        })?;
    // A resumed project keeps the space it stored: refuse --tune-new-entries where that space
    // disagrees with it rather than ignore the flag.
    if let Some(t) = o.tune_new_entries {
        let wrong: Vec<&str> = tuner
            .oracle
            .hyperparameters
            .space()
            .iter()
            .filter(|hp| {
                let spec_tunable = declared
                    .space()
                    .iter()
                    .find(|d| d.name == hp.name)
                    .is_some_and(|d| tunable(&d.kind));
                tunable(&hp.kind) != (t && spec_tunable)
            })
            .map(|hp| hp.name.as_str())
            .collect();
        if !wrong.is_empty() {
            return Err(CliError::Run(Error::state(format!(
                "--tune-new-entries {t}: the project at {} stored {} as {}, and a resumed \
                 search keeps the space it stored; add --overwrite to start it again with \
                 --tune-new-entries {t}",
                tuner.project_dir(),
                wrong.join(", "),
                if t { "fixed" } else { "searched" }
            ))));
        }
    }
    if !o.train.json {
        println!("{}", tuner.search_space_summary());
    }
    // KerasTuner passes search's verbose to every trial's fit.
    let verbose = if o.train.json {
        if o.verbose.is_some_and(|v| v > 0) {
            return Err(usage(Error::invalid(
                "--verbose",
                o.verbose.unwrap_or(0),
                "0 with --json (its output is one JSON document)",
            )));
        }
        0
    } else {
        o.verbose.unwrap_or(if std::io::stdout().is_terminal() {
            1
        } else {
            0
        })
    };
    let fit_args = FitArgs {
        epochs: o.train.epochs,
        batch_size: o.train.batch_size,
        verbose,
        validation_split: data.validation_split,
        validation_data: data.validation_data,
        shuffle: !o.train.no_shuffle,
        seed: Some(o.train.seed),
        ..Default::default()
    };
    let result = tuner.search(&data.x, &data.y, &fit_args);
    if let Some(path) = &o.csv {
        std::fs::write(path, tuner.trials_csv()?)
            .map_err(|e| Error::Io(format!("cannot write --csv {path}: {e}")))?;
    }
    result?;
    if o.train.json {
        println!("{}", tuner.trials_json()?);
    } else {
        println!("{}", tuner.results_summary(10)?);
        let (device, note) = tuner.device();
        match note {
            Some(why) => eprintln!("device: {device} ({why})"),
            None => eprintln!("device: {device}"),
        }
    }
    Ok(())
}

/// The rows of `evaluate` / `predict` (and the targets, when asked for), shaped for `model`.
fn load_rows(
    r: &RowsArgs,
    targets: Option<(Option<&str>, Option<&str>)>,
    model: &mut tunelab::nn::Sequential,
) -> CliResult<(Tensor, Option<Tensor>)> {
    let d = DataArgs {
        dataset: r.dataset.clone(),
        x: r.x.clone(),
        y: targets.and_then(|t| t.0.map(String::from)),
        label: targets.and_then(|t| t.1.map(String::from)),
        validation_split: None,
        validation_x: None,
        validation_y: None,
        train_percent: None,
        noise: r.noise,
        data_seed: r.data_seed,
        features: r.features.clone(),
        normalize: false,
    };
    if targets.is_some() {
        check_data(&d)?;
    }
    if targets.is_none() {
        // Inputs only: the targets are not needed (nor read).
        let x = match (&r.dataset, &r.x) {
            (Some(name), _) => {
                let ds = data::builtin(name, r.noise.unwrap_or(0.0), r.data_seed.unwrap_or(0))?;
                match &r.features {
                    Some(names) => {
                        let names: Vec<&str> = names.iter().map(|n| n.trim()).collect();
                        data::playground::features(&ds.x, &names)?
                    }
                    None => ds.x,
                }
            }
            (None, Some(xp)) => load_array(xp, "--x")?,
            (None, None) => {
                return Err(usage(Error::invalid(
                    "data",
                    "none given",
                    "--dataset NAME or --x FILE",
                )))
            }
        };
        return Ok((x, None));
    }
    let loss = model
        .loss()
        .map(|l| l.kind)
        .ok_or_else(|| Error::state("the saved model is not compiled: evaluate needs its loss"))?;
    let loaded = load_data(&d, 0, None, loss, model, true)?;
    Ok((loaded.x, Some(loaded.y)))
}

fn evaluate(o: &EvalCmd) -> CliResult<()> {
    let mut model = saved::load_model(&o.model)?;
    let (x, y) = load_rows(
        &o.rows,
        Some((o.y.as_deref(), o.label.as_deref())),
        &mut model,
    )?;
    let y = y.ok_or_else(|| Error::state("no targets"))?;
    let logs = match model.evaluate(&x, &y, o.batch_size, None, true)? {
        tunelab::nn::Evaluation::Dict(l) => l,
        other => return Err(Error::state(format!("evaluate returned {other:?}")).into()),
    };
    if o.json {
        let m: serde_json::Map<String, Value> = logs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        println!("{}", Value::Object(m));
    } else {
        let parts: Vec<String> = logs.iter().map(|(k, v)| format!("{k}: {v:.4}")).collect();
        println!("{}", parts.join(" - "));
    }
    Ok(())
}

fn predict(o: &PredictCmd) -> CliResult<()> {
    let mut model = saved::load_model(&o.model)?;
    let (x, _) = load_rows(&o.rows, None, &mut model)?;
    let p = model.predict(&x, o.batch_size)?;
    let cols = p.shape().get(1).copied().unwrap_or(1).max(1);
    let rows: Vec<&[f32]> = p.data().chunks(cols).collect();
    if o.json {
        println!("{}", json!({"predictions": rows}));
    } else {
        for r in rows {
            let cells: Vec<String> = r.iter().map(|v| v.to_string()).collect();
            println!("{}", cells.join(","));
        }
    }
    Ok(())
}

fn summary(o: &SummaryCmd) -> CliResult<()> {
    let spec = ModelSpec::parse(&read_spec(&o.spec)?)?;
    let mut model = spec.build(0)?;
    match (&o.input_shape, model.is_built()) {
        (Some(_), true) => {
            return Err(usage(Error::invalid(
                "--input-shape",
                "given",
                "only for a spec without its own \"input_shape\"",
            )))
        }
        (Some(shape), false) => model.build(shape)?,
        (None, false) => {
            return Err(usage(Error::invalid(
                "--input-shape",
                "missing",
                "the per-sample input shape (or \"input_shape\" in the spec)",
            )))
        }
        (None, true) => {}
    }
    print!("{}", model.summary()?);
    Ok(())
}

/// Runs one subcommand.
fn run(command: &Command) -> CliResult<()> {
    match command {
        Command::Fit(o) => fit(o),
        Command::Tune(o) => tune(o),
        Command::Evaluate(o) => evaluate(o),
        Command::Predict(o) => predict(o),
        Command::Summary(o) => summary(o),
        Command::Datasets => {
            for n in data::BUILTIN {
                println!("{n}");
            }
            Ok(())
        }
        Command::Catalog => {
            println!("{:#}", options::catalog());
            Ok(())
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "tunelab", &mut script);
            print!("{}", String::from_utf8_lossy(&script));
            Ok(())
        }
    }
}

/// The subcommand's name, for messages.
fn name(command: &Command) -> &'static str {
    match command {
        Command::Fit(_) => "fit",
        Command::Tune(_) => "tune",
        Command::Evaluate(_) => "evaluate",
        Command::Predict(_) => "predict",
        Command::Summary(_) => "summary",
        Command::Datasets => "datasets",
        Command::Catalog => "catalog",
        Command::Completions { .. } => "completions",
    }
}

fn main() -> ExitCode {
    // A reader that goes away early (`tunelab catalog | head`) makes the next print fail with
    // a broken pipe, which Rust's print macros turn into a panic: stop quietly instead, as a
    // Unix filter does.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    // clap prints its own errors and exits 2 (0 for --help and --version).
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        // No subcommand: the help, as before.
        let _ = Cli::command().print_help();
        return ExitCode::SUCCESS;
    };
    match run(&command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(msg)) => {
            eprintln!("error: {msg}");
            eprintln!(
                "\nFor more information, try 'tunelab {} --help'.",
                name(&command)
            );
            ExitCode::from(2)
        }
        Err(CliError::Run(e)) => {
            eprintln!("error: {e}");
            if matches!(e, Error::Io(_)) && matches!(command, Command::Tune(_)) {
                eprintln!(
                    "what the search stored before this is intact: once the problem is fixed, \
                     run the same command again (without --overwrite) to continue it"
                );
            }
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_json_round_trip() {
        let t = Tensor::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let v = json!([tensor_to_json(&t), [0.5, 0.25, 0.0]]);
        let w = weights_from_json(&v.to_string()).unwrap();
        assert_eq!(w[0], t);
        assert_eq!(w[1].shape(), &[3]);
        let e = weights_from_json("[[[1, 2], [3]]]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rectangular"), "{e}");
    }

    #[test]
    fn targets_are_one_hot_for_categorical() {
        let y = Tensor::vector(vec![0.0, 2.0]);
        let t = fit_targets(y, LossKind::CategoricalCrossentropy, 3, true).unwrap();
        assert_eq!(t.data(), &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        let y = Tensor::vector(vec![0.0, 2.0]);
        let t = fit_targets(y, LossKind::SparseCategoricalCrossentropy, 3, true).unwrap();
        assert_eq!(t.shape(), &[2, 1]);
    }
}

// Type declarations for tunelab's JavaScript API (js/tunelab.js).

/** What `init` accepts: the .wasm's URL, a Response (or a promise of one), its bytes, or a compiled module. */
export type InitInput =
  | string
  | URL
  | Request
  | Response
  | Promise<Response>
  | ArrayBuffer
  | Uint8Array
  | WebAssembly.Module;

/** Loads the engine (once); resolves to the API object. */
export default function init(input?: InitInput): Promise<typeof import("./tunelab.js")>;

/** A float32 array with a shape. */
export class Tensor {
  constructor(data: Float32Array | number[] | NestedArray | TfjsTensorLike, shape?: number[]);
  readonly data: Float32Array;
  readonly shape: number[];
  readonly size: number;
  readonly rank: number;
  arraySync(): NestedArray | number;
  array(): Promise<NestedArray | number>;
  dataSync(): Float32Array;
  /** TensorFlow.js's habit: drops the values now (the garbage collector frees them anyway). */
  dispose(): void;
  readonly isDisposed?: boolean;
}
export type NestedArray = number[] | NestedArray[];
/** Anything with a shape and dataSync(): a TensorFlow.js tensor is read as a tensor. */
export interface TfjsTensorLike { shape: number[]; dataSync(): ArrayLike<number> }
/** Data a model accepts: a tensor, a TensorFlow.js tensor, `{data, shape}`, or nested arrays of numbers. */
export type TensorLike = Tensor | TfjsTensorLike | { data: Float32Array | number[]; shape: number[] } | NestedArray;
/** TensorFlow.js's `tf.tidy`: runs `fn` and returns its result (tunelab's tensors need no cleanup). */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
/** TensorFlow.js's `tf.dispose`: disposes a tensor, or every tensor in a list or object. */
export function dispose(x: Tensor | Tensor[] | Record<string, Tensor>): void;
export function tensor(data: Float32Array | number[] | NestedArray | TfjsTensorLike, shape?: number[]): Tensor;

/** A layer description, as the model spec writes it. */
export interface LayerConfig {
  class_name: string;
  config: Record<string, unknown>;
}
export type Activation =
  | "linear" | "relu" | "tanh" | "sigmoid" | "softmax" | "elu" | "selu" | "gelu" | "leaky_relu"
  | "softplus" | "softsign" | "swish" | "silu" | "hard_sigmoid" | "exponential";
export type Initializer = string | { class_name: string; config: Record<string, number> };
export type RegularizerConfig = { class_name: "L1" | "L2" | "L1L2"; config: { l1?: number; l2?: number } } | "l1" | "l2" | "l1_l2";

interface CommonLayerArgs {
  name?: string;
  inputShape?: number[];
  batchInputShape?: (number | null)[];
  trainable?: boolean;
  dtype?: string;
}
/**
 * Keras's `Normalization` layer: `(x - mean) / sqrt(variance)` per feature of the last axis
 * (`axis: null`: one mean and variance for all). Put it first in a model (after an optional
 * Flatten); without `mean`/`variance` and without `adapt`, `fit` adapts it on the training rows.
 */
export interface NormalizationLayer extends LayerConfig {
  /** Keras's `adapt(data)`: the mean and (population) variance of `x`'s rows; returns the layer. */
  adapt(x: TensorLike): NormalizationLayer;
  /** The layer called on data (Keras's `Normalization()(x)`): `x` standardized, adapting first when unadapted. */
  apply(x: TensorLike): Tensor;
}
export const layers: {
  normalization(args?: CommonLayerArgs & {
    axis?: -1 | null;
    mean?: number | number[] | Float32Array;
    variance?: number | number[] | Float32Array;
    invert?: false;
  }): NormalizationLayer;
  dense(args: CommonLayerArgs & {
    units: number;
    activation?: Activation;
    useBias?: boolean;
    kernelInitializer?: Initializer;
    biasInitializer?: Initializer;
    kernelRegularizer?: RegularizerConfig;
    biasRegularizer?: RegularizerConfig;
  }): LayerConfig;
  dropout(args: CommonLayerArgs & { rate: number; seed?: number }): LayerConfig;
  flatten(args?: CommonLayerArgs): LayerConfig;
  activation(args: CommonLayerArgs & { activation: Activation }): LayerConfig;
  inputLayer(args: { shape?: number[]; batchShape?: (number | null)[]; name?: string }): LayerConfig;
};

export interface OptimizerArgs {
  learningRate?: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  amsgrad?: boolean;
  rho?: number;
  centered?: boolean;
  initialAccumulatorValue?: number;
  weightDecay?: number | null;
  clipnorm?: number | null;
  clipvalue?: number | null;
  globalClipnorm?: number | null;
}
export type OptimizerConfig = { class_name: string; config: Record<string, unknown> };
export const optimizers: Record<"sgd" | "adam" | "adamw" | "rmsprop" | "adagrad" | "adadelta" | "adamax" | "nadam", (args?: OptimizerArgs) => OptimizerConfig>;
export const regularizers: {
  l1(args?: { l1?: number }): RegularizerConfig;
  l2(args?: { l2?: number }): RegularizerConfig;
  l1l2(args?: { l1?: number; l2?: number }): RegularizerConfig;
};
export const initializers: {
  randomNormal(args?: { mean?: number; stddev?: number; seed?: number }): Initializer;
  randomUniform(args?: { minval?: number; maxval?: number; seed?: number }): Initializer;
};

export type Logs = Record<string, number>;
/** Callbacks written in JS (TensorFlow.js's names). */
export interface CustomCallback {
  onTrainBegin?(): void;
  onTrainEnd?(logs: Logs): void;
  onEpochBegin?(epoch: number): void;
  onEpochEnd?(epoch: number, logs: Logs): void;
  onBatchBegin?(batch: number): void;
  onBatchEnd?(batch: number, logs: Logs): void;
  /** `evaluate`'s hooks (Keras's on_test_*); batch logs are the loss and metrics so far. */
  onTestBegin?(): void;
  onTestEnd?(logs: Logs): void;
  onTestBatchBegin?(batch: number): void;
  onTestBatchEnd?(batch: number, logs: Logs): void;
  /** `predict`'s hooks (Keras's on_predict_*). */
  onPredictBegin?(): void;
  onPredictEnd?(): void;
  onPredictBatchBegin?(batch: number): void;
  onPredictBatchEnd?(batch: number, logs: Logs): void;
}
/**
 * The tuner's own callbacks (best-epoch checkpoint, resume points, the search's hooks) in the
 * options a HyperModel's `fit` receives: hand them on to `model.fit`, as in KerasTuner.
 */
export class TunerCallbacks {
  private constructor();
}
export interface BuiltinCallback {
  readonly class_name: string;
  readonly config: Record<string, unknown>;
}
export const callbacks: {
  earlyStopping(args?: { monitor?: string; minDelta?: number; patience?: number; mode?: "auto" | "min" | "max"; baseline?: number; restoreBestWeights?: boolean; startFromEpoch?: number }): BuiltinCallback;
  reduceLROnPlateau(args?: { monitor?: string; factor?: number; patience?: number; mode?: "auto" | "min" | "max"; minDelta?: number; cooldown?: number; minLr?: number }): BuiltinCallback;
  terminateOnNaN(): BuiltinCallback;
};

export interface FitOptions {
  batchSize?: number;
  epochs?: number;
  verbose?: 0 | 1 | 2;
  validationSplit?: number;
  validationData?: [TensorLike, TensorLike] | [TensorLike, TensorLike, Float32Array | number[]];
  shuffle?: boolean;
  classWeight?: Record<number, number>;
  sampleWeight?: Float32Array | number[];
  initialEpoch?: number;
  stepsPerEpoch?: number;
  validationSteps?: number;
  validationBatchSize?: number;
  validationFreq?: number;
  seed?: number;
  callbacks?: CustomCallback | TunerCallbacks | (CustomCallback | BuiltinCallback | TunerCallbacks)[];
}

/** `evaluate`'s options (Keras's names, camelCase); `verbose` prints through console.log. */
export interface EvaluateOptions {
  batchSize?: number;
  sampleWeight?: Float32Array | number[];
  /** Only the first `steps` batches. */
  steps?: number;
  verbose?: 0 | 1 | 2;
  callbacks?: CustomCallback | (CustomCallback | BuiltinCallback)[];
  returnDict?: boolean;
}

/** `predict`'s options (Keras's names, camelCase). */
export interface PredictOptions {
  batchSize?: number;
  /** Outputs for the first `steps` batches only. */
  steps?: number;
  verbose?: 0 | 1 | 2;
  callbacks?: CustomCallback | (CustomCallback | BuiltinCallback)[];
}

export class History {
  history: Record<string, number[]>;
  epoch: number[];
}

export type Device = "cpu" | "webgpu" | "auto";

/** A metric written in JS: its name (the function's name) is its key in the logs (`val_` + name on validation data). */
export type MetricFunction = (yTrue: Tensor, yPred: Tensor) => number | Tensor | TfjsTensorLike | ArrayLike<number>;
/** A Keras Metric-like object: state kept by the object, `result()` read at the end of each epoch. */
export interface MetricObject {
  name: string;
  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor | null): void;
  result(): number | Tensor | TfjsTensorLike;
  resetState(): void;
}
export interface CompileArgs {
  optimizer?: string | OptimizerConfig;
  loss: string | { class_name: string; config?: Record<string, unknown> };
  /** Built-in metric names, and metrics written in JS (usable as a tuner's objective). */
  metrics?: (string | MetricFunction | MetricObject)[];
  weightedMetrics?: string[];
  /** 1 or [1] only: a tunelab model has one output (scale `learningRate` instead). */
  lossWeights?: number | [number];
  /** false only: there is no graph mode, so no eager mode to switch to. */
  runEagerly?: false;
  /** "auto" or false: there is no XLA. */
  jitCompile?: "auto" | false;
  /** Either: tunelab trains in float32 and never scales the loss. */
  autoScaleLoss?: boolean;
  /** 1 only (WebGPU already runs an epoch per submission). */
  stepsPerExecution?: 1;
}

export class Sequential {
  constructor(args?: { layers?: LayerConfig[]; name?: string; inputShape?: number[] });
  name: string;
  add(layer: LayerConfig): void;
  /** Frees the engine memory behind the model now; the model cannot be used afterwards. */
  dispose(): void;
  compile(args: CompileArgs): void;
  /** The model as a JSON spec (layers and compile settings). */
  toJSON(): { input_shape?: number[]; layers: LayerConfig[]; compile?: Record<string, unknown> };
  setDevice(device: Device): void;
  readonly device: { device: string; note: string | null };
  setSeed(seed: number): void;
  build(inputShape: number[]): void;
  fit(x: TensorLike, y: TensorLike, options?: FitOptions): Promise<History>;
  evaluate(x: TensorLike, y: TensorLike, options?: EvaluateOptions): Promise<number | number[] | Logs>;
  predict(x: TensorLike, options?: PredictOptions): Promise<Tensor>;
  trainOnBatch(x: TensorLike, y: TensorLike, options?: { sampleWeight?: Float32Array | number[]; classWeight?: Record<number, number>; returnDict?: boolean }): number | number[] | Logs;
  testOnBatch(x: TensorLike, y: TensorLike, options?: { sampleWeight?: Float32Array | number[]; returnDict?: boolean }): number | number[] | Logs;
  predictOnBatch(x: TensorLike): Tensor;
  /** Keras's summary table. */
  summary(): string;
  /** The trained model in one file (spec, input shape, weights, optimizer state), as Keras's `model.save`; `loadModel`, `tunelab predict FILE` and Rust's `load_model` read it. */
  save(): Uint8Array;
  /** TensorFlow.js's LayersModel: the text of `model.json` (naming `weightsFile`, default "weights.bin") and that file's bytes, for `tf.loadLayersModel`. */
  toTfjs(options?: { weightsFile?: string }): { modelJSON: string; weights: Uint8Array };
  getWeights(): Tensor[];
  setWeights(weights: TensorLike[]): void;
  countParams(): number;
  /** The optimizer's state, or null before the first step. */
  getTrainingState(): TrainingState | null;
  setTrainingState(state: TrainingState): void;
}
export function sequential(args?: { layers?: LayerConfig[]; name?: string; inputShape?: number[] }): Sequential;

/** A model from a JSON spec (`{layers, compile, input_shape}`). */
/** A model saved by `model.save()`, `tunelab fit --save` or Rust's `save_model`: built, with its weights and optimizer state. */
export function loadModel(bytes: Uint8Array | ArrayBuffer): Sequential;
export function modelFromJSON(spec: string | object): Sequential;
/** A hypermodel from a model spec with hp objects and repeat/when blocks (docs/tuning.md). */
export function specHypermodel(spec: string | object): (hp: HyperParameters) => Sequential;

export type HpValue = number | string | boolean;
export type Sampling = "linear" | "log" | "reverse_log";

/**
 * KerasTuner's `parent_name` / `parent_values` on a value creator: the hp is active only when
 * hp `parentName`'s value is one of `parentValues` (give both, or neither).
 */
export interface HpParent {
  parentName?: string;
  parentValues?: HpValue | HpValue[];
}

/** An hp's JSON, as in `toJSON().space`: `{class_name: "Int", config: {name, ...}}`. */
export interface HpJSON {
  class_name: string;
  config: { name: string; [key: string]: unknown };
}

/** KerasTuner's `get_config()`: the space, and every value held. */
export interface HyperParametersJSON {
  space: HpJSON[];
  values: Record<string, HpValue>;
}

/** KerasTuner's HyperParameters. */
export class HyperParameters {
  constructor();
  /** KerasTuner's `from_config`: hyperparameters from `toJSON()`'s object or its JSON text. */
  static fromJSON(json: HyperParametersJSON | string): HyperParameters;
  /** Frees the engine memory behind these hyperparameters now; they cannot be used afterwards. */
  dispose(): void;
  /** Inside an inactive conditional scope (or with an unmet parent), the hp's default is returned (KerasTuner returns None). */
  Int(name: string, options: { minValue: number; maxValue: number; step?: number; sampling?: Sampling; default?: number } & HpParent): number;
  Int(name: string, minValue: number, maxValue: number, stepOrOptions?: number | ({ step?: number; sampling?: Sampling; default?: number } & HpParent)): number;
  Float(name: string, options: { minValue: number; maxValue: number; step?: number; sampling?: Sampling; default?: number } & HpParent): number;
  Float(name: string, minValue: number, maxValue: number, stepOrOptions?: number | ({ step?: number; sampling?: Sampling; default?: number } & HpParent)): number;
  /** The values keep their literal types: `hp.Choice("act", ["relu", "tanh"])` is `"relu" | "tanh"`. */
  Choice<const T extends HpValue>(name: string, values: readonly T[], options?: { ordered?: boolean; default?: T } & HpParent): T;
  Boolean(name: string, options?: { default?: boolean } & HpParent): boolean;
  Fixed<T extends HpValue>(name: string, value: T, options?: HpParent): T;
  int: HyperParameters["Int"];
  float: HyperParameters["Float"];
  choice: HyperParameters["Choice"];
  boolean: HyperParameters["Boolean"];
  fixed: HyperParameters["Fixed"];
  conditionalScope<R>(parentName: string, parentValues: HpValue | HpValue[], fn: () => R): R;
  nameScope<R>(name: string, fn: () => R): R;
  get(name: string): HpValue;
  /** KerasTuner's `is_active`: by name (some hp of that name has its conditions met), or for one hp's JSON (from `toJSON().space`). */
  isActive(nameOrHp: string | HpJSON): boolean;
  /** KerasTuner's `merge(hps, overwrite=True)`: adds `other`'s hps; with `overwrite` those already here are replaced and reset to their defaults. Returns this. */
  merge(other: HyperParameters | HyperParametersJSON, options?: { overwrite?: boolean }): this;
  /** KerasTuner's `copy()`: the same space and values, independent of this one. */
  copy(): HyperParameters;
  readonly values: Record<string, HpValue>;
  searchSpaceSummary(): string;
  toJSON(): HyperParametersJSON;
}

/**
 * KerasTuner's `HyperModel(name, tunable)`: subclass and override build (and optionally fit).
 * `tunable: false` keeps the hps build creates at their defaults; hps declared in
 * `declareHyperparameters` (called before the first build) or given to the tuner stay searched.
 */
export class HyperModel {
  constructor(options?: { name?: string | null; tunable?: boolean });
  readonly name: string | null;
  readonly tunable: boolean;
  build(hp: HyperParameters): Sequential;
  /** KerasTuner's `declare_hyperparameters(hp)`: declares hps before the first build. */
  declareHyperparameters(hp: HyperParameters): void;
  /** `options`: search's fit options, with the tuner's callbacks in `callbacks`: pass them on to `model.fit`. */
  fit?(hp: HyperParameters, model: Sequential, x: TensorLike, y: TensorLike, options: FitOptions): Promise<History | number | Logs> | History | number | Logs;
}

export type Objective = string | { name: string; direction: "min" | "max" };

export interface TrialInfo {
  trialId: string;
  hyperparameters: { values: Record<string, HpValue> };
  metrics: Record<string, number>;
  score: number | null;
  bestStep: number | null;
  status: string;
  message: string | null;
  seconds: number;
  device: string | null;
  /** Learning curves, one object per execution: metric name -> one value per epoch trained. */
  curves: Record<string, number[]>[];
}

/** The trial a `runTrial` function receives: the trial's record, with its live hyperparameters. */
export type RunTrialTrial = Omit<TrialInfo, "hyperparameters"> & { hyperparameters: HyperParameters };
/** What `runTrial` returns: a score (minimised), an object of metrics, or the History of `model.fit`. */
export type RunTrialResult = number | Logs | History;

/** The arguments of `search` for a tuner of a hypermodel: `x`, `y` and the fit options. */
export type SearchArgs = [x: TensorLike, y: TensorLike, options?: SearchOptions];
/** `search`'s fit options, with the search's own callbacks and an AbortSignal that stops it. */
export type SearchOptions = Omit<FitOptions, "callbacks"> & { callbacks?: SearchCallbacks; signal?: AbortSignal };

/**
 * The options of every tuner: those of the engine's table (`tl.catalog().tuners[i].options`, the
 * CLI's `tunelab catalog`; camelCase here) plus `hypermodel`, `runTrial`, `hyperparameters` and
 * `storage`. `A` is what `search(...)` takes: `x, y, options` for a hypermodel, or the
 * arguments after the trial of a `runTrial` function, which `search` passes on to it.
 */
export interface TunerOptions<A extends unknown[] = SearchArgs> {
  hypermodel?: ((hp: HyperParameters) => Sequential) | HyperModel;
  /** Tune any function instead of a model (or override runTrial in a subclass). */
  runTrial?: (trial: RunTrialTrial, ...args: A) => RunTrialResult | Promise<RunTrialResult>;
  hyperparameters?: HyperParameters;
  /** Where the search is kept: IndexedDB in browsers (resumes after a reload), memory elsewhere. */
  storage?: "auto" | "indexeddb" | "memory" | Store;
  objective?: Objective | Objective[] | null;
  maxTrials?: number | null;
  executionsPerTrial?: number;
  seed?: number;
  overwrite?: boolean;
  directory?: string | null;
  projectName?: string;
  maxRetriesPerTrial?: number;
  maxConsecutiveFailedTrials?: number;
  maxCollisions?: number;
  maxModelSize?: number | null;
  device?: Device;
  /** How many trials train at once (WebGPU: one GPU group); null: the engine decides. */
  parallelTrials?: number | null;
  /**
   * How the parallel trials' workers take trials: "batches" (all start together, the next
   * ones when all ended), "async" (a worker that frees up starts the next trial at once) or
   * "deterministic" (async in simulated time: the same search on any machine); null: async
   * for ASHA, batches for the others.
   */
  schedule?: "batches" | "async" | "deterministic" | null;
  /** Prints each trial's progress (KerasTuner's search output) to the console. */
  verbose?: boolean;
}
/** Hyperband's options (KerasTuner's names, camelCase). */
export interface HyperbandOptions<A extends unknown[] = SearchArgs> extends TunerOptions<A> {
  maxEpochs?: number;
  factor?: number;
  hyperbandIterations?: number | null;
}
/** BayesianOptimization's options (KerasTuner's names, camelCase). */
export interface BayesianOptimizationOptions<A extends unknown[] = SearchArgs> extends TunerOptions<A> {
  /** Random trials before the Gaussian process proposes (default: 3 x the number of hyperparameters, at least 3). */
  numInitialPoints?: number | null;
  /** The Gaussian process's noise term (added to its kernel's diagonal). */
  alpha?: number;
  /** "ei" (expected improvement, the default) or "lcb" (KerasTuner's lower confidence bound, mean - beta * sd). */
  acquisition?: "ei" | "lcb";
  /** lcb's exploration weight (only with acquisition "lcb"). */
  beta?: number;
}
/** BOHB's options: Hyperband's, and its model's. */
export interface BohbOptions<A extends unknown[] = SearchArgs> extends HyperbandOptions<A> {
  /** The share of new configurations drawn at random (0 to 1; default 1/3). */
  randomFraction?: number;
  /** Completed trials a budget needs before the model proposes for it (null: 3 per hyperparameter). */
  minPointsInModel?: number | null;
}
/** ASHA's options (asynchronous successive halving). */
export interface AshaOptions<A extends unknown[] = SearchArgs> extends TunerOptions<A> {
  maxEpochs?: number;
  factor?: number;
  /** "random" (new configurations at random, the default) or "gp" (from BOHB's model). */
  model?: "random" | "gp";
  /** Only with model "gp": the share of new configurations drawn at random. */
  randomFraction?: number;
  /** Only with model "gp": completed trials a budget needs before the model proposes for it. */
  minPointsInModel?: number | null;
}
export type TunerClass = "RandomSearch" | "GridSearch" | "Hyperband" | "BayesianOptimization" | "BOHB" | "ASHA";

export interface SearchCallbacks {
  onTrialBegin?(trial: TrialInfo): void;
  onTrialEnd?(trial: TrialInfo): void;
  onEpochBegin?(trialId: string | null, epoch: number): void;
  onEpochEnd?(trialId: string | null, epoch: number, logs: Logs): void;
  onBatchEnd?(trialId: string, batch: number, logs: Logs): void;
  /** Everything so far is stored (IndexedDB). */
  onSaved?(): void;
}

/**
 * The shared base of the tuners. `A` is what `search` takes: `x, y, options` with a hypermodel;
 * with a `runTrial` function (an option, or an override in a subclass: `class T extends
 * tl.RandomSearch<[data: number[]]>`) the arguments after its trial, which `search` passes on.
 */
export class Tuner<A extends unknown[] = SearchArgs> {
  constructor(kind: "RandomSearch" | "GridSearch", options: TunerOptions<A>);
  constructor(kind: "Hyperband", options: HyperbandOptions<A>);
  constructor(kind: "BayesianOptimization", options: BayesianOptimizationOptions<A>);
  constructor(kind: "BOHB", options: BohbOptions<A>);
  constructor(kind: "ASHA", options: AshaOptions<A>);
  /** Override to tune any function: return a number (minimised), an object of metrics or a History. */
  runTrial(trial: RunTrialTrial, ...args: A): Promise<RunTrialResult> | RunTrialResult;
  searchSpaceSummary(): string;
  /** Loads a stored search (after a reload) without running anything. */
  reload(): Promise<void>;
  /**
   * Runs trials until the oracle stops. With a hypermodel: `search(x, y, options)`; with
   * `runTrial`: its own arguments (a last one holding `callbacks` or `signal` serves the search too).
   */
  search(...args: A): Promise<void>;
  /** Ends a running search after the trials in progress (no new trials start). */
  stop(): void;
  /** Trains the hypermodel's executions elsewhere (a pool of workers running `runExecution`). */
  setExecutor(executor: (jobBytes: Uint8Array, info: ExecutionInfo, onEpoch: (reportBytes: Uint8Array) => boolean) => Promise<void>): void;
  /** A trial interrupted while it trained: its values and its first execution's history, or null. */
  interrupted(trialId: string): { values: Record<string, HpValue>; history: { history: Record<string, number[]>; epoch: number[] } } | null;
  /** A trial's stored best-epoch weights, or null before it has ended. */
  trialWeights(trialId: string): Tensor[] | null;
  resultsSummary(numTrials?: number): string;
  getBestHyperparameters(numTrials?: number): HyperParameters[];
  getBestModels(options?: { numModels?: number; inputShape?: number[] } | number): Promise<Sequential[]>;
  readonly trials: TrialInfo[];
  trialsJSON(): { trials: unknown[]; best_hyperparameters: Record<string, HpValue> | null };
  trialsCSV(): string;
  readonly device: { device: string; note: string | null };
}
export class RandomSearch<A extends unknown[] = SearchArgs> extends Tuner<A> {
  constructor(options: TunerOptions<A>);
}
export class GridSearch<A extends unknown[] = SearchArgs> extends Tuner<A> {
  constructor(options: TunerOptions<A>);
}
export class Hyperband<A extends unknown[] = SearchArgs> extends Tuner<A> {
  constructor(options: HyperbandOptions<A>);
}
export class BayesianOptimization<A extends unknown[] = SearchArgs> extends Tuner<A> {
  constructor(options: BayesianOptimizationOptions<A>);
}
export class BOHB<A extends unknown[] = SearchArgs> extends Tuner<A> {
  constructor(options: BohbOptions<A>);
}
export class ASHA<A extends unknown[] = SearchArgs> extends Tuner<A> {
  constructor(options: AshaOptions<A>);
}

/** One execution of one trial, as a tuner's executor receives it. */
export interface ExecutionInfo {
  trialId: string;
  execution: number;
  /** The hyperparameter values the job's model was built with. */
  values: Record<string, HpValue>;
  epochs: number;
  initialEpoch: number;
}
/** A worker's copy of the search's data (engine memory). */
export interface ExecutionData {
  free(): void;
}
export function executionData(data: { x: TensorLike; y: TensorLike; xVal?: TensorLike; yVal?: TensorLike; probe?: TensorLike }): ExecutionData;
/** Trains one job of a tuner's executor; `onEpoch` after every epoch (return false to stop). */
export function runExecution(
  jobBytes: Uint8Array,
  data: ExecutionData,
  onEpoch: (reportBytes: Uint8Array, epoch: number, logs: Logs, probe: Float32Array | null) => boolean | void,
): Promise<void>;

export function dataset(name: string, options?: { noise?: number; seed?: number }): { x: Tensor; y: Tensor };
export const datasets: { load: typeof dataset; names(): string[] };
export function oneHot(y: TensorLike, numClasses?: number): Tensor;
/** Opens WebGPU; resolves to the adapter's label ("webgpu (adapter, backend)"). */
export function initGpu(): Promise<string>;
/** How many GPU buffers the engine holds now in this realm (page or worker); 0 on the CPU path. */
export function gpuBufferCount(): number;
export function version(): string;

/** CSV text with a header line. */
export declare const csv: {
  header(text: string): { columns: string[]; rows: number };
  parse(text: string, options?: { label?: string | null; columns?: string[] | null }): { x: Tensor; y: Tensor | null; featureNames: string[]; labelName: string | null };
};
/** The engine's tables: tuners with their options and defaults, built-in data sets, Playground's features, losses. */
export interface Catalog {
  tuners: { name: string; class: string; about: string; options: Record<string, unknown> }[];
  datasets: { name: string; task: "binary" | "multiclass" | "regression"; classes: number | null; rows: number; features: number; playground: boolean }[];
  features: string[];
  losses: { name: string; aliases: string[]; targets: "one_hot" | "class_ids" | "binary" | "values" }[];
}
export declare function catalog(): Catalog;
/** A tuner's class name from any of its names ("random", "random_search", "RandomSearch"). */
export declare function tunerKind(name: string): TunerClass;
/** A loss by any of its names. */
export declare function lossInfo(name: string): { name: string; targets: "one_hot" | "class_ids" | "binary" | "values" };
/** The playground's train/test split of `n` rows: row indices, `trainPercent` (0-100, exclusive) for training, order fixed by `seed`. */
export declare function splitIndices(n: number, options: { trainPercent: number; seed?: number }): { train: Uint32Array; test: Uint32Array };
/** TensorFlow Playground's input features of 2-D points (x of shape [n, 2]). */
export declare function features(x: TensorLike, names: string[]): Tensor;

/** A search's storage, for a tuner's `storage` option and a page's own files beside the search's. */
export interface Store {
  read(path: string): Uint8Array | undefined;
  write(path: string, bytes: Uint8Array): void;
  list(prefix: string): string[];
  clear(): void;
  location(): string;
  open(): Promise<void>;
  /** Waits for the writes so far; rejects once if one failed to save. */
  flush(): Promise<void>;
  /** Runs `fn` once everything written so far is stored (never after a failed save). */
  afterSave(fn: () => void): void;
}
export declare function store(kind: "indexeddb" | "memory" | "auto", location: string): Store;
/**
 * The `"indexeddb"` store (database "tunelab", keys `${location}/${path}`): what is written in one
 * turn of the event loop is committed in one transaction; a failed commit goes to `onFail` at once
 * and to `flush()` once, and every later write is dropped until `open()` reloads what is stored.
 */
export declare class IndexedDBStore implements Store {
  constructor(location: string, options?: { onFail?: (error: unknown) => void });
  read(path: string): Uint8Array | undefined;
  write(path: string, bytes: Uint8Array): void;
  list(prefix: string): string[];
  clear(): void;
  location(): string;
  open(): Promise<void>;
  flush(): Promise<void>;
  afterSave(fn: () => void): void;
}

/** The optimizer's state of a model (Sequential.getTrainingState / setTrainingState). */
export interface TrainingState {
  iterations: number;
  learningRate: number;
  uProduct: number;
  slots: Float32Array[][];
}

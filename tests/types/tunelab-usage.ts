// A typed program that uses every public class, function and option of the npm package
// (js/tunelab.d.ts), compiled by `tsc -p tests/types` (tests/types/types.test.mjs). It is only
// type-checked, never run: the behaviour is tested by tests/js/*.test.mjs. The
// `@ts-expect-error` lines are mistakes a user makes; tsc fails if one of them is accepted.
import init, * as tl from "tunelab";
import type {
  BayesianOptimizationOptions,
  Catalog,
  CompileArgs,
  Device,
  ExecutionInfo,
  FitOptions,
  HpValue,
  HyperbandOptions,
  InitInput,
  Logs,
  RunTrialTrial,
  SearchOptions,
  Store,
  TensorLike,
  TrainingState,
  TrialInfo,
  TunerClass,
  TunerOptions,
} from "tunelab";

// init: nothing (the .wasm next to the module), or any of InitInput's forms.
const api: typeof tl = await init();
const inputs: InitInput[] = ["/tunelab_wasm_bg.wasm", new URL("https://example.org/x.wasm"), new Uint8Array(8), new ArrayBuffer(8), fetch("/x.wasm")];
await init(inputs[0]);
const v: string = api.version();

// Tensors
const t: tl.Tensor = tl.tensor([1, 2, 3, 4], [2, 2]);
const t2 = new tl.Tensor(new Float32Array([1, 2]), [2, 1]);
const shape: number[] = t.shape;
const n: number = t.size + t.rank + t2.dataSync().length + t.data.length;
const nested = t.arraySync();
const later: Promise<tl.NestedArray | number> = t.array();
const like: TensorLike[] = [t, { data: [1, 2], shape: [2, 1] }, [[1], [2]]];

// Layers, optimizers, regularizers, initializers, callbacks
const dense = tl.layers.dense({
  units: 8,
  activation: "relu",
  useBias: true,
  kernelInitializer: tl.initializers.randomNormal({ mean: 0, stddev: 0.05, seed: 1 }),
  biasInitializer: "zeros",
  kernelRegularizer: tl.regularizers.l2({ l2: 0.01 }),
  biasRegularizer: tl.regularizers.l1l2({ l1: 0.01, l2: 0.01 }),
  name: "hidden",
  inputShape: [2],
  trainable: true,
  dtype: "float32",
});
const uniform = tl.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 2 });
const l1 = tl.regularizers.l1({ l1: 0.001 });
const layerList: tl.LayerConfig[] = [
  tl.layers.inputLayer({ shape: [2], name: "in" }),
  tl.layers.inputLayer({ batchShape: [null, 2] }),
  dense,
  tl.layers.dropout({ rate: 0.1, seed: 3, batchInputShape: [null, 8] }),
  tl.layers.activation({ activation: "tanh" }),
  tl.layers.flatten(),
  tl.layers.dense({ units: 1, activation: "sigmoid", kernelInitializer: uniform, kernelRegularizer: l1 }),
];
// @ts-expect-error: Keras's snake_case name; the package takes camelCase (useBias)
tl.layers.dense({ units: 4, use_bias: false });
// @ts-expect-error: not an activation
tl.layers.dense({ units: 4, activation: "relu6" });

const opts = [
  tl.optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }),
  tl.optimizers.adam({ learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false }),
  tl.optimizers.adamw({ weightDecay: 0.004, clipnorm: 1, clipvalue: null, globalClipnorm: null }),
  tl.optimizers.rmsprop({ rho: 0.9, centered: false }),
  tl.optimizers.adagrad({ initialAccumulatorValue: 0.1 }),
  tl.optimizers.adadelta(),
  tl.optimizers.adamax(),
  tl.optimizers.nadam(),
];
// @ts-expect-error: TF.js's lr is learningRate here
tl.optimizers.adam({ lr: 0.01 });

const early = tl.callbacks.earlyStopping({ monitor: "val_loss", minDelta: 0, patience: 3, mode: "min", baseline: 1, restoreBestWeights: true, startFromEpoch: 0 });
const plateau = tl.callbacks.reduceLROnPlateau({ monitor: "val_loss", factor: 0.5, patience: 2, mode: "auto", minDelta: 1e-4, cooldown: 0, minLr: 1e-5 });
const nan = tl.callbacks.terminateOnNaN();
const custom: tl.CustomCallback = {
  onTrainBegin() {},
  onTrainEnd(logs: Logs) {},
  onEpochBegin(epoch: number) {},
  onEpochEnd(epoch: number, logs: Logs) {},
  onBatchBegin(batch: number) {},
  onBatchEnd(batch: number, logs: Logs) {},
};

// A model: compile, fit with every option, evaluate, predict, the *_on_batch methods
const model: tl.Sequential = tl.sequential({ layers: layerList, name: "m" });
const model2 = new tl.Sequential({ inputShape: [2] });
model2.add(tl.layers.dense({ units: 1 }));
const compileArgs: CompileArgs = { optimizer: opts[1], loss: "binary_crossentropy", metrics: ["accuracy"], weightedMetrics: ["accuracy"] };
model.compile(compileArgs);
model2.compile({ optimizer: "sgd", loss: { class_name: "Huber", config: { delta: 1 } } });
model.setSeed(1);
const device: Device = "auto";
model.setDevice(device);
const where: { device: string; note: string | null } = model.device;
model.build([2]);
const { x, y } = tl.dataset("xor", { noise: 0, seed: 1 });
const fitOptions: FitOptions = {
  batchSize: 32,
  epochs: 2,
  verbose: 0,
  validationSplit: 0.2,
  shuffle: true,
  classWeight: { 0: 1, 1: 2 },
  sampleWeight: new Float32Array(500).fill(1),
  initialEpoch: 0,
  stepsPerEpoch: 10,
  validationSteps: 2,
  validationBatchSize: 64,
  validationFreq: 1,
  seed: 7,
  callbacks: [custom, early, plateau, nan],
};
const history: tl.History = await model.fit(x, y, fitOptions);
await model.fit(x, y, { validationData: [x, y], callbacks: custom });
await model.fit(x, y, { validationData: [x, y, [1, 1]] });
const losses: number[] = history.history.loss;
const epochs: number[] = history.epoch;
// @ts-expect-error: TF.js's validation_split spelling
await model.fit(x, y, { validation_split: 0.2 });
const scores = await model.evaluate(x, y, { batchSize: 64, sampleWeight: [1], returnDict: true });
const pred: tl.Tensor = await model.predict(x, { batchSize: 128 });
await model.evaluate(x, y, { steps: 2, verbose: 1, callbacks: [{ onTestBatchEnd: (b: number, logs: tl.Logs) => console.log(b, logs.loss) }, tl.callbacks.terminateOnNaN()] });
await model.predict(x, { steps: 1, verbose: 2, callbacks: { onPredictBatchEnd: (b: number) => console.log(b) } });
model.compile({ loss: "mse", lossWeights: [1], runEagerly: false, jitCompile: "auto", autoScaleLoss: true, stepsPerExecution: 1 });
// @ts-expect-error: runEagerly true is refused (there is no graph mode)
model.compile({ loss: "mse", runEagerly: true });
model.trainOnBatch(x, y, { sampleWeight: [1], classWeight: { 0: 1 }, returnDict: false });
model.testOnBatch(x, y, { returnDict: true });
model.predictOnBatch(x);
const summary: string = model.summary();
const weights: tl.Tensor[] = model.getWeights();
model.setWeights(weights);
const params: number = model.countParams();
const state: TrainingState | null = model.getTrainingState();
if (state) model.setTrainingState({ ...state, learningRate: state.learningRate / 2, iterations: state.iterations, uProduct: state.uProduct, slots: state.slots });
const spec = model.toJSON();
const again: tl.Sequential = tl.modelFromJSON(spec);
again.dispose();

// Hyperparameters: every type, both call forms, scopes
const hp = new tl.HyperParameters();
const units: number = hp.Int("units", { minValue: 8, maxValue: 64, step: 8, sampling: "linear", default: 16 });
const units2: number = hp.Int("units2", 8, 64, 8);
const units3: number = hp.int("units3", 8, 64, { step: 8, sampling: "log", default: 8 });
const lr: number = hp.Float("lr", { minValue: 1e-4, maxValue: 1e-1, sampling: "log", default: 1e-3 });
const lr2: number = hp.float("lr2", 0.1, 0.9, 0.1);
const act: "relu" | "tanh" = hp.Choice("activation", ["relu", "tanh"], { ordered: false, default: "relu" });
const act2 = hp.choice("width", [8, 16, 32]);
const dropout: boolean = hp.Boolean("dropout", { default: false });
const b2: boolean = hp.boolean("b2");
const fixed: number = hp.Fixed("layers", 2);
const fixed2: string = hp.fixed("name", "mlp");
const inScope: number = hp.conditionalScope("activation", ["relu"], () => hp.Int("relu_units", 4, 8));
const named: number = hp.nameScope("block", () => hp.Int("units", 4, 8));
const value: HpValue = hp.get("units");
const values: Record<string, HpValue> = hp.values;
const space: string = hp.searchSpaceSummary();
// KerasTuner's parent_name / parent_values on every creator; is_active, merge, copy, from_config
const child: number = hp.Int("child", 1, 4, { parentName: "activation", parentValues: ["relu"] });
const child2: number = hp.Float("child2", { minValue: 0, maxValue: 1, parentName: "activation", parentValues: "tanh" });
const child3: "a" | "b" = hp.Choice("child3", ["a", "b"], { parentName: "activation", parentValues: ["relu"] });
const child4: boolean = hp.Boolean("child4", { default: true, parentName: "activation", parentValues: ["relu"] });
const child5: number = hp.Fixed("child5", 3, { parentName: "activation", parentValues: ["relu"] });
const active: boolean = hp.isActive("child") && hp.isActive(hp.toJSON().space[0]);
const hpCopy: tl.HyperParameters = hp.copy();
const merged: tl.HyperParameters = hpCopy.merge(hp, { overwrite: false }).merge(hp.toJSON());
const restored: tl.HyperParameters = tl.HyperParameters.fromJSON(hp.toJSON());
const restored2: tl.HyperParameters = tl.HyperParameters.fromJSON(JSON.stringify(hp.toJSON()));
const spaceJSON: tl.HpJSON[] = restored.toJSON().space;
// @ts-expect-error: KerasTuner's snake_case parent_name; the package takes parentName
hp.Int("bad2", 1, 2, { parent_name: "activation", parentValues: ["relu"] });
hp.toJSON();
hp.dispose();
// @ts-expect-error: KerasTuner's snake_case min_value; the package takes minValue
hp.Int("bad", { min_value: 1, maxValue: 2 });

// Hypermodels: a function, a spec, a HyperModel subclass with a fit override
function buildModel(hp: tl.HyperParameters): tl.Sequential {
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: hp.Int("units", 4, 16, 4), activation: hp.Choice("act", ["relu", "tanh"]), inputShape: [2] }));
  m.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
  m.compile({ optimizer: tl.optimizers.adam({ learningRate: hp.Float("lr", 1e-3, 1e-1, { sampling: "log" }) }), loss: "binary_crossentropy", metrics: ["accuracy"] });
  return m;
}
const fromSpec: (hp: tl.HyperParameters) => tl.Sequential = tl.specHypermodel({ layers: [{ class_name: "Dense", config: { units: { hp: "Int", name: "u", min_value: 2, max_value: 8 } } }] });
class FixedHyperModel extends tl.HyperModel {
  constructor() {
    super({ name: "fixed", tunable: false });
  }
  declareHyperparameters(hp: tl.HyperParameters): void {
    hp.Float("lr", 1e-3, 1e-1, { sampling: "log" });
  }
  build(hp: tl.HyperParameters): tl.Sequential {
    return buildModel(hp);
  }
}
const fixedName: string | null = new FixedHyperModel().name;
const isTunable: boolean = new tl.HyperModel({ tunable: true }).tunable;
class MyHyperModel extends tl.HyperModel {
  build(hp: tl.HyperParameters): tl.Sequential {
    return buildModel(hp);
  }
  async fit(hp: tl.HyperParameters, model: tl.Sequential, x: TensorLike, y: TensorLike, options: FitOptions) {
    return model.fit(x, y, { ...options, batchSize: hp.Choice("batch_size", [16, 32]) });
  }
}

// Tuners: every option of the engine's table (tl.catalog()), each tuner class
const storage: Store = tl.store("memory", "dir/project");
const common: TunerOptions = {
  hypermodel: buildModel,
  hyperparameters: new tl.HyperParameters(),
  storage,
  objective: { name: "val_accuracy", direction: "max" },
  maxTrials: 4,
  executionsPerTrial: 1,
  seed: 1,
  overwrite: true,
  directory: "dir",
  projectName: "project",
  maxRetriesPerTrial: 0,
  maxConsecutiveFailedTrials: 3,
  maxCollisions: 20,
  maxModelSize: null,
  device: "cpu",
  parallelTrials: null,
  verbose: false,
};
const random = new tl.RandomSearch(common);
const grid = new tl.GridSearch({ ...common, hypermodel: new MyHyperModel(), objective: ["val_loss", "val_accuracy"], maxTrials: null, storage: "memory" });
const hyperbandOptions: HyperbandOptions = { ...common, hypermodel: fromSpec, storage: "indexeddb", maxEpochs: 9, factor: 3, hyperbandIterations: 1 };
const hyperband = new tl.Hyperband(hyperbandOptions);
const bayesOptions: BayesianOptimizationOptions = { ...common, storage: "auto", numInitialPoints: 3, alpha: 1e-4, acquisition: "lcb", beta: 2.6 };
const bayes = new tl.BayesianOptimization(bayesOptions);
const base = new tl.Tuner("Hyperband", { hypermodel: buildModel, maxEpochs: 3 });
const kinds: TunerClass[] = ["RandomSearch", "GridSearch", "Hyperband", "BayesianOptimization"];
// @ts-expect-error: a Hyperband option on a random search
new tl.RandomSearch({ hypermodel: buildModel, maxEpochs: 3 });
// @ts-expect-error: KerasTuner's snake_case max_trials; the package takes maxTrials
new tl.RandomSearch({ hypermodel: buildModel, max_trials: 3 });
// @ts-expect-error: a wrong option name
new tl.BayesianOptimization({ hypermodel: buildModel, numInitialPoint: 2 });
// @ts-expect-error: not a tuner's class name
new tl.Tuner("Random", { hypermodel: buildModel });

// search(x, y, options) with the search's callbacks and an AbortSignal
const controller = new AbortController();
const searchOptions: SearchOptions = {
  epochs: 3,
  batchSize: 32,
  validationSplit: 0.2,
  signal: controller.signal,
  callbacks: {
    onTrialBegin(trial: TrialInfo) {},
    onTrialEnd(trial: TrialInfo) {
      const s: number | null = trial.score;
      const c: Record<string, number[]>[] = trial.curves;
    },
    onEpochBegin(trialId: string | null, epoch: number) {},
    onEpochEnd(trialId: string | null, epoch: number, logs: Logs) {},
    onBatchEnd(trialId: string, batch: number, logs: Logs) {},
    onSaved() {},
  },
};
await random.search(x, y, searchOptions);
await grid.search(x, y, { epochs: 1, validationData: [x, y] });
// @ts-expect-error: not a search callback
await random.search(x, y, { callbacks: { onTrialStart() {} } });
// @ts-expect-error: a hypermodel tuner's search takes x and y
await random.search(x);
random.stop();
await random.reload();
const text: string = random.searchSpaceSummary() + random.resultsSummary(3);
const bestHps: tl.HyperParameters[] = random.getBestHyperparameters(2);
const bestModels: tl.Sequential[] = await random.getBestModels({ numModels: 1, inputShape: [2] });
await random.getBestModels(2);
const trials: TrialInfo[] = random.trials;
const exported = random.trialsJSON();
const csvText: string = random.trialsCSV();
const tunerDevice = hyperband.device;
const stopped = random.interrupted("0");
const trialWeights: tl.Tensor[] | null = random.trialWeights("0");

// The runTrial tuner: a function of the trial and of search's own arguments, typed from runTrial
const fn = new tl.RandomSearch({
  runTrial: (trial: RunTrialTrial, xs: number[], scale: number) => {
    const a = trial.hyperparameters.Float("a", -1, 1);
    return xs.reduce((s, xi) => s + (a - xi) ** 2 * scale, 0);
  },
  maxTrials: 5,
  seed: 1,
});
await fn.search([0.5, 0.25], 2);
// @ts-expect-error: runTrial's second argument is a number
await fn.search([0.5], "2");
const fnMetrics = new tl.BayesianOptimization({
  runTrial: async (trial) => ({ loss: trial.hyperparameters.Float("x", 0, 1) ** 2 }),
  objective: { name: "loss", direction: "min" },
  maxTrials: 3,
});
await fnMetrics.search();
// ... or runTrial overridden in a subclass, with search's arguments named in the type argument
class QuadraticTuner extends tl.RandomSearch<[target: number, options: { callbacks?: tl.SearchCallbacks }]> {
  async runTrial(trial: RunTrialTrial, target: number) {
    const x = trial.hyperparameters.Float("x", -2, 2);
    return (x - target) ** 2;
  }
}
const quad = new QuadraticTuner({ objective: { name: "score", direction: "min" }, maxTrials: 4, overwrite: true });
await quad.search(1, { callbacks: { onTrialEnd: (t) => t.trialId } });

// A tuner's executor: the jobs train elsewhere (workers running runExecution)
const data: tl.ExecutionData = tl.executionData({ x, y, xVal: x, yVal: y, probe: [[0, 0]] });
hyperband.setExecutor(async (jobBytes: Uint8Array, info: ExecutionInfo, onEpoch) => {
  await tl.runExecution(jobBytes, data, (report: Uint8Array, epoch: number, logs: Logs, probe: Float32Array | null) => onEpoch(report));
  const { trialId, execution, values, epochs, initialEpoch } = info;
});
data.free();

// Data sets, CSV, features, splits, the engine's tables
const digits = tl.datasets.load("digits");
const names: string[] = tl.datasets.names();
const oneHot: tl.Tensor = tl.oneHot(digits.y, 10);
const header = tl.csv.header("a,b,label\n1,2,0\n");
const parsed = tl.csv.parse("a,b,label\n1,2,0\n", { label: "label", columns: ["a", "b"] });
const featureNames: string[] = parsed.featureNames;
const feats: tl.Tensor = tl.features(x, ["x1", "x2", "x1^2", "sin(x1)"]);
const split: { train: Uint32Array; test: Uint32Array } = tl.splitIndices(500, { trainPercent: 80, seed: 1 });
const table: Catalog = tl.catalog();
const tunerOptionKeys: string[] = Object.keys(table.tuners[0].options);
const kind: TunerClass = tl.tunerKind("hyperband");
const loss = tl.lossInfo("categorical_crossentropy");
const targets: "one_hot" | "class_ids" | "binary" | "values" = loss.targets;

// Devices
const adapter: string = await tl.initGpu();
const buffers: number = tl.gpuBufferCount();

// Storage: the stores a tuner's `storage` option takes
const idb = new tl.IndexedDBStore("dir/project", { onFail: (e: unknown) => console.error(e) });
await idb.open();
idb.write("a.json", new Uint8Array([1]));
const bytes: Uint8Array | undefined = idb.read("a.json");
const listed: string[] = idb.list("a");
idb.afterSave(() => {});
await idb.flush();
const loc: string = idb.location();
idb.clear();
const auto: Store = tl.store("auto", "dir/project");

// The playground's page state: the lists of allowed values, the defaults, the validation that
// gates anything read from a URL, and the URL-hash encoding. No DOM here: this module also runs
// in workers and in Node (tests).
//
// The state's shape is described in www/README.md. `P` (a "parameter") is either a fixed value,
// `{value: v}`, or a search range: `{hp: "Int", min, max, step, sampling}`,
// `{hp: "Float", min, max, sampling}`, `{hp: "Choice", values}` or `{hp: "Boolean"}`.

import { CATALOG } from "./catalog.js";

export const STATE_VERSION = 1;

/** The engine's built-in sets (its catalog), then the page's own: MNIST's subset and a CSV file. */
export const DATASETS = [...CATALOG.datasets.map((d) => d.name), "mnist", "csv"];
/** The 2-D sets, whose inputs are built from FEATURES. */
export const PLANE_DATASETS = CATALOG.datasets.filter((d) => d.playground).map((d) => d.name);
export const FEATURES = [...CATALOG.features];
/** Activations offered for hidden layers (all accepted by the engine, docs/model-spec.md). */
export const ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear", "elu", "selu", "gelu", "softplus", "swish", "leaky_relu"];
/** Optimizers the engine knows (docs/model-spec.md). */
export const OPTIMIZERS = ["adam", "sgd", "rmsprop", "adamw", "adagrad", "adamax", "nadam", "adadelta"];
/** The engine's tuners (its catalog): the tuner panel and the race offer every one. */
export const TUNERS = CATALOG.tuners.map((t) => t.name);
const tunerEntry = (name) => CATALOG.tuners.find((t) => t.name === name);
/** A tuner's class name in the engine (`RandomSearch` for "random"). */
export const tunerClass = (name) => tunerEntry(name)?.class;
/** The engine's one-line description of a tuner (the catalog's `about`). */
export const tunerAbout = (name) => tunerEntry(name)?.about ?? "";
/** Whether a tuner has an option (snake_case, the engine's table): "max_epochs" for Hyperband, BOHB, ASHA. */
export const hasOption = (name, key) => key in (tunerEntry(name)?.options ?? {});
/**
 * Whether a tuner's search is bounded by max trials: not Hyperband and BOHB, whose brackets fix
 * their trials (the engine's tables have `hyperband_iterations` for them alone).
 */
export const usesMaxTrials = (name) => !hasOption(name, "hyperband_iterations");
/** BayesianOptimization's options and their defaults, from the engine's table. */
const BAYESIAN = tunerEntry("bayesian").options;
/** BOHB's and ASHA's options and their defaults (the model's share of random configurations). */
const BOHB = tunerEntry("bohb").options;
const ASHA = tunerEntry("asha").options;
/** ASHA's new configurations: "random", or "gp" (BOHB's Gaussian process). */
export const ASHA_MODELS = ["random", "gp"];
/**
 * BayesianOptimization's acquisitions (src/tuner/options.rs): "ei", expected improvement (the
 * default), or "lcb", KerasTuner's lower confidence bound, mean - beta * sd.
 */
export const ACQUISITIONS = ["ei", "lcb"];
export const DEVICES = ["auto", "webgpu", "cpu"];
/**
 * The search's pace: "fast" shows the epochs as the engine trains them; "watch" shows each epoch
 * of each running trial for at least WATCH_EPOCH_MS (the engine trains at full speed; the search
 * worker hands its reports to the tuner no faster than that, so the next trial or Hyperband
 * round waits for the learner).
 */
export const PACES = ["fast", "watch"];
export const WATCH_EPOCH_MS = 120;
export const REGULARIZERS = ["none", "l1", "l2"];
export const CSV_TASKS = ["classification", "regression"];
/** Sections a classroom link may hide (`hide`). */
export const SECTIONS = ["data", "features", "editor", "json", "tuner", "device", "charts", "results", "share"];

export const CLASSIFICATION_OBJECTIVES = ["val_accuracy", "val_loss", "accuracy", "loss"];
export const REGRESSION_OBJECTIVES = ["val_loss", "val_mae", "loss", "mae"];

/** Limits of the page (also used by the editor to check its inputs). */
export const LIMITS = {
  hiddenLayers: 32,
  choiceValues: 32,
  seedMax: 2 ** 31 - 1,
  specBytes: 100 * 1024,
  hashChars: 200 * 1024,
  nameChars: 200,
  csvColumns: 1000,
  maxTrials: 1000,
  /** The page's bounds of BayesianOptimization's `alpha` (GP noise) and `beta` (lcb's weight). */
  alphaMax: 1,
  betaMax: 100,
};

/**
 * What each P field of the model accepts: the fixed value's type and bounds, and which kinds of
 * range it may switch to. `type`: "int", "float" or "enum" (a string from `list`).
 */
export const P_FIELDS = {
  units: { label: "units", type: "int", min: 1, max: 4096, ranges: ["Int"] },
  activation: { label: "activation", type: "enum", list: ACTIVATIONS, ranges: ["Choice"] },
  rate: { label: "dropout rate", type: "float", min: 0, max: 0.99, ranges: ["Float", "Boolean"] },
  regRate: { label: "regularization rate", type: "float", min: 0, max: 1, ranges: ["Float"] },
  optimizer: { label: "optimizer", type: "enum", list: OPTIMIZERS, ranges: ["Choice"] },
  learningRate: { label: "learning rate", type: "float", min: 1e-6, max: 10, ranges: ["Float"] },
  batchSize: { label: "batch size", type: "int", min: 1, max: 4096, ranges: ["Int"] },
  epochs: { label: "epochs", type: "int", min: 1, max: 500, ranges: ["Int"] },
};

/** Defaults of a new hidden layer of each type. */
export function defaultLayer(type) {
  if (type === "dropout") return { type: "dropout", rate: { value: 0.1 } };
  return { type: "dense", units: { value: 8 }, activation: { value: "tanh" } };
}

export function defaultState() {
  return {
    v: STATE_VERSION,
    data: { source: "circle", noise: 10, trainPct: 50, seed: 0, features: ["x1", "x2"], csv: null },
    model: {
      hidden: [
        {
          type: "dense",
          units: { hp: "Int", min: 2, max: 16, step: 2, sampling: "linear" },
          activation: { hp: "Choice", values: ["tanh", "relu"] },
        },
        { type: "dense", units: { value: 8 }, activation: { hp: "Choice", values: ["tanh", "relu"] } },
      ],
      repeat: null,
      regularizer: "none",
      regRate: { value: 0.001 },
      optimizer: { value: "adam" },
      learningRate: { hp: "Float", min: 1e-3, max: 1e-1, sampling: "log" },
      batchSize: { value: 10 },
      epochs: { value: 20 },
      normalize: true,
    },
    tuner: {
      kind: "random",
      objective: "val_accuracy",
      maxTrials: 10,
      executionsPerTrial: 1,
      seed: 1,
      maxEpochs: 10,
      factor: 3,
      hyperbandIterations: 1,
      numInitialPoints: BAYESIAN.num_initial_points,
      acquisition: BAYESIAN.acquisition,
      beta: BAYESIAN.beta,
      alpha: BAYESIAN.alpha,
      randomFraction: BOHB.random_fraction,
      minPointsInModel: BOHB.min_points_in_model,
      model: ASHA.model,
      device: "auto",
      workers: 2,
      pace: "watch",
    },
    hide: [],
    spec: null,
    lesson: null,
    race: null,
  };
}

// ---------------------------------------------------------------------------------------------
// Tasks and objectives

/**
 * The learning task of the state's data: `{kind: "binary" | "multiclass" | "regression",
 * classes}`. `classes` is 2 for binary, the class count for multiclass (null for a CSV whose
 * class count is not known yet, i.e. no `info.classes`), null for regression.
 */
export function taskOf(state, info) {
  const source = state?.data?.source;
  const builtin = CATALOG.datasets.find((d) => d.name === source);
  if (builtin) return { kind: builtin.task, classes: builtin.classes };
  if (source === "mnist") return { kind: "multiclass", classes: 10 };
  if (source === "csv") {
    if (state.data.csv?.task === "regression") return { kind: "regression", classes: null };
    const classes = Number.isInteger(info?.classes) && info.classes >= 2 ? info.classes : null;
    if (classes === 2) return { kind: "binary", classes: 2 };
    return { kind: "multiclass", classes };
  }
  return { kind: "binary", classes: 2 };
}

function taskKind(task) {
  return typeof task === "string" ? task : task?.kind;
}

/** The objectives the page offers for a task (a task object or its kind). */
export function objectivesFor(task) {
  return taskKind(task) === "regression" ? [...REGRESSION_OBJECTIVES] : [...CLASSIFICATION_OBJECTIVES];
}

export function defaultObjective(task) {
  return taskKind(task) === "regression" ? "val_loss" : "val_accuracy";
}

// ---------------------------------------------------------------------------------------------
// Validation

/** A short printable form of a value for messages. */
export function showValue(v) {
  let s;
  if (typeof v === "number") s = Number.isNaN(v) ? "NaN" : String(v);
  else if (v === undefined) s = "undefined";
  else if (typeof v === "bigint") s = `${v}n`;
  else {
    try {
      s = JSON.stringify(v);
    } catch {
      s = Object.prototype.toString.call(v);
    }
    if (s === undefined) s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** A path for messages: one made of keys from a hand-written spec can be long; keep its ends. */
function showPath(path) {
  return path.length > 200 ? `${path.slice(0, 80)}...${path.slice(-100)}` : path;
}

function fail(path, value, problem) {
  throw new Error(`${showPath(path)}: ${showValue(value)} ${problem}`);
}

/** A path step for a key typed by a user: `.units`, or `["any text"]` (shortened). */
function keyStep(k) {
  if (/^[A-Za-z_$][\w$]{0,39}$/.test(k)) return `.${k}`;
  const quoted = JSON.stringify(k);
  return quoted.length > 42 ? `[${quoted.slice(0, 40)}..."]` : `[${quoted}]`;
}

function isPlainObject(v) {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Checks `v` is a plain object whose keys are all in `keys`. */
function object(v, path, keys) {
  if (!isPlainObject(v)) fail(path, v, "is not an object");
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) {
      throw new Error(`${path}: unknown key ${showValue(k)} (allowed: ${keys.join(", ")})`);
    }
  }
  return v;
}

function fmt(x) {
  return String(x);
}

function number(v, path, lo, hi) {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(path, v, `is not a number (${fmt(lo)}..${fmt(hi)})`);
  if (v < lo) fail(path, v, `is too small (${fmt(lo)}..${fmt(hi)})`);
  if (v > hi) fail(path, v, `is too large (${fmt(lo)}..${fmt(hi)})`);
  return v === 0 ? 0 : v; // no -0: it would not survive JSON
}

function integer(v, path, lo, hi) {
  if (typeof v !== "number" || !Number.isInteger(v)) fail(path, v, `is not an integer (${fmt(lo)}..${fmt(hi)})`);
  return number(v, path, lo, hi);
}

function boolean(v, path) {
  if (typeof v !== "boolean") fail(path, v, "is not true or false");
  return v;
}

function oneOf(v, path, list, what) {
  if (typeof v !== "string" || !list.includes(v)) fail(path, v, `is not ${what} (${list.join(", ")})`);
  return v;
}

function text(v, path, max) {
  if (typeof v !== "string") fail(path, v, "is not a string");
  if (v.length > max) fail(path, v, `is too long (${v.length} characters; at most ${max})`);
  return v;
}

function list(v, path, max) {
  if (!Array.isArray(v)) fail(path, v, "is not a list");
  if (v.length > max) throw new Error(`${path}: ${v.length} entries is too many (at most ${max})`);
  return v;
}

function withDefaults(v, path, defaults) {
  object(v, path, Object.keys(defaults));
  const out = {};
  for (const k of Object.keys(defaults)) out[k] = v[k] === undefined ? defaults[k] : v[k];
  return out;
}

function fixedValue(field, v, path) {
  if (field.type === "int") return integer(v, path, field.min, field.max);
  if (field.type === "float") return number(v, path, field.min, field.max);
  return oneOf(v, path, field.list, `an allowed ${field.label}`);
}

/**
 * Checks one P value against a field of P_FIELDS (a key or the descriptor) and returns it
 * normalised (defaults of `step` and `sampling` filled in). Throws an Error naming `path`.
 */
export function validateP(fieldName, p, path = fieldName) {
  const field = typeof fieldName === "string" ? P_FIELDS[fieldName] : fieldName;
  if (!field) throw new Error(`unknown field ${showValue(fieldName)}`);
  if (!isPlainObject(p)) fail(path, p, "is not a value ({value: ...}) or a range ({hp: ...})");
  if (!("hp" in p)) {
    object(p, path, ["value"]);
    if (!("value" in p)) throw new Error(`${path}: missing "value"`);
    return { value: fixedValue(field, p.value, `${path}.value`) };
  }
  const kinds = field.ranges;
  if (typeof p.hp !== "string" || !kinds.includes(p.hp)) {
    fail(`${path}.hp`, p.hp, `is not a range kind for ${field.label} (${kinds.join(", ")})`);
  }
  if (p.hp === "Boolean") {
    object(p, path, ["hp"]);
    return { hp: "Boolean" };
  }
  if (p.hp === "Choice") {
    object(p, path, ["hp", "values"]);
    const values = list(p.values, `${path}.values`, LIMITS.choiceValues);
    if (values.length === 0) fail(`${path}.values`, values, "is empty (pick at least one)");
    const out = values.map((x, i) => fixedValue(field, x, `${path}.values[${i}]`));
    out.forEach((x, i) => {
      if (out.indexOf(x) !== i) fail(`${path}.values[${i}]`, x, "is listed twice");
    });
    return { hp: "Choice", values: out };
  }
  const isInt = p.hp === "Int";
  const keys = isInt ? ["hp", "min", "max", "step", "sampling"] : ["hp", "min", "max", "sampling"];
  object(p, path, keys);
  const check = isInt ? integer : number;
  const min = check(p.min, `${path}.min`, field.min, field.max);
  const max = check(p.max, `${path}.max`, field.min, field.max);
  if (min > max) fail(`${path}.min`, min, `is larger than max (${max})`);
  const sampling = p.sampling === undefined ? "linear" : oneOf(p.sampling, `${path}.sampling`, ["linear", "log"], "a sampling");
  if (sampling === "log" && min <= 0) fail(`${path}.min`, min, "must be above 0 with log sampling");
  if (!isInt) return { hp: "Float", min, max, sampling };
  const step = p.step === undefined ? 1 : integer(p.step, `${path}.step`, 1, field.max);
  return { hp: "Int", min, max, step, sampling };
}

function validateLayer(v, path) {
  if (!isPlainObject(v)) fail(path, v, "is not a layer object");
  const type = oneOf(v.type, `${path}.type`, ["dense", "dropout"], "a layer type");
  const defaults = defaultLayer(type);
  const l = withDefaults(v, path, defaults);
  if (type === "dense") {
    return {
      type,
      units: validateP("units", l.units, `${path}.units`),
      activation: validateP("activation", l.activation, `${path}.activation`),
    };
  }
  return { type, rate: validateP("rate", l.rate, `${path}.rate`) };
}

/** Validates `state.model` (path "model"); returns it normalised. */
export function validateModel(v, path = "model") {
  const d = defaultState().model;
  const m = withDefaults(v, path, d);
  const hidden = list(m.hidden, `${path}.hidden`, LIMITS.hiddenLayers);
  const out = {
    hidden: hidden.map((l, i) => validateLayer(l, `${path}.hidden[${i}]`)),
    repeat: null,
    regularizer: oneOf(m.regularizer, `${path}.regularizer`, REGULARIZERS, "a regularizer"),
    regRate: validateP("regRate", m.regRate, `${path}.regRate`),
    optimizer: validateP("optimizer", m.optimizer, `${path}.optimizer`),
    learningRate: validateP("learningRate", m.learningRate, `${path}.learningRate`),
    batchSize: validateP("batchSize", m.batchSize, `${path}.batchSize`),
    epochs: validateP("epochs", m.epochs, `${path}.epochs`),
    normalize: boolean(m.normalize, `${path}.normalize`),
  };
  if (m.repeat !== null) {
    const r = object(m.repeat, `${path}.repeat`, ["min", "max"]);
    const max = integer(r.max, `${path}.repeat.max`, 1, LIMITS.hiddenLayers);
    const min = integer(r.min, `${path}.repeat.min`, 1, LIMITS.hiddenLayers);
    if (min > max) fail(`${path}.repeat.min`, min, `is larger than max (${max})`);
    const layers = out.hidden.length * max;
    if (layers > LIMITS.hiddenLayers) {
      fail(`${path}.repeat.max`, max, `repeats ${out.hidden.length} layers into ${layers} (at most ${LIMITS.hiddenLayers} hidden layers)`);
    }
    out.repeat = { min, max };
  }
  return out;
}

function validateCsv(v, path) {
  if (v === null) return null;
  const c = withDefaults(v, path, { name: "", label: "", columns: [], task: "classification" });
  return {
    name: text(c.name, `${path}.name`, LIMITS.nameChars),
    label: text(c.label, `${path}.label`, LIMITS.nameChars),
    columns: list(c.columns, `${path}.columns`, LIMITS.csvColumns).map((x, i) => text(x, `${path}.columns[${i}]`, LIMITS.nameChars)),
    task: oneOf(c.task, `${path}.task`, CSV_TASKS, "a CSV task"),
  };
}

function validateData(v) {
  const d = withDefaults(v, "data", defaultState().data);
  const features = list(d.features, "data.features", FEATURES.length).map((f, i) => oneOf(f, `data.features[${i}]`, FEATURES, "a feature"));
  features.forEach((f, i) => {
    if (features.indexOf(f) !== i) fail(`data.features[${i}]`, f, "is listed twice");
  });
  if (features.length === 0) fail("data.features", features, "is empty (pick at least one feature)");
  return {
    source: oneOf(d.source, "data.source", DATASETS, "a data set"),
    noise: number(d.noise, "data.noise", 0, 50),
    trainPct: number(d.trainPct, "data.trainPct", 10, 90),
    seed: integer(d.seed, "data.seed", 0, LIMITS.seedMax),
    features,
    csv: validateCsv(d.csv, "data.csv"),
  };
}

function validateTuner(v, task) {
  const t = withDefaults(v, "tuner", defaultState().tuner);
  const objectives = objectivesFor(task);
  return {
    kind: oneOf(t.kind, "tuner.kind", TUNERS, "a tuner"),
    objective: oneOf(t.objective, "tuner.objective", objectives, `an objective for a ${task.kind} task`),
    maxTrials: integer(t.maxTrials, "tuner.maxTrials", 1, LIMITS.maxTrials),
    executionsPerTrial: integer(t.executionsPerTrial, "tuner.executionsPerTrial", 1, 5),
    seed: integer(t.seed, "tuner.seed", 0, LIMITS.seedMax),
    maxEpochs: integer(t.maxEpochs, "tuner.maxEpochs", 1, 500),
    factor: integer(t.factor, "tuner.factor", 2, 10),
    hyperbandIterations: integer(t.hyperbandIterations, "tuner.hyperbandIterations", 1, 10),
    numInitialPoints: t.numInitialPoints === null ? null : integer(t.numInitialPoints, "tuner.numInitialPoints", 1, 500),
    acquisition: oneOf(t.acquisition, "tuner.acquisition", ACQUISITIONS, "an acquisition"),
    beta: number(t.beta, "tuner.beta", 0, LIMITS.betaMax),
    alpha: number(t.alpha, "tuner.alpha", 0, LIMITS.alphaMax),
    randomFraction: number(t.randomFraction, "tuner.randomFraction", 0, 1),
    minPointsInModel: t.minPointsInModel === null ? null : integer(t.minPointsInModel, "tuner.minPointsInModel", 2, 500),
    model: oneOf(t.model, "tuner.model", ASHA_MODELS, "an ASHA model"),
    device: oneOf(t.device, "tuner.device", DEVICES, "a device"),
    workers: integer(t.workers, "tuner.workers", 1, 8),
    pace: oneOf(t.pace, "tuner.pace", PACES, "a pace"),
  };
}

/**
 * A Bayesian tuner state's options for the engine (tunelab.js's camelCase names): the number of
 * initial points when one is set, the acquisition and alpha, and beta only with "lcb" (the engine
 * refuses beta with "ei").
 */
export function bayesianOptions(t) {
  const o = {};
  if (t.numInitialPoints !== null) o.numInitialPoints = t.numInitialPoints;
  Object.assign(o, { acquisition: t.acquisition, alpha: t.alpha });
  if (t.acquisition === "lcb") o.beta = t.beta;
  return o;
}

/**
 * A tuner state's own options for the engine (tunelab.js's camelCase names, in the order the
 * command line shows them): max epochs and factor for Hyperband, BOHB and ASHA; Hyperband's and
 * BOHB's iterations, or max trials for the others; BayesianOptimization's (bayesianOptions);
 * ASHA's model; the model's random fraction and min points for BOHB and ASHA with "gp" (the
 * engine refuses them with "random"), min points only when set.
 */
export function engineOptions(t) {
  const o = {};
  if (hasOption(t.kind, "max_epochs")) Object.assign(o, { maxEpochs: t.maxEpochs, factor: t.factor });
  if (usesMaxTrials(t.kind)) o.maxTrials = t.maxTrials;
  else o.hyperbandIterations = t.hyperbandIterations;
  if (t.kind === "bayesian") Object.assign(o, bayesianOptions(t));
  if (hasOption(t.kind, "model")) o.model = t.model;
  if (t.kind === "bohb" || (t.kind === "asha" && t.model === "gp")) {
    o.randomFraction = t.randomFraction;
    if (t.minPointsInModel !== null) o.minPointsInModel = t.minPointsInModel;
  }
  return o;
}

function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

/**
 * A light check of a hand-written model spec (the parsed JSON of `state.spec`), so that a shared
 * link cannot ask for a network far beyond the page's limits. The engine checks the rest when a
 * trial builds the model. Throws an Error naming the JSON path.
 */
export function checkCustomSpec(spec, path = "spec") {
  if (!isPlainObject(spec)) fail(path, spec, "is not a JSON object (a model spec: {\"layers\": [...], \"compile\": {...}})");
  const top = ["layers", "compile", "input_shape", "name", "fit"];
  object(spec, path, top);
  if (!("layers" in spec)) throw new Error(`${path}: missing "layers" (the list of layers)`);
  if (!Array.isArray(spec.layers)) fail(`${path}.layers`, spec.layers, "is not a list of layers");
  const maxOf = (x) => {
    if (typeof x === "number") return x;
    if (!isPlainObject(x)) return 0;
    if (typeof x.max_value === "number") return x.max_value;
    // A loop, not Math.max(...values): a spread of 50,000 values overflows a small stack.
    if (Array.isArray(x.values)) return x.values.reduce((m, y) => (typeof y === "number" && y > m ? y : m), 0);
    return typeof x.value === "number" ? x.value : 0;
  };
  // Walks every value for `units`; returns how many layers a list expands to at most.
  const walk = (v, p, depth) => {
    if (depth > 40) fail(p, "...", "is nested too deeply");
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${p}[${i}]`, depth + 1));
      return 0;
    }
    if (!isPlainObject(v)) return 0;
    for (const [k, x] of Object.entries(v)) {
      const q = `${p}${keyStep(k)}`;
      if (k === "units" && maxOf(x) > P_FIELDS.units.max) {
        fail(q, x, `asks for too many units (at most ${P_FIELDS.units.max} in the page)`);
      }
      if (k !== "layers") walk(x, q, depth + 1);
    }
    return 0;
  };
  const count = (layers, p, depth) => {
    if (!Array.isArray(layers)) fail(p, layers, "is not a list of layers");
    if (depth > 8) fail(p, "...", "is nested too deeply");
    let n = 0;
    layers.forEach((item, i) => {
      const q = `${p}[${i}]`;
      walk(item, q, depth);
      if (isPlainObject(item) && "repeat" in item) {
        const times = maxOf(item.repeat);
        if (times > LIMITS.hiddenLayers) fail(`${q}.repeat`, item.repeat, `repeats too often (at most ${LIMITS.hiddenLayers} in the page)`);
        n += Math.max(0, times) * count(item.layers ?? [], `${q}.layers`, depth + 1);
      } else if (isPlainObject(item) && "when" in item) {
        n += count(item.layers ?? [], `${q}.layers`, depth + 1);
      } else n += 1;
    });
    return n;
  };
  const n = count(spec.layers, `${path}.layers`, 0);
  const most = 2 * LIMITS.hiddenLayers;
  if (n > most) throw new Error(`${path}.layers: up to ${n} layers is too many (at most ${most} in the page)`);
  if (spec.fit !== undefined && spec.fit !== null) checkFit(spec.fit, `${path}.fit`);
}

/** Checks a `fit` object: batch_size and epochs, each a number or an Int / Choice hp object. */
export function checkFit(fit, path = "fit") {
  object(fit, path, ["batch_size", "epochs"]);
  const bounds = { batch_size: P_FIELDS.batchSize, epochs: P_FIELDS.epochs };
  for (const [k, field] of Object.entries(bounds)) {
    const v = fit[k];
    const p = `${path}.${k}`;
    if (v === undefined || v === null) continue;
    if (typeof v === "number") {
      integer(v, p, field.min, field.max);
      continue;
    }
    if (!isPlainObject(v)) fail(p, v, "is not a number or an hp object");
    if (typeof v.name !== "string" || !v.name) fail(`${p}.name`, v.name, "is not an hp name");
    if (v.hp === "Int") {
      integer(v.min_value, `${p}.min_value`, field.min, field.max);
      integer(v.max_value, `${p}.max_value`, field.min, field.max);
      if (v.min_value > v.max_value) fail(`${p}.min_value`, v.min_value, `is larger than max_value (${v.max_value})`);
    } else if (v.hp === "Choice") {
      const values = list(v.values, `${p}.values`, LIMITS.choiceValues);
      if (!values.length) fail(`${p}.values`, values, "is empty");
      values.forEach((x, i) => integer(x, `${p}.values[${i}]`, field.min, field.max));
    } else if (v.hp === "Fixed") {
      integer(v.value, `${p}.value`, field.min, field.max);
    } else {
      fail(`${p}.hp`, v.hp, "is not an hp kind for fit (Int, Choice, Fixed)");
    }
  }
  return fit;
}

/**
 * Parses JSON text, turning JSON.parse's error into one that says where (line and column) and
 * what `what` is.
 */
export function parseJson(textValue, what = "JSON") {
  try {
    return JSON.parse(textValue);
  } catch (e) {
    const msg = String(e?.message ?? e);
    let pos = null;
    const m = /position (\d+)/.exec(msg);
    if (m) pos = Number(m[1]);
    const lc = /line (\d+) column (\d+)/.exec(msg);
    let where = "";
    if (lc) where = ` at line ${lc[1]}, column ${lc[2]}`;
    else if (pos !== null) {
      const before = textValue.slice(0, pos);
      const line = before.split("\n").length;
      const col = pos - before.lastIndexOf("\n");
      where = ` at line ${line}, column ${col}`;
    } else if (/end of JSON|Unexpected end/i.test(msg)) where = " (the text ends too early)";
    const detail = msg.replace(/^JSON\.parse: /, "").replace(/ in JSON at position \d+.*$/s, "").replace(/ at line \d+ column \d+.*$/s, "");
    throw new Error(`${what} is not valid JSON${where}: ${detail}`);
  }
}

/**
 * Checks a whole state (e.g. read from a URL) and returns a complete, normalised copy: missing
 * fields are filled from the defaults; unknown keys, wrong types and out-of-range values are
 * refused with an Error naming the field path, the value and what is allowed.
 */
export function validateState(obj) {
  if (!isPlainObject(obj)) fail("state", obj, "is not an object");
  const s = withDefaults(obj, "state", defaultState());
  if (s.v !== STATE_VERSION) fail("v", s.v, `is not a known state version (${STATE_VERSION})`);
  const data = validateData(s.data);
  const model = validateModel(s.model, "model");
  const tuner = validateTuner(s.tuner, taskOf({ data }));
  const hide = list(s.hide, "hide", SECTIONS.length).map((x, i) => oneOf(x, `hide[${i}]`, SECTIONS, "a section"));
  hide.forEach((x, i) => {
    if (hide.indexOf(x) !== i) fail(`hide[${i}]`, x, "is listed twice");
  });
  let spec = null;
  if (s.spec !== null) {
    if (typeof s.spec !== "string") fail("spec", s.spec, "is not JSON text");
    const bytes = utf8Length(s.spec);
    if (bytes > LIMITS.specBytes) throw new Error(`spec: the text is too long (${bytes} bytes; at most ${LIMITS.specBytes})`);
    checkCustomSpec(parseJson(s.spec, "spec"), "spec");
    spec = s.spec;
  }
  let lesson = null;
  if (s.lesson !== null) lesson = text(s.lesson, "lesson", 60);
  let race = null;
  if (s.race !== null) {
    const r = object(s.race, "race", ["a", "b"]);
    race = { a: oneOf(r.a, "race.a", TUNERS, "a tuner"), b: oneOf(r.b, "race.b", TUNERS, "a tuner") };
    if (race.a === race.b) fail("race.b", race.b, "is the same tuner as race.a (a race needs two)");
  }
  return { v: STATE_VERSION, data, model, tuner, hide, spec, lesson, race };
}

// ---------------------------------------------------------------------------------------------
// URL hash

function toBase64url(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(s) {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) {
    throw new Error("the link's state is not valid base64url (it may have been cut or changed)");
  }
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4);
  let bin;
  try {
    bin = atob(b64);
  } catch {
    throw new Error("the link's state is not valid base64url (it may have been cut or changed)");
  }
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/**
 * The state as a URL hash without the '#': `s=` + base64url of its UTF-8 JSON. The state is
 * validated first (a link that could not be opened is never made): throws like validateState.
 */
export function encodeState(state) {
  const valid = validateState(state);
  return "s=" + toBase64url(new TextEncoder().encode(JSON.stringify(valid)));
}

/**
 * Reads a state from a URL hash (with or without the leading '#'). An empty hash gives the
 * default state. Anything else that is not a complete, valid state throws an Error.
 */
export function decodeState(hash) {
  if (typeof hash !== "string") fail("hash", hash, "is not a string");
  const h = hash.startsWith("#") ? hash.slice(1) : hash;
  if (h.length > LIMITS.hashChars) {
    throw new Error(`the link is too long (${h.length} characters; at most ${LIMITS.hashChars})`);
  }
  if (h === "") return defaultState();
  if (!h.startsWith("s=")) throw new Error("the link holds no playground state (expected #s=...)");
  const bytes = fromBase64url(h.slice(2));
  let json;
  try {
    json = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error("the link's state is not UTF-8 text (it may have been cut or changed)");
  }
  return validateState(parseJson(json, "the link's state"));
}

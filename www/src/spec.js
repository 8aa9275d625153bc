// From the page state to the engine's model spec (docs/model-spec.md) with hp objects
// (docs/tuning.md), and back: the JSON text the learner may edit is mapped onto the form when
// it is exactly what the form would produce, and kept as a hand-written ("custom") spec
// otherwise. No DOM here: this module also runs in workers and in Node (tests).

import { PLANE_DATASETS, checkCustomSpec, checkFit, defaultState, engineOptions, parseJson, taskOf, validateModel } from "./state.js";

// ---------------------------------------------------------------------------------------------
// Hp names

const PREFIX = { units: "units", activation: "activation", rate: "dropout" };

/**
 * The hp name of a hidden layer's field (`key`: "units", "activation" or "rate") at hidden
 * index `j`: `units_0`, `activation_0`, `dropout_1`. With a tunable number of layers
 * (`model.repeat`) the names carry `{i}`, the repetition: `units_{i}` when one layer of the block
 * uses the name, `units_2_{i}` (the layer's index in the block, then `{i}`) when several do.
 */
export function layerHpName(model, j, key) {
  const prefix = PREFIX[key];
  if (!prefix) throw new Error(`no hp name for ${key}`);
  if (!model.repeat) return `${prefix}_${j}`;
  const type = key === "rate" ? "dropout" : "dense";
  const sharing = model.hidden.filter((l) => l.type === type).length;
  return sharing > 1 ? `${prefix}_${j}_{i}` : `${prefix}_{i}`;
}

/** Hp names of the model-wide fields. */
export const HP_NAMES = {
  regRate: "regularization",
  optimizer: "optimizer",
  learningRate: "learning_rate",
  batchSize: "batch_size",
  epochs: "epochs",
  numLayers: "num_layers",
};

// ---------------------------------------------------------------------------------------------
// State -> spec

/** A P value as it stands in a spec: the plain value, or an hp object named `name`. */
export function pToSpec(p, name) {
  if (!("hp" in p)) return p.value;
  switch (p.hp) {
    case "Int": {
      const hp = { hp: "Int", name, min_value: p.min, max_value: p.max };
      // Under log sampling the engine reads `step` as a multiplier (> 1): a step of 1 means none.
      if (p.sampling !== "log" || p.step > 1) hp.step = p.step;
      hp.sampling = p.sampling;
      return hp;
    }
    case "Float":
      return { hp: "Float", name, min_value: p.min, max_value: p.max, sampling: p.sampling };
    case "Choice":
      return { hp: "Choice", name, values: [...p.values] };
    case "Boolean":
      return { hp: "Boolean", name };
    default:
      throw new Error(`unknown range kind ${JSON.stringify(p.hp)}`);
  }
}

/** The rate of a dropout layer switched on and off by a Boolean hp. */
export const OPTIONAL_DROPOUT_RATE = 0.5;

function outputLayer(task) {
  switch (task.kind) {
    case "binary":
      return { class_name: "Dense", config: { units: 1, activation: "sigmoid" } };
    case "regression":
      return { class_name: "Dense", config: { units: 1, activation: "linear" } };
    case "multiclass":
      if (!Number.isInteger(task.classes) || task.classes < 2) {
        throw new Error("the number of classes is not known yet: load the CSV file first");
      }
      return { class_name: "Dense", config: { units: task.classes, activation: "softmax" } };
    default:
      throw new Error(`unknown task ${JSON.stringify(task?.kind)}`);
  }
}

/** Loss and metrics of a task. */
export function lossFor(task) {
  if (task.kind === "binary") return { loss: "binary_crossentropy", metrics: ["accuracy"] };
  if (task.kind === "multiclass") return { loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] };
  return { loss: "mean_squared_error", metrics: ["mae"] };
}

function hiddenLayers(model) {
  const out = [];
  model.hidden.forEach((l, j) => {
    if (l.type === "dense") {
      const config = {
        units: pToSpec(l.units, layerHpName(model, j, "units")),
        activation: pToSpec(l.activation, layerHpName(model, j, "activation")),
      };
      if (model.regularizer !== "none") {
        const key = model.regularizer; // "l1" | "l2"
        config.kernel_regularizer = {
          class_name: key.toUpperCase(),
          config: { [key]: pToSpec(model.regRate, HP_NAMES.regRate) },
        };
      }
      out.push({ class_name: "Dense", config });
    } else if ("hp" in l.rate && l.rate.hp === "Boolean") {
      out.push({
        when: pToSpec(l.rate, layerHpName(model, j, "rate")),
        layers: [{ class_name: "Dropout", config: { rate: OPTIONAL_DROPOUT_RATE } }],
      });
    } else {
      out.push({ class_name: "Dropout", config: { rate: pToSpec(l.rate, layerHpName(model, j, "rate")) } });
    }
  });
  if (!model.repeat) return out;
  return [
    {
      repeat: { hp: "Int", name: HP_NAMES.numLayers, min_value: model.repeat.min, max_value: model.repeat.max },
      layers: out,
    },
  ];
}

/**
 * Keras's Normalization step: the engine adapts its mean and variance on the training rows at
 * the start of fit (after the validation split), as `layer.adapt(x_train)` does in Keras.
 */
export const NORMALIZATION = { class_name: "Normalization", config: { axis: -1 } };

/** Does the state's model start with a Normalization step? (CSV data, with the switch on.) */
export function normalizes(state) {
  return state.data.source === "csv" && state.model.normalize === true;
}

/**
 * The spec of a form model (a validated `state.model`) for a task; `normalize`: a
 * Normalization layer first (the page adds one for CSV data, see `normalizes`).
 */
export function modelSpec(model, task, { normalize = false } = {}) {
  return {
    layers: [...(normalize ? [structuredClone(NORMALIZATION)] : []), ...hiddenLayers(model), outputLayer(task)],
    compile: {
      optimizer: {
        class_name: pToSpec(model.optimizer, HP_NAMES.optimizer),
        config: { learning_rate: pToSpec(model.learningRate, HP_NAMES.learningRate) },
      },
      ...lossFor(task),
    },
  };
}

/** The fit arguments of a form model: numbers or hp objects. */
export function modelFit(model) {
  return {
    batch_size: pToSpec(model.batchSize, HP_NAMES.batchSize),
    epochs: pToSpec(model.epochs, HP_NAMES.epochs),
  };
}

/** Splits a hand-written spec's text into the engine spec and its `fit` (null when absent). */
function customOf(textValue) {
  const obj = parseJson(textValue, "the model spec");
  checkCustomSpec(obj, "spec");
  const { fit = null, ...spec } = obj;
  return { spec, fit };
}

/**
 * `{spec, fit}` for the state: the engine's model spec (with hp objects) and the fit arguments
 * (`batch_size`, `epochs`: numbers or hp objects). With a hand-written spec (`state.spec`) that
 * spec is used, and its `fit` (if any) replaces the form's. `task` defaults to taskOf(state).
 */
export function buildSpec(state, task = taskOf(state)) {
  if (state.spec !== null && state.spec !== undefined) {
    const custom = customOf(state.spec);
    const formFit = modelFit(state.model);
    const fit = { ...formFit };
    for (const k of ["batch_size", "epochs"]) {
      if (custom.fit && custom.fit[k] !== undefined && custom.fit[k] !== null) fit[k] = custom.fit[k];
    }
    return { spec: custom.spec, fit };
  }
  return { spec: modelSpec(state.model, task, { normalize: normalizes(state) }), fit: modelFit(state.model) };
}

/** The JSON text the page shows for the state's spec (its `fit` as a top-level key). */
export function specText(state, task = taskOf(state)) {
  const { spec, fit } = buildSpec(state, task);
  return JSON.stringify({ ...spec, fit }, null, 2);
}

/**
 * The `tunelab tune` command line that runs the state's search natively, as a list of words
 * (the first is "tunelab"), with the spec saved as `specPath`: the same data set, split, model,
 * tuner and seeds, so it gives the page's trials (tests/e2e/one-engine.test.mjs). Null for data
 * the command line does not have (MNIST, an uploaded CSV file).
 */
export function cliCommand(state, specPath = "spec.json") {
  const d = state.data;
  const t = state.tuner;
  const plane = PLANE_DATASETS.includes(d.source);
  if (!plane && d.source !== "digits") return null;
  const args = ["tunelab", "tune", specPath, "--dataset", d.source];
  if (plane) args.push("--noise", String(d.noise), "--features", d.features.join(","));
  args.push("--data-seed", String(d.seed), "--train-percent", String(d.trainPct));
  args.push("--tuner", t.kind, "--objective", t.objective, "--seed", String(t.seed), "--executions-per-trial", String(t.executionsPerTrial));
  // The tuner's own options, camelCase names as flags (maxEpochs: --max-epochs).
  for (const [k, v] of Object.entries(engineOptions(t))) args.push(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v));
  args.push("--device", t.device);
  if (t.device === "cpu") args.push("--parallel-trials", String(t.workers));
  return args;
}

/** `cliCommand` as a line to paste into a shell (words quoted where a shell would split them). */
export function cliLine(words) {
  return words.map((w) => (/^[\w.,:/=@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(" ");
}

// ---------------------------------------------------------------------------------------------
// Spec text -> form

function isObj(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A spec value back to a P (loosely: validateModel and the rebuild comparison judge it). */
function pFromSpec(v) {
  if (!isObj(v)) return { value: v };
  switch (v.hp) {
    case "Int":
      return { hp: "Int", min: v.min_value, max: v.max_value, step: v.step ?? 1, sampling: v.sampling ?? "linear" };
    case "Float":
      return { hp: "Float", min: v.min_value, max: v.max_value, sampling: v.sampling ?? "linear" };
    case "Choice":
      return { hp: "Choice", values: v.values };
    case "Boolean":
      return { hp: "Boolean" };
    default:
      return { hp: "not a form range" };
  }
}

/** Maps a spec onto a form model, or returns null when its shape is not the form's. */
function toModel(spec, fit, base, csv) {
  let layers = spec.layers;
  if (!Array.isArray(layers) || layers.length < 1) return null;
  // CSV data: a leading Normalization step is the form's switch (on); none is the switch off.
  let normalize = base.normalize;
  if (csv) {
    normalize = sameJson(canonical(layers[0]), NORMALIZATION);
    if (normalize) layers = layers.slice(1);
  }
  let items = layers.slice(0, -1);
  let repeat = null;
  if (items.length === 1 && isObj(items[0]) && "repeat" in items[0]) {
    const r = items[0].repeat;
    if (!isObj(r) || r.hp !== "Int" || !Array.isArray(items[0].layers)) return null;
    repeat = { min: r.min_value, max: r.max_value };
    items = items[0].layers;
  }
  const hidden = [];
  let regularizer = null;
  let regRate = null;
  for (const item of items) {
    if (!isObj(item)) return null;
    if ("when" in item) {
      if (!Array.isArray(item.layers) || item.layers.length !== 1) return null;
      hidden.push({ type: "dropout", rate: pFromSpec(item.when) });
    } else if (item.class_name === "Dense" && isObj(item.config)) {
      hidden.push({ type: "dense", units: pFromSpec(item.config.units), activation: pFromSpec(item.config.activation) });
      const reg = item.config.kernel_regularizer;
      if (regularizer === null) {
        if (reg === undefined) regularizer = "none";
        else if (isObj(reg) && (reg.class_name === "L1" || reg.class_name === "L2") && isObj(reg.config)) {
          regularizer = reg.class_name.toLowerCase();
          regRate = pFromSpec(reg.config[regularizer]);
        } else return null;
      }
    } else if (item.class_name === "Dropout" && isObj(item.config)) {
      hidden.push({ type: "dropout", rate: pFromSpec(item.config.rate) });
    } else return null;
  }
  const compile = spec.compile;
  if (!isObj(compile) || !isObj(compile.optimizer) || !isObj(compile.optimizer.config)) return null;
  return {
    hidden,
    repeat,
    regularizer: regularizer ?? base.regularizer,
    regRate: regRate ?? base.regRate,
    optimizer: pFromSpec(compile.optimizer.class_name),
    learningRate: pFromSpec(compile.optimizer.config.learning_rate),
    batchSize: fit && "batch_size" in fit ? pFromSpec(fit.batch_size) : base.batchSize,
    epochs: fit && "epochs" in fit ? pFromSpec(fit.epochs) : base.epochs,
    normalize,
  };
}

/** A copy with the hp objects' left-out defaults written in, for comparing specs. */
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isObj(v)) return v;
  const out = {};
  for (const k of Object.keys(v)) out[k] = canonical(v[k]);
  if (out.hp === "Int" || out.hp === "Float") {
    if (out.sampling === undefined || out.sampling === null) out.sampling = "linear";
    if (out.hp === "Int" && (out.step === undefined || out.step === null)) out.step = 1;
  }
  return out;
}

function sameJson(a, b) {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObj(a)) {
    if (!isObj(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return Object.is(a, b) || (a === 0 && b === 0);
}

/**
 * Reads the JSON text of the spec editor. Returns `{model}` (a validated state.model) when the
 * spec is one the form produces for some model, else `{custom: spec, fit}` (the spec without its
 * `fit`, and the `fit` or null). Fields the spec does not carry (the regularizer of a model
 * without Dense layers, batch size and epochs when there is no `fit`) come from `base` (a
 * state.model; default: the default state's). Throws an Error for text that is not JSON or
 * not a model spec (no `layers` list, unknown top-level key, beyond the page's limits).
 * `csv`: the data is a CSV file, where a leading Normalization layer is the form's
 * `model.normalize` switch (elsewhere such a spec is a hand-written one).
 */
export function parseSpecText(textValue, task, base = defaultState().model, { csv = false } = {}) {
  if (typeof textValue !== "string") throw new Error("the model spec is not text");
  const { spec, fit } = customOf(textValue);
  if (fit !== null) checkFit(fit, "spec.fit");
  let model = null;
  try {
    const loose = toModel(spec, fit, base, csv);
    if (loose) model = validateModel(loose);
  } catch {
    model = null;
  }
  if (model && task) {
    let rebuilt = null;
    try {
      rebuilt = modelSpec(model, task, { normalize: csv && model.normalize });
    } catch {
      rebuilt = null;
    }
    const fitSame = fit === null || sameJson(canonical(fit), canonical(modelFit(model)));
    if (rebuilt && fitSame && sameJson(canonical(spec), canonical(rebuilt))) return { model };
  }
  return { custom: spec, fit };
}

// ---------------------------------------------------------------------------------------------
// Fit hps

function isHp(v) {
  return isObj(v) && typeof v.hp === "string";
}

/** The hp objects of a `fit` (batch_size, epochs) to declare in the search space. */
export function fitHps(fit) {
  if (!fit) return [];
  return [fit.batch_size, fit.epochs].filter(isHp);
}

/** An hp's default as the engine's HyperParameters give it (its default, else the first value or the minimum). */
export function hpDefault(hp) {
  if (hp.default !== undefined && hp.default !== null) return hp.default;
  if (hp.hp === "Fixed") return hp.value;
  if (hp.hp === "Choice") return hp.values?.[0];
  if (hp.hp === "Boolean") return false;
  return hp.min_value;
}

/**
 * A trial's batch size and epochs: the fit's numbers, or the trial's values of its hps
 * (`values`: an object or a Map of hp name -> value; an hp without a value gets its default).
 * Absent entries give Keras's defaults (batch size 32, 1 epoch).
 */
export function resolveFit(fit, values = {}) {
  const get = (name) => (values instanceof Map ? values.get(name) : values?.[name]);
  const pick = (v, fallback) => {
    if (typeof v === "number") return v;
    if (isHp(v)) {
      const x = get(v.name);
      return x === undefined || x === null ? hpDefault(v) : x;
    }
    return fallback;
  };
  return { batchSize: pick(fit?.batch_size, 32), epochs: pick(fit?.epochs, 1) };
}

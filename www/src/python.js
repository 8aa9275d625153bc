// A Keras 3 snippet that rebuilds a resolved model (a plain spec, every hp already chosen), for
// the learner to take the best model of a search to Python. Everything that came from the user
// (layer names, hp names, the data set's name) is written as an escaped Python literal, never as
// raw source, so it cannot break out of a string or a comment.

// ---------------------------------------------------------------------------------------------
// Python literals

// Characters written as escapes inside a Python string: controls, line and paragraph
// separators, the bidirectional overrides ("trojan source"), the byte order mark, and lone
// surrogates (which UTF-8 source cannot hold).
function needsEscape(cp) {
  return (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0xfeff ||
    (cp >= 0xd800 && cp <= 0xdfff)
  );
}

/** A double-quoted Python string literal for `s`. */
export function pyStr(s) {
  let out = '"';
  for (const ch of String(s)) {
    const cp = ch.codePointAt(0);
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (needsEscape(cp)) out += cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/** A Python float literal that reads back as the same double. */
export function pyFloat(x) {
  if (Number.isNaN(x)) return 'float("nan")';
  if (x === Infinity) return 'float("inf")';
  if (x === -Infinity) return '-float("inf")';
  const s = Object.is(x, -0) ? "-0" : String(x); // JS prints the shortest round-trip digits
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

/** A Python int literal. */
export function pyInt(x) {
  return Number.isSafeInteger(x) ? String(x) : BigInt(x).toString();
}

// Config keys whose numbers are floats in Keras even when they look whole.
const FLOAT_KEYS = new Set([
  "rate",
  "learning_rate",
  "l1",
  "l2",
  "momentum",
  "beta_1",
  "beta_2",
  "epsilon",
  "rho",
  "weight_decay",
  "initial_accumulator_value",
  "clipnorm",
  "clipvalue",
  "global_clipnorm",
  "stddev",
  "mean",
  "minval",
  "maxval",
  "label_smoothing",
  "delta",
  "negative_slope",
]);

function pyNumber(x, key) {
  if (FLOAT_KEYS.has(key) || !Number.isInteger(x)) return pyFloat(x);
  return pyInt(x);
}

/** Any JSON value as a Python literal (dicts for objects). */
export function py(v, key = "") {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return pyNumber(v, key);
  if (typeof v === "string") return pyStr(v);
  if (Array.isArray(v)) return `[${v.map((x) => py(x, key)).join(", ")}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${pyStr(k)}: ${py(x, k)}`)
    .join(", ")}}`;
}

function kwargs(config, skip = []) {
  return Object.entries(config ?? {})
    .filter(([k, v]) => !skip.includes(k) && v !== undefined)
    .map(([k, v]) => `${pyIdent(k)}=${valueFor(k, v)}`);
}

// A keyword argument's name: spec keys are Python identifiers; anything else is refused.
function pyIdent(k) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`cannot write ${JSON.stringify(k)} as a Python argument name`);
  return k;
}

// ---------------------------------------------------------------------------------------------
// Keras objects

const OPTIMIZERS = {
  adam: "Adam",
  sgd: "SGD",
  rmsprop: "RMSprop",
  adamw: "AdamW",
  adagrad: "Adagrad",
  adamax: "Adamax",
  nadam: "Nadam",
  adadelta: "Adadelta",
};

const LOSSES = {
  mean_squared_error: "MeanSquaredError",
  mse: "MeanSquaredError",
  mean_absolute_error: "MeanAbsoluteError",
  mae: "MeanAbsoluteError",
  mean_absolute_percentage_error: "MeanAbsolutePercentageError",
  mape: "MeanAbsolutePercentageError",
  mean_squared_logarithmic_error: "MeanSquaredLogarithmicError",
  msle: "MeanSquaredLogarithmicError",
  huber: "Huber",
  log_cosh: "LogCosh",
  binary_crossentropy: "BinaryCrossentropy",
  bce: "BinaryCrossentropy",
  categorical_crossentropy: "CategoricalCrossentropy",
  cce: "CategoricalCrossentropy",
  sparse_categorical_crossentropy: "SparseCategoricalCrossentropy",
  scce: "SparseCategoricalCrossentropy",
  hinge: "Hinge",
  kl_divergence: "KLDivergence",
  kld: "KLDivergence",
};

const INITIALIZERS = {
  glorot_uniform: "GlorotUniform",
  glorot_normal: "GlorotNormal",
  he_uniform: "HeUniform",
  he_normal: "HeNormal",
  lecun_normal: "LecunNormal",
  lecun_uniform: "LecunUniform",
  random_normal: "RandomNormal",
  random_uniform: "RandomUniform",
  zeros: "Zeros",
  ones: "Ones",
};

function snake(name) {
  return String(name)
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

// Finds a Keras class name in `table` from a spec name ("adam", "Adam", "BinaryCrossentropy").
function kerasClass(table, name) {
  if (typeof name !== "string") return null;
  const lower = name.toLowerCase();
  if (table[lower]) return table[lower];
  if (table[snake(name)]) return table[snake(name)];
  return Object.values(table).find((c) => c.toLowerCase() === lower) ?? null;
}

function isObj(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function regularizer(v) {
  if (typeof v === "string") {
    const s = v.toLowerCase();
    if (s === "l1") return "keras.regularizers.L1(0.01)";
    if (s === "l2") return "keras.regularizers.L2(0.01)";
    if (s === "l1_l2") return "keras.regularizers.L1L2(l1=0.01, l2=0.01)";
    return pyStr(v);
  }
  if (!isObj(v)) return py(v);
  const c = v.config ?? {};
  // tunelab reads a factor left out as 0 (Keras's own default is 0.01), so it is written out.
  switch (String(v.class_name).toUpperCase()) {
    case "L1":
      return `keras.regularizers.L1(${pyFloat(c.l1 ?? 0)})`;
    case "L2":
      return `keras.regularizers.L2(${pyFloat(c.l2 ?? 0)})`;
    case "L1L2":
    case "L1_L2":
      return `keras.regularizers.L1L2(l1=${pyFloat(c.l1 ?? 0)}, l2=${pyFloat(c.l2 ?? 0)})`;
    default:
      return `keras.regularizers.deserialize(${py(v)})`;
  }
}

function initializer(v) {
  if (!isObj(v)) return py(v);
  const cls = kerasClass(INITIALIZERS, v.class_name);
  if (cls) return `keras.initializers.${cls}(${kwargs(v.config).join(", ")})`;
  return `keras.initializers.deserialize(${py(v)})`;
}

function valueFor(key, v) {
  if (key.endsWith("_regularizer") && v !== null) return regularizer(v);
  if (key.endsWith("_initializer")) return initializer(v);
  return py(v, key);
}

// Keys that set the input shape in a spec: the snippet's keras.Input does that instead.
const SHAPE_KEYS = ["input_shape", "batch_input_shape"];

function layerLine(layer, i) {
  if (!isObj(layer) || typeof layer.class_name !== "string") {
    throw new Error(`layers[${i}] is not a resolved layer ({class_name, config}); resolve the hps first`);
  }
  const c = layer.config ?? {};
  switch (layer.class_name) {
    case "Dense":
      return `keras.layers.Dense(${[py(c.units, "units"), ...kwargs(c, ["units", ...SHAPE_KEYS])].join(", ")})`;
    case "Dropout":
      return `keras.layers.Dropout(${[pyFloat(c.rate), ...kwargs(c, ["rate", ...SHAPE_KEYS])].join(", ")})`;
    case "Flatten":
      return `keras.layers.Flatten(${kwargs(c, SHAPE_KEYS).join(", ")})`;
    case "Activation":
      return `keras.layers.Activation(${[py(c.activation), ...kwargs(c, ["activation", ...SHAPE_KEYS])].join(", ")})`;
    case "Normalization":
      // Without mean / variance the layer is adapted on the training rows before fit (below).
      return `keras.layers.Normalization(${kwargs(c, SHAPE_KEYS).join(", ")})`;
    case "InputLayer":
      return null; // keras.Input sets the shape
    default:
      return `keras.layers.deserialize(${py(layer)})`;
  }
}

function optimizerExpr(opt) {
  if (typeof opt === "string") {
    const cls = kerasClass(OPTIMIZERS, opt);
    return cls ? `keras.optimizers.${cls}()` : pyStr(opt);
  }
  if (!isObj(opt)) return "keras.optimizers.RMSprop()";
  const cls = kerasClass(OPTIMIZERS, opt.class_name);
  if (!cls) return `keras.optimizers.deserialize(${py(opt)})`;
  return `keras.optimizers.${cls}(${kwargs(opt.config).join(", ")})`;
}

function lossExpr(loss) {
  if (typeof loss === "string") return pyStr(loss);
  if (!isObj(loss)) return py(loss);
  const cls = kerasClass(LOSSES, loss.class_name);
  if (!cls) return `keras.losses.deserialize(${py(loss)})`;
  return `keras.losses.${cls}(${kwargs(loss.config).join(", ")})`;
}

function hasHp(v) {
  if (Array.isArray(v)) return v.some(hasHp);
  if (!isObj(v)) return false;
  return "hp" in v || "repeat" in v || "when" in v || Object.values(v).some(hasHp);
}

// An hp name in a comment: bare when it is a plain identifier-like name, else a literal.
function commentName(name) {
  return /^[A-Za-z0-9_.{}/-]+$/.test(name) ? name : pyStr(name);
}

/**
 * Python (Keras 3) source that rebuilds `resolved`, a plain spec `{layers, compile}`, and trains
 * it: `inputDim` (the number of input columns), `batchSize`, `epochs`, `hps` (the trial's hp
 * values, an object or a Map, listed in a comment) and `dataset` (its name, for a comment).
 */
export function kerasSnippet(resolved, { inputDim, batchSize, epochs, hps, dataset } = {}) {
  if (!isObj(resolved) || !Array.isArray(resolved.layers)) throw new Error("kerasSnippet needs a spec with a layers list");
  if (hasHp(resolved.layers) || hasHp(resolved.compile)) {
    throw new Error("kerasSnippet needs a resolved spec: it still holds hp objects or repeat / when blocks");
  }
  const lines = [];
  lines.push("# A Keras 3 rebuild of a model tuned in the tunelab playground.");
  if (dataset !== undefined && dataset !== null && dataset !== "") lines.push(`# Data: ${pyStr(dataset)}.`);
  const entries = hps instanceof Map ? [...hps.entries()] : Object.entries(hps ?? {});
  const shown = entries.filter(([k]) => !String(k).startsWith("tuner/"));
  if (shown.length) {
    lines.push("# Best hyperparameters:");
    for (const [k, v] of shown) lines.push(`#   ${commentName(String(k))} = ${py(v)}`);
  }
  lines.push("import keras", "");

  let shape;
  if (Number.isInteger(inputDim) && inputDim > 0) shape = `(${inputDim},)`;
  else if (Array.isArray(resolved.input_shape) && resolved.input_shape.every(Number.isInteger)) {
    const dims = resolved.input_shape.map(pyInt);
    shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
  } else shape = "(None,)";

  lines.push("model = keras.Sequential([");
  lines.push(`    keras.Input(shape=${shape}),`);
  resolved.layers.forEach((l, i) => {
    const line = layerLine(l, i);
    if (line) lines.push(`    ${line},`);
  });
  lines.push("])");

  const compile = resolved.compile ?? {};
  const args = [`optimizer=${optimizerExpr(compile.optimizer)}`];
  if (compile.loss !== undefined) args.push(`loss=${lossExpr(compile.loss)}`);
  if (compile.metrics !== undefined) args.push(`metrics=${py(compile.metrics)}`);
  if (compile.weighted_metrics !== undefined) args.push(`weighted_metrics=${py(compile.weighted_metrics)}`);
  lines.push(`model.compile(${args.join(", ")})`);
  lines.push("model.summary()", "");

  lines.push("# x_train, y_train, x_val, y_val: the page's training and validation rows (inputs flattened to columns).");
  const norm = resolved.layers.findIndex((l) => isObj(l) && l.class_name === "Normalization");
  if (norm >= 0 && !(isObj(resolved.layers[norm].config) && "mean" in resolved.layers[norm].config)) {
    // tunelab adapts it at the start of fit on the same rows.
    const at = resolved.layers.slice(0, norm).filter((l) => l.class_name !== "InputLayer").length;
    lines.push(`model.layers[${at}].adapt(x_train)  # the Normalization step learns each column's mean and variance from the training rows`);
  }
  const fitArgs = ["x_train", "y_train"];
  if (Number.isInteger(batchSize)) fitArgs.push(`batch_size=${pyInt(batchSize)}`);
  if (Number.isInteger(epochs)) fitArgs.push(`epochs=${pyInt(epochs)}`);
  fitArgs.push("validation_data=(x_val, y_val)");
  lines.push(`model.fit(${fitArgs.join(", ")})`);
  return lines.join("\n") + "\n";
}

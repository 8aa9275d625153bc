// tunelab: KerasTuner and a small Keras for JavaScript, on WebAssembly (and WebGPU).
//
// This module is the JS API: TensorFlow.js-style names and camelCase option objects over the
// engine's wasm-bindgen exports (./wasm/tunelab_wasm.js). It converts options and data, keeps
// search storage in IndexedDB (or memory), and turns engine failures into Errors.

import wasmInit, * as wasm from "./wasm/tunelab_wasm.js";

let ready = null;

/**
 * Loads the engine. `input` is optional: a URL (string or URL) of tunelab_wasm_bg.wasm, a
 * Response or Promise of one, raw bytes (ArrayBuffer, Uint8Array) or a WebAssembly.Module.
 * Without it the .wasm next to this file is fetched (read from disk in Node).
 */
export default async function init(input) {
  if (!ready) {
    ready = (async () => {
      let source = input;
      if (source === undefined && isNode()) {
        const fsModule = "node:fs/promises"; // a variable, so bundlers leave it alone
        const { readFile } = await import(/* @vite-ignore */ /* webpackIgnore: true */ fsModule);
        source = await readFile(new URL("./wasm/tunelab_wasm_bg.wasm", import.meta.url));
      }
      const viteDev = source === undefined ? viteDepsWasmUrl() : undefined;
      try {
        await wasmInit({ module_or_path: source ?? viteDev });
      } catch (e) {
        if (!viteDev) throw e;
        throw new Error(
          `tunelab: Vite's dev server moved tunelab.js into node_modules/.vite/deps/ and the engine's .wasm is not at ${viteDev} ` +
            `(${e.message}); pass its URL to init(url), or add optimizeDeps: { exclude: ["tunelab"] } to vite.config.js`,
          { cause: e },
        );
      }
    })().catch((e) => {
      ready = null;
      throw e;
    });
  }
  await ready;
  return api;
}

// Vite's dev server pre-bundles a dependency with esbuild into <root>/node_modules/.vite/deps/, so
// the wasm-bindgen glue's `new URL("tunelab_wasm_bg.wasm", import.meta.url)` points into that
// folder, where no .wasm is (vitejs/vite#8427; the server answers index.html). The package itself
// is still served where npm installed it, <root>/node_modules/tunelab/, so the .wasm is fetched
// from there and an app needs no `optimizeDeps.exclude`. Elsewhere (vite build, other bundlers,
// a plain page, a CDN) this is undefined and the glue's URL next to the module is used.
function viteDepsWasmUrl() {
  const here = String(import.meta.url).replace(/[?#].*$/, "");
  const at = here.lastIndexOf("/node_modules/.vite/");
  if (at < 0 || !/^https?:/.test(here)) return undefined;
  return new URL(`${here.slice(0, at)}/node_modules/tunelab/wasm/tunelab_wasm_bg.wasm`);
}

function isNode() {
  return typeof process !== "undefined" && !!(process.versions && process.versions.node) && typeof window === "undefined";
}

function checkReady() {
  if (!ready) throw new Error("tunelab is not initialised: call `await init()` first");
}

// A panic inside the engine surfaces as a WebAssembly trap ("unreachable executed"); report the
// engine's own message instead.
function engineError(e) {
  if (typeof WebAssembly !== "undefined" && e instanceof WebAssembly.RuntimeError) {
    let msg = null;
    try {
      msg = wasm.lastPanic();
    } catch (_) {
      /* the engine is gone */
    }
    const err = new Error(`tunelab engine failure: ${msg ?? e.message}. Reload the page (or call init again in a new worker) to continue.`);
    err.cause = e;
    return err;
  }
  if (e instanceof Error) return e;
  return new Error(String(e));
}

function guard(f) {
  checkReady();
  try {
    return f();
  } catch (e) {
    throw engineError(e);
  }
}

async function guardAsync(f) {
  checkReady();
  try {
    return await f();
  } catch (e) {
    throw engineError(e);
  }
}

// ---------------------------------------------------------------------------------------------
// Tensors

/** A dense float32 array with a shape (row-major). */
export class Tensor {
  constructor(data, shape) {
    if (data instanceof Tensor) return data;
    if (shape === undefined && isTensorLike(data)) {
      // A TensorFlow.js tensor (or anything with shape and dataSync()).
      shape = data.shape;
      data = Float32Array.from(data.dataSync());
    }
    if (shape === undefined && data && typeof data === "object" && !Array.isArray(data) && !ArrayBuffer.isView(data) && "data" in data && "shape" in data) {
      shape = data.shape;
      data = data.data;
    }
    if (shape === undefined) {
      if (!Array.isArray(data)) throw new TypeError("tensor(data, shape): shape is needed unless data is a nested array");
      shape = inferShape(data);
      checkRectangular(data, shape, 0);
      data = data.flat(Infinity);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new TypeError(`tensor: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const values = data instanceof Float32Array ? data : Float32Array.from(data, (v) => {
      if (typeof v !== "number" && typeof v !== "boolean") throw new TypeError(`tensor: data must be numbers, got ${JSON.stringify(v)}`);
      return Number(v);
    });
    if (values.length !== size) {
      throw new RangeError(`tensor: ${values.length} values do not fill shape [${shape}] (${size} values)`);
    }
    this.data = values;
    this.shape = shape.slice();
  }
  get size() {
    return this.data.length;
  }
  get rank() {
    return this.shape.length;
  }
  /** The values as nested arrays. */
  arraySync() {
    const build = (offset, axis) => {
      if (axis === this.shape.length) return this.data[offset];
      const stride = this.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[axis] }, (_, i) => build(offset + i * stride, axis + 1));
    };
    return this.shape.length === 0 ? this.data[0] : build(0, 0);
  }
  async array() {
    return this.arraySync();
  }
  dataSync() {
    return this.data;
  }
  toString() {
    return `Tensor(shape=[${this.shape}])`;
  }
  /**
   * TensorFlow.js's habit: drops this tensor's values now. tunelab's tensors are plain JS
   * memory, freed by the garbage collector anyway, so code without dispose() or tidy() does not
   * leak; a disposed tensor refuses further use.
   */
  dispose() {
    this.data = new Float32Array(0);
    this.shape = [0];
    this.isDisposed = true;
  }
}

/** Anything with a shape and dataSync() (a TensorFlow.js tensor): read as a tensor. */
function isTensorLike(x) {
  return x !== null && typeof x === "object" && Array.isArray(x.shape) && typeof x.dataSync === "function";
}

/** TensorFlow.js's `tf.tidy(fn)`: runs `fn` and returns its result (nothing to clean up here). */
export function tidy(nameOrFn, fn) {
  const f = typeof nameOrFn === "function" ? nameOrFn : fn;
  if (typeof f !== "function") throw new TypeError("tidy: expected a function");
  return f();
}

/** TensorFlow.js's `tf.dispose(tensors)`: disposes a tensor, or every tensor in a list or object. */
export function dispose(x) {
  if (x instanceof Tensor) x.dispose();
  else if (Array.isArray(x)) x.forEach(dispose);
  else if (x && typeof x === "object") Object.values(x).forEach(dispose);
}

function checkRectangular(a, shape, axis) {
  if (axis === shape.length) {
    if (Array.isArray(a)) throw new RangeError(`tensor: nested arrays are ragged (deeper than shape [${shape}])`);
    return;
  }
  if (!Array.isArray(a) || a.length !== shape[axis]) {
    throw new RangeError(`tensor: nested arrays are ragged: axis ${axis} should have length ${shape[axis]} everywhere (shape [${shape}])`);
  }
  for (const x of a) checkRectangular(x, shape, axis + 1);
}

function inferShape(a) {
  const shape = [];
  let x = a;
  while (Array.isArray(x)) {
    shape.push(x.length);
    x = x[0];
  }
  return shape;
}

/** `tensor(data, shape)`: data a Float32Array, an array of numbers, or nested arrays. */
export function tensor(data, shape) {
  return new Tensor(data, shape);
}

function toEngine(x, what) {
  if (x instanceof Tensor) {
    if (x.isDisposed) throw new Error(`${what} was disposed (dispose()): make a new tensor`);
    return { data: x.data, shape: x.shape };
  }
  if (isTensorLike(x)) return { data: Float32Array.from(x.dataSync()), shape: x.shape.slice() };
  if (x === undefined || x === null) throw new TypeError(`${what} is missing: pass a tl.tensor, {data, shape} or nested arrays`);
  if (Array.isArray(x)) return x;
  if (ArrayBuffer.isView(x)) throw new TypeError(`${what}: a typed array needs a shape: tl.tensor(data, [rows, cols])`);
  if (typeof x === "object" && "data" in x && "shape" in x) return x;
  throw new TypeError(`${what}: expected a tl.tensor, a TensorFlow.js tensor, {data, shape} or nested arrays, got ${typeof x}`);
}

function fromEngine(t) {
  return new Tensor(t.data, t.shape);
}

// ---------------------------------------------------------------------------------------------
// Option names: camelCase in, Keras's snake_case out

function snake(key) {
  return key.replace(/([A-Z])/g, "_$1").toLowerCase();
}

function snakeKeys(obj, { digits = false } = {}) {
  const out = {};
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (v === undefined) continue;
    let s = snake(k);
    if (digits) s = s.replace(/([a-z])(\d)$/, "$1_$2");
    out[s] = v;
  }
  return out;
}

function camelKeys(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj ?? {})) out[k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())] = v;
  return out;
}

function plainObject(o, what) {
  if (o === undefined || o === null) return {};
  if (typeof o !== "object" || Array.isArray(o)) throw new TypeError(`${what} must be an object of options, got ${JSON.stringify(o)}`);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Layers, optimizers, regularizers, initializers, callbacks

function layer(className, keys) {
  return (config = {}) => {
    plainObject(config, `layers.${className.toLowerCase()}(config)`);
    const c = {};
    for (const [k, v] of Object.entries(config)) {
      if (v === undefined) continue;
      if (!keys.includes(k)) {
        throw new Error(`unknown ${className} option \`${k}\` (allowed: ${keys.join(", ")})`);
      }
      c[snake(k)] = v;
    }
    return { class_name: className, config: c };
  };
}

const COMMON = ["name", "inputShape", "batchInputShape", "trainable", "dtype"];

// Keras's Normalization: a spec like the others, with `adapt(x)` (its mean and variance from x's
// rows, computed by the engine) and `apply(x)` (the layer called on data: x standardized,
// adapting on x first when it has no statistics). Left unadapted inside a model, `fit` adapts it
// on the training rows.
function normalization(config = {}) {
  const c = { ...plainObject(config, "layers.normalization(config)") };
  for (const k of ["mean", "variance"]) if (ArrayBuffer.isView(c[k])) c[k] = Array.from(c[k]);
  const l = layer("Normalization", ["axis", "mean", "variance", "invert", ...COMMON])(c);
  Object.defineProperties(l, {
    adapt: {
      value(x) {
        checkReady();
        l.config = JSON.parse(guard(() => wasm.adaptNormalization(JSON.stringify(l), toEngine(x, "adapt(x)")))).config;
        return l;
      },
    },
    apply: {
      value(x) {
        checkReady();
        const r = guard(() => wasm.callNormalization(JSON.stringify(l), toEngine(x, "apply(x)")));
        l.config = JSON.parse(r.layer).config;
        return fromEngine(r.x);
      },
    },
  });
  return l;
}

export const layers = {
  dense: layer("Dense", ["units", "activation", "useBias", "kernelInitializer", "biasInitializer", "kernelRegularizer", "biasRegularizer", ...COMMON]),
  normalization,
  dropout: layer("Dropout", ["rate", "seed", ...COMMON]),
  flatten: layer("Flatten", COMMON),
  activation: layer("Activation", ["activation", ...COMMON]),
  inputLayer: layer("InputLayer", ["shape", "batchShape", "name"]),
};

function optimizer(name) {
  return (config = {}) => ({ class_name: name, config: snakeKeys(plainObject(config, `optimizers.${name}(config)`), { digits: true }) });
}

export const optimizers = Object.fromEntries(
  ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"].map((n) => [n, optimizer(n)]),
);

export const regularizers = {
  l1: ({ l1 = 0.01 } = {}) => ({ class_name: "L1", config: { l1 } }),
  l2: ({ l2 = 0.01 } = {}) => ({ class_name: "L2", config: { l2 } }),
  l1l2: ({ l1 = 0.01, l2 = 0.01 } = {}) => ({ class_name: "L1L2", config: { l1, l2 } }),
};

export const initializers = {
  randomNormal: ({ mean, stddev, seed } = {}) => ({ class_name: "random_normal", config: snakeKeys({ mean, stddev, seed }) }),
  randomUniform: ({ minval, maxval, seed } = {}) => ({ class_name: "random_uniform", config: snakeKeys({ minval, maxval, seed }) }),
};

class BuiltinCallback {
  constructor(className, config) {
    this.class_name = className;
    this.config = config;
  }
}

export const callbacks = {
  earlyStopping: (config = {}) => new BuiltinCallback("EarlyStopping", snakeKeys(config)),
  reduceLROnPlateau: (config = {}) => new BuiltinCallback("ReduceLROnPlateau", snakeKeys(config)),
  terminateOnNaN: () => new BuiltinCallback("TerminateOnNaN", {}),
};

/**
 * The tuner's own callbacks (best-epoch checkpoint, resume points, the search's hooks), as a
 * HyperModel's `fit(hp, model, x, y, options)` receives them in `options.callbacks`: pass them on
 * to `model.fit` (`model.fit(x, y, options)` or `{...options, epochs}`), as in KerasTuner.
 */
export class TunerCallbacks {
  constructor(link) {
    this._link = link;
  }
}

function splitCallbacks(cbs) {
  if (cbs === undefined || cbs === null) return { builtins: [], js: [], tunerLink: undefined };
  const list = Array.isArray(cbs) ? cbs : [cbs];
  const builtins = [];
  const js = [];
  let tunerLink;
  for (const c of list) {
    if (c instanceof BuiltinCallback) builtins.push({ class_name: c.class_name, config: c.config });
    else if (c instanceof TunerCallbacks) tunerLink = c._link;
    else if (c && typeof c === "object") js.push(c);
    else throw new TypeError(`callbacks: expected callback objects ({onEpochEnd(epoch, logs) {...}} or tl.callbacks.*), got ${typeof c}`);
  }
  return { builtins, js, tunerLink };
}

// evaluate's and predict's callbacks: the tuner's belong to a fit only.
function evalCallbacks(cbs, what) {
  const { builtins, js, tunerLink } = splitCallbacks(cbs);
  if (tunerLink !== undefined) throw new Error(`${what}: the tuner's callbacks (a HyperModel fit's options.callbacks) serve model.fit only`);
  return { builtins, js };
}

// ---------------------------------------------------------------------------------------------
// Models

/** The History `fit` returns: `history.loss`, `history.val_accuracy`, ... per epoch. */
export class History {
  constructor(json) {
    this.history = json.history;
    this.epoch = json.epoch;
  }
}

// A metric written in JS, in the engine's protocol (src/wasm/metric.rs): a function
// `(yTrue, yPred) => number | per-sample values` (averaged over the samples by the engine, as
// Keras's MeanMetricWrapper; TF.js's custom metric functions return such a tensor), or a Keras
// Metric-like object `{name, updateState(yTrue, yPred, sampleWeight), result(), resetState()}`.
function jsMetric(m, what) {
  const values = (v) => {
    if (typeof v === "number") return v;
    if (v instanceof Tensor) return v.data;
    if (isTensorLike(v)) return Float32Array.from(v.dataSync());
    return v; // arrays pass; anything else the engine refuses, naming the metric
  };
  if (typeof m === "function") {
    if (!m.name) throw new TypeError(`${what}: a metric function needs a name (function myMetric(yTrue, yPred) {...}): it is the metric's key in the logs`);
    return { name: m.name, fn: (yt, yp) => values(m(fromEngine(yt), fromEngine(yp))) };
  }
  if (m && typeof m === "object") {
    for (const k of ["updateState", "result", "resetState"]) {
      if (typeof m[k] !== "function") throw new TypeError(`${what}: a metric object needs ${k}() (Keras's Metric: updateState(yTrue, yPred, sampleWeight), result(), resetState())`);
    }
    if (typeof m.name !== "string" || !m.name) throw new TypeError(`${what}: a metric object needs a name (its key in the logs)`);
    return {
      name: m.name,
      update: (yt, yp, sw) => void m.updateState(fromEngine(yt), fromEngine(yp), sw ? fromEngine(sw) : null),
      result: () => {
        const r = values(m.result());
        return typeof r === "number" ? r : r?.length === 1 ? Number(r[0]) : r;
      },
      reset: () => void m.resetState(),
    };
  }
  throw new TypeError(`${what}: expected a metric name, a function (yTrue, yPred) or an object with updateState/result/resetState, got ${m === null ? "null" : typeof m}`);
}

const COMPILE_KEYS = ["weightedMetrics", "lossWeights", "runEagerly", "jitCompile", "autoScaleLoss", "stepsPerExecution"];

function checkKeys(opts, allowed, what) {
  for (const k of Object.keys(plainObject(opts, `${what} options`))) {
    if (!allowed.includes(k)) throw new Error(`unknown ${what} option \`${k}\` (allowed: ${allowed.join(", ")})`);
  }
}

const FIT_KEYS = ["batchSize", "epochs", "verbose", "validationSplit", "validationData", "shuffle", "classWeight", "sampleWeight", "initialEpoch", "stepsPerEpoch", "validationSteps", "validationBatchSize", "validationFreq", "seed", "callbacks"];

function fitOptions(opts, what) {
  plainObject(opts, what);
  for (const k of Object.keys(opts)) {
    if (!FIT_KEYS.includes(k)) throw new Error(`unknown ${what} option \`${k}\` (allowed: ${FIT_KEYS.join(", ")})`);
  }
  const { validationData, sampleWeight, callbacks: cbs, ...scalars } = opts;
  let vd;
  if (validationData !== undefined && validationData !== null) {
    if (!Array.isArray(validationData) || validationData.length < 2) throw new TypeError("validationData must be [xVal, yVal] or [xVal, yVal, sampleWeight]");
    vd = validationData.map((t, i) => (i < 2 ? toEngine(t, `validationData[${i}]`) : t));
  }
  return { json: JSON.stringify(snakeKeys(scalars)), validationData: vd, sampleWeight, callbacks: cbs };
}

/** A linear stack of layers (`tl.sequential()`), with Keras's compile / fit / evaluate / predict. */
export class Sequential {
  constructor({ layers: ls, name, inputShape } = {}) {
    this._layers = [];
    this._compile = null;
    this._model = null;
    this._device = "cpu";
    this._seed = 0;
    this.name = name ?? "sequential";
    this._inputShape = inputShape;
    for (const l of ls ?? []) this.add(l);
  }

  static _fromEngine(m) {
    const s = new Sequential();
    const spec = JSON.parse(guard(() => m.toJSON()));
    s._layers = spec.layers;
    s._compile = spec.compile ?? null;
    s._inputShape = spec.input_shape;
    s._model = m;
    return s;
  }

  /** Appends a layer (`tl.layers.dense({...})`, ...). */
  add(l) {
    if (!l || typeof l !== "object" || typeof l.class_name !== "string") {
      throw new TypeError("add(layer): expected a layer from tl.layers (dense, dropout, flatten, activation, normalization)");
    }
    this._layers.push(l);
    this._model = null;
  }

  /**
   * `compile({optimizer, loss, metrics, weightedMetrics})`; Keras's `lossWeights`, `runEagerly`,
   * `jitCompile`, `autoScaleLoss` and `stepsPerExecution` are taken where their value means what
   * tunelab does anyway, refused (with the reason) otherwise. The engine checks them now.
   */
  compile({ optimizer = "rmsprop", loss, metrics = [], ...rest } = {}) {
    for (const k of Object.keys(rest)) {
      if (!COMPILE_KEYS.includes(k)) throw new Error(`unknown compile option \`${k}\` (allowed: optimizer, loss, metrics, ${COMPILE_KEYS.join(", ")})`);
    }
    if (loss === undefined) throw new Error("compile: `loss` is required (for example \"categorical_crossentropy\")");
    // Metrics written in JS (functions, or objects with updateState/result/resetState) run in the
    // engine's fit next to the built-in ones; only the names go into the JSON spec.
    const custom = [];
    let named = metrics;
    if (Array.isArray(metrics)) {
      named = [];
      metrics.forEach((m, i) => (typeof m === "string" ? named.push(m) : custom.push(jsMetric(m, `compile: metrics[${i}]`))));
    }
    const c = { optimizer, loss, metrics: named, ...snakeKeys(rest) };
    guard(() => wasm.checkCompile(JSON.stringify(c)));
    this._compile = c;
    this._customMetrics = custom;
    this._model = null;
  }

  /** The model as a JSON spec (docs/model-spec.md). */
  toJSON() {
    let layers = this._layers;
    // A Normalization layer adapted by fit: its statistics live in the engine's model.
    if (this._model && !this._disposed && layers.some((l) => l?.class_name === "Normalization")) {
      const adapted = JSON.parse(guard(() => this._model.toJSON())).layers.find((l) => l.class_name === "Normalization");
      if (adapted) layers = layers.map((l) => (l?.class_name === "Normalization" ? adapted : l));
    }
    return {
      ...(this._inputShape ? { input_shape: this._inputShape } : {}),
      layers,
      ...(this._compile ? { compile: this._compile } : {}),
    };
  }

  /**
   * Frees the engine memory behind the model (weights, optimizer state) now, rather than when
   * the garbage collector gets to this object; the model cannot be used afterwards.
   */
  dispose() {
    this._model?.free();
    this._model = null;
    this._disposed = true;
  }

  _engine() {
    checkReady();
    if (this._disposed) throw new Error("this model was disposed (dispose()): make a new one");
    if (!this._model) {
      this._model = guard(() => wasm.WasmModel.fromSpec(JSON.stringify(this.toJSON()), this._seed));
      guard(() => this._model.setDevice(this._device));
      if (this._customMetrics?.length) guard(() => this._model.addMetrics(this._customMetrics));
    }
    return this._model;
  }

  /**
   * The trained model in one file (a Uint8Array: spec, input shape, weights, optimizer state),
   * as Keras's `model.save`; `tl.loadModel(bytes)`, `tunelab predict FILE` and Rust's
   * `load_model` read it.
   */
  save() {
    return guard(() => this._engine().save());
  }

  /**
   * TensorFlow.js's LayersModel format: `{modelJSON, weights}`, the text of `model.json` (its
   * manifest names `weightsFile`) and the weights file's bytes, for `tf.loadLayersModel`.
   */
  toTfjs({ weightsFile = "weights.bin" } = {}) {
    const r = guard(() => this._engine().toTfjs(weightsFile));
    return { modelJSON: r.modelJSON, weights: r.weights };
  }

  /** `"cpu"` (default), `"webgpu"` or `"auto"` (WebGPU opens on first use; `tl.initGpu()` reports the adapter). */
  setDevice(device) {
    this._device = device;
    if (this._model) guard(() => this._model.setDevice(device));
  }

  /** Where the last fit ran: `{device, note}`. */
  get device() {
    return guard(() => this._engine().device());
  }

  /** Seeds weights, dropout and shuffling (before the weights exist). */
  setSeed(seed) {
    this._seed = seed;
    this._model = null;
  }

  build(inputShape) {
    guard(() => this._engine().build(inputShape));
  }

  async fit(x, y, opts = {}) {
    const o = fitOptions(opts, "fit");
    const { builtins, js, tunerLink } = splitCallbacks(o.callbacks);
    const m = this._engine();
    const json = await guardAsync(() =>
      m.fit(toEngine(x, "x"), toEngine(y, "y"), o.json, {
        validationData: o.validationData,
        sampleWeight: o.sampleWeight,
        callbacks: js,
        builtins: JSON.stringify(builtins),
        tunerLink,
      }),
    );
    return new History(JSON.parse(json));
  }

  /** `evaluate(x, y, {batchSize, sampleWeight, steps, verbose, callbacks, returnDict})`. */
  async evaluate(x, y, opts = {}) {
    checkKeys(opts, ["batchSize", "sampleWeight", "steps", "verbose", "callbacks", "returnDict"], "evaluate");
    const { sampleWeight, callbacks: cbs, ...scalars } = opts ?? {};
    const { builtins, js } = evalCallbacks(cbs, "evaluate");
    const m = this._engine();
    return guardAsync(() =>
      m.evaluate(toEngine(x, "x"), toEngine(y, "y"), JSON.stringify(snakeKeys(scalars)), { sampleWeight, callbacks: js, builtins: JSON.stringify(builtins) }),
    );
  }

  /** `predict(x, {batchSize, steps, verbose, callbacks})`. */
  async predict(x, opts = {}) {
    checkKeys(opts, ["batchSize", "steps", "verbose", "callbacks"], "predict");
    const { callbacks: cbs, ...scalars } = opts ?? {};
    const { builtins, js } = evalCallbacks(cbs, "predict");
    const m = this._engine();
    return fromEngine(await guardAsync(() => m.predict(toEngine(x, "x"), JSON.stringify(snakeKeys(scalars)), { callbacks: js, builtins: JSON.stringify(builtins) })));
  }

  trainOnBatch(x, y, opts = {}) {
    checkKeys(opts, ["sampleWeight", "classWeight", "returnDict"], "trainOnBatch");
    const { sampleWeight, classWeight, returnDict = false } = opts ?? {};
    const m = this._engine();
    return guard(() => m.trainOnBatch(toEngine(x, "x"), toEngine(y, "y"), sampleWeight, classWeight ? JSON.stringify(classWeight) : undefined, returnDict));
  }

  testOnBatch(x, y, opts = {}) {
    checkKeys(opts, ["sampleWeight", "returnDict"], "testOnBatch");
    const { sampleWeight, returnDict = false } = opts ?? {};
    const m = this._engine();
    return guard(() => m.testOnBatch(toEngine(x, "x"), toEngine(y, "y"), sampleWeight, returnDict));
  }

  predictOnBatch(x) {
    const m = this._engine();
    return fromEngine(guard(() => m.predictOnBatch(toEngine(x, "x"))));
  }

  /** Keras's summary table, as text. */
  summary() {
    return guard(() => this._engine().summary());
  }

  getWeights() {
    return guard(() => this._engine().getWeights()).map(fromEngine);
  }

  setWeights(weights) {
    if (!Array.isArray(weights)) throw new TypeError("setWeights: expected an array of tensors (as getWeights returns)");
    guard(() => this._engine().setWeights(weights.map((w, i) => toEngine(w, `weights[${i}]`))));
  }

  /**
   * The optimizer's state (`{iterations, learningRate, uProduct, slots}`, or null before the
   * first step): with `getWeights`, what resuming training exactly elsewhere needs.
   */
  getTrainingState() {
    return guard(() => this._engine().getTrainingState());
  }

  /** Restores `getTrainingState`'s object (the model built and compiled, same shape). */
  setTrainingState(state) {
    guard(() => this._engine().setTrainingState(state));
  }

  countParams() {
    return guard(() => this._engine().countParams());
  }
}

/** `tl.sequential({layers})`. */
export function sequential(config) {
  return new Sequential(config);
}

/** A model from a JSON spec (`{layers, compile, input_shape}`, docs/model-spec.md). */
/**
 * A model saved by `model.save()`, `tunelab fit --save` or Rust's `save_model` (a Uint8Array,
 * ArrayBuffer or Node Buffer of the file): built, with its weights and optimizer state.
 */
export function loadModel(bytes) {
  if (!(bytes instanceof Uint8Array || bytes instanceof ArrayBuffer)) {
    throw new TypeError(`loadModel: expected the saved file's bytes (Uint8Array or ArrayBuffer), got ${bytes === null ? "null" : typeof bytes}`);
  }
  checkReady();
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const m = guard(() => wasm.WasmModel.fromBytes(u8));
  return Sequential._fromEngine(m);
}

export function modelFromJSON(spec) {
  const s = typeof spec === "string" ? JSON.parse(spec) : spec;
  if (!s || typeof s !== "object" || !Array.isArray(s.layers)) throw new TypeError("modelFromJSON: expected a spec object with a layers list");
  const m = new Sequential();
  m._layers = s.layers;
  m._compile = s.compile ?? null;
  m._inputShape = s.input_shape;
  return m;
}

/**
 * A hypermodel from a model spec with hyperparameters inside (`{"hp": "Int", ...}` objects,
 * `repeat` and `when` blocks; docs/tuning.md): the same format as `tunelab tune SPEC.json`.
 */
export function specHypermodel(spec) {
  const text = typeof spec === "string" ? spec : JSON.stringify(spec);
  const build = (hp) => modelFromJSON(guard(() => hp._hp.resolveSpec(text)));
  // A tuner given this hypermodel hands the spec to the engine's own spec hypermodel (the one
  // `tunelab tune` uses), which also applies the spec's `fit` (batch_size, epochs) per trial.
  build.spec = text;
  return build;
}

// ---------------------------------------------------------------------------------------------
// Hyperparameters

/** KerasTuner's HyperParameters: `hp.Int`, `hp.Float`, `hp.Choice`, `hp.Boolean`, `hp.Fixed`. */
export class HyperParameters {
  constructor(inner) {
    this._inner = inner ?? guard(() => new wasm.WasmHp());
  }

  get _hp() {
    if (!this._inner) throw new Error("these hyperparameters were disposed (dispose())");
    return this._inner;
  }

  /** Frees the engine memory behind these hyperparameters now; they cannot be used afterwards. */
  dispose() {
    this._inner?.free();
    this._inner = null;
  }

  static _range(name, args, kind) {
    // Int(name, {minValue, maxValue, step, sampling, default}) or Int(name, min, max, step|options)
    let [a, b, c] = args;
    let o;
    if (a !== null && typeof a === "object") {
      o = { ...a };
    } else {
      o = c !== null && typeof c === "object" ? { ...c } : c === undefined ? {} : { step: c };
      o.minValue = a;
      o.maxValue = b;
    }
    const { minValue, maxValue, ...rest } = o;
    for (const [k, v] of [["minValue", minValue], ["maxValue", maxValue]]) {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new TypeError(`${kind}("${name}"): ${k} must be a finite number, got ${JSON.stringify(v)}`);
    }
    for (const k of Object.keys(rest)) {
      if (!["step", "sampling", "default", "parentName", "parentValues"].includes(k)) throw new Error(`unknown ${kind} option \`${k}\` (allowed: minValue, maxValue, step, sampling, default, parentName, parentValues)`);
    }
    return [minValue, maxValue, JSON.stringify(snakeKeys(rest))];
  }

  Int(name, ...args) {
    const [lo, hi, o] = HyperParameters._range(name, args, "Int");
    return guard(() => this._hp.Int(name, lo, hi, o));
  }
  Float(name, ...args) {
    const [lo, hi, o] = HyperParameters._range(name, args, "Float");
    return guard(() => this._hp.Float(name, lo, hi, o));
  }
  Choice(name, values, { ordered, default: d, parentName, parentValues, ...rest } = {}) {
    if (!Array.isArray(values)) throw new TypeError(`Choice("${name}"): values must be an array`);
    if (Object.keys(rest).length) throw new Error(`unknown Choice option \`${Object.keys(rest)[0]}\` (allowed: ordered, default, parentName, parentValues)`);
    return guard(() => this._hp.Choice(name, JSON.stringify(values), JSON.stringify(snakeKeys({ ordered, default: d, parentName, parentValues }))));
  }
  Boolean(name, { default: d, parentName, parentValues, ...rest } = {}) {
    if (Object.keys(rest).length) throw new Error(`unknown Boolean option \`${Object.keys(rest)[0]}\` (allowed: default, parentName, parentValues)`);
    return guard(() => this._hp.Boolean(name, JSON.stringify(snakeKeys({ default: d, parentName, parentValues }))));
  }
  Fixed(name, value, { parentName, parentValues, ...rest } = {}) {
    if (Object.keys(rest).length) throw new Error(`unknown Fixed option \`${Object.keys(rest)[0]}\` (allowed: parentName, parentValues)`);
    return guard(() => this._hp.Fixed(name, JSON.stringify(value), JSON.stringify(snakeKeys({ parentName, parentValues }))));
  }
  int(...a) {
    return this.Int(...a);
  }
  float(...a) {
    return this.Float(...a);
  }
  choice(...a) {
    return this.Choice(...a);
  }
  boolean(...a) {
    return this.Boolean(...a);
  }
  fixed(...a) {
    return this.Fixed(...a);
  }
  /** Hps created inside `fn` are active only when `parentName`'s value is in `parentValues`. */
  conditionalScope(parentName, parentValues, fn) {
    return guard(() => this._hp.conditionalScope(parentName, JSON.stringify(parentValues), fn));
  }
  nameScope(name, fn) {
    return guard(() => this._hp.nameScope(name, fn));
  }
  get(name) {
    return guard(() => this._hp.get(name));
  }
  /** The active values, `{name: value}`. */
  get values() {
    return JSON.parse(guard(() => this._hp.values()));
  }
  searchSpaceSummary() {
    return guard(() => this._hp.searchSpaceSummary());
  }
  /** KerasTuner's `get_config()`: `{space, values}`; `HyperParameters.fromJSON` reads it back. */
  toJSON() {
    return JSON.parse(guard(() => this._hp.toJSON()));
  }
  /**
   * KerasTuner's `is_active`: by name, whether some hp of that name has its conditions met; given
   * an hp's JSON (an entry of `toJSON().space`), whether that hp's own conditions are met.
   */
  isActive(nameOrHp) {
    if (typeof nameOrHp === "string") return guard(() => this._hp.isActive(nameOrHp));
    if (nameOrHp && typeof nameOrHp === "object" && !Array.isArray(nameOrHp)) return guard(() => this._hp.isActiveHp(JSON.stringify(nameOrHp)));
    throw new TypeError(`isActive(nameOrHp): expected an hp name or an hp's JSON ({class_name, config}, from toJSON().space), got ${nameOrHp === null ? "null" : typeof nameOrHp}`);
  }
  /**
   * KerasTuner's `merge(hps, overwrite=True)`: adds `other`'s hps (a HyperParameters, or its
   * JSON) to this space; with `overwrite` an hp already here is replaced and reset to its default.
   */
  merge(other, { overwrite = true, ...rest } = {}) {
    if (Object.keys(rest).length) throw new Error(`unknown merge option \`${Object.keys(rest)[0]}\` (allowed: overwrite)`);
    if (typeof overwrite !== "boolean") throw new TypeError(`merge: overwrite must be true or false, got ${JSON.stringify(overwrite)}`);
    const o = other instanceof HyperParameters ? other : other && typeof other === "object" ? HyperParameters.fromJSON(other) : null;
    if (!o) throw new TypeError(`merge(other): other must be a HyperParameters or its toJSON() object, got ${other === null ? "null" : typeof other}`);
    try {
      guard(() => this._hp.merge(o._hp, overwrite));
    } finally {
      if (o !== other) o.dispose();
    }
    return this;
  }
  /** KerasTuner's `copy()`: the same space and values, independent of this one. */
  copy() {
    return new HyperParameters(guard(() => this._hp.copy()));
  }
  /** KerasTuner's `from_config`: hyperparameters from `toJSON()`'s object or its JSON text. */
  static fromJSON(json) {
    checkReady();
    const text = typeof json === "string" ? json : json && typeof json === "object" && !Array.isArray(json) ? JSON.stringify(json) : null;
    if (text === null) throw new TypeError(`HyperParameters.fromJSON: expected toJSON()'s object ({space, values}) or its JSON text, got ${json === null ? "null" : typeof json}`);
    return new HyperParameters(guard(() => wasm.WasmHp.fromJSON(text)));
  }
}

/**
 * KerasTuner's `HyperModel(name, tunable)`: override `build(hp)`, and `fit(hp, model, x, y,
 * options)` to tune training. `tunable: false` keeps the hps that build creates at their
 * defaults; hps declared in `declareHyperparameters(hp)` (called before the first build) or
 * given to the tuner's `hyperparameters` stay searchable.
 */
export class HyperModel {
  constructor(options = {}) {
    const { name = null, tunable = true, ...rest } = plainObject(options, "new HyperModel(options)");
    if (Object.keys(rest).length) throw new Error(`unknown HyperModel option \`${Object.keys(rest)[0]}\` (allowed: name, tunable)`);
    if (name !== null && typeof name !== "string") throw new TypeError(`new HyperModel: name must be a string, got ${JSON.stringify(name)}`);
    if (typeof tunable !== "boolean") throw new TypeError(`new HyperModel: tunable must be true or false, got ${JSON.stringify(tunable)}`);
    this.name = name;
    this.tunable = tunable;
  }
  build(_hp) {
    throw new Error("HyperModel.build(hp) must be overridden and return a tl.sequential() model");
  }
  /** KerasTuner's `declare_hyperparameters(hp)`: override to declare hps before the first build. */
  declareHyperparameters(_hp) {}
}

// ---------------------------------------------------------------------------------------------
// Storage: IndexedDB in browsers (a search survives a reload), memory elsewhere

class MemoryStore {
  constructor(location) {
    this.files = new Map();
    this.where = location;
  }
  read(path) {
    return this.files.get(path);
  }
  write(path, bytes) {
    this.files.set(path, new Uint8Array(bytes));
  }
  list(prefix) {
    return [...this.files.keys()].filter((k) => k.startsWith(prefix));
  }
  clear() {
    this.files.clear();
  }
  location() {
    return this.where;
  }
  async open() {}
  async flush() {}
  afterSave(fn) {
    Promise.resolve().then(fn);
  }
}

/** Waits for a readwrite transaction's commit. A full quota shows only as an abort (Chromium fires
 * `abort`, no `error`), which is why `abort` is what ends a commit here. */
function idbDone(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException("the IndexedDB transaction was aborted", "AbortError"));
  });
}

function idbRequest(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** The package's words for a failed save (flush() throws it); a full quota says so plainly. */
function saveFailed(e) {
  const full = e && (e.name === "QuotaExceededError" || /quota/i.test(String(e.message)));
  const why = full ? "storage is full (the browser's quota for this page is used up)" : e && e.message ? e.message : String(e);
  return new Error(`saving the search to IndexedDB failed: ${why}; what was saved before is kept, and the search can continue once there is room`);
}

/**
 * A search's storage in IndexedDB: database "tunelab", object store "files", keys
 * `${location}/${path}`, with every file also kept in memory (reads are synchronous). The
 * package's `storage: "indexeddb"` and the playground page both use it.
 *
 * - Everything written in one turn of the event loop is committed in one transaction (the
 *   oracle saves a trial.json and oracle.json together: both or neither reach the disk).
 * - A failed commit drops every later write, so what is stored stays exactly what the search
 *   had at some earlier moment. It is reported once through `onFail(error)` (the browser's own
 *   error, as soon as the commit fails) and once by `flush()`, which throws "saving the search
 *   to IndexedDB failed: ...".
 * - `open()` loads what is stored; after a failure it first drops what was not saved and then
 *   writes again, so a search carries on from what a reload would find.
 * - `afterSave(fn)` runs `fn` once everything written so far is committed (never after a
 *   failure): a page can show an epoch or a finished trial only once a reload keeps it.
 */
export class IndexedDBStore extends MemoryStore {
  constructor(location, { onFail } = {}) {
    if (typeof location !== "string" || !location) throw new TypeError("new IndexedDBStore(location): location must be a non-empty string (directory/projectName)");
    if (typeof indexedDB === "undefined") throw new Error("IndexedDB is not available here (use the \"memory\" store)");
    super(location);
    this.onFail = onFail ?? null;
    this.db = null;
    this.batch = null; // {clear, puts: Map, generation}: this turn's writes, not yet committed
    this.pending = Promise.resolve(); // the commits queued so far, in order; never rejects
    this.failed = null; // the first failed commit's error
    this.reported = false; // flush() has thrown it
    this.generation = 0; // open() after a failure starts a new one: older batches are dropped
  }
  _range() {
    return IDBKeyRange.bound(`${this.where}/`, `${this.where}/\uffff`);
  }
  async _db() {
    if (!this.db) {
      const req = indexedDB.open("tunelab", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("files");
      this.db = await idbRequest(req);
    }
    return this.db;
  }
  write(path, bytes) {
    const copy = new Uint8Array(bytes);
    this.files.set(path, copy);
    this._batch().puts.set(path, copy);
  }
  clear() {
    this.files.clear();
    const b = this._batch();
    b.clear = true;
    b.puts.clear();
  }
  _batch() {
    if (this.batch) return this.batch;
    const batch = { clear: false, puts: new Map(), generation: this.generation };
    this.batch = batch;
    this.pending = this.pending.then(async () => {
      if (this.batch === batch) this.batch = null;
      if (this.failed || batch.generation !== this.generation) return;
      try {
        const db = await this._db();
        const tx = db.transaction("files", "readwrite");
        const files = tx.objectStore("files");
        if (batch.clear) files.delete(this._range());
        for (const [path, bytes] of batch.puts) files.put(bytes, `${this.where}/${path}`);
        await idbDone(tx);
      } catch (e) {
        this.failed = e;
        // (a throwing onFail must not break the chain of commits)
        if (this.onFail) queueMicrotask(() => this.onFail(e));
      }
    });
    return batch;
  }
  /** Loads what is stored (after the writes queued so far). */
  async open() {
    await this.pending;
    if (this.failed) {
      this.generation++;
      this.batch = null;
      this.files.clear();
      this.failed = null;
      this.reported = false;
    }
    const db = await this._db();
    const files = db.transaction("files", "readonly").objectStore("files");
    const [keys, values] = await Promise.all([idbRequest(files.getAllKeys(this._range())), idbRequest(files.getAll(this._range()))]);
    for (let i = 0; i < keys.length; i++) this.files.set(keys[i].slice(this.where.length + 1), new Uint8Array(values[i]));
  }
  /** Waits for the writes queued so far; throws a failed save once. */
  async flush() {
    await this.pending;
    if (this.failed && !this.reported) {
      this.reported = true;
      throw saveFailed(this.failed);
    }
  }
  afterSave(fn) {
    this.pending.then(() => {
      if (!this.failed) fn();
    });
  }
}

/**
 * A search's storage: `"indexeddb"` (survives a reload), `"memory"` or `"auto"`, at `location`
 * (the tuner's `directory/projectName`). Pass it as a tuner's `storage`; `read(path)`,
 * `write(path, bytes)` and `list(prefix)` also keep a page's own files beside the search's,
 * cleared with it on `overwrite`. `await open()` loads what is stored; `await flush()` waits
 * for the writes (and throws a failed save once); `afterSave(fn)` runs `fn` once they are
 * stored. `"indexeddb"` is `new IndexedDBStore(location)`.
 */
export function store(kind, location) {
  if (typeof location !== "string" || !location) throw new TypeError("store(kind, location): location must be a non-empty string (directory/projectName)");
  return makeStore(kind, location);
}

function makeStore(storage, location) {
  if (storage === undefined || storage === "auto") storage = typeof indexedDB !== "undefined" ? "indexeddb" : "memory";
  if (storage === "memory") return new MemoryStore(location);
  if (storage === "indexeddb") {
    if (typeof indexedDB === "undefined") throw new Error("storage: \"indexeddb\" is not available here (use \"memory\")");
    return new IndexedDBStore(location);
  }
  if (storage && typeof storage === "object" && typeof storage.read === "function") return storage;
  throw new TypeError(`storage must be "indexeddb", "memory", "auto" or a store object, got ${JSON.stringify(storage)}`);
}

// ---------------------------------------------------------------------------------------------
// Tuners

function trialFromJSON(s) {
  const t = JSON.parse(s);
  return {
    trialId: t.trial_id,
    hyperparameters: { values: t.values ?? t.hyperparameters?.values ?? {} },
    metrics: t.metrics,
    score: t.score,
    bestStep: t.best_step,
    status: t.status,
    message: t.message,
    seconds: t.seconds,
    device: t.device,
    curves: t.curves ?? [],
  };
}

function resultJSON(r, what) {
  if (typeof r === "number") {
    if (!Number.isFinite(r)) throw new Error(`${what} returned ${r}: a finite number is needed`);
    return JSON.stringify({ value: r });
  }
  if (r instanceof History) return JSON.stringify({ history: { history: r.history, epoch: r.epoch } });
  if (r && typeof r === "object") return JSON.stringify({ metrics: r });
  throw new TypeError(`${what} must return a number, an object of metrics, or the History of model.fit, got ${typeof r}`);
}

/** A tuner class's option names in camelCase, from the engine's table (`catalog()`). */
function tunerOptionNames(kind) {
  const t = catalog().tuners.find((x) => x.class === kind);
  return t ? Object.keys(t.options).map((k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())) : [];
}

const SEARCH_CALLBACKS = ["onTrialBegin", "onTrialEnd", "onEpochBegin", "onEpochEnd", "onBatchEnd", "onSaved"];

/** The shared base of the tuners; `runTrial(trial, ...searchArgs)` may be overridden to tune any function. */
export class Tuner {
  constructor(kind, options = {}) {
    checkReady();
    const { hypermodel, hyperparameters, storage, runTrial, ...rest } = plainObject(options, `new ${kind}(options)`);
    const allowed = tunerOptionNames(kind);
    for (const k of Object.keys(rest)) {
      if (!allowed.includes(k)) throw new Error(`unknown ${kind} option \`${k}\` (allowed: hypermodel, runTrial, hyperparameters, storage, ${allowed.join(", ")})`);
    }
    const run = runTrial ?? (this.runTrial !== Tuner.prototype.runTrial ? this.runTrial.bind(this) : undefined);
    if (!run && !hypermodel) throw new Error(`${kind}: \`hypermodel\` is required (a function hp => model, or a tl.HyperModel), unless runTrial is given`);
    const dir = rest.directory ?? ".";
    const project = rest.projectName ?? "untitled_project";
    this._store = makeStore(storage, `${dir}/${project}`);
    this._search = null;
    let hm = null;
    if (!run && typeof hypermodel === "function" && typeof hypermodel.spec === "string") {
      hm = hypermodel.spec;
    } else if (!run) {
      const build = typeof hypermodel === "function" ? hypermodel : hypermodel.build?.bind(hypermodel);
      if (typeof build !== "function") throw new TypeError("hypermodel must be a function (hp) => model or an object with build(hp)");
      const fit = typeof hypermodel === "object" && typeof hypermodel.fit === "function" ? hypermodel.fit.bind(hypermodel) : null;
      const declare = typeof hypermodel === "object" ? hypermodel.declareHyperparameters : undefined;
      if (declare !== undefined && typeof declare !== "function") throw new TypeError("hypermodel.declareHyperparameters must be a function (hp) => void");
      hm = {
        tunable: typeof hypermodel === "object" ? hypermodel.tunable : undefined,
        declareHyperparameters: declare ? (inner) => void declare.call(hypermodel, new HyperParameters(inner)) : undefined,
        build: (inner) => {
          const m = build(new HyperParameters(inner));
          if (!(m instanceof Sequential)) throw new TypeError("build(hp) must return a tl.sequential() model");
          const spec = JSON.stringify(m.toJSON());
          return m._customMetrics?.length ? { spec, metrics: m._customMetrics } : spec;
        },
        fit: fit
          ? async (inner, engineModel, optsJSON, link) => {
              const s = this._search;
              const opts = camelKeys(JSON.parse(optsJSON));
              for (const k of Object.keys(opts)) if (opts[k] === null) delete opts[k];
              // Everything search was given, and the tuner's callbacks, which the fit hands on
              // to model.fit (KerasTuner's **kwargs).
              const r = await fit(new HyperParameters(inner), Sequential._fromEngine(engineModel), s.x, s.y, {
                ...opts,
                ...(s.validationData ? { validationData: s.validationData } : {}),
                ...(s.sampleWeight ? { sampleWeight: s.sampleWeight } : {}),
                callbacks: [new TunerCallbacks(link)],
              });
              return resultJSON(r, "fit");
            }
          : undefined,
      };
    }
    const runAdapter = run
      ? async (inner, trialJSON) => {
          const t = trialFromJSON(trialJSON);
          t.hyperparameters = new HyperParameters(inner);
          return resultJSON(await run(t, ...(this._search?.args ?? [])), "runTrial");
        }
      : undefined;
    this._t = guard(
      () =>
        new wasm.WasmTuner(
          kind,
          JSON.stringify(snakeKeys(rest)),
          hm,
          runAdapter,
          hyperparameters ? JSON.stringify(hyperparameters.toJSON()) : undefined,
          this._store,
        ),
    );
  }

  /** Override to tune any function: return a number (minimised) or an object of metrics. */
  async runTrial(_trial, ..._args) {
    throw new Error("runTrial is not overridden");
  }

  searchSpaceSummary() {
    return guard(() => this._t.searchSpaceSummary());
  }

  /**
   * `search(x, y, {epochs, batchSize, validationData, validationSplit, ..., callbacks})`: runs
   * trials until the oracle stops. `callbacks` may hold onTrialBegin(trial), onTrialEnd(trial),
   * onEpochBegin(trialId, epoch), onEpochEnd(trialId, epoch, logs), onBatchEnd(trialId, batch,
   * logs) and onSaved() (everything so far is stored). A tuner with runTrial passes all
   * arguments of search on to it instead; when the last one holds `callbacks` or `signal`, they
   * serve the search too.
   */
  async search(...args) {
    const functional = !this._hasModel();
    let x, y, opts;
    if (functional) {
      // Everything goes on to runTrial; a last argument with `callbacks` or `signal` also
      // serves the search itself (KerasTuner passes search's keyword arguments on likewise).
      const last = args[args.length - 1];
      const searchOpts = last && typeof last === "object" && !Array.isArray(last) && ("callbacks" in last || "signal" in last) ? last : {};
      [x, y, opts] = [[[0]], [[0]], { callbacks: searchOpts.callbacks, signal: searchOpts.signal }];
    } else {
      [x, y, opts = {}] = args;
    }
    const { callbacks: cbs, signal, ...fitOpts } = plainObject(opts, "search options");
    if (signal) {
      if (signal.aborted) return;
      signal.addEventListener("abort", () => this.stop(), { once: true });
    }
    const hooks = plainObject(cbs, "search callbacks");
    for (const k of Object.keys(hooks)) {
      if (!SEARCH_CALLBACKS.includes(k)) throw new Error(`unknown search callback \`${k}\` (allowed: ${SEARCH_CALLBACKS.join(", ")})`);
    }
    const o = functional ? { json: "{}" } : fitOptions(fitOpts, "search");
    this._search = {
      args,
      x,
      y,
      validationData: fitOpts.validationData,
      sampleWeight: fitOpts.sampleWeight,
      currentTrial: null,
    };
    await this._store.open();
    guard(() => this._t.reload());
    guard(() =>
      this._t.setYield(async () => {
        await this._store.flush();
        hooks.onSaved?.();
      }),
    );
    const engineHooks = {
      onTrialBegin: (s) => {
        const t = trialFromJSON(s);
        this._search.currentTrial = t.trialId;
        hooks.onTrialBegin?.(t);
      },
      onTrialEnd: (s) => hooks.onTrialEnd?.(trialFromJSON(s)),
      onEpochBegin: (id, e) => hooks.onEpochBegin?.(id, e),
      onEpochEnd: (id, e, logs) => hooks.onEpochEnd?.(id, e, logs),
      onBatchEnd: (id, b, logs) => hooks.onBatchEnd?.(id, b, logs),
    };
    try {
      await guardAsync(() =>
        this._t.search(toEngine(x, "x"), toEngine(y, "y"), o.json, {
          validationData: o.validationData,
          sampleWeight: o.sampleWeight,
          hooks: engineHooks,
        }),
      );
    } finally {
      await this._store.flush();
    }
  }

  /** Loads what the storage holds (a search saved before a reload) without running anything; `trials` then lists it. */
  async reload() {
    await this._store.open();
    guard(() => this._t.reload());
  }

  _hasModel() {
    return !(this.runTrial !== Tuner.prototype.runTrial || this._runTrialOption);
  }

  /**
   * Trains the hypermodel's executions elsewhere (a pool of Web Workers): `executor(jobBytes,
   * info, onEpoch)` takes each job (`info`: `{trialId, execution, epochs, initialEpoch}`) to a
   * worker that calls `runExecution(jobBytes, data, ...)` and hands every epoch's report bytes
   * back through `onEpoch(reportBytes)`; it returns a Promise that settles when the job ends.
   * The tuner keeps every rule of the trial: seeds, resume points, best epochs, averaging.
   */
  setExecutor(executor) {
    if (typeof executor !== "function") throw new TypeError("setExecutor: expected a function (jobBytes, info, onEpoch) => Promise");
    guard(() => this._t.setExecutor((bytes, info, onEpoch) => executor(bytes, JSON.parse(info), onEpoch)));
  }

  /** A trial interrupted while it trained: `{values, history: {history, epoch}}` of its first execution, or null. */
  interrupted(trialId) {
    const s = guard(() => this._t.interrupted(String(trialId)));
    return s === undefined ? null : JSON.parse(s);
  }

  /** A trial's stored best-epoch weights (tensors), or null before it has ended. */
  trialWeights(trialId) {
    const w = guard(() => this._t.trialWeights(String(trialId)));
    return w === undefined ? null : w.map(fromEngine);
  }

  /** Ends a running search after the trials in progress (no new trials start). */
  stop() {
    guard(() => this._t.stop());
  }

  /** KerasTuner's results summary text (`numTrials` best trials). */
  resultsSummary(numTrials = 10) {
    return guard(() => this._t.resultsSummary(numTrials));
  }

  /** The best trials' hyperparameters, best first. */
  getBestHyperparameters(numTrials = 1) {
    return guard(() => this._t.getBestHyperparameters(numTrials)).map((h) => new HyperParameters(h));
  }

  /** The best trials' models, with the weights of their best epoch. */
  async getBestModels(arg = {}) {
    const { numModels = 1, inputShape } = typeof arg === "number" ? { numModels: arg } : arg;
    return guard(() => this._t.getBestModels(numModels, inputShape)).map((m) => Sequential._fromEngine(m));
  }

  /** Every trial (id, hyperparameter values, metrics, score, status, device). */
  get trials() {
    return guard(() => this._t.trials()).map(trialFromJSON);
  }

  trialsJSON() {
    return JSON.parse(guard(() => this._t.trialsJSON()));
  }

  trialsCSV() {
    return guard(() => this._t.trialsCSV());
  }

  /** Where trials trained: `{device, note}`. */
  get device() {
    const [device, note] = guard(() => this._t.device());
    return { device, note };
  }
}

function tunerClass(kind) {
  return class extends Tuner {
    constructor(options) {
      super(kind, options);
      if (options && options.runTrial) this._runTrialOption = true;
    }
  };
}

export const RandomSearch = tunerClass("RandomSearch");

/**
 * A worker's copy of the search's data for `runExecution`: `x`, `y`, the validation data
 * (`xVal`, `yVal`, optional) and `probe`, points whose predictions each epoch report carries.
 */
export function executionData({ x, y, xVal, yVal, probe } = {}) {
  checkReady();
  const opt = (t, what) => (t === undefined || t === null ? undefined : toEngine(t, what));
  return guard(() => new wasm.WasmExecutionData(toEngine(x, "x"), toEngine(y, "y"), opt(xVal, "xVal"), opt(yVal, "yVal"), opt(probe, "probe")));
}

/**
 * Trains one job of a tuner's executor (see `Tuner.setExecutor`) with the engine's fit:
 * `onEpoch(reportBytes, epoch, logs, probePredictions)` after every epoch (return false to
 * stop). Resolves when the job has ended.
 */
export async function runExecution(jobBytes, data, onEpoch) {
  checkReady();
  if (!(jobBytes instanceof Uint8Array)) throw new TypeError("runExecution: jobBytes must be a Uint8Array");
  await guardAsync(() => wasm.runExecution(jobBytes, data, onEpoch));
}
export const GridSearch = tunerClass("GridSearch");
export const Hyperband = tunerClass("Hyperband");
export const BayesianOptimization = tunerClass("BayesianOptimization");
export const BOHB = tunerClass("BOHB");
export const ASHA = tunerClass("ASHA");

// ---------------------------------------------------------------------------------------------
// Data and devices

/**
 * A built-in data set: "circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss" (TensorFlow
 * Playground's, {noise: 0..50, seed}) or "digits" (8x8 digits). Returns `{x, y}` tensors.
 */
export function dataset(name, { noise = 0, seed = 0 } = {}) {
  const d = guard(() => wasm.dataset(name, noise, seed));
  return { x: fromEngine(d.x), y: fromEngine(d.y) };
}

export const datasets = {
  load: dataset,
  names: () => guard(() => wasm.datasetNames()),
};

/**
 * CSV text with a header line. `csv.header(text)` -> `{columns, rows}` (nothing parsed as a
 * number); `csv.parse(text, {label, columns})` -> `{x, y, featureNames, labelName}` with the
 * `label` column as y (null without one) and `columns` (default: all others) as x. Errors name
 * the line, the column and the offending text.
 */
export const csv = {
  header: (text) => guard(() => wasm.csvHeader(String(text))),
  parse(text, { label, columns } = {}) {
    const r = guard(() => wasm.parseCsv(String(text), label ?? undefined, columns ?? undefined));
    return { x: fromEngine(r.x), y: r.y ? fromEngine(r.y) : null, featureNames: r.featureNames, labelName: r.labelName };
  },
};

/** TensorFlow Playground's input features of 2-D points: `features(x, ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin(x1)", "sin(x2)"])`. */
export function features(x, names) {
  if (!Array.isArray(names)) throw new TypeError("features(x, names): names must be an array of feature names");
  return fromEngine(guard(() => wasm.features(toEngine(x, "x"), names.map(String))));
}

/**
 * The playground's train/test split of `n` rows: `{train, test}` (Uint32Arrays of row indices),
 * `trainPercent` of them (rounded) for training, in a random order fixed by `seed`. The page and
 * `tunelab tune --train-percent P --data-seed S` split through the same engine function.
 */
export function splitIndices(n, { trainPercent, seed = 0 } = {}) {
  return guard(() => wasm.splitIndices(n, trainPercent, seed));
}

let catalogCache = null;

/**
 * The engine's tables, the ones every surface offers: `{tuners: [{name, class, about, options:
 * {snake_case: default}}], datasets: [{name, task, classes, rows, features, playground}],
 * features: [...], losses: [{name, aliases, targets}]}` (`tunelab catalog` prints the same).
 */
export function catalog() {
  catalogCache ??= JSON.parse(guard(() => wasm.catalog()));
  return catalogCache;
}

/** A tuner's class name from any of its names ("random", "random_search", "RandomSearch"). */
export function tunerKind(name) {
  return guard(() => wasm.tunerKind(String(name)));
}

/** A loss by any of its names: `{name, targets}` (targets: "one_hot", "class_ids", "binary" or "values"). */
export function lossInfo(name) {
  return JSON.parse(guard(() => wasm.lossInfo(String(name))));
}

/** Class ids (one column) to one-hot rows. */
export function oneHot(y, numClasses) {
  return fromEngine(guard(() => wasm.oneHot(toEngine(y, "y"), numClasses)));
}

/** Opens WebGPU for `device: "webgpu" | "auto"`; resolves to the adapter's label. */
export async function initGpu() {
  return guardAsync(() => wasm.initGpu());
}

/** How many GPU buffers the engine holds now in this realm (page or worker); 0 on the CPU path. */
export function gpuBufferCount() {
  return guard(() => wasm.gpuBufferCount());
}

export function version() {
  return guard(() => wasm.version());
}

/** Testing aid: the open WebGPU device reports itself lost at its next check (as when a driver resets); returns whether one was open. */
export function _testGpuLoss() {
  return guard(() => wasm.__simulateGpuLoss());
}

/** Testing aid: makes the engine panic, to check that it surfaces as an Error (the engine is unusable afterwards). */
export function _testPanic() {
  return guard(() => wasm.__testPanic());
}

const api = {
  init,
  tensor,
  Tensor,
  layers,
  optimizers,
  regularizers,
  initializers,
  callbacks,
  sequential,
  modelFromJSON,
  specHypermodel,
  Sequential,
  History,
  HyperParameters,
  HyperModel,
  TunerCallbacks,
  Tuner,
  RandomSearch,
  GridSearch,
  Hyperband,
  BayesianOptimization,
  dataset,
  datasets,
  csv,
  features,
  splitIndices,
  catalog,
  tunerKind,
  lossInfo,
  store,
  IndexedDBStore,
  oneHot,
  initGpu,
  gpuBufferCount,
  version,
};

// tunelab's notebook widget: a whole hyperparameter search described as JSON (a config), run
// in the browser and shown as a compact live view (trials table, current epoch, the objective's
// curves, the best so far, results summary; Stop and Start).
//
// The search runs in a Web Worker (widget-worker.js: the engine's tuner through `runSearch`);
// the page's main thread only draws (`searchController` holds a search's status, `searchView`
// draws it). A bundle that inlines the engine (the Python package's) makes the worker from a
// Blob URL: `setWorkerFactory`, or `createRender({worker})`.
//
// - `render({el, config, model})` mounts the view and starts the search; it is anywidget's
//   ESM shape (`export default {render}`), so a Python `anywidget.AnyWidget` can load this file
//   as its `_esm`. With an anywidget `model` the config comes from `model.get("config")` (a JSON
//   string or an object) and progress goes back through `model.set("status", ...)`.
// - embed.html (an iframe for Jupyter, Colab, Observable) reads the config from its URL hash
//   and calls the same code.
//
// A config:
//   {"spec": <model spec with hp objects: docs/model-spec.md, docs/tuning.md>,
//    "dataset": "digits" | "xor" | "circle" | "gauss" | "spiral" | "reg-plane" | "reg-gauss",
//    "noise": 0, "seed": 0,                      // the dataset's
//    "data": {"x": [[...]], "y": [[...]]},       // instead of a dataset: your own small data
//    "oneHot": true | false,                     // default: when the loss is categorical
//    "tuner": "RandomSearch" | "GridSearch" | "Hyperband" | "BayesianOptimization" | "BOHB" | "ASHA",
//    "options": {"maxTrials": 5, "objective": "val_accuracy", "seed": 1, ...},
//    "fit": {"epochs": 3, "validationSplit": 0.2, "batchSize": 32},
//    "device": "cpu" | "webgpu" | "auto",
//    "title": "..."}
// Keys may be camelCase or snake_case (max_trials, validation_split).

import init, * as tl from "./tunelab.js";

// ---------------------------------------------------------------------------------------------
// Configs

/** KerasTuner's getting-started search (examples/guide_search.json) on the built-in digits. */
export const GUIDE_SPEC = {
  layers: [
    { class_name: "Flatten", config: {} },
    {
      repeat: { hp: "Int", name: "num_layers", min_value: 1, max_value: 3 },
      layers: [
        {
          class_name: "Dense",
          config: {
            units: { hp: "Int", name: "units_{i}", min_value: 32, max_value: 512, step: 32 },
            activation: { hp: "Choice", name: "activation", values: ["relu", "tanh"] },
          },
        },
      ],
    },
    { when: { hp: "Boolean", name: "dropout" }, layers: [{ class_name: "Dropout", config: { rate: 0.25 } }] },
    { class_name: "Dense", config: { units: 10, activation: "softmax" } },
  ],
  compile: {
    optimizer: {
      class_name: "adam",
      config: { learning_rate: { hp: "Float", name: "lr", min_value: 1e-4, max_value: 1e-2, sampling: "log" } },
    },
    loss: "categorical_crossentropy",
    metrics: ["accuracy"],
  },
};

export const DEFAULT_CONFIG = {
  title: "KerasTuner's getting-started search on the 8x8 digits",
  spec: GUIDE_SPEC,
  dataset: "digits",
  tuner: "RandomSearch",
  options: { maxTrials: 5, objective: "val_accuracy", seed: 1 },
  fit: { epochs: 3, validationSplit: 0.2 },
};

const CONFIG_KEYS = ["spec", "dataset", "noise", "seed", "data", "oneHot", "tuner", "options", "fit", "device", "title"];
function camel(k) {
  return k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function camelKeys(o) {
  return Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [camel(k), v]));
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function base64urlDecode(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/").replace(/\s+/g, "");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** The config as base64url (UTF-8 JSON, no padding): `embed.html#` + this. */
export function encodeConfig(config) {
  const bytes = new TextEncoder().encode(JSON.stringify(config));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Reads a config from a URL hash (or any string): base64url JSON, URI-encoded JSON or plain
 * JSON, with an optional leading `#` and `config=`. An empty string gives `null`.
 */
export function decodeConfig(text) {
  let s = String(text ?? "").trim().replace(/^#/, "").replace(/^config=/, "");
  if (!s) return null;
  const attempts = [];
  if (/^[A-Za-z0-9_\-+/=\s]+$/.test(s)) attempts.push(["base64url", () => base64urlDecode(s)]);
  attempts.push(["URI-encoded", () => decodeURIComponent(s)], ["plain", () => s]);
  let firstError = null;
  for (const [kind, decode] of attempts) {
    let json;
    try {
      json = decode();
    } catch (e) {
      firstError ??= `${kind}: ${e.message}`;
      continue;
    }
    if (!/^\s*[{[]/.test(json)) continue;
    try {
      return JSON.parse(json);
    } catch (e) {
      firstError = `the ${kind} config is not valid JSON: ${e.message}`;
    }
  }
  throw new Error(`config: ${firstError ?? "expected JSON, URI-encoded JSON or base64url JSON"}`);
}

/** Checks a config and fills in the defaults; a string is decoded first. */
export function normalizeConfig(config) {
  if (typeof config === "string") config = decodeConfig(config);
  if (config === null || config === undefined) config = DEFAULT_CONFIG;
  if (!isObject(config)) throw new TypeError(`config must be an object, got ${JSON.stringify(config)}`);
  config = camelKeys(config);
  for (const k of Object.keys(config)) {
    if (!CONFIG_KEYS.includes(k)) throw new Error(`unknown config key \`${k}\` (allowed: ${CONFIG_KEYS.join(", ")})`);
  }
  // The engine's names (`tunelab catalog`): "random", "random_search", "RandomSearch", ...
  let tunerName;
  try {
    tunerName = tl.tunerKind(config.tuner ?? "RandomSearch");
  } catch {
    const names = tl.catalog().tuners.flatMap((t) => [t.name, t.class]);
    throw new Error(`unknown config.tuner \`${config.tuner}\` (allowed: ${names.join(", ")})`);
  }
  for (const k of ["options", "fit"]) {
    if (config[k] !== undefined && !isObject(config[k])) throw new TypeError(`config.${k} must be an object, got ${JSON.stringify(config[k])}`);
  }
  const spec = config.spec ?? GUIDE_SPEC;
  if (!isObject(spec)) throw new TypeError(`config.spec must be a model spec object, got ${JSON.stringify(spec)}`);
  return {
    title: config.title,
    spec,
    dataset: config.data ? undefined : config.dataset ?? "digits",
    noise: config.noise ?? 0,
    seed: config.seed ?? 0,
    data: config.data,
    oneHot: config.oneHot,
    tuner: tunerName,
    options: camelKeys(config.options),
    fit: camelKeys(config.fit ?? { epochs: 3, validationSplit: 0.2 }),
    device: config.device ?? "cpu",
  };
}

// ---------------------------------------------------------------------------------------------
// Model specs with hyperparameters (docs/tuning.md) -> hypermodels

/**
 * A hypermodel (hp => tl.Sequential) for a model spec with hp objects, `repeat` and `when`
 * blocks, resolved by the engine exactly as `tunelab tune SPEC.json` does
 * (tl.specHypermodel); `shouldStop()` makes the next build throw, which ends the search.
 */
export function specHypermodel(spec, { shouldStop } = {}) {
  const build = tl.specHypermodel(spec);
  return (hp) => {
    if (shouldStop?.()) throw new Error("the search was stopped");
    return build(hp);
  };
}

// ---------------------------------------------------------------------------------------------
// Data and the search

function lossTargets(spec) {
  const loss = spec?.compile?.loss;
  const name = typeof loss === "string" ? loss : isObject(loss) ? loss.class_name : undefined;
  if (typeof name !== "string") return null;
  try {
    return tl.lossInfo(name).targets;
  } catch {
    return null; // an unknown loss: compiling the spec reports it with the allowed names
  }
}

/** The config's data as `{x, y}` tensors (one-hot labels when the loss is categorical). */
export function loadData(cfg) {
  let x, y;
  if (cfg.data) {
    if (!isObject(cfg.data) || cfg.data.x === undefined || cfg.data.y === undefined) throw new Error("config.data must be {x, y} (nested arrays or {data, shape})");
    const t = (v, what) => (Array.isArray(v) ? tl.tensor(v) : isObject(v) && "data" in v ? tl.tensor(Float32Array.from(v.data), v.shape) : (() => { throw new Error(`config.data.${what} must be nested arrays or {data, shape}`); })());
    x = t(cfg.data.x, "x");
    y = t(cfg.data.y, "y");
    if (y.rank === 1) y = tl.tensor(y.data, [y.shape[0], 1]);
  } else {
    ({ x, y } = tl.dataset(cfg.dataset, { noise: cfg.noise, seed: cfg.seed }));
  }
  // one-hot for a loss whose targets are rows of class probabilities (the engine says which)
  const oneHot = cfg.oneHot ?? (lossTargets(cfg.spec) === "one_hot" && y.shape[1] === 1);
  if (oneHot) {
    let max = 0;
    for (const v of y.data) max = Math.max(max, v);
    y = tl.oneHot(y, max + 1);
  }
  return { x, y };
}

/**
 * Runs the config's search. `on` may hold onStart({tuner, cfg, samples, device}),
 * onTrialBegin(trial), onTrialEnd(trial), onEpochEnd(trialId, epoch, logs); `shouldStop()`
 * stops it between trials. Resolves to `{tuner, trials, summary, best}`.
 */
export async function runSearch(config, on = {}) {
  await init();
  const cfg = normalizeConfig(config);
  let device = cfg.device;
  let deviceNote = null;
  if (device !== "cpu") {
    try {
      deviceNote = await tl.initGpu();
    } catch (e) {
      deviceNote = `WebGPU unavailable (${e.message}); training on the CPU`;
      device = "cpu";
    }
  }
  const { x, y } = loadData(cfg);
  const TunerClass = tl[cfg.tuner];
  const options = { objective: cfg.fit.validationSplit || cfg.fit.validationData ? "val_loss" : "loss", storage: "memory", overwrite: true, ...cfg.options };
  if (["Hyperband", "BOHB", "ASHA"].includes(cfg.tuner)) options.maxEpochs ??= cfg.fit.epochs ?? 3;
  if (device !== "cpu") options.device ??= device;
  const tuner = new TunerClass({ ...options, hypermodel: specHypermodel(cfg.spec, { shouldStop: on.shouldStop }) });
  on.onStart?.({ tuner, cfg, options, samples: x.shape[0], inputShape: x.shape.slice(1), device, deviceNote });
  const { callbacks: _ignored, ...fit } = cfg.fit;
  await tuner.search(x, y, {
    ...fit,
    callbacks: {
      onTrialBegin: (t) => on.onTrialBegin?.(t),
      onTrialEnd: (t) => on.onTrialEnd?.(t),
      onEpochEnd: (id, e, logs) => on.onEpochEnd?.(id, e, logs),
    },
  });
  const trials = tuner.trialsJSON();
  return { tuner, trials: trials.trials, best: trials.best_hyperparameters, summary: tuner.resultsSummary() };
}

// ---------------------------------------------------------------------------------------------
// The view

const CSS = `
.tlw { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px; max-width: 100%; overflow-x: auto; box-sizing: border-box; }
.tlw * { box-sizing: border-box; }
.tlw-head { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline; margin-bottom: 6px; }
.tlw-title { font-weight: 600; }
.tlw-meta { color: #59636e; font-size: 12px; }
.tlw-state { font-size: 12px; padding: 1px 7px; border-radius: 10px; background: #ddf4ff; color: #0969da; }
.tlw-state[data-state=done] { background: #dafbe1; color: #1a7f37; }
.tlw-state[data-state=error], .tlw-state[data-state=stopped] { background: #ffebe9; color: #cf222e; }
.tlw-bar { height: 4px; background: #eaeef2; border-radius: 2px; margin: 4px 0 6px; overflow: hidden; }
.tlw-bar > div { height: 100%; width: 0; background: #0969da; transition: width .2s; }
.tlw-live { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; color: #59636e; min-height: 1.4em; white-space: pre-wrap; }
.tlw table { border-collapse: collapse; margin: 6px 0; font-size: 12px; font-variant-numeric: tabular-nums; }
.tlw th, .tlw td { border-bottom: 1px solid #eaeef2; padding: 2px 8px; text-align: right; white-space: nowrap; }
.tlw th { color: #59636e; font-weight: 600; }
.tlw th:first-child, .tlw td:first-child { text-align: left; }
.tlw tr.tlw-best td { background: #dafbe1; font-weight: 600; }
.tlw tr[data-status=RUNNING] td { color: #0969da; }
.tlw tr[data-status=FAILED] td, .tlw tr[data-status=INVALID] td { color: #cf222e; }
.tlw-error { color: #cf222e; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; margin: 6px 0; }
.tlw details { margin-top: 6px; }
.tlw summary { cursor: pointer; color: #59636e; font-size: 12px; }
.tlw pre { font-size: 11px; background: #f6f8fa; padding: 8px; border-radius: 4px; overflow: auto; max-height: 240px; margin: 4px 0 0; }
.tlw-body { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: flex-start; }
.tlw-plot { flex: 0 1 360px; min-width: 240px; margin: 6px 0; }
.tlw-curves { width: 100%; height: auto; display: block; }
.tlw-axis { stroke: #d0d7de; stroke-width: 1; }
.tlw-tick { font-size: 9px; fill: #59636e; }
.tlw-curve { fill: none; stroke: #8c959f; stroke-width: 1; opacity: .7; }
.tlw-curve-running { stroke: #0969da; opacity: 1; }
.tlw-curve-best { stroke: #1a7f37; stroke-width: 2.2; opacity: 1; }
.tlw-dot { fill: #8c959f; } .tlw-dot-running { fill: #0969da; } .tlw-dot-best { fill: #1a7f37; }
.tlw-best-line { font-size: 12px; color: #1a7f37; margin: 2px 0; }
.tlw button { font: inherit; font-size: 12px; padding: 1px 8px; border: 1px solid #d0d7de; border-radius: 4px; background: #f6f8fa; cursor: pointer; }
`;

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function fmt(v) {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
  }
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v === null || v === undefined) return "";
  return String(v);
}

// ---------------------------------------------------------------------------------------------
// The search in a Web Worker (widget-worker.js): the page's main thread only draws

let defaultWorkerFactory = null;

/**
 * Sets how `mount` and `render` make their search worker: `() => Worker` (a bundle that
 * inlines the engine makes it from a Blob URL). The default is widget-worker.js beside this file.
 */
export function setWorkerFactory(factory) {
  if (factory !== null && typeof factory !== "function") throw new TypeError("setWorkerFactory: expected a function () => Worker, or null");
  defaultWorkerFactory = factory;
}

function newWorker(factory) {
  const make = factory ?? defaultWorkerFactory;
  if (make) return make();
  if (typeof Worker === "undefined") throw new Error("this page has no Web Workers: the widget runs its search in one");
  return new Worker(viteDepsWorkerUrl() ?? new URL("./widget-worker.js", import.meta.url), { type: "module" });
}

// Vite's dev server pre-bundles this module into <root>/node_modules/.vite/deps/, where no
// widget-worker.js is (the server answers index.html, as for tunelab.js's .wasm): the worker is
// then taken from where npm installed the package, <root>/node_modules/tunelab/. Elsewhere
// (vite build, other bundlers, a plain page) the worker beside this module is used.
function viteDepsWorkerUrl() {
  const here = String(import.meta.url).replace(/[?#].*$/, "");
  const at = here.lastIndexOf("/node_modules/.vite/");
  if (at < 0 || !/^https?:/.test(here)) return undefined;
  return new URL(`${here.slice(0, at)}/node_modules/tunelab/widget-worker.js`);
}

// The typed arrays of config.data (`{data: Float32Array, shape}`), transferred to the worker.
function dataBuffers(config) {
  const out = [];
  const data = isObject(config) ? config.data : null;
  for (const v of isObject(data) ? [data.x, data.y] : []) {
    if (isObject(v) && ArrayBuffer.isView(v.data) && !out.includes(v.data.buffer)) out.push(v.data.buffer);
  }
  return out;
}

/**
 * Runs `config`'s search in a Web Worker with runSearch's handlers (onStart, onTrialBegin,
 * onEpochEnd, onTrialEnd; onStart's info has no tuner: it lives in the worker). Returns
 * `{done, stop, terminate}`: `done` resolves to `{trials, best, summary, summaryAll, bestModel}`,
 * `stop()` ends the search after the running trial, `terminate()` ends the worker now.
 */
export function runSearchInWorker(config, on = {}, { worker: factory } = {}) {
  let settle = null;
  const done = new Promise((ok, fail) => (settle = { ok, fail }));
  let worker;
  try {
    worker = newWorker(factory);
  } catch (e) {
    settle.fail(e);
    return { done, stop() {}, terminate() {} };
  }
  const finish = (how, value) => {
    if (!settle) return;
    const s = settle;
    settle = null;
    worker.terminate();
    s[how](value);
  };
  worker.onmessage = (e) => {
    const m = e.data ?? {};
    try {
      if (m.type === "start") on.onStart?.(m.info);
      else if (m.type === "trialBegin") on.onTrialBegin?.(m.trial);
      else if (m.type === "epoch") on.onEpochEnd?.(m.trialId, m.epoch, m.logs);
      else if (m.type === "trialEnd") on.onTrialEnd?.(m.trial);
      else if (m.type === "done") finish("ok", m.result);
      else if (m.type === "error") finish("fail", new Error(m.message));
    } catch (err) {
      console.warn("tunelab widget: a search handler failed", err);
    }
  };
  worker.onerror = (e) => {
    e.preventDefault?.();
    finish("fail", new Error(`the search worker failed: ${e.message || "it did not start (does the page allow workers?)"}`));
  };
  worker.onmessageerror = () => finish("fail", new Error("the search worker sent a message that could not be read"));
  try {
    worker.postMessage({ type: "run", config }, dataBuffers(config));
  } catch (e) {
    finish("fail", new Error(`config could not be sent to the search worker: ${e.message}`));
  }
  return {
    done,
    stop: () => settle && worker.postMessage({ type: "stop" }),
    terminate: () => finish("fail", new Error("the search was stopped")),
  };
}

// ---------------------------------------------------------------------------------------------
// The search's state (one per search; any number of views draw it)

const FINAL_STATES = ["done", "stopped", "error"];

const valueKey = (v) => JSON.stringify(Object.entries(v ?? {}).filter(([k]) => k !== "tuner/trial_id").sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * A search of `config` and its status (what onStatus and an anywidget model's `status`
 * receive). `start()` runs it in a worker (again after it ended), `stop()` ends it after the
 * running trial, `restore(status)` shows a status saved before (nothing runs), `destroy()` ends
 * the worker. `subscribe(fn)` calls fn(status) at each event; it returns the unsubscribe.
 * `finalize(status)` may add to the final status (the Python package adds its Keras code).
 */
export function searchController(config, { worker, finalize } = {}) {
  const listeners = new Set(); // status events (onStatus, the anywidget model)
  const drawers = new Set(); // views: every change, a stop click and the loading state too
  const self = { status: null, rows: new Map(), columns: [], meta: "", cfgText: "", maxTrials: null, stopping: false, running: false, config };
  let job = null;
  let t0 = 0;
  let run = 0;

  const reset = () => {
    self.status = { state: "loading", title: null, tuner: null, dataset: null, objective: null, trials: [], current: null, best: null, summary: null, summaryAll: null, bestModel: null, error: null, device: null, seconds: 0 };
    self.rows = new Map();
    self.columns = [];
    self.meta = "";
    self.cfgText = "";
    self.maxTrials = null;
    self.stopping = false;
  };
  reset();

  const emit = () => {
    if (self.running) self.status.seconds = Math.round((performance.now() - t0) / 100) / 10;
    for (const f of listeners) {
      try {
        f(self.status);
      } catch (e) {
        console.warn("tunelab widget: a status listener failed", e);
      }
    }
    draw();
  };
  const draw = () => {
    for (const f of drawers) f(self);
  };

  const visibleKeys = (values) => Object.keys(values).filter((k) => !k.startsWith("tuner/") || k === "tuner/epochs");
  const addColumns = (values) => {
    for (const k of visibleKeys(values)) if (!self.columns.includes(k)) self.columns.push(k);
  };
  const objectiveCurve = (trial) => {
    const c = Array.isArray(trial.curves) ? trial.curves[0] : null;
    const v = c && self.status.objective ? c[self.status.objective] : null;
    if (!Array.isArray(v)) return null;
    const first = trial.hyperparameters?.values?.["tuner/initial_epoch"] ?? 0;
    return v.map((y, i) => [first + i, y]);
  };
  const bestOf = () => {
    const scored = self.status.trials.filter((t) => typeof t.score === "number");
    if (!scored.length || !self.status.objective) return;
    const max = self.status.direction === "max";
    const b = scored.reduce((a, t) => ((max ? t.score > a.score : t.score < a.score) ? t : a));
    self.status.best = { trialId: b.trialId, score: b.score, values: b.values };
  };
  const upsert = (trial) => {
    const values = trial.hyperparameters?.values ?? {};
    addColumns(values);
    const old = self.rows.get(trial.trialId);
    const row = {
      trialId: trial.trialId,
      values,
      score: trial.score ?? null,
      status: trial.status,
      bestStep: typeof trial.bestStep === "number" ? trial.bestStep : null,
      message: trial.message ?? null,
      device: trial.device ?? null,
      curve: objectiveCurve(trial) ?? old?.curve ?? [],
    };
    self.rows.set(trial.trialId, row);
    const i = self.status.trials.findIndex((t) => t.trialId === row.trialId);
    if (i >= 0) self.status.trials[i] = row;
    else self.status.trials.push(row);
    bestOf();
  };

  const handlers = (mine) => ({
    onStart: ({ cfg, options, samples, inputShape, device, deviceNote }) => {
      if (mine !== run) return;
      const s = self.status;
      const objective = options.objective;
      const objName = typeof objective === "string" ? objective : objective?.name ?? "objective";
      const explicit = isObject(objective) ? objective.direction : null;
      s.direction = explicit ?? (/acc|auc|precision|recall|r2_score|true_/.test(objName) ? "max" : "min");
      s.epochs = cfg.fit.epochs ?? 1;
      s.title = cfg.title ?? null;
      s.tuner = cfg.tuner;
      s.dataset = cfg.dataset ?? "data";
      s.objective = objName;
      s.device = device;
      s.state = "running";
      self.maxTrials = typeof options.maxTrials === "number" ? options.maxTrials : null;
      s.maxTrials = self.maxTrials;
      self.meta = `${cfg.tuner} · ${s.dataset} (${samples} × [${inputShape}]) · objective ${objName} (${s.direction})${self.maxTrials ? ` · ${self.maxTrials} trials` : ""} · ${device}${deviceNote ? ` (${deviceNote})` : ""}`;
      s.meta = self.meta;
      self.cfgText = JSON.stringify(cfg, null, 1);
      emit();
    },
    onTrialBegin: (t) => {
      if (mine !== run) return;
      upsert({ ...t, status: "RUNNING", score: null, curves: null });
      self.status.current = { trialId: t.trialId, epoch: null, logs: null };
      emit();
    },
    onEpochEnd: (id, epoch, logs) => {
      if (mine !== run) return;
      const cur = self.status.current ?? { trialId: id };
      self.status.current = { trialId: id ?? cur.trialId, epoch, logs };
      const row = self.rows.get(self.status.current.trialId);
      const y = logs?.[self.status.objective];
      if (row && typeof y === "number") row.curve.push([epoch, y]);
      emit();
    },
    onTrialEnd: (t) => {
      if (mine !== run) return;
      upsert(t);
      emit();
    },
  });

  const finished = (mine, r) => {
    if (mine !== run) return;
    const s = self.status;
    const byId = new Map(r.trials.map((t) => [t.trial_id, t]));
    for (const row of self.rows.values()) {
      const t = byId.get(row.trialId);
      if (!t) continue;
      row.values = t.hyperparameters; // active values only
      row.score = t.score;
      row.status = t.status;
      row.bestStep = t.best_step ?? row.bestStep;
    }
    // the engine's best trial (its direction, not the heuristic used while running)
    const bestRow = r.best ? [...self.rows.values()].find((row) => typeof row.score === "number" && valueKey(row.values) === valueKey(r.best)) : null;
    if (bestRow) s.best = { trialId: bestRow.trialId, score: bestRow.score, values: bestRow.values };
    self.columns.length = 0;
    for (const row of self.rows.values()) addColumns(row.values);
    s.trials = [...self.rows.values()];
    s.summary = r.summary;
    s.summaryAll = r.summaryAll ?? null;
    s.bestModel = r.bestModel ?? null;
    s.state = self.stopping ? "stopped" : "done";
    s.current = null;
    self.running = false;
    if (finalize) {
      try {
        finalize(s);
      } catch (e) {
        console.warn("tunelab widget: finalize failed", e);
      }
    }
    emit();
    return JSON.parse(JSON.stringify(self.status));
  };
  const failed = (mine, e) => {
    if (mine !== run) return;
    const s = self.status;
    s.state = self.stopping ? "stopped" : "error";
    s.error = e && e.message ? e.message : String(e);
    for (const row of self.rows.values()) if (row.status === "RUNNING") row.status = self.stopping ? "STOPPED" : "FAILED";
    s.trials = [...self.rows.values()];
    s.current = null;
    self.running = false;
    emit();
    return JSON.parse(JSON.stringify(self.status));
  };

  return {
    get status() {
      return self.status;
    },
    get view() {
      return self;
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    /** `fn(state)` at every change, for a view to draw (see searchView). */
    watch(fn) {
      drawers.add(fn);
      return () => drawers.delete(fn);
    },
    /** Runs the search (a new one when it has ended); resolves to the final status. */
    start() {
      if (self.running) return job.finished;
      job?.terminate();
      reset();
      const mine = ++run;
      self.running = true;
      t0 = performance.now();
      const j = runSearchInWorker(config, handlers(mine), { worker });
      j.finished = j.done.then(
        (r) => finished(mine, r),
        (e) => failed(mine, e),
      );
      job = j;
      draw();
      return j.finished;
    },
    stop() {
      if (!self.running) return;
      self.stopping = true;
      job?.stop();
      draw();
    },
    /** Shows a status saved before (a reloaded notebook): its trials and results; nothing runs. */
    restore(status) {
      reset();
      Object.assign(self.status, status);
      self.meta = status.meta ?? "";
      self.maxTrials = status.maxTrials ?? null;
      for (const row of status.trials ?? []) {
        self.rows.set(row.trialId, row);
        addColumns(row.values ?? {});
      }
      draw();
    },
    destroy() {
      run++;
      self.running = false;
      job?.terminate();
      listeners.clear();
      drawers.clear();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The view: draws a searchController's state (at most once per animation frame)

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// The objective's curve of every trial (epochs across, the objective up); the best is green.
function drawCurves(svg, st) {
  const rows = [...st.rows.values()].filter((r) => Array.isArray(r.curve) && r.curve.length);
  const W = 360;
  const H = 120;
  const pad = { l: 38, r: 8, t: 8, b: 18 };
  svg.replaceChildren();
  if (!rows.length) return false;
  const pts = rows.flatMap((r) => r.curve).filter(([, y]) => Number.isFinite(y));
  if (!pts.length) return false;
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const Y = (y) => H - pad.b - ((y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.append(
    s("line", { x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b, class: "tlw-axis" }),
    s("line", { x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b, class: "tlw-axis" }),
  );
  const label = (x, y, text, anchor) => {
    const t = s("text", { x, y, "text-anchor": anchor, class: "tlw-tick" });
    t.textContent = text;
    svg.append(t);
  };
  label(pad.l - 4, pad.t + 8, fmt(y1), "end");
  label(pad.l - 4, H - pad.b, fmt(y0), "end");
  label(pad.l, H - 4, `epoch ${x0 + 1}`, "start");
  label(W - pad.r, H - 4, `${x1 + 1}`, "end");
  label(W - pad.r, pad.t + 8, st.status.objective ?? "", "end");
  const best = st.status.best?.trialId;
  for (const r of [...rows].sort((a, b) => (a.trialId === best) - (b.trialId === best))) {
    const finite = r.curve.filter(([, y]) => Number.isFinite(y));
    if (!finite.length) continue;
    const cls = r.trialId === best ? "tlw-curve tlw-curve-best" : r.status === "RUNNING" ? "tlw-curve tlw-curve-running" : "tlw-curve";
    const p = s("polyline", { points: finite.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(" "), class: cls });
    const title = s("title");
    title.textContent = `trial ${r.trialId}`;
    p.append(title);
    svg.append(p);
    // the last epoch as a dot (a trial of one epoch is only that)
    const [lx, ly] = finite.at(-1);
    svg.append(s("circle", { cx: X(lx).toFixed(1), cy: Y(ly).toFixed(1), r: r.trialId === best ? 3 : 2, class: cls.replace(/tlw-curve/g, "tlw-dot") }));
  }
  return true;
}

/**
 * A live view of `controller` (searchController) in `el`: title, state, Stop / Start, progress,
 * the current epoch, the trials table, the objective's curves, the best so far, KerasTuner's
 * summary. Returns `{element, destroy}`.
 */
export function searchView(el, controller) {
  const root = h("div", { class: "tlw", "data-tunelab": "" });
  const titleEl = h("span", { class: "tlw-title" }, "tunelab");
  const stateEl = h("span", { class: "tlw-state", "data-state": "loading" }, "loading");
  const metaEl = h("span", { class: "tlw-meta" });
  const stopBtn = h("button", { type: "button", class: "tlw-stop", title: "Stop after the running trial", onclick: () => controller.stop() }, "stop");
  const startBtn = h("button", { type: "button", class: "tlw-start", title: "Run the search again", hidden: "", onclick: () => controller.start() }, "start");
  const bar = h("div");
  const liveEl = h("div", { class: "tlw-live" }, "loading the engine…");
  const thead = h("tr");
  const tbody = h("tbody");
  const table = h("table", {}, h("thead", {}, thead), tbody);
  const svg = s("svg", { class: "tlw-curves", role: "img", "aria-label": "the objective per epoch of each trial" });
  const curvesEl = h("div", { class: "tlw-plot", hidden: "" }, svg);
  const bestEl = h("div", { class: "tlw-best-line", hidden: "" });
  const errorEl = h("div", { class: "tlw-error", hidden: "" });
  const summaryPre = h("pre", { class: "tlw-summary" });
  const summaryEl = h("details", { hidden: "" }, h("summary", {}, "KerasTuner's results summary"), summaryPre);
  const codePre = h("pre", { class: "tlw-code" });
  const codeEl = h("details", { hidden: "" }, h("summary", {}, "Keras code for the best model"), codePre);
  const configPre = h("pre", {});
  const configEl = h("details", {}, h("summary", {}, "config"), configPre);
  root.append(
    h("style", {}, CSS),
    h("div", { class: "tlw-head" }, titleEl, stateEl, metaEl, stopBtn, startBtn),
    h("div", { class: "tlw-bar" }, bar),
    liveEl,
    h("div", { class: "tlw-body" }, table, curvesEl),
    bestEl,
    errorEl,
    summaryEl,
    codeEl,
    configEl,
  );
  el.replaceChildren(root);

  let lastTable = "";
  const paint = (st) => {
    const status = st.status;
    const state = status.state;
    const final = FINAL_STATES.includes(state);
    stateEl.textContent = state;
    stateEl.dataset.state = state;
    titleEl.textContent = status.title ?? (status.tuner ? `tunelab · ${status.tuner}` : "tunelab");
    metaEl.textContent = st.meta + (final && state !== "error" && status.seconds ? ` · ${state} in ${status.seconds} s` : "");
    stopBtn.hidden = final;
    stopBtn.disabled = st.stopping;
    startBtn.hidden = !final;
    if (configPre.textContent !== st.cfgText) configPre.textContent = st.cfgText;

    // the table, rebuilt when a row or a column changed (not at every epoch)
    const rows = [...st.rows.values()];
    const key = JSON.stringify([st.columns, status.best?.trialId, rows.map((r) => [r.trialId, r.status, r.score, r.values])]);
    if (key !== lastTable) {
      lastTable = key;
      const header = ["trial", ...st.columns.map((c) => (c === "tuner/epochs" ? "epochs" : c)), "score", "status"];
      thead.replaceChildren(...header.map((c) => h("th", {}, c)));
      const best = status.best?.trialId;
      tbody.replaceChildren(
        ...rows.map((t) =>
          h(
            "tr",
            { "data-trial": t.trialId, "data-status": t.status, class: t.trialId === best ? "tlw-best" : "", title: t.message ?? "" },
            h("td", {}, t.trialId),
            ...st.columns.map((c) => h("td", {}, fmt(t.values?.[c]))),
            h("td", {}, fmt(t.score)),
            h("td", {}, t.status),
          ),
        ),
      );
    }
    const done = rows.filter((t) => typeof t.score === "number" && t.status !== "RUNNING").length;
    const total = st.maxTrials ?? rows.length;
    bar.style.width = final ? "100%" : total ? `${Math.min(100, (100 * done) / total)}%` : "0";
    curvesEl.hidden = !drawCurves(svg, st);

    // the live line: the running epoch, or the end
    const best = status.best;
    const bestText = best ? `best: trial ${best.trialId} · ${status.objective} ${fmt(best.score)} · ${Object.entries(best.values ?? {}).filter(([k]) => !k.startsWith("tuner/")).map(([k, v]) => `${k}=${fmt(v)}`).join(" ")}` : null;
    if (state === "loading") liveEl.textContent = "loading the engine…";
    else if (final) liveEl.textContent = state === "error" ? "" : bestText ?? "no trial completed";
    else if (st.stopping) liveEl.textContent = "stopping after the running trial…";
    else if (status.current) {
      const { trialId, epoch, logs } = status.current;
      const row = st.rows.get(trialId);
      if (epoch === null) liveEl.textContent = `trial ${trialId} · building…`;
      else {
        const total = row?.values?.["tuner/epochs"] ?? status.epochs;
        const parts = Object.entries(logs ?? {}).map(([k, v]) => `${k} ${fmt(v)}`);
        liveEl.textContent = `trial ${trialId} · epoch ${epoch + 1}${total ? `/${total}` : ""} · ${parts.join(" · ")}`;
      }
      if (row?.status && row.status !== "RUNNING" && row.status !== "COMPLETED" && row.message) liveEl.textContent = `trial ${trialId} ${row.status}: ${row.message}`;
    } else liveEl.textContent = "starting…";
    bestEl.hidden = final || !bestText;
    bestEl.textContent = bestText ? `best so far: ${bestText.slice(6)}` : "";

    errorEl.hidden = !(state === "error" || (state === "stopped" && status.error));
    errorEl.textContent = state === "stopped" ? "stopped" : status.error ?? "";
    summaryEl.hidden = !status.summary;
    if (summaryPre.textContent !== (status.summary ?? "")) {
      summaryPre.textContent = status.summary ?? "";
      summaryEl.open = !!status.summary;
    }
    codeEl.hidden = !status.kerasCode;
    if (codePre.textContent !== (status.kerasCode ?? "")) codePre.textContent = status.kerasCode ?? "";
  };

  // one paint per animation frame (a fast search posts many epochs a frame); at once when the
  // search ends, so that the page shows the end when its status says so
  let frame = null;
  const raf = typeof requestAnimationFrame === "function" ? requestAnimationFrame : (f) => setTimeout(f, 16);
  const caf = typeof cancelAnimationFrame === "function" ? cancelAnimationFrame : clearTimeout;
  const schedule = (st) => {
    if (FINAL_STATES.includes(st.status.state)) {
      if (frame !== null) caf(frame);
      frame = null;
      paint(st);
      return;
    }
    if (frame === null) {
      frame = raf(() => {
        frame = null;
        paint(controller.view);
      });
    }
  };
  const unwatch = controller.watch(schedule);
  paint(controller.view);
  return {
    element: root,
    destroy() {
      unwatch();
      if (frame !== null) caf(frame);
      frame = null;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// mount (embed.html, by hand) and render (anywidget)

/**
 * Mounts the live view of `config`'s search into `el` and starts it in a Web Worker. Returns
 * `{stop, done, element, controller}`: `stop()` stops the search (after the running trial) and
 * clears `el`; `done` resolves to the final status. `onStatus(status)` sees every update;
 * `worker` (`() => Worker`) replaces the default worker (see setWorkerFactory).
 */
export function mount(el, config, { onStatus, worker, finalize } = {}) {
  const controller = searchController(config, { worker, finalize });
  if (onStatus) {
    controller.subscribe((s) => {
      try {
        onStatus(JSON.parse(JSON.stringify(s)));
      } catch (e) {
        console.warn("tunelab widget: onStatus failed", e);
      }
    });
  }
  const view = searchView(el, controller);
  const done = controller.start();
  return {
    stop: () => {
      controller.stop();
      view.destroy();
      el.replaceChildren();
    },
    done,
    element: view.element,
    controller,
  };
}

function product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

// config.data.x / .y as {shape, buffer: "<trait name>"}: the model's binary trait (a DataView
// of little-endian float32, as the Python package sends numpy arrays) becomes {data, shape}.
function readBuffer(model, ref, what) {
  if (!isObject(ref) || typeof ref.buffer !== "string") return ref;
  const v = model.get(ref.buffer);
  const view = v instanceof DataView || ArrayBuffer.isView(v) ? v : v instanceof ArrayBuffer ? new DataView(v) : null;
  if (!view) throw new Error(`config.data.${what}: the model has no binary trait \`${ref.buffer}\``);
  if (!Array.isArray(ref.shape) || !ref.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`config.data.${what}.shape must be a list of sizes, got ${JSON.stringify(ref.shape)}`);
  const n = product(ref.shape);
  if (view.byteLength !== 4 * n) throw new Error(`config.data.${what}: ${view.byteLength} bytes for shape [${ref.shape}] (float32 needs ${4 * n})`);
  const data = new Float32Array(n); // a copy: aligned, and ours to transfer to the worker
  new Uint8Array(data.buffer).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return { data, shape: ref.shape };
}

function readConfig(model) {
  const c = model.get("config");
  let cfg;
  if (typeof c === "string") cfg = c.trim() ? decodeConfig(c) : null;
  else cfg = c && Object.keys(c).length ? c : null;
  if (isObject(cfg) && isObject(cfg.data)) cfg = { ...cfg, data: { x: readBuffer(model, cfg.data.x, "x"), y: readBuffer(model, cfg.data.y, "y") } };
  return cfg;
}

function parseStatus(v) {
  if (typeof v === "string") {
    try {
      return v ? JSON.parse(v) : null;
    } catch {
      return null;
    }
  }
  return isObject(v) && Object.keys(v).length ? v : null;
}

// A Unicode traitlet gets JSON text, a Dict traitlet an object.
function wrapStatus(model, s, trait = "status") {
  return typeof model.get(trait) === "string" ? JSON.stringify(s) : s;
}

// The model's status, sent when the state or a trial changes and otherwise (the running epoch)
// at most once a second: each send is a JSON message to the kernel, which ipywidgets echoes back
// to the page, so the curves stay in the page (Python's trials have none).
function statusSync(model, trait) {
  let timer = null;
  let last = 0;
  let lastKey = "";
  let pending = null;
  const flush = () => {
    clearTimeout(timer);
    timer = null;
    if (!pending) return;
    last = performance.now();
    model.set(trait, wrapStatus(model, pending, trait));
    model.save_changes();
    pending = null;
  };
  return (s) => {
    pending = JSON.parse(JSON.stringify({ ...s, trials: s.trials.map(({ curve: _curve, ...t }) => t) }));
    const key = JSON.stringify([s.state, s.trials.map((t) => [t.trialId, t.status])]);
    if (key !== lastKey || performance.now() - last >= 1000) {
      lastKey = key;
      flush();
    } else if (!timer) timer = setTimeout(flush, 1000 - (performance.now() - last));
  };
}

const searches = new WeakMap(); // anywidget model -> {controller, key}

/**
 * anywidget's render, with `options`: `worker` (`() => Worker`), `finalize(status)` (see
 * searchController) and `statusTrait` (the model's trait that receives the status; "status").
 * One search per model, however many views show it: a view's cleanup leaves the search running
 * for Python; a new `config` starts a new one; a model whose status has
 * already ended (a reloaded notebook) is shown as it ended, with Start to run it again.
 */
export function createRender(options = {}) {
  const trait = options.statusTrait ?? "status";
  return function render({ el, config, model } = {}) {
    const anywidget = model && typeof model.get === "function";
    if (!anywidget) {
      const v = mount(el, config, options);
      return () => v.stop();
    }
    let view = null;
    const attach = () => {
      view?.destroy();
      view = null;
      const key = JSON.stringify(model.get("config") ?? "");
      let entry = searches.get(model);
      const replacing = !!entry; // a new config: a new search, never the old one's status
      if (!entry || entry.key !== key) {
        entry?.controller.destroy();
        searches.delete(model);
        let cfg;
        try {
          cfg = readConfig(model);
        } catch (e) {
          el.replaceChildren(h("div", { class: "tlw" }, h("style", {}, CSS), h("div", { class: "tlw-error" }, e.message)));
          model.set(trait, wrapStatus(model, { state: "error", error: e.message, trials: [] }, trait));
          model.save_changes();
          return;
        }
        const controller = searchController(cfg, options);
        controller.subscribe(statusSync(model, trait));
        entry = { controller, key };
        searches.set(model, entry);
        const saved = parseStatus(model.get(trait));
        if (!replacing && saved && FINAL_STATES.includes(saved.state)) controller.restore(saved);
        else if (model.get("autostart") !== false) controller.start();
      }
      view = searchView(el, entry.controller);
    };
    attach();
    if (typeof model.on === "function") model.on("change:config", attach);
    return () => {
      if (typeof model.off === "function") model.off("change:config", attach);
      view?.destroy();
      el.replaceChildren();
    };
  };
}

/**
 * anywidget's entry point (also usable by hand): mounts the view into `el` and starts the
 * search of `model.get("config")` (anywidget) or `config`. Returns the cleanup function.
 */
export const render = createRender();

export default { render };

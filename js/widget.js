// tunelab's notebook widget: a whole hyperparameter search described as JSON (a config), run
// in the page and shown as a compact live view (trials table, current epoch, results summary).
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
//    "tuner": "RandomSearch" | "GridSearch" | "Hyperband" | "BayesianOptimization",
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
  if (cfg.tuner === "Hyperband") options.maxEpochs ??= cfg.fit.epochs ?? 3;
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

/**
 * Mounts the live view of `config`'s search into `el` and starts it. Returns
 * `{stop, done}`: `stop()` stops the search (after the running trial) and clears `el`; `done`
 * resolves to the final status. `onStatus(status)` sees every update.
 */
export function mount(el, config, { onStatus } = {}) {
  let stopped = false;
  const rows = new Map(); // trialId -> trial
  const columns = [];
  const status = { state: "loading", title: null, tuner: null, dataset: null, objective: null, trials: [], current: null, best: null, summary: null, error: null, device: null, seconds: 0 };
  const t0 = performance.now();

  const root = h("div", { class: "tlw", "data-tunelab": "" });
  const titleEl = h("span", { class: "tlw-title" }, "tunelab");
  const stateEl = h("span", { class: "tlw-state", "data-state": "loading" }, "loading");
  const metaEl = h("span", { class: "tlw-meta" });
  const stopBtn = h("button", { type: "button", title: "Stop after the running trial", onclick: () => stop(false) }, "stop");
  const bar = h("div");
  const liveEl = h("div", { class: "tlw-live" }, "loading the engine…");
  const thead = h("tr");
  const tbody = h("tbody");
  const table = h("table", {}, h("thead", {}, thead), tbody);
  const errorEl = h("div", { class: "tlw-error", hidden: "" });
  const summaryPre = h("pre", { class: "tlw-summary" });
  const summaryEl = h("details", { hidden: "" }, h("summary", {}, "KerasTuner's results summary"), summaryPre);
  const configEl = h("details", {}, h("summary", {}, "config"), h("pre", {}));
  root.append(
    h("style", {}, CSS),
    h("div", { class: "tlw-head" }, titleEl, stateEl, metaEl, stopBtn),
    h("div", { class: "tlw-bar" }, bar),
    liveEl,
    table,
    errorEl,
    summaryEl,
    configEl,
  );
  el.replaceChildren(root);

  let maxTrials = null;
  const emit = () => {
    status.seconds = Math.round((performance.now() - t0) / 100) / 10;
    stateEl.textContent = status.state;
    stateEl.dataset.state = status.state;
    try {
      onStatus?.(JSON.parse(JSON.stringify(status)));
    } catch (e) {
      console.warn("tunelab widget: onStatus failed", e);
    }
  };

  const visibleKeys = (values) => Object.keys(values).filter((k) => !k.startsWith("tuner/") || k === "tuner/epochs");

  const renderTable = () => {
    const header = ["trial", ...columns.map((c) => (c === "tuner/epochs" ? "epochs" : c)), "score", "status"];
    thead.replaceChildren(...header.map((c) => h("th", {}, c)));
    const list = [...rows.values()];
    const done = list.filter((t) => typeof t.score === "number");
    const best = status.best?.trialId;
    tbody.replaceChildren(
      ...list.map((t) =>
        h(
          "tr",
          { "data-trial": t.trialId, "data-status": t.status, class: t.trialId === best ? "tlw-best" : "", title: t.message ?? "" },
          h("td", {}, t.trialId),
          ...columns.map((c) => h("td", {}, fmt(t.values[c]))),
          h("td", {}, fmt(t.score)),
          h("td", {}, t.status),
        ),
      ),
    );
    const total = maxTrials ?? list.length;
    bar.style.width = total ? `${Math.min(100, (100 * done.length) / total)}%` : "0";
  };

  const upsert = (trial) => {
    const values = trial.hyperparameters?.values ?? {};
    for (const k of visibleKeys(values)) if (!columns.includes(k)) columns.push(k);
    const row = { trialId: trial.trialId, values, score: trial.score ?? null, status: trial.status, message: trial.message ?? null, device: trial.device ?? null };
    rows.set(trial.trialId, row);
    const i = status.trials.findIndex((t) => t.trialId === row.trialId);
    if (i >= 0) status.trials[i] = row;
    else status.trials.push(row);
    const scored = status.trials.filter((t) => typeof t.score === "number");
    if (scored.length && status.objective) {
      const max = status.direction === "max";
      const b = scored.reduce((a, t) => ((max ? t.score > a.score : t.score < a.score) ? t : a));
      status.best = { trialId: b.trialId, score: b.score, values: b.values };
    }
    renderTable();
  };

  let activeTuner = null;
  const done = runSearch(config, {
    shouldStop: () => stopped,
    onStart: ({ tuner, cfg, options, samples, inputShape, device, deviceNote }) => {
      activeTuner = tuner;
      if (stopped) tuner.stop();
      const objective = options.objective;
      const objName = typeof objective === "string" ? objective : objective?.name ?? "objective";
      const explicit = isObject(objective) ? objective.direction : null;
      status.direction = explicit ?? (/acc|auc|precision|recall|r2_score|true_/.test(objName) ? "max" : "min");
      status.epochs = cfg.fit.epochs ?? 1;
      status.title = cfg.title ?? null;
      status.tuner = cfg.tuner;
      status.dataset = cfg.dataset ?? "data";
      status.objective = objName;
      status.device = device;
      status.state = "running";
      maxTrials = typeof options.maxTrials === "number" ? options.maxTrials : null;
      titleEl.textContent = cfg.title ?? `tunelab · ${cfg.tuner}`;
      metaEl.textContent = `${cfg.tuner} · ${status.dataset} (${samples} × [${inputShape}]) · objective ${objName} (${status.direction})${maxTrials ? ` · ${maxTrials} trials` : ""} · ${device}${deviceNote ? ` (${deviceNote})` : ""}`;
      configEl.querySelector("pre").textContent = JSON.stringify(cfg, null, 1);
      liveEl.textContent = "starting…";
      emit();
    },
    onTrialBegin: (t) => {
      upsert({ ...t, status: "RUNNING", score: null });
      status.current = { trialId: t.trialId, epoch: null, logs: null };
      liveEl.textContent = `trial ${t.trialId} · building…`;
      emit();
    },
    onEpochEnd: (id, epoch, logs) => {
      const cur = status.current ?? { trialId: id };
      status.current = { trialId: id ?? cur.trialId, epoch, logs };
      const row = rows.get(status.current.trialId);
      const total = row?.values?.["tuner/epochs"] ?? status.epochs;
      const parts = Object.entries(logs ?? {}).map(([k, v]) => `${k} ${fmt(v)}`);
      liveEl.textContent = `trial ${status.current.trialId} · epoch ${epoch + 1}${total ? `/${total}` : ""} · ${parts.join(" · ")}`;
      emit();
    },
    onTrialEnd: (t) => {
      upsert(t);
      if (t.status !== "COMPLETED" && t.message) liveEl.textContent = `trial ${t.trialId} ${t.status}: ${t.message}`;
      emit();
    },
  });

  const finished = done.then(
    (r) => {
      for (const t of r.trials) {
        const row = rows.get(t.trial_id);
        if (row) {
          row.values = t.hyperparameters; // active values only
          row.score = t.score;
          row.status = t.status;
        }
      }
      // the engine's best trial (its direction, not the heuristic used while running)
      const key = (v) => JSON.stringify(Object.entries(v ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      const bestRow = r.best ? [...rows.values()].find((row) => typeof row.score === "number" && key(row.values) === key(r.best)) : null;
      if (bestRow) status.best = { trialId: bestRow.trialId, score: bestRow.score, values: bestRow.values };
      // rebuild the columns from the active values
      columns.length = 0;
      for (const row of rows.values()) for (const k of visibleKeys(row.values)) if (!columns.includes(k)) columns.push(k);
      status.trials = [...rows.values()];
      status.summary = r.summary;
      status.state = stopped ? "stopped" : "done";
      status.current = null;
      renderTable();
      summaryPre.textContent = r.summary;
      summaryEl.hidden = false;
      summaryEl.open = true;
      const best = status.best;
      liveEl.textContent = best ? `best: trial ${best.trialId} · ${status.objective} ${fmt(best.score)} · ${Object.entries(best.values).filter(([k]) => !k.startsWith("tuner/")).map(([k, v]) => `${k}=${fmt(v)}`).join(" ")}` : "no trial completed";
      stopBtn.hidden = true;
      emit();
      metaEl.textContent += ` · ${status.state} in ${status.seconds} s`;
      return JSON.parse(JSON.stringify(status));
    },
    (e) => {
      status.state = stopped ? "stopped" : "error";
      status.error = e && e.message ? e.message : String(e);
      for (const row of rows.values()) if (row.status === "RUNNING") row.status = stopped ? "STOPPED" : "FAILED";
      status.trials = [...rows.values()];
      status.current = null;
      renderTable();
      errorEl.textContent = stopped ? "stopped" : status.error;
      errorEl.hidden = false;
      liveEl.textContent = "";
      stopBtn.hidden = true;
      emit();
      return JSON.parse(JSON.stringify(status));
    },
  );

  function stop(clear = true) {
    stopped = true;
    // no trial starts after this; the running one finishes
    activeTuner?.stop();
    stopBtn.disabled = true;
    liveEl.textContent = "stopping after the running trial…";
    if (clear) el.replaceChildren();
  }

  return { stop: () => stop(true), done: finished, element: root };
}

function readConfig(model) {
  const c = model.get("config");
  if (typeof c === "string") return c.trim() ? decodeConfig(c) : null;
  return c && Object.keys(c).length ? c : null;
}

/**
 * anywidget's entry point (also usable by hand): mounts the view into `el` and starts the
 * search of `model.get("config")` (anywidget) or `config`. Returns the cleanup function.
 */
export function render({ el, config, model } = {}) {
  const anywidget = model && typeof model.get === "function";
  let view = null;
  const start = () => {
    view?.stop();
    let cfg;
    try {
      cfg = anywidget ? readConfig(model) : config;
    } catch (e) {
      el.replaceChildren(h("div", { class: "tlw" }, h("style", {}, CSS), h("div", { class: "tlw-error" }, e.message)));
      if (anywidget) {
        model.set("status", wrapStatus(model, { state: "error", error: e.message }));
        model.save_changes();
      }
      return;
    }
    view = mount(el, cfg, {
      onStatus: anywidget
        ? (s) => {
            model.set("status", wrapStatus(model, s));
            model.save_changes();
          }
        : undefined,
    });
  };
  start();
  if (anywidget && typeof model.on === "function") model.on("change:config", start);
  return () => {
    if (anywidget && typeof model.off === "function") model.off("change:config", start);
    view?.stop();
  };
}

// A Unicode traitlet gets JSON text, a Dict traitlet an object.
function wrapStatus(model, s) {
  return typeof model.get("status") === "string" ? JSON.stringify(s) : s;
}

export default { render };

// The search worker: the page's engine. It builds the data set, runs the tuner (its oracle and
// its storage in IndexedDB, so a search survives a reload), and trains the trials in a pool of
// trial workers, several at once on the CPU path. The page's main thread only draws.
//
// In:  {type: "data", state, csv?: {text}}     -> {type: "data", info} | {type: "error", where: "data"}
//      {type: "csv-header", text}               -> {type: "csv-header", columns, rows}
//      {type: "status", state}                  -> {type: "status", project, trials, finished}
//      {type: "start", state, fresh, race?, budget?} -> search events, then {type: "search-end"}
//                                                  (race: "a" | "b", one side of a race: its own project;
//                                                  budget: epochs after which no trial begins)
//      {type: "pace", pace}                     ("fast" | "watch": the running search's pace)
//      {type: "stop"}                           (no new trials; the running ones finish)
//      {type: "show", trialId}                  -> {type: "boundary", trialId, values}
//      {type: "retrain"}                        -> {type: "retrain-epoch"}..., {type: "retrained"}
//      {type: "weights", trialId}               -> {type: "weights", trialId, json}
//      {type: "summary", trialId}               -> {type: "summary", trialId, text, spec, hps, fit}
//      {type: "export", format: "csv" | "json"} -> {type: "export", format, text} (the engine's)
// Out (during a search): search-start, trial (a page trial record), epoch, boundary,
//      search-end {summary, stopped}, error. A trial or an epoch is posted only once it is
//      stored; a save that fails (a full quota) posts {type: "error", where: "storage"} and
//      the page ends this worker, as Pause does.

import init, * as tl from "./lib/tunelab.js";
import { buildSpec } from "./spec.js";
import { trialEpochs } from "./race.js";
import { engineOptions, taskOf, tunerClass, WATCH_EPOCH_MS, PLANE_DATASETS as PLAYGROUND } from "./state.js";

const GRID = 50;
/** The test rows whose predictions the confusion view of data without a plane is drawn from. */
const PROBE_ROWS = 500;
const EXTENT = [-6, 6, -6, 6];

let csvText = null;
let data = null; // {key, x, y, vx, vy, all: {x, y}, info, grid}
let search = null; // the running search: {tuner, store, pool, project, ...}
let last = null; // the last search's context (results stay available after it ends)

const post = (m) => self.postMessage(m);
// The engine names the callback a failure came through ("runTrial: ..."): words for the page
// are the failure itself.
const plainMessage = (s) => (typeof s === "string" ? s.replace(/(^|\n)runTrial: /g, "$1") : s);
const errorText = (e) => plainMessage(e && e.message ? e.message : String(e));

// ------------------------------------------------------------------------------------------
// Data

function rows(t, idx) {
  const d = t.shape[1] ?? 1;
  const out = new Float32Array(idx.length * d);
  idx.forEach((r, i) => out.set(t.data.subarray(r * d, r * d + d), i * d));
  return { data: out, shape: [idx.length, d] };
}

async function loadMnist() {
  const res = await fetch(new URL("./data/mnist.bin.gz", self.location.href));
  if (!res.ok) throw new Error(`data/mnist.bin.gz: HTTP ${res.status}`);
  const bytes = new Uint8Array(await new Response(res.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
  // Layout (www/build.mjs): u32 count, then count labels (u8), then count x 784 pixels (u8).
  const n = new DataView(bytes.buffer).getUint32(0, true);
  const labels = bytes.subarray(4, 4 + n);
  const pixels = bytes.subarray(4 + n, 4 + n + n * 784);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = pixels[i] / 255;
  return { x: { data: x, shape: [n, 784] }, y: { data: Float32Array.from(labels), shape: [n, 1] } };
}

/** The data set of `state.data`: split, with what the page shows about it. */
async function loadData(state) {
  const d = state.data;
  const key = JSON.stringify(d) + (d.source === "csv" ? `#${hash(csvText ?? "")}` : "");
  if (data && data.key === key) return data;
  let x;
  let y;
  let points2d = null;
  let classes = 0;
  let featureNames = null;
  let labelName = null;
  if (PLAYGROUND.includes(d.source)) {
    const ds = tl.dataset(d.source, { noise: d.noise, seed: d.seed });
    points2d = ds.x;
    x = tl.features(ds.x, d.features);
    y = ds.y;
    featureNames = d.features;
  } else if (d.source === "digits") {
    const ds = tl.dataset("digits");
    x = { data: ds.x.data, shape: [ds.x.shape[0], ds.x.data.length / ds.x.shape[0]] };
    y = ds.y;
  } else if (d.source === "mnist") {
    ({ x, y } = await loadMnist());
  } else if (d.source === "csv") {
    if (!csvText) throw new Error("no CSV file is loaded: choose one with “Upload CSV”");
    if (!d.csv || !d.csv.label) throw new Error("pick the CSV column to predict (the label)");
    const t = tl.csv.parse(csvText, { label: d.csv.label, columns: d.csv.columns && d.csv.columns.length ? d.csv.columns : undefined });
    x = t.x;
    featureNames = t.featureNames;
    labelName = t.labelName;
    if (d.csv.task === "classification") {
      const values = [...new Set(t.y.data)].sort((a, b) => a - b);
      if (values.length < 2) throw new Error(`column "${labelName}" has a single value (${values[0]}): nothing to classify`);
      if (values.length > 100) throw new Error(`column "${labelName}" has ${values.length} distinct values: too many classes for classification (at most 100); choose regression`);
      const id = new Map(values.map((v, i) => [v, i]));
      y = { data: Float32Array.from(t.y.data, (v) => id.get(v)), shape: [t.y.shape[0], 1] };
      classes = values.length;
    } else {
      y = t.y;
    }
  } else {
    throw new Error(`data.source: unknown data set ${JSON.stringify(d.source)}`);
  }
  if (d.source === "digits" || d.source === "mnist") classes = 10;
  const n = x.shape[0];
  // The engine's split (the one `tunelab tune --train-percent P --data-seed S` uses).
  const split = tl.splitIndices(n, { trainPercent: d.trainPct, seed: d.seed });
  const trainIdx = Array.from(split.train);
  const testIdx = Array.from(split.test);
  const nTrain = trainIdx.length;
  const info = {
    source: d.source,
    rows: n,
    train: nTrain,
    test: n - nTrain,
    inputDim: x.shape[1],
    classes,
    featureNames,
    labelName,
  };
  info.task = taskOf(state, info);
  let grid = null;
  if (points2d) {
    const label = (i) => y.data[i];
    const pts = (idx) => idx.map((i) => [points2d.data[2 * i], points2d.data[2 * i + 1], label(i)]);
    info.points = { train: pts(trainIdx), test: pts(testIdx) };
    info.extent = EXTENT;
    info.grid = GRID;
    const g = new Float32Array(GRID * GRID * 2);
    for (let r = 0; r < GRID; r++) {
      for (let c = 0; c < GRID; c++) {
        g[2 * (r * GRID + c)] = EXTENT[0] + ((c + 0.5) * (EXTENT[1] - EXTENT[0])) / GRID;
        g[2 * (r * GRID + c) + 1] = EXTENT[2] + ((r + 0.5) * (EXTENT[3] - EXTENT[2])) / GRID;
      }
    }
    const gt = tl.features(tl.tensor(g, [GRID * GRID, 2]), d.features);
    grid = { data: gt.data, shape: gt.shape };
  }
  if (!points2d && info.task.kind !== "regression") {
    // Data without a plane (digits, MNIST, a CSV table): the probe is the first test rows, and
    // the page draws the confusion of the true and the predicted classes on them.
    const probeIdx = testIdx.slice(0, PROBE_ROWS);
    grid = rows(x, probeIdx);
    info.confusion = { labels: Array.from(rows(y, probeIdx).data), classes: info.task.classes ?? 2 };
  }
  const plain = (t) => ({ data: t.data, shape: t.shape });
  data = {
    key,
    x: rows(x, trainIdx),
    y: rows(y, trainIdx),
    vx: rows(x, testIdx),
    vy: rows(y, testIdx),
    all: { x: plain(x), y: plain(y) },
    grid,
    info,
  };
  return data;
}

// ------------------------------------------------------------------------------------------
// The project: what is searched, and where it is stored

function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** The engine spec (model + `fit`) of the state, as text. */
function specOf(state, task) {
  if (state.spec) {
    const s = JSON.parse(state.spec);
    const { fit, ...model } = s;
    return JSON.stringify({ ...model, fit: fit ?? { batch_size: 32, epochs: 10 } });
  }
  const { spec, fit } = buildSpec(state, task);
  return JSON.stringify({ ...spec, fit });
}

function projectOf(state, race) {
  // What is searched names the project: not the sections hidden, the lesson shown or the pace.
  const { hide: _hide, lesson: _lesson, race: _race, ...rest } = state;
  const { pace: _pace, ...tuner } = rest.tuner;
  const text = JSON.stringify({ ...rest, tuner }) + (state.data.source === "csv" ? hash(csvText ?? "") : "");
  return `${race ? `race${race}` : "pg"}-${hash(text)}`;
}

function objectiveOf(state) {
  const name = state.tuner.objective;
  return { name, direction: /acc|auc|precision|recall/.test(name) ? "max" : "min" };
}

function tunerOptions(state, store, parallel) {
  const t = state.tuner;
  const o = {
    objective: t.objective,
    seed: t.seed,
    directory: "playground",
    projectName: store.location().split("/").pop(),
    parallelTrials: parallel,
    maxConsecutiveFailedTrials: 3,
    executionsPerTrial: t.executionsPerTrial,
    device: t.device,
    ...engineOptions(t),
  };
  return o;
}

/** A trial of the engine (tunelab.js's trial object) as the page keeps it. */
function pageTrial(t, extra = {}) {
  const values = t.hyperparameters?.values ?? {};
  const hps = {};
  let tuner = null;
  for (const [k, v] of Object.entries(values)) {
    if (k.startsWith("tuner/")) {
      tuner ??= {};
      const key = { "tuner/epochs": "epochs", "tuner/initial_epoch": "initialEpoch", "tuner/bracket": "bracket", "tuner/round": "round", "tuner/trial_id": "parent" }[k];
      if (key) tuner[key] = v;
    } else {
      hps[k] = v;
    }
  }
  const metrics = {};
  for (const [k, v] of Object.entries(t.metrics ?? {})) {
    const val = typeof v === "number" ? v : v && typeof v === "object" ? (v.value ?? v.best ?? null) : null;
    if (typeof val === "number") metrics[k] = val;
  }
  return {
    id: t.trialId,
    status: t.status,
    hps,
    tuner,
    score: typeof t.score === "number" ? t.score : null,
    bestEpoch: typeof t.bestStep === "number" ? t.bestStep : null,
    metrics,
    message: plainMessage(t.message ?? null),
    device: t.device ?? null,
    ...extra,
  };
}

// ------------------------------------------------------------------------------------------
// The pool of trial workers

class Pool {
  constructor(size, payload) {
    this.idle = [];
    this.waiting = [];
    this.jobs = new Map();
    this.workers = [];
    this.nextJob = 1;
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL("./trial-worker.js", self.location.href), { type: "module" });
      w.onmessage = (e) => this.message(w, e.data);
      w.onerror = (e) => this.crash(w, e.message || "the trial worker failed to load");
      w.postMessage({ type: "data", ...payload });
      this.workers.push(w);
      this.idle.push(w);
    }
  }
  /** Trains `job` on the next free worker; `onEpoch(message)` after each epoch. */
  run(job, onEpoch) {
    return new Promise((resolve, reject) => {
      const id = this.nextJob++;
      const task = { id, job: { ...job, type: "train", job: id }, onEpoch, resolve, reject, worker: null };
      this.waiting.push(task);
      this.dispatch();
    });
  }
  dispatch() {
    while (this.idle.length && this.waiting.length) {
      const w = this.idle.pop();
      const task = this.waiting.shift();
      task.worker = w;
      this.jobs.set(task.id, task);
      w.postMessage(task.job);
    }
  }
  message(w, m) {
    const task = this.jobs.get(m.job);
    if (m.type === "data-ready" || !task) return;
    if (m.type === "epoch") {
      task.onEpoch(m);
      return;
    }
    this.jobs.delete(m.job);
    this.idle.push(w);
    if (m.type === "done") task.resolve(m);
    else task.reject(new Error(m.message));
    this.dispatch();
  }
  crash(w, message) {
    for (const [id, task] of this.jobs) {
      if (task.worker === w) {
        this.jobs.delete(id);
        task.reject(new Error(message));
      }
    }
  }
  terminate() {
    for (const w of this.workers) w.terminate();
  }
}

// ------------------------------------------------------------------------------------------
// Storage: where the engine keeps the search (trials, resume points, best-epoch weights)

/** The page's words for a failed save: a full quota says so plainly. */
function storageMessage(e) {
  const name = e && e.name ? e.name : "Error";
  if (name === "QuotaExceededError" || /quota/i.test(String(e && e.message))) {
    return "Storage is full: the browser's storage quota for this page is exceeded (QuotaExceededError), so the search cannot be saved and was paused.";
  }
  return `Saving the search in the browser's storage (IndexedDB) failed (${name}${e && e.message ? `: ${e.message}` : ""}), so the search was paused.`;
}

// ------------------------------------------------------------------------------------------
// The search

async function makeTuner(state, parallel, fresh, race = null) {
  const project = projectOf(state, race);
  const ctx = { project, state, parallel, trials: new Map(), objective: objectiveOf(state), paceMs: paceMs(state.tuner.pace) };
  // The package's IndexedDB store: a turn's writes in one transaction, a failed save reported
  // at once (storageFailed) and every later write dropped, afterSave for what a reload keeps.
  const store = new tl.IndexedDBStore(`playground/${project}`, { onFail: (e) => storageFailed(ctx, e) });
  ctx.store = store;
  ctx.specText = specOf(state, data.info.task);
  const Kind = tl[tunerClass(state.tuner.kind)];
  const options = tunerOptions(state, store, parallel);
  options.overwrite = !!fresh;
  // The engine's spec hypermodel (the one `tunelab tune` runs): it applies the spec's `fit`.
  ctx.tuner = new Kind({ ...options, storage: store, hypermodel: tl.specHypermodel(ctx.specText) });
  return ctx;
}

/**
 * Posts `m` (as it is now) once everything written so far is stored: what the page shows as
 * done is what a reload finds.
 */
function postSaved(ctx, m) {
  const copy = structuredClone(m);
  ctx.store.afterSave(() => post(copy));
}

/** A write failed (a full quota, most often): the search stops and the page is told why. */
function storageFailed(ctx, e) {
  if (ctx.storageError) return;
  ctx.storageError = storageMessage(e);
  ctx.stopped = true;
  try {
    ctx.tuner?.stop();
  } catch {
    // the tuner is not made yet, or is busy: the page ends this worker anyway
  }
  post({ type: "error", where: "storage", message: ctx.storageError });
}

/**
 * Frees the engine memory (wasm) behind a model or a hyperparameters object now. The collector
 * frees it only once it gets to the small JS wrapper, which in a fast search is hundreds of
 * trials later: this worker's wasm memory reached 22 MB over 1,000 trials, 3 MB with each freed
 * when done (benches/browser/long-search.mjs).
 */
function dispose(o) {
  o?.dispose();
}

/** The hyperparameters of a job's values as the page keeps them (tuner/ keys apart). */
function hpsOf(values) {
  return pageTrial({ hyperparameters: { values } });
}

/**
 * The tuner's executor: each execution job goes to a free trial worker, which trains it with
 * the engine (runExecution) and sends every epoch's report back; the report goes to the tuner,
 * which keeps every rule of the trial (resume points, best epochs, seeds, averaging), and the
 * first execution's epochs are shown.
 */
function executorOf(ctx) {
  return async (bytes, info, onEpoch) => {
    // The pace: with "watch", each epoch is handed on (to the tuner and the page) at least
    // ctx.paceMs after the one before it in this execution. The trial worker trains at full
    // speed; the execution ends (and the tuner starts the next trial or round) after its last
    // epoch is shown.
    let shown = Promise.resolve();
    let nextAt = performance.now();
    const id = info.trialId;
    if (info.execution === 0) {
      const record = ctx.trials.get(id) ?? pageTrial({ trialId: id, status: "RUNNING" });
      const { hps, tuner } = hpsOf(info.values);
      Object.assign(record, { status: "RUNNING", hps, tuner, epoch: info.initialEpoch, epochs: info.epochs, curves: record.curves ?? {}, device: record.device ?? ctx.device });
      ctx.trials.set(id, record);
      postSaved(ctx, { type: "trial", trial: record });
    }
    const show = (m) => {
      // The tuner's answer (false: stop, a resume point could not be stored) needs no relay:
      // a failed save already stops the search and Pause ends the workers.
      onEpoch(m.report);
      if (info.execution === 0) {
        const record = ctx.trials.get(id);
        for (const [k, v] of Object.entries(m.logs)) (record.curves[k] ??= []).push([m.epoch, v]);
        record.epoch = m.epoch + 1;
        postSaved(ctx, { type: "epoch", trialId: id, epoch: m.epoch, epochs: info.epochs, logs: m.logs, exec: 0 });
        if (m.grid) postSaved(ctx, { type: "boundary", trialId: id, values: m.grid });
      }
    };
    let failed = null;
    try {
      await ctx.pool.run({ bytes }, (m) => {
        shown = shown.then(async () => {
          const wait = nextAt - performance.now();
          if (ctx.paceMs > 0 && wait > 0) await sleep(Math.min(wait, ctx.paceMs));
          show(m);
          nextAt = performance.now() + ctx.paceMs;
        });
      });
    } catch (e) {
      failed = e;
    }
    // Every epoch trained is handed to the tuner before the execution ends (or fails).
    await shown;
    if (failed) throw failed;
  };
}

function paceMs(pace) {
  return pace === "watch" ? WATCH_EPOCH_MS : 0;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function better(a, b, direction) {
  if (!Number.isFinite(a)) return false;
  if (!Number.isFinite(b)) return true;
  return direction === "max" ? a > b : a < b;
}

function workersFor(state) {
  if (state.tuner.device === "webgpu") return 1;
  return Math.max(1, Math.min(state.tuner.workers, 8));
}

async function start(state, fresh, race, budget = null) {
  if (search) throw new Error("a search is already running");
  const d = await loadData(state);
  const parallel = workersFor(state);
  const ctx = await makeTuner(state, parallel, fresh, race);
  ctx.device = state.tuner.device === "cpu" ? "cpu" : null;
  search = ctx;
  last = ctx;
  try {
    if (fresh) ctx.store.clear();
    await ctx.tuner.reload();
    for (const t of fresh ? [] : ctx.tuner.trials) ctx.trials.set(t.trialId, restoredTrial(ctx, t));
    ctx.pool = new Pool(parallel, {
      inputDim: d.info.inputDim,
      x: d.x,
      y: d.y,
      vx: d.vx,
      vy: d.vy,
      grid: d.grid,
    });
    post({ type: "search-start", project: ctx.project, workers: parallel, trials: [...ctx.trials.values()], info: d.info });
    ctx.tuner.setExecutor(executorOf(ctx));
    let spent = 0;
    await ctx.tuner.search(d.x, d.y, {
      validationData: [d.vx, d.vy],
      callbacks: {
        onTrialEnd: (t) => {
          const rec = ctx.trials.get(t.trialId) ?? {};
          // the engine says where the trial trained ("webgpu (adapter)", or "cpu" and why)
          if (t.device) ctx.device = t.device;
          const next = pageTrial(t, { curves: rec.curves ?? {}, epoch: rec.epoch, epochs: rec.epochs, device: t.device ?? rec.device ?? ctx.device });
          ctx.trials.set(t.trialId, next);
          postSaved(ctx, { type: "trial", trial: next });
          // a race's budget of epochs (ASHA's side): the tuner stops here, in the engine's own
          // trial end, so no free worker begins a trial past it (the running ones finish)
          if (budget !== null) {
            spent += trialEpochs(next);
            if (spent >= budget) ctx.tuner.stop();
          }
        },
      },
    });
    post({ type: "search-end", stopped: ctx.stopped === true, summary: ctx.tuner.resultsSummary(5), trials: [...ctx.trials.values()] });
  } catch (e) {
    // A failed save was already told to the page in its own words (storageFailed), which ends
    // this worker: the tuner's error for it (the store's flush) adds nothing.
    if (!ctx.storageError) throw e;
  } finally {
    ctx.pool?.terminate();
    search = null;
  }
}

/**
 * A stored trial as the page keeps it. A trial that was running when the page went away shows
 * the epochs of its first execution up to its last completed one, and the values it ran with
 * (the first trials of a search register the space as they run, so the oracle may not have
 * stored them yet): both from the engine's resume point.
 */
function restoredTrial(ctx, t) {
  const rec = pageTrial(t, { curves: {} });
  if (t.status === "COMPLETED" || t.status === "INVALID" || t.status === "FAILED") {
    // the first execution's curves, from the epoch it started at (Hyperband's later rounds)
    const start = rec.tuner?.initialEpoch ?? 0;
    for (const [k, v] of Object.entries(t.curves?.[0] ?? {})) rec.curves[k] = v.map((val, i) => [start + i, val]);
    rec.epoch = start + Math.max(0, ...Object.values(t.curves?.[0] ?? {}).map((v) => v.length));
    return rec;
  }
  const r = ctx.tuner.interrupted(t.trialId);
  if (!r) return rec;
  const h = r.history;
  for (const [k, v] of Object.entries(h.history)) rec.curves[k] = v.map((val, i) => [h.epoch[i], val]);
  rec.epoch = h.epoch.length ? h.epoch[h.epoch.length - 1] + 1 : 0;
  if (!Object.keys(rec.hps).length) Object.assign(rec, hpsOf(r.values));
  return rec;
}

/** What is stored for this state's project (after a reload): its trials, without running anything. */
async function status(state) {
  await loadData(state);
  const ctx = await makeTuner(state, workersFor(state), false);
  await ctx.tuner.reload();
  const trials = ctx.tuner.trials.map((t) => restoredTrial(ctx, t));
  last = ctx;
  for (const t of trials) ctx.trials.set(t.id, t);
  return { project: ctx.project, trials, summary: trials.length ? ctx.tuner.resultsSummary(5) : "" };
}

// ------------------------------------------------------------------------------------------
// Results

function bestTrialId(ctx) {
  const dir = ctx.objective.direction;
  let best = null;
  for (const t of ctx.trials.values()) {
    if (t.status === "COMPLETED" && typeof t.score === "number" && (!best || better(t.score, best.score, dir))) best = t;
  }
  return best ? best.id : null;
}

/** The plain model spec and fit of a trial (its hyperparameter values applied to the spec). */
function resolvedOf(ctx, trialId) {
  // From the worker's own records: the tuner itself is busy while a search runs.
  const t = ctx.trials.get(trialId);
  if (!t) throw new Error(`no trial ${trialId}`);
  const hp = new tl.HyperParameters();
  let resolved;
  try {
    // Fixed values: the trial's own values win over the spec's defaults.
    for (const [k, v] of Object.entries(t.hps)) hp.Fixed(k, v);
    resolved = JSON.parse(hp._hp.resolveSpec(ctx.specText));
  } finally {
    dispose(hp);
  }
  const { fit, ...spec } = resolved;
  return { spec, fit, hps: t.hps, epochs: t.tuner?.epochs ?? fit.epochs, bestEpoch: t.bestEpoch };
}

function modelOf(ctx, trialId, weights) {
  const { spec } = resolvedOf(ctx, trialId);
  const m = tl.modelFromJSON(spec);
  m.build([data.info.inputDim]);
  if (weights) m.setWeights(weights.map((w) => tl.tensor(Float32Array.from(w.data), w.shape)));
  return m;
}

async function showTrial(trialId) {
  const ctx = search ?? last;
  if (!ctx || !data.grid) return;
  const weights = ctx.tuner.trialWeights(trialId);
  if (!weights) return;
  const m = modelOf(ctx, trialId, weights);
  let p;
  try {
    p = await m.predict(tl.tensor(data.grid.data, data.grid.shape), { batchSize: 1024 });
  } finally {
    dispose(m);
  }
  post({ type: "boundary", trialId, values: p.data, selected: true });
}

async function retrain() {
  const ctx = last;
  const id = ctx && bestTrialId(ctx);
  if (!id) throw new Error("no completed trial to retrain yet");
  const r = resolvedOf(ctx, id);
  const epochs = (r.bestEpoch ?? r.epochs - 1) + 1;
  const m = tl.modelFromJSON(r.spec);
  m.setSeed(ctx.state.tuner.seed);
  m.build([data.info.inputDim]);
  const all = data.all;
  const x = tl.tensor(all.x.data, all.x.shape);
  const y = tl.tensor(all.y.data, all.y.shape);
  // One fit, as model.fit(x, y, epochs=...) in Keras: the engine's loop draws every epoch's
  // batches from the one seed.
  const h = await m.fit(x, y, {
    epochs,
    batchSize: r.fit.batch_size,
    seed: ctx.state.tuner.seed,
    verbose: 0,
    callbacks: [{ onEpochEnd: (epoch, logs) => post({ type: "retrain-epoch", epoch, epochs, logs }) }],
  });
  const history = h.history;
  const weights = m.getWeights().map((t) => ({ shape: t.shape, data: Array.from(t.data) }));
  ctx.retrained = { trialId: id, weights };
  let boundary = null;
  if (data.grid) boundary = (await m.predict(tl.tensor(data.grid.data, data.grid.shape), { batchSize: 1024 })).data;
  post({ type: "retrained", trialId: id, epochs, history, boundary, rows: all.x.shape[0] });
}

function weightsJSON(trialId, retrained) {
  const ctx = last;
  if (!ctx) throw new Error("no search yet");
  let weights;
  let what;
  if (retrained) {
    if (!ctx.retrained) throw new Error("retrain the best model first");
    weights = ctx.retrained.weights;
    trialId = ctx.retrained.trialId;
    what = "the best hyperparameters retrained on all rows";
  } else {
    weights = ctx.tuner.trialWeights(trialId);
    if (!weights) throw new Error(`trial ${trialId} has no stored weights`);
    const bestEpoch = ctx.trials.get(trialId)?.bestEpoch;
    what = typeof bestEpoch === "number" ? `trial ${trialId}, epoch ${bestEpoch + 1} (its best)` : `trial ${trialId}, its best epoch`;
  }
  const { spec, hps } = resolvedOf(ctx, trialId);
  return JSON.stringify({ format: "tunelab-weights/1", what, trial_id: trialId, hyperparameters: hps, model: spec, input_dim: data.info.inputDim, weights: weights.map((w) => ({ shape: w.shape, data: Array.from(w.data) })) });
}

function summaryOf(trialId) {
  const ctx = last;
  const r = resolvedOf(ctx, trialId);
  const m = modelOf(ctx, trialId, null);
  let text;
  try {
    text = m.summary();
  } finally {
    dispose(m);
  }
  return { text, spec: r.spec, fit: r.fit, hps: r.hps, inputDim: data.info.inputDim, bestEpoch: r.bestEpoch };
}

// ------------------------------------------------------------------------------------------

const ready = init().then(() => post({ type: "ready", version: tl.version() }));

self.onmessage = async (e) => {
  const m = e.data;
  await ready;
  try {
    switch (m.type) {
      case "csv-header": {
        csvText = m.text;
        data = null;
        const h = tl.csv.header(m.text);
        post({ type: "csv-header", columns: h.columns, rows: h.rows, name: m.name });
        break;
      }
      case "data": {
        const d = await loadData(m.state);
        post({ type: "data", info: d.info });
        break;
      }
      case "status":
        post({ type: "status", ...(await status(m.state)) });
        break;
      case "start":
        await start(m.state, m.fresh, m.race ?? null, m.budget ?? null);
        break;
      case "pace":
        if (search) search.paceMs = paceMs(m.pace);
        break;
      case "stop":
        if (search) {
          search.stopped = true;
          search.tuner.stop();
        }
        break;
      case "show":
        await showTrial(m.trialId);
        break;
      case "retrain":
        await retrain();
        break;
      case "export": {
        // The engine's trials export (stored trials while a search runs).
        const ctx = search ?? last;
        if (!ctx) throw new Error("no search yet");
        const text = m.format === "csv" ? ctx.tuner.trialsCSV() : JSON.stringify(ctx.tuner.trialsJSON(), null, 2);
        post({ type: "export", format: m.format, text });
        break;
      }
      case "weights":
        post({ type: "weights", trialId: m.trialId, retrained: !!m.retrained, json: weightsJSON(m.trialId, m.retrained) });
        break;
      case "summary":
        post({ type: "summary", trialId: m.trialId, ...summaryOf(m.trialId) });
        break;
      default:
        throw new Error(`unknown message ${JSON.stringify(m.type)}`);
    }
  } catch (err) {
    post({ type: "error", where: m.type, message: errorText(err) });
  }
};

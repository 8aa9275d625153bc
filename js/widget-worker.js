// The widget's search worker: widget.js's `mount` (the notebook widget, embed.html) runs its
// search here, off the page's main thread, which only draws. The search is the engine's tuner
// (widget.js `runSearch`: the spec's hypermodel, the data, the tuner and its trials, executions,
// Hyperband's warm starts and best epochs are the engine's); this worker only hands its events on.
//
// Messages in:  {type: "run", config}   config as widget.js takes it; `data.x` / `data.y` may be
//                                      {data: Float32Array, shape} (transferred, not copied)
//               {type: "stop"}         no trial starts after this; the running one finishes
// Messages out: {type: "start", info}  {cfg (without its data), options, samples, inputShape, device, deviceNote}
//               {type: "trialBegin", trial} / {type: "epoch", trialId, epoch, logs} / {type: "trialEnd", trial}
//               {type: "done", result}  {trials, best, summary, summaryAll, bestModel}
//               {type: "error", message}
//
// A bundler that cannot fetch the .wasm beside tunelab.js (the Python package's bundle) calls
// `init(bytes)` before the first message arrives; the `init()` below then reuses that engine.

import init, * as tl from "./tunelab.js";
import { runSearch } from "./widget.js";

let stopped = false;
let tuner = null;
let running = false;

const post = (m) => self.postMessage(m);

/** The config without its data arrays (the main thread shows the rest). */
function describe(cfg) {
  if (!cfg.data) return cfg;
  const shape = (v) => (v && Array.isArray(v.shape) ? v.shape : Array.isArray(v) ? [v.length] : null);
  return { ...cfg, data: { x: { shape: shape(cfg.data.x) }, y: { shape: shape(cfg.data.y) } } };
}

/**
 * What kerasSnippet (www/src/python.js) needs to rebuild the best trial's model: the spec with
 * the best values applied by the engine (resolveSpec), its fit, the input columns, the best epoch.
 */
function bestModelOf(cfg, result, inputShape) {
  if (!result.best) return null;
  const row = result.trials.find((t) => t.status === "COMPLETED" && sameValues(t.hyperparameters, result.best));
  const hp = new tl.HyperParameters();
  try {
    for (const [k, v] of Object.entries(result.best)) if (!k.startsWith("tuner/")) hp.Fixed(k, v);
    const { fit, ...spec } = JSON.parse(hp._hp.resolveSpec(JSON.stringify(cfg.spec)));
    const inputDim = inputShape.reduce((a, b) => a * b, 1);
    const epochs = result.best["tuner/epochs"] ?? fit?.epochs ?? cfg.fit.epochs;
    return { spec, fit: { ...(fit ?? {}), batch_size: fit?.batch_size ?? cfg.fit.batchSize, epochs }, hps: result.best, inputDim, bestStep: row?.best_step ?? null, trialId: row?.trial_id ?? null, dataset: cfg.dataset ?? "your data" };
  } finally {
    hp.dispose?.();
  }
}

function sameValues(a, b) {
  const key = (v) => JSON.stringify(Object.entries(v ?? {}).filter(([k]) => k !== "tuner/trial_id").sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return key(a) === key(b);
}

self.onmessage = async (e) => {
  const m = e.data ?? {};
  if (m.type === "stop") {
    stopped = true;
    try {
      tuner?.stop();
    } catch {
      /* the search has already ended */
    }
    return;
  }
  if (m.type !== "run") return post({ type: "error", message: `widget worker: unknown message type \`${m.type}\`` });
  if (running) return post({ type: "error", message: "widget worker: a search is already running in this worker" });
  running = true;
  let cfgSeen = null;
  let inputShape = [];
  try {
    await init();
    const result = await runSearch(m.config, {
      shouldStop: () => stopped,
      onStart: ({ tuner: t, cfg, options, samples, inputShape: shape, device, deviceNote }) => {
        tuner = t;
        cfgSeen = cfg;
        inputShape = shape;
        if (stopped) t.stop();
        post({ type: "start", info: { cfg: describe(cfg), options, samples, inputShape: shape, device, deviceNote } });
      },
      onTrialBegin: (trial) => post({ type: "trialBegin", trial }),
      onEpochEnd: (trialId, epoch, logs) => post({ type: "epoch", trialId, epoch, logs }),
      onTrialEnd: (trial) => post({ type: "trialEnd", trial }),
    });
    let bestModel = null;
    try {
      bestModel = bestModelOf(cfgSeen, result, inputShape);
    } catch (err) {
      bestModel = { error: err && err.message ? err.message : String(err) };
    }
    // KerasTuner's summary of the 10 best (the view's); every trial's too when there are more
    const summaryAll = result.trials.length > 10 ? result.tuner.resultsSummary(result.trials.length) : null;
    post({ type: "done", result: { trials: result.trials, best: result.best, summary: result.summary, summaryAll, bestModel } });
  } catch (err) {
    post({ type: "error", message: err && err.message ? err.message : String(err) });
  } finally {
    running = false;
  }
};

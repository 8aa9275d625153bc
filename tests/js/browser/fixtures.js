// Browser-side scenarios for tests/js/browser.test.mjs. The test serves the repository root over
// HTTP, opens tests/js/browser/index.html in Chromium and calls these functions in the page; each
// returns plain data (strings, numbers, trial records) for the test to check in Node. They also
// run in Node (storage falls back to memory there), which is handy when debugging a failure.

import init, * as tl from "../../../pkg/tunelab.js";

export { tl };

export async function ready() {
  await init();
  return tl.version();
}

// The KerasTuner getting-started guide's model, as in /tmp/nodetest/smoke.mjs and
// examples/guide_reference.rs.
export function buildGuideModel(hp) {
  const model = tl.sequential();
  model.add(tl.layers.flatten());
  for (let i = 0; i < hp.Int("num_layers", { minValue: 1, maxValue: 3 }); i++) {
    model.add(
      tl.layers.dense({
        units: hp.Int(`units_${i}`, { minValue: 32, maxValue: 512, step: 32 }),
        activation: hp.Choice("activation", ["relu", "tanh"]),
      }),
    );
  }
  if (hp.Boolean("dropout")) model.add(tl.layers.dropout({ rate: 0.25 }));
  model.add(tl.layers.dense({ units: 10, activation: "softmax" }));
  model.compile({
    optimizer: tl.optimizers.adam({ learningRate: hp.Float("lr", { minValue: 1e-4, maxValue: 1e-2, sampling: "log" }) }),
    loss: "categorical_crossentropy",
    metrics: ["accuracy"],
  });
  return model;
}

// Digits, one-hot, split 1437 train / 360 validation (the first 80% trains, as Keras's
// validation_split and the Rust reference do).
export function digits() {
  const d = tl.dataset("digits");
  const y = tl.oneHot(d.y, 10);
  const total = d.x.shape[0];
  const n = 1437;
  const f = d.x.shape[1];
  return {
    x: tl.tensor(d.x.data.slice(0, n * f), [n, f]),
    y: tl.tensor(y.data.slice(0, n * 10), [n, 10]),
    xVal: tl.tensor(d.x.data.slice(n * f), [total - n, f]),
    yVal: tl.tensor(y.data.slice(n * 10), [total - n, 10]),
  };
}

function plainTrials(tuner) {
  return tuner.trials.map((t) => ({
    trialId: t.trialId,
    values: t.hyperparameters.values,
    score: t.score,
    status: t.status,
    message: t.message ?? null,
  }));
}

// (a) The guide search: RandomSearch, val_accuracy, 3 trials x 2 executions x 2 epochs, seed 1.
export async function guideSearch() {
  await init();
  const tuner = new tl.RandomSearch({
    hypermodel: buildGuideModel,
    objective: "val_accuracy",
    maxTrials: 3,
    executionsPerTrial: 2,
    seed: 1,
    overwrite: true,
    directory: "my_dir",
    projectName: "helloworld",
  });
  const searchSpaceSummary = tuner.searchSpaceSummary();
  const { x, y, xVal, yVal } = digits();
  let trialEnds = 0;
  const t0 = performance.now();
  await tuner.search(x, y, { epochs: 2, validationData: [xVal, yVal], callbacks: { onTrialEnd: () => trialEnds++ } });
  const ms = performance.now() - t0;
  return { searchSpaceSummary, resultsSummary: tuner.resultsSummary(), trials: plainTrials(tuner), trialEnds, ms };
}

// (b) A HyperModel subclass whose fit override tunes batch size and shuffling.
export async function fitOverrideSearch() {
  await init();
  class MyHyperModel extends tl.HyperModel {
    build(hp) {
      const model = tl.sequential();
      model.add(tl.layers.dense({ units: hp.Int("units", { minValue: 16, maxValue: 64, step: 16 }), activation: "relu" }));
      model.add(tl.layers.dense({ units: 10, activation: "softmax" }));
      model.compile({ optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
      return model;
    }
    async fit(hp, model, x, y, options) {
      fitCalls++;
      return model.fit(x, y, { ...options, batchSize: hp.Choice("batch_size", [16, 32]), shuffle: hp.Boolean("shuffle") });
    }
  }
  let fitCalls = 0;
  const tuner = new tl.RandomSearch({
    hypermodel: new MyHyperModel(),
    objective: "val_accuracy",
    maxTrials: 3,
    seed: 3,
    overwrite: true,
    storage: "memory",
    projectName: "fit_override",
  });
  const { x, y, xVal, yVal } = digits();
  await tuner.search(x, y, { epochs: 1, validationData: [xVal, yVal] });
  return {
    trials: plainTrials(tuner),
    fitCalls,
    searchSpaceSummary: tuner.searchSpaceSummary(),
    resultsSummary: tuner.resultsSummary(),
  };
}

// (c) Tuning any function: runTrial returns the value to minimise.
export async function functionSearch() {
  await init();
  class MyTuner extends tl.RandomSearch {
    async runTrial(trial) {
      const x = trial.hyperparameters.Float("x", -1, 1);
      return x * x + 1;
    }
  }
  const tuner = new MyTuner({ maxTrials: 20, seed: 5, overwrite: true, projectName: "function_tuner" });
  await tuner.search();
  const [best] = tuner.getBestHyperparameters(1);
  return { trials: plainTrials(tuner), bestValues: best.values, resultsSummary: tuner.resultsSummary(1) };
}

// (d) A search that survives a reload. Everything it sees is logged in window.__resume (or a
// local object outside a browser); with `holdAfterSaved: n`, the fit of the first trial that
// starts after n trials were saved never finishes, so the page sits mid-trial until reloaded.
export async function resumableSearch({ projectName, holdAfterSaved = Infinity }) {
  await init();
  const log = { begins: [], ends: [], saved: [], held: false, done: false, error: null };
  if (typeof window !== "undefined") window.__resume = log;
  const hypermodel = {
    build: buildGuideModel,
    async fit(hp, model, x, y, options) {
      if (log.saved.length >= holdAfterSaved) {
        log.held = true;
        await new Promise(() => {});
      }
      return model.fit(x, y, options);
    },
  };
  const tuner = new tl.RandomSearch({
    hypermodel,
    objective: "val_accuracy",
    maxTrials: 6,
    seed: 2,
    overwrite: false,
    directory: "resume_dir",
    projectName,
  });
  const { x, y, xVal, yVal } = digits();
  try {
    await tuner.search(x, y, {
      epochs: 2,
      validationData: [xVal, yVal],
      callbacks: {
        onTrialBegin: (t) => log.begins.push(t.trialId),
        onTrialEnd: (t) => log.ends.push({ trialId: t.trialId, score: t.score, status: t.status }),
        // Everything so far is in IndexedDB: remember which finished trials that covers.
        onSaved: () => log.saved.push(log.ends.map((e) => e.trialId)),
      },
    });
  } catch (e) {
    log.error = String(e && e.stack ? e.stack : e);
    throw e;
  }
  log.done = true;
  log.trials = plainTrials(tuner);
  return log;
}

// (d2) A search that runs out of IndexedDB quota. The same small xor search each call (6 trials
// of 3 epochs, storage: "indexeddb", overwrite: false, at quota_dir/<projectName>): a new tuner
// first loads what is stored (`reloaded`), then searches. A search that settles neither way
// within `timeoutMs` comes back as `hung`. With `measure`, `usage` lists the origin's usage
// (navigator.storage.estimate()) before anything is stored, when each trial's fit starts (all
// earlier writes done) and at the end, so that the test can pick a quota that fills partway.
export async function quotaSearch({ projectName, measure = false, timeoutMs = 20_000 }) {
  await init();
  const log = { reloaded: null, begins: [], ends: [], saved: [], usage: [], error: null, hung: false };
  const usage = async () => (await navigator.storage.estimate()).usage;
  // tl.store("indexeddb", location) is the store that storage: "indexeddb" makes; measuring
  // needs its flush().
  if (measure) log.usage.push(await usage());
  const stored = measure ? tl.store("indexeddb", `quota_dir/${projectName}`) : "indexeddb";
  const hypermodel = {
    build(hp) {
      const m = tl.sequential();
      m.add(tl.layers.dense({ units: hp.Int("units", { minValue: 4, maxValue: 32, step: 4 }), activation: "tanh" }));
      m.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
      m.compile({
        optimizer: tl.optimizers.adam({ learningRate: hp.Choice("lr", [0.003, 0.01, 0.03]) }),
        loss: "binary_crossentropy",
        metrics: ["accuracy"],
      });
      return m;
    },
    async fit(hp, model, x, y, options) {
      if (measure) {
        await stored.flush();
        log.usage.push(await usage());
      }
      return model.fit(x, y, options);
    },
  };
  const tuner = new tl.RandomSearch({
    hypermodel,
    objective: "val_accuracy",
    maxTrials: 6,
    seed: 4,
    overwrite: false,
    storage: stored,
    directory: "quota_dir",
    projectName,
  });
  await tuner.reload();
  log.reloaded = plainTrials(tuner);
  const d = tl.dataset("xor");
  const search = tuner.search(d.x, d.y, {
    epochs: 3,
    validationSplit: 0.2,
    callbacks: {
      onTrialBegin: (t) => log.begins.push(t.trialId),
      onTrialEnd: (t) => log.ends.push({ trialId: t.trialId, score: t.score, status: t.status }),
      // Everything so far is in IndexedDB: remember which finished trials that covers.
      onSaved: () => log.saved.push(log.ends.map((e) => e.trialId)),
    },
  });
  let timer;
  const hung = new Promise((ok) => (timer = setTimeout(() => ok("hung"), timeoutMs)));
  try {
    log.hung = (await Promise.race([search.then(() => "done"), hung])) === "hung";
  } catch (e) {
    log.error = { isError: e instanceof Error, message: String(e && e.message !== undefined ? e.message : e) };
  } finally {
    clearTimeout(timer);
  }
  if (measure) log.usage.push(await usage());
  // (A hung search still holds the tuner.)
  log.trials = log.hung ? null : plainTrials(tuner);
  return log;
}

// (e) Bad input from JS: each entry is the message of the Error thrown (or "no error").
export async function badInputs() {
  await init();
  const d = tl.dataset("xor");
  const small = () => {
    const m = tl.sequential();
    m.add(tl.layers.dense({ units: 4, activation: "relu" }));
    m.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
    m.compile({ optimizer: "adam", loss: "binary_crossentropy" });
    return m;
  };
  const cases = {
    unknownTunerOption: () => new tl.RandomSearch({ hypermodel: () => small(), objective: "loss", maxTrialz: 3 }),
    unknownFitOption: () => small().fit(d.x, d.y, { epochz: 1 }),
    unknownLayerOption: () => tl.layers.dense({ unitz: 3 }),
    unknownSearchOption: async () => {
      const t = new tl.RandomSearch({ hypermodel: () => small(), objective: "loss", maxTrials: 1, overwrite: true, storage: "memory" });
      await t.search(d.x, d.y, { epochz: 1 });
    },
    nanInX: () => {
      const x = new Float32Array(d.x.data);
      x[5] = NaN;
      return small().fit(tl.tensor(x, d.x.shape), d.y, { epochs: 1 });
    },
    unitsNotANumber: () => {
      const m = tl.sequential();
      m.add(tl.layers.dense({ units: "ten" }));
      m.compile({ optimizer: "adam", loss: "mse" });
      return m.fit(d.x, d.y, { epochs: 1 });
    },
    epochsNotANumber: () => small().fit(d.x, d.y, { epochs: "two" }),
    unknownLoss: () => {
      const m = tl.sequential();
      m.add(tl.layers.dense({ units: 1 }));
      m.compile({ optimizer: "adam", loss: "mean_squared_errorz" });
      return m.fit(d.x, d.y, { epochs: 1 });
    },
    unknownActivation: () => {
      const m = tl.sequential();
      m.add(tl.layers.dense({ units: 1, activation: "relux" }));
      m.compile({ optimizer: "adam", loss: "mse" });
      return m.fit(d.x, d.y, { epochs: 1 });
    },
    mismatchedRows: () => small().fit(tl.tensor([0, 1], [1, 2]), d.y, { epochs: 1 }),
  };
  const out = {};
  for (const [name, f] of Object.entries(cases)) {
    try {
      await f();
      out[name] = { message: "no error" };
    } catch (e) {
      out[name] = { type: e && e.constructor ? e.constructor.name : typeof e, message: String(e && e.message !== undefined ? e.message : e) };
    }
  }
  // The engine is still usable after all that.
  const h = await small().fit(d.x, d.y, { epochs: 1 });
  out.fitAfterErrors = { loss: h.history.loss[0] };
  return out;
}

// The notebook widget (pkg/widget.js) under a fake anywidget model: `config` is given as the
// JSON text of a Unicode traitlet, so the status comes back as JSON text too. Resolves once the
// status is final (done, error or stopped), then calls the cleanup render() returned.
export async function widgetRender(config) {
  const widget = (await import("../../../pkg/widget.js")).default;
  const el = document.createElement("div");
  el.className = "widget-under-test";
  document.body.append(el);
  const traits = { config: JSON.stringify(config), status: "" };
  const handlers = new Map(); // event -> handler
  const calls = { set: [], saveChanges: 0, on: [], off: [] };
  let settle;
  const final = new Promise((ok) => (settle = ok));
  const model = {
    get: (name) => traits[name],
    set: (name, value) => {
      traits[name] = value;
      calls.set.push(name);
      if (name === "status") {
        const s = typeof value === "string" ? JSON.parse(value) : value;
        if (["done", "error", "stopped"].includes(s.state)) settle(s);
      }
    },
    save_changes: () => calls.saveChanges++,
    on: (event, handler) => {
      calls.on.push(event);
      handlers.set(event, handler);
    },
    off: (event, handler) => calls.off.push({ event, sameHandler: handlers.get(event) === handler }),
  };
  const cleanup = widget.render({ el, model });
  const status = await final;
  const out = {
    cleanupIsFunction: typeof cleanup === "function",
    statusIsText: typeof traits.status === "string",
    status,
    roots: el.querySelectorAll(".tlw").length,
    rows: el.querySelectorAll(".tlw tbody tr").length,
    domSummary: el.querySelector(".tlw-summary")?.textContent ?? null,
    stateText: el.querySelector(".tlw-state")?.textContent ?? null,
  };
  cleanup();
  out.childrenAfterCleanup = el.childNodes.length;
  out.calls = calls;
  el.remove();
  return out;
}

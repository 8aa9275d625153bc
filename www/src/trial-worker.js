// A trial worker: trains one model at a time for the search worker, one epoch per fit call so
// that after every epoch it can report the logs, hand back a checkpoint of the weights and, for
// 2-D data, the model's output on the boundary grid.
//
// Messages in:  {type: "data", x, y, vx, vy, grid, inputDim}   (once per search)
//               {type: "train", job, spec, seed, device, batchSize, epochs, initialEpoch,
//                weights, state, objective: {name, direction}}
// Messages out: {type: "epoch", job, epoch, logs, weights, state, grid}
//               {type: "done", job, history: {history, epoch}, best: {weights, epoch, value}, device}
//               {type: "failed", job, message}

import init, * as tl from "./lib/tunelab.js";

let data = null;

const tensors = (list) => list.map((w) => tl.tensor(w.data, w.shape));
const plain = (list) => list.map((t) => ({ data: t.data, shape: t.shape }));

function better(a, b, direction) {
  if (!Number.isFinite(a)) return false;
  if (!Number.isFinite(b)) return true;
  return direction === "max" ? a > b : a < b;
}

async function train(m) {
  const model = tl.modelFromJSON(m.spec);
  try {
    return await fitTrial(model, m);
  } finally {
    // Frees the engine memory (wasm, GPU buffers) now: the collector would free it only once it
    // gets to the small JS wrapper, many trials later in a fast search.
    model.dispose();
  }
}

async function fitTrial(model, m) {
  model.setSeed(m.seed);
  model.setDevice(m.device);
  model.build([data.inputDim]);
  if (m.weights) model.setWeights(tensors(m.weights));
  // Resuming an interrupted execution: the optimizer carries on where it was (Adam's moments,
  // the step count behind bias corrections and dropout masks).
  if (m.state) model.setTrainingState(m.state);
  const history = {};
  const epochs = [];
  let best = null;
  let device = null;
  for (let epoch = m.initialEpoch; epoch < m.epochs; epoch++) {
    const h = await model.fit(data.x, data.y, {
      epochs: epoch + 1,
      initialEpoch: epoch,
      batchSize: m.batchSize,
      validationData: [data.vx, data.vy],
      seed: m.seed + epoch,
      verbose: 0,
    });
    if (device === null) {
      const d = model.device;
      device = d && d.note ? `${d.device} (${d.note})` : String(d?.device ?? d);
    }
    const logs = {};
    for (const [k, v] of Object.entries(h.history)) {
      logs[k] = v[v.length - 1];
      (history[k] ??= []).push(logs[k]);
    }
    epochs.push(epoch);
    const weights = plain(model.getWeights());
    const value = logs[m.objective.name];
    if (!best || better(value, best.value, m.objective.direction)) best = { weights, epoch, value };
    let grid = null;
    if (data.grid) grid = (await model.predict(data.grid, { batchSize: 1024 })).data;
    const state = model.getTrainingState();
    self.postMessage({ type: "epoch", job: m.job, epoch, logs, weights, state, grid });
  }
  return { history: { history, epoch: epochs }, best, device };
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    await init();
    if (m.type === "data") {
      data = {
        inputDim: m.inputDim,
        x: tl.tensor(m.x.data, m.x.shape),
        y: tl.tensor(m.y.data, m.y.shape),
        vx: tl.tensor(m.vx.data, m.vx.shape),
        vy: tl.tensor(m.vy.data, m.vy.shape),
        grid: m.grid ? tl.tensor(m.grid.data, m.grid.shape) : null,
      };
      self.postMessage({ type: "data-ready" });
    } else if (m.type === "train") {
      if (!data) throw new Error("the trial worker has no data yet");
      const r = await train(m);
      self.postMessage({ type: "done", job: m.job, ...r });
    }
  } catch (err) {
    self.postMessage({ type: "failed", job: m.job, message: err && err.message ? err.message : String(err) });
  }
};

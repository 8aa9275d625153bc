// The npm package's JS API in Node (the CPU path: Node has no WebGPU).
//
// How to run (after `bash scripts/build-npm.sh` has built pkg/):
//
//     node --test tests/js/node.test.mjs
//
// Node 20+, no npm dependencies. It covers init (no argument, and raw bytes in a child process,
// since init is once per process), tensors, a Sequential model end to end with hand-computed
// numbers, the KerasTuner guide's search, every tuner class, conditional and scoped
// hyperparameters, callbacks, JS HyperModels with a fit override, tuning a plain function via
// runTrial, exports, and the errors bad input gives (each must name the field, and none may be a
// bare wasm trap such as "unreachable").

import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import init, * as tl from "../../pkg/tunelab.js";

const PKG = new URL("../../pkg/", import.meta.url);
const WASM = fileURLToPath(new URL("wasm/tunelab_wasm_bg.wasm", PKG));
const TUNELAB = fileURLToPath(new URL("tunelab.js", PKG));

before(async () => {
  await init();
});

// Awaits `f`, which must fail with an Error whose message matches `re`; engine traps
// ("unreachable", "RuntimeError") must never reach the user.
async function fails(f, re) {
  let err;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected an error matching ${re}, but none was thrown`);
  assert.ok(err instanceof Error, `expected an Error, got ${typeof err}: ${err}`);
  assert.match(err.message, re);
  assert.doesNotMatch(err.message, /unreachable/i);
  assert.ok(!(err instanceof WebAssembly.RuntimeError), `a wasm trap escaped: ${err.message}`);
  return err;
}

function close(actual, expected, tol = 1e-5, what = "value") {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);
}

function closeAll(actual, expected, tol = 1e-5) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) close(actual[i], expected[i], tol, `[${i}]`);
}

// The Playground xor set (500 points, label = sign(x*y) > 0), as tensors.
function xor() {
  return tl.dataset("xor", { noise: 0, seed: 1 });
}

function xorModel(hp) {
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: hp ? hp.Int("units", 4, 16, { step: 4 }) : 16, activation: "relu", inputShape: [2] }));
  m.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
  const lr = hp ? hp.Choice("lr", [0.01, 0.03]) : 0.03;
  m.compile({ optimizer: tl.optimizers.adam({ learningRate: lr }), loss: "binary_crossentropy", metrics: ["accuracy"] });
  return m;
}

// ---------------------------------------------------------------------------------------------
// init

test("init() with no argument loads the .wasm next to tunelab.js and returns the API", async () => {
  const api = await init();
  assert.equal(typeof api.tensor, "function");
  assert.equal(typeof api.RandomSearch, "function");
  assert.match(tl.version(), /^\d+\.\d+\.\d+/);
  // idempotent
  assert.equal(await init(), api);
});

test("init(bytes) in a fresh process; the API refuses to run before init", () => {
  const code = `
    import { readFileSync } from "node:fs";
    import init, * as tl from ${JSON.stringify(TUNELAB)};
    let before = "no error";
    try { tl.version(); } catch (e) { before = e.message; }
    let bad = "no error";
    try { await init(new Uint8Array([0, 97, 115, 109])); } catch (e) { bad = e.message; }
    const api = await init(readFileSync(${JSON.stringify(WASM)}));
    const m = tl.sequential();
    m.add(tl.layers.dense({ units: 1, inputShape: [1], kernelInitializer: "ones" }));
    const p = m.predictOnBatch([[2]]).data[0];
    console.log(JSON.stringify({ before, bad, version: api.version(), p }));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop());
  assert.match(out.before, /not initialised.*init\(\)/);
  assert.notEqual(out.bad, "no error", "init with truncated bytes must reject");
  assert.equal(out.version, tl.version());
  assert.equal(out.p, 2);
});

// ---------------------------------------------------------------------------------------------
// Tensors

test("dispose() frees a model and hyperparameters now; using them afterwards is a clear error", async () => {
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: 2, inputShape: [3] }));
  m.compile({ optimizer: "sgd", loss: "mse" });
  const x = tl.tensor(new Float32Array(6), [2, 3]);
  assert.deepEqual((await m.predict(x)).shape, [2, 2]);
  m.dispose();
  m.dispose(); // twice is harmless
  await assert.rejects(async () => m.predict(x), /disposed/);
  const hp = new tl.HyperParameters();
  assert.equal(hp.Int("units", { minValue: 1, maxValue: 4 }), 1);
  hp.dispose();
  assert.throws(() => hp.get("units"), /disposed/);
});

test("tl.tensor from a Float32Array and a shape, and from nested arrays", () => {
  const a = tl.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.size, 6);
  assert.equal(a.rank, 2);
  assert.deepEqual(a.arraySync(), [[1, 2, 3], [4, 5, 6]]);
  const b = tl.tensor([[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(b.shape, [3, 2]);
  assert.deepEqual([...b.dataSync()], [1, 2, 3, 4, 5, 6]);
  const c = tl.tensor([[[1], [2]], [[3], [4]]]);
  assert.deepEqual(c.shape, [2, 2, 1]);
  const d = tl.tensor([1, 2, 3, 4], [4, 1]);
  assert.deepEqual(d.arraySync(), [[1], [2], [3], [4]]);
  assert.equal(tl.tensor(a), a);
});

test("{data, shape} objects are accepted wherever a tensor is", async () => {
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: 1, inputShape: [2], kernelInitializer: "ones" }));
  const p = await m.predict({ data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] });
  assert.deepEqual([...p.data], [3, 7]);
});

test("tl.tensor({data, shape})", () => {
  const t = tl.tensor({ data: new Float32Array([1, 2]), shape: [2, 1] });
  assert.deepEqual(t.shape, [2, 1]);
});

test("tensor errors name the problem", async () => {
  await fails(() => tl.tensor(new Float32Array(5), [2, 3]), /5 values do not fill shape \[2,3\]/);
  await fails(() => tl.tensor([1, 2], "2"), /shape must be an array/);
  await fails(() => tl.tensor(["a"], [1]), /data must be numbers/);
  await fails(() => tl.tensor([[1, 2], [3]]), /tensor:/);
});

test("a ragged nested array whose total happens to fill the shape is refused", async () => {
  await fails(() => tl.tensor([[1, 2], [3], [4, 5, 6]]), /ragged/);
});

// ---------------------------------------------------------------------------------------------
// Sequential

function twoLayer() {
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: 2, activation: "relu", inputShape: [3] }));
  m.add(tl.layers.dense({ units: 1 }));
  m.compile({ optimizer: "sgd", loss: "mse", metrics: ["mae"] });
  return m;
}

// kernel [in, out] then bias, layer by layer (Keras's order)
const W = [
  tl.tensor([[1, -1], [2, 0], [0, 1]]),
  tl.tensor([0.5, -1], [2]),
  tl.tensor([[2], [-3]]),
  tl.tensor([0.25], [1]),
];
// x = [1, 2, 3]: h = relu([5.5, 1]) -> 2*5.5 - 3*1 + 0.25 = 8.25
// x = [-1, 0, 1]: h = relu([-0.5, 1]) = [0, 1] -> -3 + 0.25 = -2.75
const X2 = [[1, 2, 3], [-1, 0, 1]];

test("setWeights then predict gives the hand-computed dense outputs", async () => {
  const m = twoLayer();
  assert.deepEqual(m.getWeights().map((w) => w.shape), [[3, 2], [2], [2, 1], [1]]);
  assert.equal(m.countParams(), 11);
  m.setWeights(W);
  const p = await m.predict(X2);
  assert.deepEqual(p.shape, [2, 1]);
  closeAll([...p.data], [8.25, -2.75]);
  closeAll([...m.predictOnBatch(tl.tensor(new Float32Array(X2.flat()), [2, 3])).data], [8.25, -2.75]);
  const back = m.getWeights();
  closeAll([...back[0].data], [1, -1, 2, 0, 0, 1]);
  closeAll([...back[3].data], [0.25]);
});

test("trainOnBatch / testOnBatch do one hand-computed SGD step", () => {
  // y = w x + b, w = 2, b = 0, x = 1, target 0, mse: loss 4, dL/dw = dL/db = 4
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: 1, inputShape: [1] }));
  m.compile({ optimizer: tl.optimizers.sgd({ learningRate: 0.1 }), loss: "mse", metrics: ["mae"] });
  m.setWeights([tl.tensor([[2]]), tl.tensor([0], [1])]);
  const logs = m.trainOnBatch([[1]], [[0]], { returnDict: true });
  close(logs.loss, 4, 1e-6, "loss before the step");
  close(logs.mae, 2, 1e-6, "mae before the step");
  const [w, b] = m.getWeights();
  close(w.data[0], 1.6, 1e-6, "w after the step");
  close(b.data[0], -0.4, 1e-6, "b after the step");
  // prediction now 1.2: mse 1.44, mae 1.2; testOnBatch must not change the weights
  const [loss, mae] = m.testOnBatch([[1]], [[0]]);
  close(loss, 1.44, 1e-5);
  close(mae, 1.2, 1e-5);
  close(m.testOnBatch([[1]], [[0]], { returnDict: true }).loss, 1.44, 1e-5);
  close(m.getWeights()[0].data[0], 1.6, 1e-6);
  const list = m.trainOnBatch([[1]], [[0]]);
  assert.ok(Array.isArray(list) && list.length === 2);
});

test("summary is Keras's table", () => {
  const m = twoLayer();
  const s = m.summary();
  assert.match(s, /Model: "sequential"/);
  assert.match(s, /dense \(Dense\)\s+│ \(None, 2\)\s+│\s+8 │/);
  assert.match(s, /Total params: 11/);
});

test("toJSON round trip: a model rebuilt from its JSON with the same weights predicts the same", async () => {
  const m = twoLayer();
  m.setWeights(W);
  const spec = JSON.parse(JSON.stringify(m.toJSON()));
  assert.deepEqual(spec.layers[0], { class_name: "Dense", config: { units: 2, activation: "relu", input_shape: [3] } });
  assert.deepEqual(spec.compile, { optimizer: "sgd", loss: "mse", metrics: ["mae"] });
  const m2 = tl.sequential({ layers: spec.layers });
  m2.compile(spec.compile);
  m2.setWeights(m.getWeights());
  assert.deepEqual(m2.toJSON(), spec);
  closeAll([...(await m2.predict(X2)).data], [8.25, -2.75]);
});

test("fit learns xor (accuracy > 0.9); evaluate and History agree", async () => {
  const { x, y } = xor();
  const m = xorModel();
  m.setSeed(1);
  const epochsSeen = [];
  const h = await m.fit(x, y, {
    epochs: 15,
    batchSize: 16,
    validationSplit: 0.2,
    callbacks: [{ onEpochEnd: (epoch, logs) => epochsSeen.push([epoch, logs]) }],
  });
  assert.deepEqual(h.epoch, [...Array(15).keys()]);
  for (const k of ["loss", "accuracy", "val_loss", "val_accuracy"]) assert.equal(h.history[k].length, 15, k);
  assert.ok(h.history.loss[14] < h.history.loss[0], "loss decreases");
  assert.ok(h.history.val_accuracy[14] > 0.9, `val_accuracy ${h.history.val_accuracy[14]}`);
  // JS callback objects see every epoch with the logs
  assert.equal(epochsSeen.length, 15);
  assert.deepEqual(epochsSeen.map((e) => e[0]), h.epoch);
  close(epochsSeen[14][1].val_accuracy, h.history.val_accuracy[14], 0);
  const ev = await m.evaluate(x, y, { returnDict: true });
  assert.ok(ev.accuracy > 0.9, `accuracy ${ev.accuracy}`);
  const [loss, acc] = await m.evaluate(x, y);
  close(loss, ev.loss, 0);
  close(acc, ev.accuracy, 0);
  // predictions agree with the accuracy
  const p = await m.predict(x);
  let right = 0;
  for (let i = 0; i < p.data.length; i++) right += (p.data[i] > 0.5 ? 1 : 0) === y.data[i] ? 1 : 0;
  close(right / p.data.length, ev.accuracy, 1e-6);
});

test("the same seed gives the same training", async () => {
  const { x, y } = xor();
  const run = async () => {
    const m = xorModel();
    m.setSeed(7);
    return (await m.fit(x, y, { epochs: 2 })).history.loss;
  };
  assert.deepEqual(await run(), await run());
});

// ---------------------------------------------------------------------------------------------
// Callbacks

test("tl.callbacks.earlyStopping stops a fit early", async () => {
  const { x, y } = xor();
  const m = xorModel();
  const h = await m.fit(x, y, { epochs: 50, callbacks: [tl.callbacks.earlyStopping({ monitor: "loss", patience: 2, minDelta: 10 })] });
  assert.ok(h.epoch.length < 50);
  assert.equal(h.epoch.length, 3); // no epoch improves by 10: stops after patience + 1
  assert.equal(h.history.loss.length, 3);
});

test("JS callbacks: onEpochBegin / onEpochEnd in order; a throwing callback fails the fit with its message", async () => {
  const { x, y } = xor();
  const m = xorModel();
  const events = [];
  await m.fit(x, y, {
    epochs: 2,
    callbacks: [{ onEpochBegin: (e) => events.push(`b${e}`), onEpochEnd: (e, logs) => events.push(`e${e}:${typeof logs.loss}`) }],
  });
  assert.deepEqual(events, ["b0", "e0:number", "b1", "e1:number"]);
  await fails(() => m.fit(x, y, { epochs: 2, callbacks: [{ onEpochEnd() { throw new Error("callback boom"); } }] }), /callback boom/);
});

// ---------------------------------------------------------------------------------------------
// The KerasTuner getting-started guide

test("the guide's search (digits, RandomSearch, 3 trials x 2 executions, seed 1)", async () => {
  const d = tl.dataset("digits");
  const y = tl.oneHot(d.y, 10);
  assert.deepEqual(d.x.shape, [1797, 64]);
  assert.deepEqual(y.shape, [1797, 10]);
  function buildModel(hp) {
    const model = tl.sequential();
    model.add(tl.layers.flatten());
    for (let i = 0; i < hp.Int("num_layers", { minValue: 1, maxValue: 3 }); i++) {
      model.add(tl.layers.dense({
        units: hp.Int(`units_${i}`, { minValue: 32, maxValue: 512, step: 32 }),
        activation: hp.Choice("activation", ["relu", "tanh"]),
      }));
    }
    if (hp.Boolean("dropout")) model.add(tl.layers.dropout({ rate: 0.25 }));
    model.add(tl.layers.dense({ units: 10, activation: "softmax" }));
    const lr = hp.Float("lr", { minValue: 1e-4, maxValue: 1e-2, sampling: "log" });
    model.compile({ optimizer: tl.optimizers.adam({ learningRate: lr }), loss: "categorical_crossentropy", metrics: ["accuracy"] });
    return model;
  }
  const tuner = new tl.RandomSearch({
    hypermodel: buildModel, objective: "val_accuracy", maxTrials: 3, executionsPerTrial: 2,
    overwrite: true, directory: "my_dir", projectName: "helloworld", seed: 1,
  });
  const space = tuner.searchSpaceSummary();
  assert.match(space, /Search space summary/);
  assert.match(space, /num_layers \(Int\)/);
  const n = 1437;
  const xt = tl.tensor(d.x.data.slice(0, n * 64), [n, 64]);
  const yt = tl.tensor(y.data.slice(0, n * 10), [n, 10]);
  const xv = tl.tensor(d.x.data.slice(n * 64), [1797 - n, 64]);
  const yv = tl.tensor(y.data.slice(n * 10), [1797 - n, 10]);
  const begun = [];
  const ended = [];
  let epochs = 0;
  let saved = 0;
  await tuner.search(xt, yt, {
    epochs: 2,
    validationData: [xv, yv],
    callbacks: {
      onTrialBegin: (t) => begun.push(t.trialId),
      onTrialEnd: (t) => ended.push(t),
      onEpochEnd: (id, e, logs) => {
        epochs++;
        assert.equal(typeof logs.val_accuracy, "number");
      },
      onSaved: () => saved++,
    },
  });
  assert.equal(ended.length, 3);
  assert.deepEqual(begun, ended.map((t) => t.trialId));
  assert.equal(epochs, 3 * 2 * 2); // trials x executions x epochs
  assert.ok(saved >= 3);
  for (const t of ended) {
    assert.equal(t.status, "COMPLETED");
    assert.ok(t.score > 0.3 && t.score <= 1, `score ${t.score}`);
    assert.equal(t.device, "cpu");
  }
  const summary = tuner.resultsSummary();
  assert.match(summary, /Results summary/);
  assert.match(summary, /Results in my_dir\/helloworld/);
  assert.match(summary, /Objective\(name="val_accuracy", direction="max"\)/);
  assert.equal((summary.match(/^Trial \S+ summary$/gm) ?? []).length, 3);
  // the best model: the best trial's weights, evaluated to its score
  const [best] = await tuner.getBestModels({ numModels: 1 });
  assert.match(best.summary(), /Total params/);
  const ev = await best.evaluate(xv, yv, { returnDict: true });
  const bestTrial = ended.reduce((a, b) => (b.score > a.score ? b : a));
  assert.ok(ev.accuracy > 0.5, `best model accuracy ${ev.accuracy}`);
  assert.ok(bestTrial.score >= ev.accuracy - 0.35, "the best model is a trained one");
  const [bhp] = tuner.getBestHyperparameters(1);
  assert.deepEqual(bhp.values, bestTrial.hyperparameters.values);
  // a second search with the same seed proposes the same trials
  const again = new tl.RandomSearch({ hypermodel: buildModel, objective: "val_accuracy", maxTrials: 3, overwrite: true, seed: 1 });
  await again.search(xt, yt, { epochs: 1, validationData: [xv, yv] });
  assert.deepEqual(again.trials.map((t) => t.hyperparameters.values), ended.map((t) => t.hyperparameters.values));
});

// ---------------------------------------------------------------------------------------------
// Tuners

for (const kind of ["RandomSearch", "GridSearch", "Hyperband", "BayesianOptimization"]) {
  test(`${kind} runs a tiny search`, async () => {
    const { x, y } = xor();
    const opts = { hypermodel: xorModel, objective: "val_accuracy", seed: 1, overwrite: true, projectName: kind };
    if (kind === "Hyperband") Object.assign(opts, { maxEpochs: 3, factor: 3 });
    else opts.maxTrials = 3;
    const tuner = new tl[kind](opts);
    const ended = [];
    await tuner.search(x, y, { epochs: 2, validationSplit: 0.2, callbacks: { onTrialEnd: (t) => ended.push(t) } });
    assert.ok(ended.length >= 3, `${ended.length} trials`);
    assert.equal(tuner.trials.length, ended.length);
    for (const t of ended) {
      assert.equal(t.status, "COMPLETED", t.message);
      assert.ok([4, 8, 12, 16].includes(t.hyperparameters.values.units));
      assert.ok([0.01, 0.03].includes(t.hyperparameters.values.lr));
      assert.ok(t.score >= 0 && t.score <= 1);
    }
    const bestScore = Math.max(...ended.map((t) => t.score));
    const [best] = tuner.getBestHyperparameters(1);
    const bestTrial = ended.find((t) => t.score === bestScore);
    assert.equal(best.values.units, bestTrial.hyperparameters.values.units);
    const [model] = await tuner.getBestModels(1);
    assert.ok(model instanceof tl.Sequential);
    if (kind === "GridSearch") {
      // grid order: units ascending, then lr
      assert.deepEqual(ended.map((t) => [t.hyperparameters.values.units, t.hyperparameters.values.lr]), [[4, 0.01], [4, 0.03], [8, 0.01]]);
    }
    if (kind === "Hyperband") {
      assert.ok(ended.some((t) => t.hyperparameters.values["tuner/epochs"] === 3));
      assert.ok(ended.some((t) => "tuner/trial_id" in t.hyperparameters.values), "a promoted trial");
    }
  });
}

test("trialsJSON and trialsCSV hold every trial with a device column \"cpu\"", async () => {
  const { x, y } = xor();
  const tuner = new tl.RandomSearch({ hypermodel: xorModel, objective: "val_accuracy", maxTrials: 2, seed: 1 });
  await tuner.search(x, y, { epochs: 1, validationSplit: 0.2 });
  const j = tuner.trialsJSON();
  assert.equal(j.trials.length, 2);
  for (const t of j.trials) {
    assert.equal(t.device, "cpu");
    assert.equal(t.status, "COMPLETED");
    assert.ok("units" in t.hyperparameters && "lr" in t.hyperparameters);
    assert.equal(typeof t.metrics.val_accuracy, "number");
  }
  assert.deepEqual(j.best_hyperparameters, tuner.getBestHyperparameters(1)[0].values);
  const lines = tuner.trialsCSV().trim().split("\n");
  const header = lines[0].split(",");
  assert.equal(lines.length, 3);
  assert.ok(header.includes("device") && header.includes("units") && header.includes("val_accuracy") && header.includes("score"));
  const col = header.indexOf("device");
  for (const line of lines.slice(1)) assert.equal(line.split(",")[col], "cpu");
  assert.deepEqual(tuner.device, { device: "cpu", note: null });
});

// ---------------------------------------------------------------------------------------------
// Hyperparameters

test("hp types, conditionalScope and nameScope (values active only under the parent's value)", async () => {
  const hp = new tl.HyperParameters();
  assert.equal(hp.Int("i", 1, 5, 2), 1);
  assert.equal(hp.Int("i2", { minValue: 2, maxValue: 8, step: 2, default: 6 }), 6);
  assert.equal(hp.Float("f", { minValue: 0.5, maxValue: 1 }), 0.5);
  assert.equal(hp.Choice("c", ["x", "y"], { default: "y" }), "y");
  assert.equal(hp.Boolean("b"), false);
  assert.equal(hp.Fixed("fx", 42), 42);
  assert.equal(hp.Choice("kind", ["a", "b"], { default: "b" }), "b");
  hp.conditionalScope("kind", ["a"], () => hp.Int("a_units", 1, 4));
  const bRate = hp.conditionalScope("kind", ["b"], () => hp.Float("b_rate", 0.1, 0.9));
  close(bRate, 0.1, 1e-12);
  hp.nameScope("block", () => hp.Boolean("flag", { default: true }));
  assert.equal(hp.get("block/flag"), true);
  assert.deepEqual(hp.values, { i: 1, i2: 6, f: 0.5, c: "y", b: false, fx: 42, kind: "b", b_rate: 0.1, "block/flag": true });
  const json = hp.toJSON();
  assert.equal(json.space.length, 10);
  assert.match(hp.searchSpaceSummary(), /a_units \(Int\)[\s\S]*'conditions': \[\{'class_name': 'Parent', 'config': \{'name': 'kind', 'values': \['a'\]\}\}\]/);
  await fails(() => hp.get("a_units"), /a_units is currently inactive/);

  // In a search: each grid point's values hold only the active hps
  const seen = [];
  const tuner = new tl.GridSearch({
    objective: "loss",
    runTrial: (trial) => {
      const h = trial.hyperparameters;
      const kind = h.Choice("kind", ["a", "b"]);
      const a = h.conditionalScope("kind", ["a"], () => h.Int("a_units", 1, 2));
      const b = h.conditionalScope("kind", ["b"], () => h.Boolean("b_flag"));
      const k = h.nameScope("blk", () => h.Choice("k", [100, 200]));
      seen.push(h.values);
      return { loss: k + (kind === "a" ? a : b ? 10 : 20) };
    },
  });
  await tuner.search();
  assert.equal(seen.length, 8);
  const expected = [
    { kind: "a", a_units: 1, "blk/k": 100 }, { kind: "a", a_units: 1, "blk/k": 200 },
    { kind: "a", a_units: 2, "blk/k": 100 }, { kind: "a", a_units: 2, "blk/k": 200 },
    { kind: "b", b_flag: false, "blk/k": 100 }, { kind: "b", b_flag: false, "blk/k": 200 },
    { kind: "b", b_flag: true, "blk/k": 100 }, { kind: "b", b_flag: true, "blk/k": 200 },
  ];
  assert.deepEqual(seen.slice(1), expected.slice(1)); // the first trial discovers the space
  assert.deepEqual(tuner.trialsJSON().trials.map((t) => t.hyperparameters), expected);
  assert.deepEqual(tuner.getBestHyperparameters(1)[0].values, { kind: "a", a_units: 1, "blk/k": 100 });
  const csv = tuner.trialsCSV().trim().split("\n");
  assert.equal(csv[0], "trial_id,status,score,best_step,kind,a_units,blk/k,b_flag,loss,device,message");
  assert.match(csv[5], /^0004,COMPLETED,120(\.0)?,,b,,100,False,/);
});

test("tuner.trials' values leave out inactive conditional hps (as trialsJSON does)", async () => {
  const tuner = new tl.GridSearch({
    objective: "loss",
    runTrial: (trial) => {
      const h = trial.hyperparameters;
      const kind = h.Choice("kind", ["a", "b"]);
      h.conditionalScope("kind", ["a"], () => h.Int("a_units", 1, 2));
      return kind === "a" ? 1 : 2;
    },
  });
  await tuner.search();
  assert.deepEqual(tuner.trials.map((t) => t.hyperparameters.values), [{ kind: "a", a_units: 1 }, { kind: "a", a_units: 2 }, { kind: "b" }]);
});

test("parentName / parentValues on every creator (KerasTuner's parent_name / parent_values)", async () => {
  const hp = new tl.HyperParameters();
  assert.equal(hp.Choice("kind", ["a", "b"]), "a");
  assert.equal(hp.Int("a_units", 1, 4, { parentName: "kind", parentValues: ["a"] }), 1);
  close(hp.Float("b_rate", 0.1, 0.9, { parentName: "kind", parentValues: ["b"] }), 0.1, 1e-12);
  assert.equal(hp.Choice("b_act", ["relu", "tanh"], { parentName: "kind", parentValues: "b" }), "relu");
  assert.equal(hp.Boolean("b_flag", { parentName: "kind", parentValues: ["b"] }), false);
  assert.equal(hp.Fixed("a_fixed", 7, { parentName: "kind", parentValues: ["a"] }), 7);
  hp.Int("b_i", { minValue: 1, maxValue: 3, parentName: "kind", parentValues: ["b"] });
  assert.deepEqual(hp.values, { kind: "a", a_units: 1, a_fixed: 7 });
  assert.match(hp.searchSpaceSummary(), /b_flag \(Boolean\)\n\{'default': False, 'conditions': \[\{'class_name': 'Parent', 'config': \{'name': 'kind', 'values': \['b'\]\}\}\]\}/);
  await fails(() => hp.get("b_rate"), /b_rate is currently inactive/);
  await fails(() => hp.Int("x", 1, 2, { parentName: "kind" }), /x\.parentValues/);
  await fails(() => hp.Choice("x", [1, 2], { parentValues: ["a"] }), /x\.parentName/);
  await fails(() => hp.Int("x", 1, 2, { parentName: "nope", parentValues: [1] }), /nope not defined/);
  await fails(() => hp.Fixed("x", 1, { parent: "kind" }), /unknown Fixed option `parent`/);

  // In a search: the grid reaches each branch, and values hold only the active hps
  const tuner = new tl.GridSearch({
    objective: "loss",
    runTrial: (trial) => {
      const h = trial.hyperparameters;
      const kind = h.Choice("kind", ["a", "b"]);
      const a = h.Int("a_units", 1, 2, { parentName: "kind", parentValues: ["a"] });
      const b = h.Boolean("b_flag", { parentName: "kind", parentValues: ["b"] });
      return kind === "a" ? a : b ? 10 : 20;
    },
  });
  await tuner.search();
  assert.deepEqual(tuner.trials.map((t) => t.hyperparameters.values), [{ kind: "a", a_units: 1 }, { kind: "a", a_units: 2 }, { kind: "b", b_flag: false }, { kind: "b", b_flag: true }]);
});

test("isActive, merge, copy, fromJSON / toJSON (KerasTuner's is_active, merge, copy, from_config)", async () => {
  const hp = new tl.HyperParameters();
  hp.Choice("kind", ["a", "b"]);
  hp.Int("a_units", 1, 4, { parentName: "kind", parentValues: ["a"] });
  hp.Boolean("b_flag", { parentName: "kind", parentValues: ["b"] });
  assert.equal(hp.isActive("kind"), true);
  assert.equal(hp.isActive("a_units"), true);
  assert.equal(hp.isActive("b_flag"), false);
  assert.equal(hp.isActive("nothing"), false);
  const space = hp.toJSON().space;
  assert.equal(hp.isActive(space.find((h) => h.config.name === "b_flag")), false);
  assert.equal(hp.isActive(space.find((h) => h.config.name === "a_units")), true);
  await fails(() => hp.isActive(3), /isActive\(nameOrHp\)/);
  await fails(() => hp.isActive({ class_name: "Nope", config: { name: "x" } }), /Nope/);

  // copy: the same space and values, independent afterwards
  const c = hp.copy();
  assert.deepEqual(c.toJSON(), hp.toJSON());
  c.Float("lr", 0.001, 0.1);
  assert.equal(hp.toJSON().space.length, 3);
  assert.equal(c.toJSON().space.length, 4);

  // fromJSON: toJSON's object or its text, round trip
  assert.deepEqual(tl.HyperParameters.fromJSON(hp.toJSON()).toJSON(), hp.toJSON());
  assert.deepEqual(tl.HyperParameters.fromJSON(JSON.stringify(hp.toJSON())).values, { kind: "a", a_units: 1 });
  await fails(() => tl.HyperParameters.fromJSON({ values: {} }), /space/);
  await fails(() => tl.HyperParameters.fromJSON(42), /fromJSON/);

  // merge: new hps join; overwrite (default true, as KerasTuner's) replaces those already here
  const other = new tl.HyperParameters();
  other.Choice("kind", ["b", "c"]);
  other.Float("lr", 0.01, 0.1);
  const kept = hp.copy().merge(other, { overwrite: false });
  assert.equal(kept.get("kind"), "a");
  close(kept.get("lr"), 0.01, 1e-12);
  const replaced = hp.copy().merge(other);
  assert.equal(replaced.get("kind"), "b");
  assert.equal(replaced.isActive("b_flag"), true);
  assert.equal(replaced.isActive("a_units"), false);
  assert.deepEqual(hp.copy().merge(other.toJSON()).toJSON(), replaced.toJSON());
  hp.merge(hp); // itself: no trap
  assert.deepEqual(hp.values, { kind: "a", a_units: 1 });
  await fails(() => hp.merge(other, { overwrite: "yes" }), /overwrite must be true or false/);
  await fails(() => hp.merge(other, { replace: true }), /unknown merge option `replace`/);
  await fails(() => hp.merge(7), /merge\(other\)/);
});

// ---------------------------------------------------------------------------------------------
// HyperModels and runTrial

class ShuffleHyperModel extends tl.HyperModel {
  build(hp) {
    const m = tl.sequential();
    m.add(tl.layers.dense({ units: hp.Int("units", 4, 16, { step: 4 }), activation: "relu", inputShape: [2] }));
    m.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
    m.compile({ optimizer: tl.optimizers.adam({ learningRate: 0.03 }), loss: "binary_crossentropy", metrics: ["accuracy"] });
    return m;
  }
  async fit(hp, model, x, y, options) {
    this.calls = (this.calls ?? 0) + 1;
    this.lastOptions = options;
    assert.ok(model instanceof tl.Sequential);
    return model.fit(x, y, { ...options, shuffle: hp.Boolean("shuffle"), batchSize: hp.Choice("batch_size", [16, 32]) });
  }
}

test("a JS HyperModel class with a fit override: hps tuned inside fit appear in the trial values", async () => {
  const { x, y } = xor();
  const hm = new ShuffleHyperModel();
  const tuner = new tl.RandomSearch({ hypermodel: hm, objective: "val_accuracy", maxTrials: 3, seed: 1 });
  const epochLogs = [];
  await tuner.search(x, y, { epochs: 2, validationSplit: 0.2, callbacks: { onEpochEnd: (id, e, logs) => epochLogs.push([id, e, logs]) } });
  assert.equal(hm.calls, 3);
  assert.equal(hm.lastOptions.epochs, 2);
  close(hm.lastOptions.validationSplit, 0.2, 1e-6);
  assert.equal(tuner.trials.length, 3);
  for (const t of tuner.trialsJSON().trials) {
    assert.equal(t.status, "COMPLETED", t.message);
    assert.deepEqual(Object.keys(t.hyperparameters).sort(), ["batch_size", "shuffle", "units"]);
    assert.equal(typeof t.metrics.val_accuracy, "number");
  }
  assert.match(tuner.searchSpaceSummary(), /batch_size \(Choice\)/);
  assert.match(tuner.resultsSummary(), /shuffle: (True|False)/);
  assert.equal(epochLogs.length, 6);
  assert.equal(typeof epochLogs[0][2].val_accuracy, "number");
});

test("search callbacks from a HyperModel's own fit carry the trial id", async () => {
  const { x, y } = xor();
  const tuner = new tl.RandomSearch({ hypermodel: new ShuffleHyperModel(), objective: "val_accuracy", maxTrials: 1, seed: 1 });
  const ids = [];
  await tuner.search(x, y, { epochs: 1, validationSplit: 0.2, callbacks: { onEpochEnd: (id) => ids.push(id) } });
  assert.deepEqual(ids, [tuner.trials[0].trialId]);
});

test("HyperModel({name, tunable: false}): build's hps stay at their defaults, declareHyperparameters' hps are searched", async () => {
  const { x, y } = xor();
  class FixedUnits extends tl.HyperModel {
    constructor() {
      super({ name: "xor_mlp", tunable: false });
      this.declared = 0;
    }
    declareHyperparameters(hp) {
      this.declared++;
      hp.Float("lr", 0.001, 0.1, { sampling: "log" });
    }
    build(hp) {
      const m = tl.sequential();
      m.add(tl.layers.dense({ units: hp.Int("units", 4, 16, { step: 4, default: 8 }), activation: "relu", inputShape: [2] }));
      m.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
      // the declared hp, read with its creator (a trial records the hps its creators read)
      const lr = hp.Float("lr", 0.001, 0.1, { sampling: "log" });
      m.compile({ optimizer: tl.optimizers.adam({ learningRate: lr }), loss: "binary_crossentropy", metrics: ["accuracy"] });
      return m;
    }
  }
  const hm = new FixedUnits();
  assert.equal(hm.name, "xor_mlp");
  assert.equal(hm.tunable, false);
  assert.equal(new tl.HyperModel().name, null);
  assert.equal(new tl.HyperModel().tunable, true);
  const tuner = new tl.RandomSearch({ hypermodel: hm, objective: "val_accuracy", maxTrials: 4, seed: 1 });
  assert.equal(hm.declared, 1, "declareHyperparameters is called before the first build");
  assert.match(tuner.searchSpaceSummary(), /lr \(Float\)[\s\S]*units \(Fixed\)\n\{'conditions': \[\], 'value': 8\}/);
  await tuner.search(x, y, { epochs: 1, validationSplit: 0.2 });
  const trials = tuner.trialsJSON().trials;
  assert.equal(trials.length, 4);
  for (const t of trials) assert.equal(t.hyperparameters.units, 8, "units stays at its default");
  assert.equal(new Set(trials.map((t) => t.hyperparameters.lr)).size, 4, "lr is searched");
  // the same hypermodel tunable: units is searched
  const open = new tl.RandomSearch({ hypermodel: Object.assign(new FixedUnits(), { tunable: true }), objective: "val_accuracy", maxTrials: 4, seed: 1 });
  assert.match(open.searchSpaceSummary(), /units \(Int\)/);
  await fails(() => new tl.HyperModel({ tunable: 1 }), /tunable must be true or false/);
  await fails(() => new tl.HyperModel({ name: 3 }), /name must be a string/);
  await fails(() => new tl.HyperModel({ nam: "x" }), /unknown HyperModel option `nam`/);
  await fails(() => new tl.RandomSearch({ hypermodel: { build: xorModel, tunable: "no" }, objective: "val_accuracy" }), /hypermodel\.tunable/);
});

test("tune any function: a subclass overriding runTrial finds the minimum", async () => {
  class Quadratic extends tl.RandomSearch {
    async runTrial(trial, center, offset) {
      const x = trial.hyperparameters.Float("x", -1, 1);
      return (x - center) * (x - center) + offset;
    }
  }
  const tuner = new Quadratic({ maxTrials: 30, seed: 1, overwrite: true });
  await tuner.search(0.3, 1);
  assert.equal(tuner.trials.length, 30);
  const best = tuner.getBestHyperparameters(1)[0].values.x;
  assert.ok(Math.abs(best - 0.3) < 0.1, `best x ${best}`);
  const scores = tuner.trials.map((t) => t.score);
  close(Math.min(...scores), (best - 0.3) ** 2 + 1, 1e-9);
  assert.match(tuner.resultsSummary(1), /default_objective/);

  // the same through the runTrial option, returning metrics; Bayesian optimisation gets close
  const bo = new tl.BayesianOptimization({
    objective: "loss", maxTrials: 12, seed: 1,
    runTrial: (trial) => ({ loss: (trial.hyperparameters.Float("x", -2, 2) - 1) ** 2 }),
  });
  await bo.search();
  assert.equal(bo.trials.length, 12);
  assert.ok(Math.abs(bo.getBestHyperparameters()[0].values.x - 1) < 0.25);
});

test("getBestModels / getBestHyperparameters order by score and carry trained weights", async () => {
  const { x, y } = xor();
  const tuner = new tl.GridSearch({ hypermodel: xorModel, objective: "val_accuracy", maxTrials: 4, seed: 1 });
  await tuner.search(x, y, { epochs: 3, validationSplit: 0.2 });
  const scores = tuner.trials.map((t) => t.score).sort((a, b) => b - a);
  const hps = tuner.getBestHyperparameters(3);
  assert.equal(hps.length, 3);
  assert.ok(hps[0] instanceof tl.HyperParameters);
  const byValues = (v) => tuner.trials.find((t) => t.hyperparameters.values.units === v.units && t.hyperparameters.values.lr === v.lr).score;
  assert.deepEqual(hps.map((h) => byValues(h.values)), scores.slice(0, 3));
  const models = await tuner.getBestModels({ numModels: 2 });
  assert.equal(models.length, 2);
  // the best model's weights are the trained ones: on the validation split it scores the trial's best val_accuracy
  const n = x.shape[0];
  const split = Math.floor(n * 0.8);
  const xv = tl.tensor(x.data.slice(split * 2), [n - split, 2]);
  const yv = tl.tensor(y.data.slice(split), [n - split, 1]);
  const ev = await models[0].evaluate(xv, yv, { returnDict: true });
  close(ev.accuracy, scores[0], 1e-6, "best model's val accuracy");
  // No inputShape needed (the shape is stored with each checkpoint); no trials, no models, as in KerasTuner.
  assert.deepEqual(await new tl.RandomSearch({ hypermodel: xorModel, maxTrials: 1 }).getBestModels(), []);
});

// ---------------------------------------------------------------------------------------------
// Errors

test("unknown option keys are named (fit, compile, evaluate, layers, tuner, search, hp)", async () => {
  const { x, y } = xor();
  const m = xorModel();
  await fails(() => m.fit(x, y, { epochz: 1 }), /unknown fit option `epochz`/);
  await fails(() => m.compile({ loss: "mse", optimiser: "adam" }), /unknown compile option `optimiser`/);
  await fails(() => m.evaluate(x, y, { batchsize: 2 }), /unknown evaluate option `batchsize`/);
  await fails(() => m.predict(x, { batch: 2 }), /unknown predict option `batch`/);
  await fails(() => tl.layers.dense({ unit: 3 }), /unknown Dense option `unit`/);
  await fails(() => new tl.RandomSearch({ hypermodel: xorModel, maxTrialz: 3 }), /unknown RandomSearch option `maxTrialz` \(allowed: .*maxTrials/);
  await fails(() => new tl.Hyperband({ hypermodel: xorModel, maxEpoch: 3 }), /unknown Hyperband option `maxEpoch` \(allowed: .*maxEpochs/);
  const t = new tl.RandomSearch({ hypermodel: xorModel, maxTrials: 1 });
  await fails(() => t.search(x, y, { epochz: 1 }), /unknown search option `epochz`/);
  await fails(() => t.search(x, y, { callbacks: { onTrialEnded() {} } }), /unknown search callback `onTrialEnded`/);
  const hp = new tl.HyperParameters();
  await fails(() => hp.Int("i", { minValue: 1, maxValue: 3, stepz: 2 }), /unknown Int option `stepz`/);
  await fails(() => hp.Float("f", { minValue: 0, maxValue: 1, samplng: "log" }), /unknown Float option `samplng`/);
  await fails(() => hp.Choice("c", [1, 2], { orderd: true }), /unknown Choice option `orderd`/);
  await fails(() => hp.Boolean("b", { defualt: true }), /unknown Boolean option `defualt`/);
  await fails(() => m.fit(x, y, { epochs: 1, callbacks: [tl.callbacks.earlyStopping({ monitr: "loss" })] }), /unknown EarlyStopping option `monitr`/);
  await fails(() => m.fit(x, y, { callbacks: [5] }), /callbacks: expected callback objects/);
});

test("unknown loss / optimizer / activation / metric names are named", async () => {
  const { x, y } = xor();
  const mk = (layer, compile) => {
    const m = tl.sequential();
    m.add(layer ?? tl.layers.dense({ units: 1, inputShape: [2] }));
    m.compile(compile);
    return m;
  };
  await fails(() => mk(null, { loss: "mse2" }).fit(x, y), /unknown loss `mse2`; valid loss names are: .*mean_squared_error/);
  await fails(() => mk(null, { loss: "mse", optimizer: "adamm" }).fit(x, y), /unknown optimizer `adamm`/);
  await fails(() => mk(null, { loss: "mse", optimizer: tl.optimizers.adam({ learningrate: 1 }) }).fit(x, y), /unknown adam argument `learningrate`/);
  await fails(() => mk(tl.layers.dense({ units: 1, activation: "rleu" }), { loss: "mse" }).fit(x, y), /unknown activation `rleu`/);
  await fails(() => mk(null, { loss: "mse", metrics: ["acuracy"] }).fit(x, y), /unknown metric `acuracy`/);
  await fails(() => mk(tl.layers.dense({ units: -1 }), { loss: "mse" }).fit(x, y), /layers\[0\]\.config\.units/);
  await fails(() => mk(null, { optimizer: "adam" }), /`loss` is required/);
  const untrained = tl.sequential();
  untrained.add(tl.layers.dense({ units: 1 }));
  await fails(() => untrained.fit(x, y), /must be compiled/);
  await fails(() => untrained.getWeights(), /not built yet/);
});

test("bad data is named: NaN, Infinity, ragged arrays, mismatched rows and shapes, strings", async () => {
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: 1, inputShape: [2] }));
  m.compile({ loss: "mse" });
  await fails(() => m.fit([[NaN, 0]], [[0]]), /training x holds a non-finite value \(NaN\) at sample 0, column 0/);
  await fails(() => m.fit(tl.tensor(new Float32Array([1, 2, 3, NaN]), [2, 2]), [[0], [1]]), /training x .*NaN.* sample 1, column 1/);
  await fails(() => m.fit([[1, 0]], [[Infinity]]), /training y holds a non-finite value/);
  await fails(() => m.predict([[NaN, 1]]), /predict x holds a non-finite value/);
  await fails(() => m.fit([[1, 0], [1]], [[0], [1]]), /`x`: a ragged nested array/);
  await fails(() => m.fit([[1, 0], [2, 1]], [[0]]), /x has 2 samples but y has 1/);
  await fails(() => m.predict([[1, 2, 3]]), /expected \(2,\), got \(3,\)/);
  await fails(() => m.fit([["a", 0]], [[0]]), /`x`/);
  await fails(() => m.fit(new Float32Array(4), [[0]]), /x: a typed array needs a shape/);
  await fails(() => m.fit([[1, 2]]), /y is missing/);
  await fails(() => m.fit([[1, 2]], [[1]], { validationData: [[1, 2]] }), /validationData must be \[xVal, yVal\]/);
  await fails(() => m.fit([[1, 2]], [[1]], { epochs: "3" }), /`epochs`: "3"/);
  await fails(() => m.fit([[1, 2]], [[1]], { batchSize: 0 }), /`batch_size`: 0/);
  await fails(() => m.setWeights([tl.tensor([[1], [2], [3]]), tl.tensor([0], [1])]), /weights\[0\]: expected \(2, 1\), got \(3, 1\)/);
  await fails(() => tl.oneHot(tl.tensor([0, 5], [2, 1]), 3), /label of sample 1 is 5/);
  await fails(() => tl.dataset("nope"), /unknown dataset `nope`; valid dataset names are: circle, xor/);
});

test("bad tuner and hyperparameter input is named: missing hypermodel, wrong types", async () => {
  const { x, y } = xor();
  await fails(() => new tl.RandomSearch({ maxTrials: 2 }), /`hypermodel` is required/);
  await fails(() => new tl.GridSearch(), /`hypermodel` is required/);
  await fails(() => new tl.RandomSearch({ hypermodel: 42 }), /hypermodel must be a function/);
  await fails(() => new tl.RandomSearch("x"), /must be an object of options/);
  await fails(() => new tl.RandomSearch({ hypermodel: xorModel, objective: 5 }), /`objective`: 5/);
  await fails(() => new tl.RandomSearch({ hypermodel: xorModel, maxTrials: "3" }), /max_trials/);
  await fails(() => new tl.BayesianOptimization({ hypermodel: xorModel, alpha: "x" }), /`alpha`: "x"/);
  await fails(() => new tl.RandomSearch({ runTrial: () => 1, objective: "score" }), /Could not infer optimization direction.*"score"/);
  const hp = new tl.HyperParameters();
  await fails(() => hp.Choice("c", "abc"), /Choice\("c"\): values must be an array/);
  await fails(() => hp.Choice("c", []), /Choice\('c'\)\.values/);
  await fails(() => hp.Choice("c", [1, "a"]), /values of one type only/);
  await fails(() => hp.Int("i", { minValue: "1", maxValue: 3 }), /Int\("i"\): minValue must be a finite number, got "1"/);
  await fails(() => hp.Int("i", 5, 1), /Int\('i'\)\.min_value/);
  await fails(() => hp.Float("f", 0, 1, { sampling: "log" }), /min_value > 0 with sampling='log'/);
  await fails(() => hp.Float("f", 0, 1, { sampling: "logg" }), /unknown sampling `logg`/);
  // errors inside build(hp) fail the search with build's own message
  await fails(async () => {
    const t = new tl.RandomSearch({ hypermodel: (h) => { h.Int("a", { minValue: "1", maxValue: 3 }); }, maxTrials: 3, objective: "loss" });
    await t.search(x, y, { epochs: 1 });
  }, /Int\("a"\): minValue must be a finite number/);
  await fails(async () => {
    const t = new tl.RandomSearch({ hypermodel: () => null, maxTrials: 3, objective: "loss" });
    await t.search(x, y, { epochs: 1 });
  }, /build\(hp\) must return a tl\.sequential\(\) model/);
  // an exception in runTrial fails that trial (as KerasTuner), with the message kept
  for (const [run, re] of [
    [() => NaN, /runTrial returned NaN/],
    [() => "x", /runTrial must return a number, an object of metrics/],
  ]) {
    const t = new tl.RandomSearch({ maxTrials: 3, runTrial: run, overwrite: true });
    await t.search();
    assert.ok(t.trials.length >= 1);
    for (const tr of t.trials) {
      assert.equal(tr.status, "FAILED");
      assert.match(tr.message, re);
      assert.doesNotMatch(tr.message, /unreachable/i);
    }
  }
  // a failing objective fails the trial with a message, not the process
  const t = new tl.RandomSearch({ hypermodel: xorModel, maxTrials: 2, objective: "val_accuracy" });
  await t.search(x, y, { epochs: 1 });
  for (const tr of t.trials) {
    assert.equal(tr.status, "FAILED");
    assert.match(tr.message, /`objective`: val_accuracy .*it logs: loss, accuracy/);
  }
});

test("a string in the data is reported without Rust debug formatting", async () => {
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: 1, inputShape: [2] }));
  m.compile({ loss: "mse" });
  const e = await fails(() => m.fit([["a", 0]], [[0]]), /`x`/);
  assert.doesNotMatch(e.message, /JsValue/);
});

// ---------------------------------------------------------------------------------------------
// The widget's search-from-JSON helpers (pkg/widget.js; its view needs a DOM, these do not)

test("widget: configs round-trip through base64url, URI-encoded and plain JSON", async () => {
  const w = await import("../../pkg/widget.js");
  const cfg = { dataset: "xor", title: "é/+? ✓", options: { maxTrials: 2 } };
  const b64 = w.encodeConfig(cfg);
  assert.match(b64, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(w.decodeConfig("#" + b64), cfg);
  assert.deepEqual(w.decodeConfig("#" + encodeURIComponent(JSON.stringify(cfg))), cfg);
  assert.deepEqual(w.decodeConfig(JSON.stringify(cfg)), cfg);
  assert.deepEqual(w.decodeConfig("config=" + b64), cfg);
  assert.equal(w.decodeConfig("#"), null);
  await fails(() => w.decodeConfig("#%7Bbroken"), /config: .*not valid JSON/);
  await fails(() => w.normalizeConfig({ maxTrials: 3 }), /unknown config key `maxTrials`/);
  await fails(() => w.normalizeConfig({ tuner: "nope" }), /unknown config\.tuner `nope`/);
  await fails(() => w.normalizeConfig({ fit: 3 }), /config\.fit must be an object/);
  const n = w.normalizeConfig({ tuner: "hyperband", fit: { validation_split: 0.3 }, one_hot: false });
  assert.equal(n.tuner, "Hyperband");
  assert.deepEqual(n.fit, { validationSplit: 0.3 });
  assert.equal(n.dataset, "digits");
  assert.equal(n.oneHot, false);
  assert.deepEqual(w.normalizeConfig(null).spec, w.GUIDE_SPEC);
});

test("widget: runSearch runs a JSON search (repeat / when blocks, one-hot digits, Hyperband on xor)", async () => {
  const w = await import("../../pkg/widget.js");
  const ends = [];
  const r = await w.runSearch(
    { ...w.DEFAULT_CONFIG, options: { maxTrials: 3, objective: "val_accuracy", seed: 1 }, fit: { epochs: 1, validationSplit: 0.2 } },
    { onTrialEnd: (t) => ends.push(t) },
  );
  assert.equal(r.trials.length, 3);
  assert.equal(ends.length, 3);
  assert.match(r.summary, /Results summary/);
  for (const t of r.trials) {
    assert.equal(t.status, "COMPLETED", t.message);
    const v = t.hyperparameters;
    // units_{i} exist exactly for i < num_layers
    for (let i = 0; i < 3; i++) assert.equal(`units_${i}` in v, i < v.num_layers, JSON.stringify(v));
    assert.equal(typeof v.dropout, "boolean");
  }
  const hb = await w.runSearch({
    dataset: "xor",
    tuner: "Hyperband",
    spec: {
      input_shape: [2],
      layers: [
        { class_name: "Dense", config: { units: { hp: "Int", name: "units", min_value: 4, max_value: 16, step: 4 }, activation: "relu" } },
        { when: { hp: "Boolean", name: "extra" }, layers: [{ class_name: "Dense", config: { units: 4, activation: "relu" } }] },
        { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
      ],
      compile: { optimizer: { class_name: "adam", config: { learning_rate: 0.03 } }, loss: "binary_crossentropy", metrics: ["accuracy"] },
    },
    options: { objective: "val_accuracy", max_epochs: 3, factor: 3, seed: 1 },
    fit: { validation_split: 0.2 },
  });
  assert.ok(hb.trials.length >= 3);
  assert.ok(hb.trials.every((t) => t.status === "COMPLETED"));
  assert.ok(Math.max(...hb.trials.map((t) => t.score)) > 0.8);
  // a bad spec fails the search with the engine's path-named message
  await fails(
    () => w.runSearch({ dataset: "xor", spec: { layers: [{ class_name: "Dense", config: { units: { hp: "Int", name: "u", min_value: 5, max_value: 1 } } }] }, options: { maxTrials: 1 } }),
    /layers\[0\]\.config\.units/,
  );
  await fails(() => w.runSearch({ dataset: "nope" }), /unknown dataset `nope`/);
});

test("stop() and an AbortSignal end a search after the running trial", async () => {
  const { x, y } = xor();
  const t = new tl.RandomSearch({ hypermodel: xorModel, maxTrials: 8, objective: "val_accuracy", overwrite: true });
  let ended = 0;
  await t.search(x, y, { epochs: 1, validationSplit: 0.2, callbacks: { onTrialEnd: () => { ended++; if (ended === 2) t.stop(); } } });
  assert.equal(t.trials.length, 2, "no trial starts after stop()");
  assert.ok(t.trials.every((tr) => tr.status === "COMPLETED"));
  // a later search clears the stop and goes on to maxTrials
  await t.search(x, y, { epochs: 1, validationSplit: 0.2 });
  assert.equal(t.trials.length, 8);
  const ac = new AbortController();
  const u = new tl.RandomSearch({ hypermodel: xorModel, maxTrials: 8, objective: "val_accuracy", overwrite: true });
  await u.search(x, y, { epochs: 1, validationSplit: 0.2, signal: ac.signal, callbacks: { onTrialEnd: () => ac.abort() } });
  assert.equal(u.trials.length, 1);
});

test("an exception in build fails that trial and the search goes on (KerasTuner's behaviour)", async () => {
  const { x, y } = xor();
  let calls = 0;
  const flaky = (hp) => {
    calls++;
    const units = hp.Int("units", { minValue: 2, maxValue: 64 });
    if (calls === 2) throw new Error("flaky build");
    hp.Int("dummy", { minValue: 0, maxValue: 0 });
    return xorModelWith(units);
  };
  const t = new tl.RandomSearch({ hypermodel: flaky, maxTrials: 4, objective: "val_accuracy", overwrite: true });
  await t.search(x, y, { epochs: 1, validationSplit: 0.2 });
  const statuses = t.trials.map((tr) => tr.status);
  assert.equal(statuses.filter((s) => s === "FAILED").length, 1, JSON.stringify(statuses));
  assert.equal(statuses.filter((s) => s === "COMPLETED").length, 3, JSON.stringify(statuses));
  assert.match(t.trials.find((tr) => tr.status === "FAILED").message, /build: flaky build/);
});

function xorModelWith(units) {
  const m = tl.sequential();
  m.add(tl.layers.dense({ units, activation: "relu" }));
  m.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
  m.compile({ optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"] });
  return m;
}

test("a panic inside the engine reaches JS as an Error with its message, not 'unreachable'", () => {
  // in a child process: after a panic the engine instance is unusable
  const script = `
    import init, * as tl from ${JSON.stringify(TUNELAB)};
    await init();
    try { tl._testPanic(); console.log("no error"); }
    catch (e) { console.log(JSON.stringify({ name: e.constructor.name, message: e.message, trap: e instanceof WebAssembly.RuntimeError })); }
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop());
  assert.equal(out.name, "Error");
  assert.equal(out.trap, false);
  assert.match(out.message, /deliberate panic for testing the error path/);
  assert.doesNotMatch(out.message, /^unreachable/);
});

test("getTrainingState / setTrainingState: an interrupted fit resumes exactly in another model", async () => {
  const x = tl.tensor(Float32Array.from({ length: 64 * 3 }, (_, i) => Math.sin(i * 0.37)), [64, 3]);
  const y = tl.tensor(Float32Array.from({ length: 64 }, (_, i) => (Math.cos(i * 0.11) > 0 ? 1 : 0)), [64, 1]);
  const make = () => {
    const m = tl.sequential({ layers: [tl.layers.dense({ units: 6, activation: "tanh" }), tl.layers.dropout({ rate: 0.2 }), tl.layers.dense({ units: 1, activation: "sigmoid" })] });
    m.compile({ optimizer: tl.optimizers.adam({ learningRate: 0.05 }), loss: "binaryCrossentropy" });
    m.setSeed(7);
    m.build([3]);
    return m;
  };
  const epoch = (m, e) => m.fit(x, y, { epochs: e + 1, initialEpoch: e, batchSize: 16, seed: 100 + e });
  const whole = make();
  assert.equal(whole.getTrainingState(), null, "no state before the first step");
  for (let e = 0; e < 4; e++) await epoch(whole, e);
  const first = make();
  for (let e = 0; e < 2; e++) await epoch(first, e);
  const state = first.getTrainingState();
  assert.equal(state.iterations, 8);
  assert.equal(state.slots.length, 4);
  assert.ok(state.slots[0].length >= 2, "Adam keeps its moments per weight");
  assert.ok(state.slots[0][0] instanceof Float32Array);
  // Through JSON, as the page stores it.
  const stored = JSON.parse(JSON.stringify(state, (_, v) => (v instanceof Float32Array ? Array.from(v) : v)));
  const second = make();
  second.setWeights(first.getWeights());
  second.setTrainingState(stored);
  for (let e = 2; e < 4; e++) await epoch(second, e);
  const a = whole.getWeights();
  const b = second.getWeights();
  for (let i = 0; i < a.length; i++) assert.deepEqual(Array.from(b[i].data), Array.from(a[i].data), `weight ${i}`);
  // Without the optimizer's state the resumed run differs (the test would catch a no-op).
  const naive = make();
  naive.setWeights(first.getWeights());
  for (let e = 2; e < 4; e++) await epoch(naive, e);
  assert.notDeepEqual(Array.from(naive.getWeights()[0].data), Array.from(a[0].data));
  assert.throws(() => second.setTrainingState({ iterations: -1, learningRate: 0.1, uProduct: 1, slots: [] }), /trainingState.iterations/);
  assert.throws(() => second.setTrainingState({ iterations: 1, learningRate: 0.1, uProduct: 1, slots: [[[1, 2]]] }), /slots of another shape/);
});

test("an executor (runExecution through bytes, as the page's workers) gives the in-process search, Hyperband and 2 executions", async () => {
  const spec = {
    layers: [
      { class_name: "Dense", config: { units: { hp: "Int", name: "units", min_value: 4, max_value: 16, step: 4 }, activation: "tanh" } },
      { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
    ],
    compile: { optimizer: { class_name: "adam", config: { learning_rate: { hp: "Float", name: "lr", min_value: 0.003, max_value: 0.05, sampling: "log" } } }, loss: "binary_crossentropy", metrics: ["accuracy"] },
    fit: { batch_size: { hp: "Choice", name: "batch_size", values: [16, 32] } },
  };
  const ds = tl.dataset("spiral", { noise: 0.1, seed: 3 });
  const n = ds.x.shape[0];
  const cut = Math.floor((n * 4) / 5);
  const part = (t, a, b) => tl.tensor(t.data.slice(a * t.shape[1], b * t.shape[1]), [b - a, t.shape[1]]);
  const [x, y, xv, yv] = [part(ds.x, 0, cut), part(ds.y, 0, cut), part(ds.x, cut, n), part(ds.y, cut, n)];
  const run = async (withExecutor) => {
    const t = new tl.Hyperband({ hypermodel: tl.specHypermodel(spec), objective: "val_accuracy", maxEpochs: 6, factor: 3, seed: 7, executionsPerTrial: 2, storage: "memory" });
    const infos = [];
    if (withExecutor) {
      const data = tl.executionData({ x, y, xVal: xv, yVal: yv });
      t.setExecutor(async (bytes, info, onEpoch) => {
        infos.push(info);
        await tl.runExecution(bytes, data, (report) => onEpoch(report));
      });
    }
    await t.search(x, y, { validationData: [xv, yv] });
    const trials = t.trialsJSON().trials.map(({ seconds: _s, ...rest }) => rest);
    return { trials, infos };
  };
  const local = await run(false);
  const remote = await run(true);
  assert.ok(local.trials.length >= 5, `${local.trials.length} trials`);
  assert.deepEqual(remote.trials, local.trials);
  assert.ok(local.trials.every((t) => t.status === "COMPLETED"));
  // every trial ran two executions, and Hyperband's later rounds start from their parent's epochs
  assert.equal(remote.infos.length, 2 * remote.trials.length);
  assert.ok(remote.infos.some((i) => i.initialEpoch > 0 && i.values["tuner/trial_id"] !== undefined));
  assert.ok(remote.infos.every((i) => [16, 32].includes(i.values.batch_size)));
});

test("one engine: the CLI (tunelab tune --json), the package in process and the package through an executor give the same trials (random search on spiral, Bayesian optimization on circle, Hyperband on digits, ASHA on circle with 3 workers in the deterministic pool, 2 executions)", async () => {
  const { mkdtempSync, writeFileSync, rmSync, existsSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const cli = fileURLToPath(new URL("../../target/release/tunelab", import.meta.url));
  assert.ok(existsSync(cli), `${cli} is missing: cargo build --release (scripts/test.sh builds it with the Rust tests)`);
  const dir = mkdtempSync(join(tmpdir(), "tunelab-one-engine-"));
  const cases = [
    {
      dataset: "spiral",
      noise: 0.1,
      tuner: ["random", tl.RandomSearch, { maxTrials: 4 }],
      spec: {
        layers: [
          { class_name: "Dense", config: { units: { hp: "Int", name: "units", min_value: 4, max_value: 32, step: 4 }, activation: "tanh" } },
          { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
        ],
        compile: { optimizer: { class_name: "adam", config: { learning_rate: { hp: "Float", name: "lr", min_value: 0.003, max_value: 0.05, sampling: "log" } } }, loss: "binary_crossentropy", metrics: ["accuracy"] },
      },
    },
    {
      // the Gaussian process's proposals too (its exp/ln through the one math module)
      dataset: "circle",
      noise: 5,
      tuner: ["bayesian", tl.BayesianOptimization, { maxTrials: 6, numInitialPoints: 2 }],
      spec: {
        layers: [
          { class_name: "Dense", config: { units: { hp: "Int", name: "units", min_value: 2, max_value: 16 }, activation: "tanh" } },
          { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
        ],
        compile: { optimizer: { class_name: "adam", config: { learning_rate: { hp: "Float", name: "lr", min_value: 0.003, max_value: 0.1, sampling: "log" } } }, loss: "binary_crossentropy", metrics: ["accuracy"] },
      },
    },
    {
      // ASHA's asynchronous pool in simulated time: 3 workers (threads in the CLI; in the
      // package an in-process executor, or the page's) give the same search
      dataset: "circle",
      noise: 5,
      tuner: ["asha", tl.ASHA, { maxEpochs: 4, factor: 2, maxTrials: 8, parallelTrials: 3, schedule: "deterministic" }],
      spec: {
        layers: [
          { class_name: "Dense", config: { units: { hp: "Int", name: "units", min_value: 2, max_value: 16 }, activation: "tanh" } },
          { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
        ],
        compile: { optimizer: { class_name: "adam", config: { learning_rate: 0.03 } }, loss: "binary_crossentropy", metrics: ["accuracy"] },
      },
    },
    {
      dataset: "digits",
      noise: 0,
      tuner: ["hyperband", tl.Hyperband, { maxEpochs: 4, factor: 3 }],
      spec: {
        layers: [
          { class_name: "Dense", config: { units: { hp: "Int", name: "units", min_value: 16, max_value: 128, step: 16 }, activation: "relu" } },
          { class_name: "Dense", config: { units: 10, activation: "softmax" } },
        ],
        compile: { optimizer: { class_name: "adam", config: { learning_rate: 0.01 } }, loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] },
      },
    },
  ];
  try {
    for (const c of cases) {
      const [name, Kind, extra] = c.tuner;
      const specPath = join(dir, `${c.dataset}.json`);
      writeFileSync(specPath, JSON.stringify(c.spec));
      const args = ["tune", specPath, "--dataset", c.dataset, "--noise", String(c.noise), "--seed", "7", "--tuner", name, "--objective", "val_accuracy", "--executions-per-trial", "2", "--epochs", "4", "--batch-size", "32", "--device", "cpu", "--json", "--directory", dir, "--project-name", c.dataset, "--overwrite"];
      if (extra.maxTrials) args.push("--max-trials", String(extra.maxTrials));
      if (extra.maxEpochs) args.push("--max-epochs", String(extra.maxEpochs), "--factor", String(extra.factor));
      if (extra.numInitialPoints) args.push("--num-initial-points", String(extra.numInitialPoints));
      if (extra.parallelTrials) args.push("--parallel-trials", String(extra.parallelTrials), "--schedule", extra.schedule);
      const r = spawnSync(cli, args, { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      const fromCli = JSON.parse(lines[lines.length - 1]).trials;
      const ds = tl.dataset(c.dataset, { noise: c.noise, seed: 7 });
      const x = ds.x;
      const run = async (executor) => {
        const t = new Kind({ hypermodel: tl.specHypermodel(c.spec), objective: "val_accuracy", seed: 7, executionsPerTrial: 2, storage: "memory", ...extra });
        if (executor) {
          // the page's way: each execution's job through bytes, trained by runExecution, the
          // validation split (Keras's: the last 20%) done here as fit does it
          const n = x.shape[0];
          const cut = Math.floor(n * (1 - 0.2));
          const part = (tt, a, b) => tl.tensor(tt.data.slice(a * (tt.data.length / n), b * (tt.data.length / n)), [b - a, ...tt.shape.slice(1)]);
          const data = tl.executionData({ x: part(x, 0, cut), y: part(ds.y, 0, cut), xVal: part(x, cut, n), yVal: part(ds.y, cut, n) });
          t.setExecutor(async (bytes, info, onEpoch) => tl.runExecution(bytes, data, (report) => onEpoch(report)));
        }
        await t.search(x, ds.y, { epochs: 4, batchSize: 32, validationSplit: 0.2 });
        return t.trialsJSON().trials;
      };
      const inProcess = await run(false);
      const viaExecutor = await run(true);
      assert.ok(fromCli.length >= 4, `${c.dataset}: ${fromCli.length} trials`);
      for (const [what, list] of [["in process", inProcess], ["through an executor", viaExecutor]]) {
        assert.deepEqual(list.map((t) => t.trial_id), fromCli.map((t) => t.trial_id), `${c.dataset} ${what}: trial ids`);
        list.forEach((t, i) => {
          const want = fromCli[i];
          // Equal, but for a float drawn on a log scale: its exp/ln are the platform's natively
          // (as in KerasTuner's Python, whose fixtures they match to the bit) and Rust's libm in
          // wasm, which can differ in the last bit.
          assert.deepEqual(Object.keys(t.hyperparameters), Object.keys(want.hyperparameters), `${c.dataset} ${what}: trial ${t.trial_id}'s hyperparameters`);
          for (const [k, v] of Object.entries(want.hyperparameters)) {
            const got = t.hyperparameters[k];
            if (typeof v === "number" && !Number.isInteger(v)) assert.ok(Math.abs(got - v) <= 1e-15 * Math.abs(v) * 4, `${c.dataset} ${what}: trial ${t.trial_id}'s ${k}: ${got} against ${v}`);
            else assert.equal(got, v, `${c.dataset} ${what}: trial ${t.trial_id}'s ${k}`);
          }
          assert.equal(t.status, want.status, `${c.dataset} ${what}: trial ${t.trial_id}'s status`);
          assert.ok(Math.abs(t.score - want.score) <= 1e-4, `${c.dataset} ${what}: trial ${t.trial_id} scores ${t.score}, the CLI ${want.score}`);
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("one table: the page's catalog module is the engine's catalog; the package, the widget and the CLI read their names and defaults from it", async () => {
  const { CATALOG } = await import("../../www/src/catalog.js");
  assert.deepEqual(CATALOG, tl.catalog(), "www/src/catalog.js differs from the engine: run `node scripts/gen-catalog.mjs`");
  const c = tl.catalog();
  assert.deepEqual(c.tuners.map((t) => t.class), ["RandomSearch", "GridSearch", "Hyperband", "BayesianOptimization", "BOHB", "ASHA"]);
  assert.equal(c.tuners.find((t) => t.name === "asha").options.max_trials, 100);
  assert.equal(c.tuners.find((t) => t.name === "hyperband").options.max_epochs, 100);
  assert.deepEqual(c.datasets.map((d) => d.name), tl.datasets.names());
  assert.equal(tl.tunerKind("random_search"), "RandomSearch");
  assert.throws(() => tl.tunerKind("annealing"), /annealing.*random, grid, hyperband, bayesian/);
  assert.deepEqual(tl.lossInfo("cce"), { name: "categorical_crossentropy", targets: "one_hot" });
  assert.equal(tl.lossInfo("SparseCategoricalCrossentropy").targets, "class_ids");
  // The package's options are the table's keys: one outside it is refused, naming the allowed ones.
  assert.throws(() => new tl.RandomSearch({ hypermodel: () => null, maxEpochs: 3 }), /unknown RandomSearch option `maxEpochs`.*maxTrials/);
  const spec = { layers: [{ class_name: "Dense", config: { units: { hp: "Int", name: "u", min_value: 2, max_value: 4 }, activation: "tanh" } }, { class_name: "Dense", config: { units: 1 } }], compile: { optimizer: "adam", loss: "mse" } };
  new tl.BayesianOptimization({ hypermodel: tl.specHypermodel(spec), acquisition: "lcb", beta: 3, alpha: 1e-3, numInitialPoints: 2, storage: "memory" });
  // The new tuners take their options from the same table (camelCase), and refuse bad ones.
  new tl.BOHB({ hypermodel: tl.specHypermodel(spec), maxEpochs: 9, randomFraction: 0.5, minPointsInModel: 3, storage: "memory" });
  new tl.ASHA({ hypermodel: tl.specHypermodel(spec), maxEpochs: 9, model: "gp", randomFraction: 0.5, storage: "memory" });
  assert.throws(() => new tl.ASHA({ hypermodel: tl.specHypermodel(spec), randomFraction: 0.5, storage: "memory" }), /random_fraction.*only with model "gp"/);
  assert.throws(() => new tl.BOHB({ hypermodel: tl.specHypermodel(spec), randomFraction: 2, storage: "memory" }), /random_fraction.*from 0 to 1/);
  // The CLI prints the same document.
  const cli = fileURLToPath(new URL("../../target/release/tunelab", import.meta.url));
  const r = spawnSync(cli, ["catalog"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), c);
});

// ---------------------------------------------------------------------------------------------
// Keras / KerasTuner arguments are honoured or refused, never dropped

// console.log's lines while `f` runs.
async function logged(f) {
  const lines = [];
  const orig = console.log;
  console.log = (...a) => lines.push(a.join(" "));
  try {
    await f();
  } finally {
    console.log = orig;
  }
  return lines;
}

// y = 3x on 64 points of [-1, 1]; a linear model trained by SGD.
function line() {
  const xs = Array.from({ length: 64 }, (_, i) => -1 + (2 * i) / 63);
  return { x: tl.tensor(xs, [64, 1]), y: tl.tensor(xs.map((v) => 3 * v), [64, 1]), xs };
}

function lineModel(lr = 0.1) {
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: 1, inputShape: [1], kernelInitializer: "zeros" }));
  m.compile({ optimizer: tl.optimizers.sgd({ learningRate: lr }), loss: "mse" });
  return m;
}

test("search honours sampleWeight and the validation data's sample weights", async () => {
  const { x, y, xs } = line();
  const run = async (opts) => {
    const t = new tl.RandomSearch({ hypermodel: () => lineModel(), objective: "val_loss", maxTrials: 1, seed: 1, storage: "memory" });
    await t.search(x, y, { epochs: 2, batchSize: 16, shuffle: false, ...opts });
    return t;
  };
  // validation targets 0: a point's val loss is (w x + b)^2; its weight 0 or 1 changes the mean
  const yv = tl.tensor(new Float32Array(64), [64, 1]);
  const wv = xs.map((v) => (v > 0 ? 1 : 0));
  const plain = await run({ validationData: [x, yv] });
  const weighted = await run({ validationData: [x, yv, wv], sampleWeight: xs.map((v) => (v > 0 ? 10 : 0)) });
  const [tp, tw] = [plain.trials[0], weighted.trials[0]];
  assert.equal(tw.status, "COMPLETED", tw.message);
  assert.notEqual(tw.metrics.loss, tp.metrics.loss, "sampleWeight changed nothing");
  // the trial's val_loss is the weighted loss of its (best-epoch) model on the validation data
  const [best] = await weighted.getBestModels();
  close(tw.metrics.val_loss, await best.evaluate(x, yv, { sampleWeight: wv }), 1e-5, "weighted val_loss");
  assert.ok(Math.abs(tw.metrics.val_loss - (await best.evaluate(x, yv))) > 1e-3, "val_loss is the unweighted loss");
});

class PassThroughHyperModel extends tl.HyperModel {
  build() {
    return lineModel();
  }
  async fit(hp, model, x, y, options) {
    this.options = options;
    return model.fit(x, y, { ...options, epochs: options.epochs });
  }
}

test("a HyperModel's fit gets the tuner's callbacks in its options: the best epoch is checkpointed; classWeight passes through", async () => {
  const { x, y } = line();
  // validation targets 0: val_loss grows as the model learns y = 3x, so epoch 0 is the best
  const yv = tl.tensor(new Float32Array(64), [64, 1]);
  const hm = new PassThroughHyperModel();
  const t = new tl.RandomSearch({ hypermodel: hm, objective: "val_loss", maxTrials: 1, seed: 1, storage: "memory" });
  const epochs = [];
  await t.search(x, y, { epochs: 4, batchSize: 16, validationData: [x, yv], callbacks: { onEpochEnd: (id, e) => epochs.push(e) } });
  const trial = t.trials[0];
  assert.equal(trial.status, "COMPLETED", trial.message);
  assert.equal(trial.bestStep, 0);
  assert.deepEqual(epochs, [0, 1, 2, 3], "the search's epoch hooks fire once per epoch");
  assert.ok(Array.isArray(hm.options.callbacks) && hm.options.callbacks.length > 0, "no tuner callbacks in fit's options");
  const [best] = await t.getBestModels();
  close(await best.evaluate(x, yv), trial.score, 1e-5, "the best model's val_loss (best epoch, not the last)");

  // classWeight given to search reaches the HyperModel's fit, and through it model.fit
  const { x: cx, y: cy } = xor();
  const cls = new PassThroughHyperModel();
  cls.build = () => xorModel();
  const t2 = new tl.RandomSearch({ hypermodel: cls, objective: "loss", maxTrials: 1, seed: 1, storage: "memory" });
  await t2.search(cx, cy, { epochs: 1, classWeight: { 0: 1, 1: 5 } });
  assert.deepEqual(cls.options.classWeight, { 0: 1, 1: 5 });
  const plain = new PassThroughHyperModel();
  plain.build = () => xorModel();
  const t4 = new tl.RandomSearch({ hypermodel: plain, objective: "loss", maxTrials: 1, seed: 1, storage: "memory" });
  await t4.search(cx, cy, { epochs: 1 });
  assert.notEqual(t2.trials[0].metrics.loss, t4.trials[0].metrics.loss, "classWeight changed nothing");
  // the tuner's callbacks serve their trial's fit only
  await fails(() => xorModel().fit(cx, cy, hm.options), /tuner's callbacks .* used after that fit returned/);
});

test("Hyperband continues a HyperModel-fit trial from its parent's best epoch, not its last", async () => {
  const { x, y } = line();
  // validation targets 0: val_loss grows epoch after epoch, so each trial's best epoch is its first
  const yv = tl.tensor(new Float32Array(64), [64, 1]);
  const runs = {}; // trial id -> {parent, start kernel, last-epoch kernel}
  let current = null;
  class Recording extends PassThroughHyperModel {
    build(hp) {
      hp.Int("k", 1, 9); // a search space, so that Hyperband has trials to continue
      return lineModel();
    }
    async fit(hp, model, x, y, options) {
      const parent = hp.values["tuner/trial_id"];
      const start = model.getWeights()[0].data[0];
      const h = await super.fit(hp, model, x, y, options);
      runs[current] = { parent, start, last: model.getWeights()[0].data[0] };
      return h;
    }
  }
  const t = new tl.Hyperband({ hypermodel: new Recording(), objective: "val_loss", maxEpochs: 6, factor: 3, seed: 1, storage: "memory" });
  await t.search(x, y, { batchSize: 16, validationData: [x, yv], callbacks: { onTrialBegin: (tr) => (current = tr.trialId) } });
  const continued = Object.values(runs).filter((r) => r.parent !== undefined);
  assert.ok(continued.length > 0, "no trial continued another");
  for (const r of continued) {
    const parent = runs[r.parent];
    close(r.start, t.trialWeights(r.parent)[0].data[0], 1e-7, "the start is the parent's checkpoint");
    assert.ok(Math.abs(r.start - parent.last) > 1e-3, `continued from the parent's last epoch (${parent.last}), not its best`);
  }
});

test("verbose prints Keras's epoch lines through console.log (fit, evaluate, predict, search)", async () => {
  const { x, y } = xor();
  const m = xorModel();
  const quiet = await logged(() => m.fit(x, y, { epochs: 1 }));
  assert.deepEqual(quiet, []);
  const two = await logged(() => m.fit(x, y, { epochs: 2, verbose: 2 }));
  assert.ok(two.includes("Epoch 1/2") && two.includes("Epoch 2/2"), two.join("\n"));
  assert.ok(two.some((l) => /^16\/16 - \d+s - \d+\S*\/step - accuracy: \d\.\d{4} - loss: \d/.test(l)), two.join("\n"));
  const one = await logged(() => m.fit(x, y, { epochs: 1, verbose: 1 }));
  assert.ok(one.includes("Epoch 1/1") && one.some((l) => /^16\/16 ━+ .*loss: /.test(l)), one.join("\n"));
  const ev = await logged(() => m.evaluate(x, y, { verbose: 1 }));
  assert.ok(ev.some((l) => /^16\/16 ━+ .*loss: /.test(l)), ev.join("\n"));
  const pr = await logged(() => m.predict(x, { verbose: 2 }));
  assert.ok(pr.some((l) => /^16\/16 - \d+s - /.test(l)), pr.join("\n"));
  const t = new tl.RandomSearch({ hypermodel: xorModel, objective: "loss", maxTrials: 1, seed: 1, storage: "memory" });
  const s = await logged(() => t.search(x, y, { epochs: 2, verbose: 1 }));
  assert.ok(s.includes("Epoch 1/2") && s.includes("Epoch 2/2"), s.join("\n"));
});

test("trainOnBatch / testOnBatch refuse unknown option keys, naming the allowed ones", async () => {
  const m = xorModel();
  await fails(() => m.trainOnBatch([[0, 1]], [[1]], { sampleWeights: [1] }), /unknown trainOnBatch option `sampleWeights` \(allowed: sampleWeight, classWeight, returnDict\)/);
  await fails(() => m.testOnBatch([[0, 1]], [[1]], { classWeight: { 0: 1 } }), /unknown testOnBatch option `classWeight` \(allowed: sampleWeight, returnDict\)/);
});

test("BayesianOptimization's acquisition: lcb's beta changes the proposals; beta with the default ei is refused", async () => {
  const proposals = async (beta) => {
    const t = new tl.BayesianOptimization({
      runTrial: (trial) => (trial.hyperparameters.Float("x", 0, 1) - 0.3) ** 2,
      maxTrials: 6, numInitialPoints: 2, seed: 3, acquisition: "lcb", beta, storage: "memory",
    });
    await t.search();
    return t.trials.map((tr) => tr.hyperparameters.values.x);
  };
  const [b0, b50] = [await proposals(0), await proposals(50)];
  assert.deepEqual(b0.slice(0, 2), b50.slice(0, 2), "the initial random points are the same");
  assert.notDeepEqual(b0.slice(2), b50.slice(2));
  await fails(() => new tl.BayesianOptimization({ runTrial: () => 0, beta: 3 }), /beta.*lcb/);
  await fails(() => new tl.BayesianOptimization({ runTrial: () => 0, acquisition: "ucb" }), /acquisition.*"ei".*"lcb"/);
});

test("Keras compile arguments: the values that mean what tunelab does are accepted, the others refused with the reason", async () => {
  const { x, y } = xor();
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: 1, activation: "sigmoid", inputShape: [2] }));
  m.compile({ loss: "binary_crossentropy", lossWeights: [1], runEagerly: false, jitCompile: "auto", stepsPerExecution: 1, autoScaleLoss: true });
  await m.fit(x, y, { epochs: 1 });
  m.compile({ loss: "binary_crossentropy", lossWeights: 1, jitCompile: false, autoScaleLoss: false });
  await m.fit(x, y, { epochs: 1 });
  await fails(() => m.compile({ loss: "mse", runEagerly: true }), /run_eagerly.*true.*false/);
  await fails(() => m.compile({ loss: "mse", jitCompile: true }), /jit_compile.*true.*XLA/);
  await fails(() => m.compile({ loss: "mse", stepsPerExecution: 8 }), /steps_per_execution.*8.*1/);
  await fails(() => m.compile({ loss: "mse", lossWeights: [1, 2] }), /loss_weights.*one output/);
  await fails(() => m.compile({ loss: "mse", lossWeights: 0.5 }), /loss_weights.*0\.5.*learningRate/);
  // the spec format takes them too (every surface parses compile in the engine)
  const spec = { layers: [{ class_name: "Dense", config: { units: 1 } }], compile: { loss: "mse", run_eagerly: true } };
  await fails(async () => (await tl.modelFromJSON(spec)).build([2]), /run_eagerly/);
});

test("evaluate / predict take steps, callbacks and verbose", async () => {
  const { x, y } = xor();
  const m = xorModel();
  await m.fit(x, y, { epochs: 1 });
  const head = tl.tensor(x.data.slice(0, 20), [10, 2]);
  const headY = tl.tensor(y.data.slice(0, 10), [10, 1]);
  const [l10] = await m.evaluate(head, headY, { batchSize: 10 });
  const [lSteps] = await m.evaluate(x, y, { batchSize: 5, steps: 2 });
  close(lSteps, l10, 1e-5, "evaluate with steps 2 x 5 rows");
  const p = await m.predict(x, { batchSize: 4, steps: 3 });
  assert.deepEqual(p.shape, [12, 1]);
  const seen = [];
  const cb = {
    onTestBegin: () => seen.push("testBegin"),
    onTestBatchBegin: (b) => seen.push(`test${b}`),
    onTestBatchEnd: (b, logs) => seen.push(`test${b}:${typeof logs.loss}`),
    onTestEnd: (logs) => seen.push(`testEnd:${typeof logs.loss}`),
    onPredictBegin: () => seen.push("predictBegin"),
    onPredictBatchBegin: (b) => seen.push(`predict${b}`),
    onPredictBatchEnd: (b) => seen.push(`predict${b}.`),
    onPredictEnd: () => seen.push("predictEnd"),
  };
  await m.evaluate(x, y, { batchSize: 250, callbacks: [cb] });
  await m.predict(x, { batchSize: 500, callbacks: cb });
  assert.deepEqual(seen, ["testBegin", "test0", "test0:number", "test1", "test1:number", "testEnd:number", "predictBegin", "predict0", "predict0.", "predictEnd"]);
  await fails(() => m.evaluate(x, y, { steps: 0 }), /steps/);
  await fails(() => m.evaluate(x, y, { verbose: 3 }), /verbose.*0, 1 or 2/);
  await fails(() => m.evaluate(x, y, { callbacks: [new tl.TunerCallbacks(1)] }), /evaluate: the tuner's callbacks .* serve model.fit only/);
});

// ---------------------------------------------------------------------------------------------
// Normalization

const SCALED_CSV = fileURLToPath(new URL("../data/scaled-3class.csv", import.meta.url));

async function scaledTable() {
  const { readFileSync } = await import("node:fs");
  const t = tl.csv.parse(readFileSync(SCALED_CSV, "utf8"), { label: "label" });
  return { x: t.x, y: tl.oneHot(t.y, 3) };
}

function tableModel(normalize) {
  const m = tl.sequential();
  if (normalize) m.add(tl.layers.normalization());
  m.add(tl.layers.dense({ units: 16, activation: "relu", inputShape: [6] }));
  m.add(tl.layers.dense({ units: 3, activation: "softmax" }));
  m.compile({ optimizer: tl.optimizers.adam({ learningRate: 0.01 }), loss: "categorical_crossentropy", metrics: ["accuracy"] });
  return m;
}

test("layers.normalization: adapt and apply compute Keras's statistics in the engine", async () => {
  const x = tl.tensor([1, 10, 2, 20, 3, 30, 4, 40], [4, 2]);
  const n = tl.layers.normalization().adapt(x);
  assert.deepEqual(n.config.mean, [2.5, 25]);
  assert.deepEqual(n.config.variance, [1.25, 125]);
  assert.deepEqual(JSON.parse(JSON.stringify(n)).class_name, "Normalization");
  const z = tl.layers.normalization().apply(x);
  closeAll(Array.from(z.data).slice(0, 2), [-1.3416407, -1.3416407], 1e-5);
  const given = tl.layers.normalization({ mean: new Float32Array([1, 2]), variance: [4, 1] });
  closeAll(Array.from(given.apply(tl.tensor([[3, 3]])).data), [1, 1]);
  await fails(() => tl.layers.normalization({ axis: 0 }).adapt(x), /layer\.config\.axis/);
  await fails(() => tl.layers.normalization({ invert: true }).apply(x), /layer\.config\.invert/);
  await fails(() => tl.layers.normalization({ mean: [1] }).apply(x), /mean \/ .*variance/);
  await fails(() => tl.layers.normalization({ axes: -1 }), /unknown Normalization option `axes`/);
});

test("a model with a Normalization layer trains on columns from 0.05 to 5,000; without it, it does not", async () => {
  const { x, y } = await scaledTable();
  const best = async (normalize) => {
    const m = tableModel(normalize);
    const h = await m.fit(x, y, { epochs: 40, validationSplit: 0.25, verbose: 0 });
    return [Math.max(...h.history.val_accuracy), m];
  };
  const [raw] = await best(false);
  const [norm, m] = await best(true);
  assert.ok(norm >= 0.95 && raw < norm - 0.2, `raw ${raw}, normalized ${norm}`);
  // fit adapted it on the training rows (450 of 600): toJSON, getWeights, save and the TF.js
  // export carry the statistics.
  const layer = m.toJSON().layers[0];
  assert.equal(layer.class_name, "Normalization");
  assert.equal(layer.config.mean.length, 6);
  const w = m.getWeights();
  assert.deepEqual(w.map((t) => t.shape).slice(0, 4), [[6], [6], [], [6, 16]]);
  assert.equal(w[2].data[0], 450);
  const want = await m.predict(x);
  const loaded = tl.loadModel(m.save());
  closeAll(Array.from((await loaded.predict(x)).data), Array.from(want.data), 1e-6);
  const fromSpec = tl.modelFromJSON(m.toJSON());
  fromSpec.setWeights(w);
  closeAll(Array.from((await fromSpec.predict(x)).data), Array.from(want.data), 1e-6);
});

// The guide's HyperModel (image_size shared by build and fit; `x = layers.Normalization()(x)` in
// fit when hp.Boolean("normalize")), on digits.
test("the guide's HyperModel with Normalization in fit", async () => {
  const d = tl.dataset("digits");
  const n = 600;
  const x = tl.tensor(d.x.data.slice(0, n * 64), [n, 8, 8]);
  const y = tl.oneHot(tl.tensor(d.y.data.slice(0, n), [n, 1]), 10);
  const crop = (t, side) => {
    const rows = t.shape[0];
    const out = new Float32Array(rows * side * side);
    for (let i = 0; i < rows; i++)
      for (let r = 0; r < side; r++)
        for (let c = 0; c < side; c++) out[(i * side + r) * side + c] = t.data[i * 64 + r * 8 + c];
    return tl.tensor(out, [rows, side, side]);
  };
  class MyHyperModel extends tl.HyperModel {
    build(hp) {
      const side = hp.Int("image_size", 4, 8);
      const model = tl.sequential();
      model.add(tl.layers.flatten({ inputShape: [side, side] }));
      model.add(tl.layers.dense({ units: hp.Int("units", { minValue: 32, maxValue: 512, step: 32 }), activation: "relu" }));
      model.add(tl.layers.dense({ units: 10, activation: "softmax" }));
      model.compile({ optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
      return model;
    }
    async fit(hp, model, x, y, { validationData, ...options } = {}) {
      const side = hp.get("image_size");
      let cx = crop(x, side);
      const norm = tl.layers.normalization();
      const normalize = hp.Boolean("normalize");
      if (normalize) cx = norm.apply(cx);
      if (validationData) {
        let [xv, yv] = validationData;
        xv = crop(xv, side);
        if (normalize) xv = norm.apply(xv);
        validationData = [xv, yv];
      }
      this.normalized = (this.normalized ?? 0) + (normalize ? 1 : 0);
      return model.fit(cx, y, { ...options, shuffle: hp.Boolean("shuffle"), validationData });
    }
  }
  const hm = new MyHyperModel();
  const tuner = new tl.RandomSearch({ hypermodel: hm, objective: "val_accuracy", maxTrials: 4, seed: 3 });
  const xv = tl.tensor(d.x.data.slice(n * 64, (n + 200) * 64), [200, 8, 8]);
  const yv = tl.oneHot(tl.tensor(d.y.data.slice(n, n + 200), [200, 1]), 10);
  await tuner.search(x, y, { epochs: 2, validationData: [xv, yv] });
  const trials = tuner.trialsJSON().trials;
  assert.equal(trials.length, 4);
  for (const t of trials) {
    assert.equal(t.status, "COMPLETED", t.message);
    assert.deepEqual(Object.keys(t.hyperparameters).sort(), ["image_size", "normalize", "shuffle", "units"]);
  }
  assert.ok(hm.normalized > 0, "some trial normalized");
  assert.ok(Math.max(...trials.map((t) => t.score)) > 0.5);
});

// ---------------------------------------------------------------------------------------------
// Metrics written in JS, as objectives

// The guide's CustomMetric (a Keras Metric subclass), in JS: the mean squared error kept in the
// object's own state.
class CustomMetric {
  constructor() {
    this.name = "custom_metric";
    this.resetState();
  }
  updateState(yTrue, yPred) {
    for (let i = 0; i < yTrue.data.length; i++) this.sum += (yTrue.data[i] - yPred.data[i]) ** 2;
    this.count += yTrue.data.length;
  }
  result() {
    return this.sum / this.count;
  }
  resetState() {
    this.sum = 0;
    this.count = 0;
  }
}

function regressor(hp, metrics) {
  const m = tl.sequential();
  m.add(tl.layers.dense({ units: hp.Int("units", { minValue: 4, maxValue: 16, step: 4 }), activation: "relu", inputShape: [2] }));
  m.add(tl.layers.dense({ units: 1 }));
  m.compile({ optimizer: "adam", loss: "mean_squared_error", metrics });
  return m;
}

test("the guide's CustomMetric and a metric function are objectives of a search", async () => {
  const d = tl.dataset("reg-plane", { seed: 2 });
  // A TF.js-style metric function: one value per sample (here a tl.Tensor), averaged by the engine.
  function absError(yTrue, yPred) {
    return tl.tensor(yTrue.data.map((v, i) => Math.abs(v - yPred.data[i])), [yTrue.shape[0]]);
  }
  const tuner = new tl.RandomSearch({
    hypermodel: (hp) => regressor(hp, [new CustomMetric(), absError, "mae"]),
    objective: { name: "val_custom_metric", direction: "min" },
    maxTrials: 3,
    seed: 1,
  });
  await tuner.search(d.x, d.y, { epochs: 3, validationSplit: 0.2 });
  const trials = tuner.trialsJSON().trials;
  assert.equal(trials.length, 3);
  for (const t of trials) {
    assert.equal(t.status, "COMPLETED", t.message);
    // custom_metric is the squared error, so it equals val_loss (mse); absError equals mae.
    close(t.metrics.val_custom_metric, t.metrics.val_loss, 1e-4, "val_custom_metric vs val_loss");
    close(t.metrics.val_absError, t.metrics.val_mae, 1e-4, "val_absError vs val_mae");
    close(t.score, t.metrics.val_custom_metric, 1e-6, "the objective is the custom metric");
  }
  const best = trials.reduce((a, t) => (t.score < a.score ? t : a));
  assert.deepEqual(tuner.getBestHyperparameters(1)[0].values, best.hyperparameters, "best trial by the custom metric");
  // Plain fit and evaluate log them too.
  const m = regressor(new tl.HyperParameters(), [new CustomMetric(), absError]);
  const h = await m.fit(d.x, d.y, { epochs: 2, validationSplit: 0.25, verbose: 0 });
  assert.deepEqual(Object.keys(h.history).sort(), ["absError", "custom_metric", "loss", "val_absError", "val_custom_metric", "val_loss"]);
  const ev = await m.evaluate(d.x, d.y, { returnDict: true });
  close(ev.custom_metric, ev.loss, 1e-4);
});

test("metrics written in JS: bad ones are refused with their name, a throwing one fails the fit", async () => {
  const d = tl.dataset("reg-plane", { seed: 2 });
  const hp = new tl.HyperParameters();
  await fails(() => regressor(hp, [(a, b) => 0]), /metrics\[0\]: a metric function needs a name/);
  await fails(() => regressor(hp, [{ name: "x", updateState() {} }]), /metrics\[0\]: a metric object needs result\(\)/);
  await fails(() => regressor(hp, [42]), /metrics\[0\]: expected a metric name, a function/);
  function broken() {
    throw new Error("metric boom");
  }
  await fails(() => regressor(hp, [broken]).fit(d.x, d.y, { epochs: 1, verbose: 0 }), /metric `broken` threw: "?metric boom/);
  function wrongLength() {
    return [1, 2, 3];
  }
  await fails(() => regressor(hp, ["mae", wrongLength]).fit(d.x, d.y, { epochs: 1, verbose: 0 }), /metric `wrongLength`.*3 values for a batch of 32/);
  const bad = new CustomMetric();
  bad.result = () => "high";
  await fails(() => regressor(hp, [bad]).fit(d.x, d.y, { epochs: 2, verbose: 0 }), /custom_metric`\.result\(\) returned "high"/);
});

test("ASHA's asynchronous pool: with parallelTrials a runTrial worker that frees up starts the next trial at once; batches wait", async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const run = async (schedule) => {
    const order = [];
    const tuner = new tl.ASHA({
      maxEpochs: 9, factor: 3, maxTrials: 12, seed: 2, parallelTrials: 3, schedule,
      runTrial: async (trial) => {
        const hp = trial.hyperparameters;
        const x = hp.Float("x", -1, 1);
        const epochs = hp.values["tuner/epochs"] - hp.values["tuner/initial_epoch"];
        order.push(["begin", trial.trialId]);
        await sleep(4 * epochs + (x > 0 ? 3 : 0));
        order.push(["end", trial.trialId]);
        return (x - 0.2) ** 2 / epochs;
      },
    });
    await tuner.search();
    assert.equal(tuner.trials.length, 12);
    assert.ok(tuner.trials.every((t) => t.status === "COMPLETED"));
    // a trial that begins right after an end while others still run: what no batch does
    let running = 0, afterEnd = false, overlapped = false;
    for (const [what] of order) {
      if (what === "begin") { if (afterEnd && running > 0) overlapped = true; running += 1; afterEnd = false; }
      else { running -= 1; afterEnd = true; }
    }
    return overlapped;
  };
  assert.equal(await run(null), true, "ASHA's own schedule is asynchronous");
  assert.equal(await run("batches"), false, "batches wait for their slowest trial");
  await assert.rejects(() => run("later"), /schedule.*"later".*deterministic/);
});

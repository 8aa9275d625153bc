// The playground for learners and teachers (issue 21), in Node through the npm package (pkg/,
// `bash scripts/build-npm.sh`) and the page's own modules (www/src): the default search's
// scores over tuner seeds 1-10, the lessons' states and links, the race's equal budgets, and the
// CSV Normalization step in the spec and the Keras code.
//
//   node --test tests/js/learners.test.mjs

import { before, test } from "node:test";
import assert from "node:assert/strict";
import init, * as tl from "../../pkg/tunelab.js";
import { decodeState, defaultState, encodeState, engineOptions, taskOf, tunerClass, validateState } from "../../www/src/state.js";
import { buildSpec, parseSpecText, specText } from "../../www/src/spec.js";
import { LESSONS, lessonById, lessonLink, lessonState } from "../../www/src/lessons.js";
import { hyperbandEpochs, raceCurve, raceOf } from "../../www/src/race.js";
import { kerasSnippet } from "../../www/src/python.js";

before(async () => {
  await init();
});

function rows(t, idx) {
  const d = t.shape[1] ?? 1;
  const out = new Float32Array(idx.length * d);
  idx.forEach((r, i) => out.set(t.data.subarray(r * d, r * d + d), i * d));
  return tl.tensor(out, [idx.length, d]);
}

/**
 * Runs a page state's search in process: the data as the page's search worker builds it (the
 * engine's data set, input features and split), the spec from the page's own state -> spec code,
 * the tuner and its options as the page sends them. Returns the engine's trials.
 */
async function searchOf(state) {
  const d = state.data;
  const ds = tl.dataset(d.source, { noise: d.noise, seed: d.seed });
  const x = tl.features(ds.x, d.features);
  const split = tl.splitIndices(x.shape[0], { trainPercent: d.trainPct, seed: d.seed });
  const train = Array.from(split.train);
  const test = Array.from(split.test);
  const { spec, fit } = buildSpec(state, taskOf(state));
  const t = state.tuner;
  // The tuner's options as the page's search worker sends them (engineOptions).
  const options = { hypermodel: tl.specHypermodel(JSON.stringify({ ...spec, fit })), objective: t.objective, seed: t.seed, executionsPerTrial: t.executionsPerTrial, storage: "memory", ...engineOptions(t) };
  const tuner = new tl[tunerClass(t.kind)](options);
  await tuner.search(rows(x, train), rows(ds.y, train), { validationData: [rows(x, test), rows(ds.y, test)] });
  return tuner.trialsJSON().trials;
}

test("the default search reaches val_accuracy >= 0.95 on every tuner seed from 1 to 10", { timeout: 300_000 }, async () => {
  const scores = [];
  for (let seed = 1; seed <= 10; seed++) {
    const s = defaultState();
    const trials = await searchOf(validateState({ ...s, tuner: { ...s.tuner, seed } }));
    assert.equal(trials.length, s.tuner.maxTrials);
    scores.push(Math.max(...trials.map((t) => t.score)));
  }
  console.log(`the default search's best val_accuracy, tuner seeds 1-10: ${scores.map((x) => x.toFixed(3)).join(" ")}`);
  scores.forEach((x, i) => assert.ok(x >= 0.95, `seed ${i + 1}: best val_accuracy ${x}`));
});

test("the lessons: at least eight, each with words and a valid state whose link decodes to exactly that state", () => {
  assert.ok(LESSONS.length >= 8);
  assert.equal(new Set(LESSONS.map((l) => l.id)).size, LESSONS.length, "lesson ids are unique");
  for (const l of LESSONS) {
    for (const k of ["title", "question", "look", "explain"]) assert.ok(typeof l[k] === "string" && l[k].length > 20, `${l.id}.${k}`);
    const s = lessonState(l);
    assert.equal(s.lesson, l.id);
    assert.deepEqual(validateState(s), s);
    assert.deepEqual(decodeState(lessonLink(l)), s);
    assert.equal(lessonById(l.id), l);
    // Each lesson differs from the default search (it is an experiment of its own).
    assert.notDeepEqual({ ...s, lesson: null }, defaultState(), l.id);
    if (s.race) assert.doesNotThrow(() => raceOf(s), l.id);
  }
  // A link may name a lesson the page does not have (it shows the settings, and says so).
  assert.equal(lessonById("no-such-lesson"), undefined);
  assert.throws(() => decodeState("#" + encodeState({ ...defaultState(), race: { a: "random", b: "random" } })), /race\.b: "random" is the same tuner as race\.a/);
  assert.throws(() => validateState({ ...defaultState(), race: { a: "random", b: "annealing" } }), /race\.b: "annealing" is not a tuner/);
  assert.throws(() => validateState({ ...defaultState(), tuner: { ...defaultState().tuner, pace: "slow" } }), /tuner\.pace: "slow" is not a pace \(fast, watch\)/);
});

test("the race: Hyperband's epochs from its plan are the engine's, and the other tuner gets exactly as many", async () => {
  // The plan (the bracket chart's) against the engine's own Hyperband: epochs trained per trial,
  // each later round continuing from its parent.
  for (const [maxEpochs, factor] of [[10, 3], [9, 3], [8, 2]]) {
    const s = defaultState();
    const st = validateState({ ...s, model: { ...s.model, epochs: { value: 5 } }, tuner: { ...s.tuner, kind: "hyperband", maxEpochs, factor } });
    const trials = await searchOf(st);
    const spent = trials.reduce((n, t) => n + t.hyperparameters["tuner/epochs"] - t.hyperparameters["tuner/initial_epoch"], 0);
    assert.equal(spent, hyperbandEpochs(maxEpochs, factor), `max epochs ${maxEpochs}, factor ${factor}`);
  }
  const s = lessonState(lessonById("hyperband-race"));
  const r = raceOf(s);
  assert.equal(r.budget, 120);
  const [a, b] = r.sides;
  assert.equal(a.kind, "random");
  assert.equal(a.state.tuner.maxTrials * a.state.model.epochs.value, r.budget);
  assert.equal(b.state.tuner.kind, "hyperband");
  assert.equal(a.state.race, null);
  // Without Hyperband: the state's max trials of its epochs, for both.
  const g = raceOf(lessonState(lessonById("random-vs-grid")));
  assert.deepEqual(g.sides.map((x) => x.state.tuner.maxTrials * x.state.model.epochs.value), [g.budget, g.budget]);
  // The default state races random search and Hyperband evenly (12 trials of 10 epochs).
  const d = raceOf({ ...defaultState(), race: { a: "random", b: "hyperband" } });
  assert.deepEqual([d.budget, d.epochs, d.sides[0].state.tuner.maxTrials], [120, 10, 12]);
  // A max epochs whose budget only splits into short trials is refused, naming good ones
  // (20, factor 3: 226 epochs = 2 x 113).
  const uneven = validateState({ ...defaultState(), tuner: { ...defaultState().tuner, maxEpochs: 20 }, race: { a: "hyperband", b: "bayesian" } });
  assert.throws(() => raceOf(uneven), /^Error: tuner\.maxEpochs: 20 makes Hyperband \(factor 3\) train 226 epochs, which split evenly only into trials of 2 epochs .*pick max epochs 18, 21, 23$/);
  // A tuned number of epochs has no fixed budget.
  const ranged = validateState({ ...defaultState(), model: { ...defaultState().model, epochs: { hp: "Int", min: 5, max: 10 } }, race: { a: "random", b: "grid" } });
  assert.throws(() => raceOf(ranged), /model\.epochs: a race needs a fixed number of epochs/);
  // The curve: best so far (failed trials carry it on) against the epochs spent.
  const c = raceCurve([{ status: "COMPLETED", score: 0.5, epochs: 4 }, { status: "FAILED", score: null, epochs: 4 }, { status: "COMPLETED", score: 0.9, tuner: { epochs: 6, initialEpoch: 2 } }], "max");
  assert.deepEqual(c, { spent: 12, points: [[4, 0.5], [8, 0.5], [12, 0.9]] });
});

test("BOHB and ASHA: the engine takes the page's options for them and searches; the race gives BOHB Hyperband's plan and stops ASHA at the budget", { timeout: 120_000 }, async () => {
  const s = defaultState();
  const small = { ...s.model, epochs: { value: 4 } };
  const of = (tuner) => validateState({ ...s, model: small, tuner: { ...s.tuner, ...tuner } });
  // BOHB: Hyperband's plan (max epochs 3, factor 3: 3 + 1 and 2 trials), its model's options
  const bohb = await searchOf(of({ kind: "bohb", maxEpochs: 3, factor: 3, randomFraction: 0.5, minPointsInModel: 2 }));
  assert.equal(bohb.length, 6);
  assert.equal(bohb.reduce((n, t) => n + t.hyperparameters["tuner/epochs"] - t.hyperparameters["tuner/initial_epoch"], 0), hyperbandEpochs(3, 3));
  // ASHA with each model: max trials, rungs of 1, 2 and 4 epochs, promotions
  for (const model of ["random", "gp"]) {
    const asha = await searchOf(of({ kind: "asha", maxEpochs: 4, factor: 2, maxTrials: 8, model, randomFraction: 0.5 }));
    assert.equal(asha.length, 8, model);
    const rungs = new Set(asha.map((t) => t.hyperparameters["tuner/epochs"]));
    assert.ok(rungs.has(1) && rungs.has(2), `${model}: rungs ${[...rungs]}`);
    assert.ok(asha.some((t) => t.hyperparameters["tuner/trial_id"]), `${model}: a promotion`);
  }
  // the engine refuses the model's options with "random": engineOptions leaves them out
  assert.throws(() => new tl.ASHA({ hypermodel: tl.specHypermodel(specText(s)), maxEpochs: 4, model: "random", randomFraction: 0.5 }), /random_fraction/);
  assert.deepEqual(Object.keys(engineOptions(of({ kind: "asha", model: "random", randomFraction: 0.5 }).tuner)).sort(), ["factor", "maxEpochs", "maxTrials", "model"]);
  // the race: BOHB spends Hyperband's plan, the other side trials of E epochs
  const race = (a, b, tuner = {}) => raceOf(validateState({ ...s, tuner: { ...s.tuner, ...tuner }, race: { a, b } }));
  const rb = race("random", "bohb");
  assert.deepEqual([rb.budget, rb.epochs, rb.sides[0].state.tuner.maxTrials], [120, 10, 12]);
  assert.equal(rb.sides[1].state.tuner.kind, "bohb");
  // ASHA: max trials enough to spend the budget in first-rung trials (2 epochs for max epochs
  // 10, factor 3), stopped by the page once it has spent the budget
  const ra = race("hyperband", "asha");
  assert.equal(ra.budget, 120);
  assert.deepEqual([ra.sides[1].budgetStop, ra.sides[1].state.tuner.maxTrials], [true, 60]);
  assert.equal(ra.sides[0].budgetStop, undefined);
  // no fixed-epoch side: no uneven split to refuse (max epochs 20 is refused against Bayesian)
  assert.doesNotThrow(() => race("hyperband", "asha", { maxEpochs: 20 }));
  assert.throws(() => race("bohb", "bayesian", { maxEpochs: 20 }), /^Error: tuner\.maxEpochs: 20 makes BOHB \(factor 3\) train 226 epochs/);
  // without Hyperband or BOHB: max trials x epochs, ASHA's max trials capped by the page's limit
  const rr = race("random", "asha", { maxTrials: 10 });
  assert.equal(rr.budget, 10 * s.model.epochs.value);
  assert.equal(rr.sides[1].state.tuner.maxTrials, Math.ceil(rr.budget / 2));
});

test("CSV data: the Normalization step leads the spec when on (the default), is left out when off, maps back from the JSON, and the Keras code adapts it", () => {
  const base = defaultState();
  const csv = validateState({ ...base, data: { ...base.data, source: "csv", csv: { name: "wine.csv", label: "class", columns: [], task: "classification" } } });
  const task = { kind: "multiclass", classes: 3 };
  assert.equal(csv.model.normalize, true);
  const on = buildSpec(csv, task).spec;
  assert.deepEqual(on.layers[0], { class_name: "Normalization", config: { axis: -1 } });
  const off = validateState({ ...csv, model: { ...csv.model, normalize: false } });
  assert.ok(buildSpec(off, task).spec.layers.every((l) => l.class_name !== "Normalization"));
  // Built-in data sets never get it.
  assert.ok(buildSpec(base).spec.layers.every((l) => l.class_name !== "Normalization"));
  // The JSON editor: the step is the switch, both ways.
  assert.deepEqual(parseSpecText(specText(csv, task), task, csv.model, { csv: true }), { model: csv.model });
  assert.deepEqual(parseSpecText(specText(off, task), task, csv.model, { csv: true }), { model: off.model });
  // Elsewhere a hand-written Normalization layer is a custom spec, kept as written.
  assert.ok(parseSpecText(specText(csv, task), task, base.model).custom);
  const resolved = { layers: [{ class_name: "Normalization", config: { axis: -1 } }, { class_name: "Dense", config: { units: 8, activation: "relu" } }, { class_name: "Dense", config: { units: 3, activation: "softmax" } }], compile: { optimizer: { class_name: "adam", config: { learning_rate: 0.01 } }, loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] } };
  const py = kerasSnippet(resolved, { inputDim: 13, batchSize: 10, epochs: 20 });
  assert.match(py, /keras\.layers\.Normalization\(axis=-1\),/);
  assert.match(py, /model\.layers\[0\]\.adapt\(x_train\)/);
  assert.ok(py.indexOf("adapt(x_train)") < py.indexOf("model.fit("));
});

// The playground's pure chart helpers (www/src/importance.js): hp importance, KerasTuner's
// Hyperband schedule and the running best.
//
//     node --test tests/js/importance.test.mjs
//
// Node 20+, no npm dependencies and no build needed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { hpImportance, hyperbandPlan, bestSoFar, progressLine } from "../../www/src/importance.js";
import { mulberry32 } from "../../www/src/rng.js";

const rng = mulberry32;

const trial = (id, hps, score, status = "COMPLETED") => ({ id: String(id).padStart(2, "0"), status, hps, score });

function sumsToOne(list) {
  const s = list.reduce((a, r) => a + r.importance, 0);
  assert.ok(Math.abs(s - 1) < 1e-9, `importances sum to ${s}`);
  for (const r of list) assert.ok(r.importance >= 0 && r.importance <= 1, `${r.name}: ${r.importance}`);
}

test("a numeric hp that sets the score outweighs an irrelevant one", () => {
  const r = rng(1);
  const trials = [];
  for (let i = 0; i < 30; i++) {
    const lr = 10 ** (-4 + 3 * r()); // log-uniform in [1e-4, 1e-1]
    const units = [16, 32, 64, 128][Math.floor(r() * 4)];
    // Accuracy rises with log10(lr); the noise is small next to the trend (range 0.3).
    const score = 0.6 + 0.1 * (Math.log10(lr) + 4) + 0.01 * (r() - 0.5);
    trials.push(trial(i, { learning_rate: lr, units_0: units }, score));
  }
  const imp = hpImportance(trials, "max");
  assert.deepEqual(imp.map((x) => x.name), ["learning_rate", "units_0"]);
  assert.ok(imp[0].importance > 0.8, JSON.stringify(imp));
  sumsToOne(imp);
  // The direction does not change the estimate.
  assert.deepEqual(hpImportance(trials, "min"), imp);
});

test("a categorical hp that sets the score is found (eta squared)", () => {
  const r = rng(7);
  const base = { relu: 0.9, tanh: 0.7, sigmoid: 0.5 };
  const trials = [];
  for (let i = 0; i < 24; i++) {
    const act = ["relu", "tanh", "sigmoid"][i % 3];
    const shuffle = r() < 0.5; // an irrelevant boolean
    const dropout = Math.round(r() * 5) / 10; // an irrelevant number
    trials.push(trial(i, { activation_0: act, shuffle, dropout_1: dropout }, base[act] + 0.02 * (r() - 0.5)));
  }
  const imp = hpImportance(trials, "max");
  assert.equal(imp[0].name, "activation_0");
  assert.ok(imp[0].importance > 0.8, JSON.stringify(imp));
  assert.equal(imp.length, 3);
  sumsToOne(imp);
});

test("a boolean hp that sets the score is found", () => {
  const r = rng(3);
  const trials = [];
  for (let i = 0; i < 16; i++) {
    const flag = i % 2 === 0;
    trials.push(trial(i, { use_bias: flag, units_0: 8 + Math.floor(r() * 100) }, (flag ? 0.2 : 0.5) + 0.01 * r()));
  }
  const imp = hpImportance(trials, "min");
  assert.equal(imp[0].name, "use_bias");
  assert.ok(imp[0].importance > 0.8, JSON.stringify(imp));
});

test("hps that are constant over the trials are left out", () => {
  const trials = [];
  for (let i = 0; i < 10; i++) {
    trials.push(trial(i, { learning_rate: 0.001 * (i + 1), optimizer: "adam", epochs: 5 }, 1 / (i + 1)));
  }
  const imp = hpImportance(trials, "min");
  assert.deepEqual(imp.map((x) => x.name), ["learning_rate"]);
  assert.equal(imp[0].importance, 1);
});

test("fewer than 2 usable trials give []", () => {
  assert.deepEqual(hpImportance([], "min"), []);
  assert.deepEqual(hpImportance([trial(0, { a: 1 }, 0.5)], "min"), []);
  // Only one of these is completed with a finite score.
  assert.deepEqual(
    hpImportance([trial(0, { a: 1 }, 0.5), trial(1, { a: 2 }, null), trial(2, { a: 3 }, 0.1, "RUNNING")], "min"),
    [],
  );
  assert.deepEqual(hpImportance(undefined, "min"), []);
});

test("NaN, null and failed trials are ignored", () => {
  const good = [];
  for (let i = 0; i < 8; i++) good.push(trial(i, { lr: i + 1, units: i % 2 ? 32 : 64 }, i * 0.1));
  const noisy = [
    ...good,
    trial(20, { lr: 100, units: 32 }, NaN),
    trial(21, { lr: -5, units: 64 }, null),
    trial(22, { lr: 0.5, units: 32 }, Infinity),
    { id: "23", status: "FAILED", hps: { lr: 3, units: 16 }, score: null, message: "boom" },
    { id: "24", status: "INVALID", hps: { lr: 9 }, score: 0.3 },
    { id: "25", status: "RUNNING" },
  ];
  assert.deepEqual(hpImportance(noisy, "min"), hpImportance(good, "min"));
  assert.equal(hpImportance(good, "min")[0].name, "lr");
});

test("equal scores give zero importances, not NaN", () => {
  const trials = [];
  for (let i = 0; i < 6; i++) trials.push(trial(i, { lr: i, act: i % 2 ? "relu" : "tanh" }, 0.5));
  const imp = hpImportance(trials, "max");
  assert.equal(imp.length, 2);
  for (const r of imp) assert.equal(r.importance, 0);
});

test("an hp absent from some trials is measured where it is present", () => {
  // units_1 exists only when num_layers is 2; the score follows units_1 where it exists.
  const trials = [];
  for (let i = 0; i < 12; i++) {
    const hps = { num_layers: 2, units_1: 8 * (i + 1) };
    trials.push(trial(i, hps, 1 - i * 0.05));
  }
  trials.push(trial(12, { num_layers: 1 }, 0.95));
  trials.push(trial(13, { num_layers: 1 }, 0.2));
  const imp = hpImportance(trials, "min");
  assert.equal(imp[0].name, "units_1");
  sumsToOne(imp);
});

// KerasTuner's Hyperband arithmetic (tuners/hyperband.py, min_epochs = 1):
//   brackets: divide max_epochs by factor while it stays >= 1
//   size(b, r)   = ceil( ceil(1 + log_factor(max_epochs)) / (b + 1) * factor^(b - r) )
//   epochs(b, r) = ceil( max_epochs / factor^(b - r) )
const plan = (list) => list.map(([bracket, rounds]) => ({
  bracket,
  rounds: rounds.map(([trials, epochs], round) => ({ round, trials, epochs })),
}));
const total = (p) => p.reduce((s, b) => s + b.rounds.reduce((t, r) => t + r.trials, 0), 0);

test("hyperbandPlan(27, 3) is KerasTuner's schedule", () => {
  // 27 -> 9 -> 3 -> 1 -> 1/3: 4 brackets (3, 2, 1, 0). ceil(1 + log3 27) = 4.
  // b3: 4/4 = 1;   sizes 1*27=27, 1*9=9, 1*3=3, 1*1=1;       epochs 27/27=1, 27/9=3, 27/3=9, 27
  // b2: 4/3;       sizes ceil(4/3*9)=12, ceil(4/3*3)=4, ceil(4/3)=2;  epochs 3, 9, 27
  // b1: 4/2 = 2;   sizes 2*3=6, 2*1=2;                      epochs 9, 27
  // b0: 4/1 = 4;   size 4;                                  epochs 27
  const expected = plan([
    [3, [[27, 1], [9, 3], [3, 9], [1, 27]]],
    [2, [[12, 3], [4, 9], [2, 27]]],
    [1, [[6, 9], [2, 27]]],
    [0, [[4, 27]]],
  ]);
  assert.deepEqual(hyperbandPlan(27, 3), expected);
  assert.equal(total(expected), 70);
});

test("hyperbandPlan(81, 3) is KerasTuner's schedule (log3 81 is exactly 4)", () => {
  // 81 -> 27 -> 9 -> 3 -> 1 -> 1/3: 5 brackets. ceil(1 + log3 81) = 5 (CPython's
  // math.log(81, 3) is 4.0; a naive Math.log(81) / Math.log(3) is 4.000000000000001 -> 6).
  // b4: 5/5 = 1;     sizes 81, 27, 9, 3, 1;                          epochs 1, 3, 9, 27, 81
  // b3: 5/4 = 1.25;  sizes ceil(33.75)=34, ceil(11.25)=12, ceil(3.75)=4, ceil(1.25)=2;  epochs 3, 9, 27, 81
  // b2: 5/3;         sizes 5/3*9=15, 5/3*3=5, ceil(5/3)=2;           epochs 9, 27, 81
  // b1: 5/2 = 2.5;   sizes ceil(7.5)=8, ceil(2.5)=3;                 epochs 27, 81
  // b0: 5;           size 5;                                         epochs 81
  const expected = plan([
    [4, [[81, 1], [27, 3], [9, 9], [3, 27], [1, 81]]],
    [3, [[34, 3], [12, 9], [4, 27], [2, 81]]],
    [2, [[15, 9], [5, 27], [2, 81]]],
    [1, [[8, 27], [3, 81]]],
    [0, [[5, 81]]],
  ]);
  assert.deepEqual(hyperbandPlan(81, 3), expected);
  assert.equal(total(expected), 211);
});

test("hyperbandPlan(10, 3) and (100, 3) match the reference's schedules", () => {
  // 10 -> 3.33 -> 1.11 -> 0.37: 3 brackets. log3 10 = 2.096, ceil(3.096) = 4.
  // b2: 4/3;  sizes ceil(4/3*9)=12, ceil(4/3*3)=4, ceil(4/3)=2;  epochs ceil(10/9)=2, ceil(10/3)=4, 10
  // b1: 2;    sizes 2*3=6, 2;                                   epochs 4, 10
  // b0: 4;    size 4;                                           epochs 10
  const ten = plan([
    [2, [[12, 2], [4, 4], [2, 10]]],
    [1, [[6, 4], [2, 10]]],
    [0, [[4, 10]]],
  ]);
  assert.deepEqual(hyperbandPlan(10, 3), ten);
  assert.equal(total(ten), 30);
  // 100: 5 brackets; log3 100 = 4.19, ceil(5.19) = 6.
  // b4: 6/5 = 1.2; sizes ceil(97.2)=98, ceil(32.4)=33, ceil(10.8)=11, ceil(3.6)=4, ceil(1.2)=2;
  //     epochs ceil(100/81)=2, ceil(100/27)=4, ceil(100/9)=12, ceil(100/3)=34, 100
  // b3: 1.5;  sizes ceil(40.5)=41, ceil(13.5)=14, ceil(4.5)=5, 2   b2: 2; sizes 18, 6, 2
  // b1: 3;    sizes 9, 3                                           b0: 6
  const hundred = plan([
    [4, [[98, 2], [33, 4], [11, 12], [4, 34], [2, 100]]],
    [3, [[41, 4], [14, 12], [5, 34], [2, 100]]],
    [2, [[18, 12], [6, 34], [2, 100]]],
    [1, [[9, 34], [3, 100]]],
    [0, [[6, 100]]],
  ]);
  assert.deepEqual(hyperbandPlan(100, 3), hundred);
  assert.equal(total(hundred), 254);
});

test("hyperbandPlan edge cases", () => {
  // max_epochs = 1: one bracket; ceil(1 + log 1) = 1.
  assert.deepEqual(hyperbandPlan(1, 3), plan([[0, [[1, 1]]]]));
  // 3 -> 1 -> 1/3: 2 brackets; ceil(1 + 1) = 2. b1: 2/2*3 = 3 (1 epoch), 1 (3 epochs); b0: 2 (3).
  assert.deepEqual(hyperbandPlan(3, 3), plan([[1, [[3, 1], [1, 3]]], [0, [[2, 3]]]]));
  assert.deepEqual(hyperbandPlan(10, 1), []);
  assert.deepEqual(hyperbandPlan(0, 3), []);
  assert.deepEqual(hyperbandPlan(undefined, 3), []);
});

test("bestSoFar for min and max", () => {
  assert.deepEqual(bestSoFar([0.5, 0.7, 0.3, 0.4, 0.1], "min"), [0.5, 0.5, 0.3, 0.3, 0.1]);
  assert.deepEqual(bestSoFar([0.5, 0.7, 0.3, 0.9, 0.1], "max"), [0.5, 0.7, 0.7, 0.9, 0.9]);
  assert.deepEqual(bestSoFar([null, NaN, 2, undefined, 1], "min"), [null, null, 2, 2, 1]);
  assert.deepEqual(bestSoFar([], "max"), []);
});

test("progressLine: a search that ran out of configurations says so, and its bar is full", () => {
  assert.deepEqual(progressLine(3, 10, "running"), { text: "3 of 10 trials · running", max: 10 });
  assert.deepEqual(progressLine(10, 10, "finished"), { text: "10 of 10 trials · finished", max: 10 });
  // A grid of 4 configurations with max trials 6.
  assert.deepEqual(progressLine(4, 6, "finished"), { text: "4 of 6 trials · finished: no new configuration was left to try", max: 4 });
  // Stopped or paused short of the count: not "ran out".
  assert.equal(progressLine(4, 6, "stopped (Resume carries on)").text, "4 of 6 trials · stopped (Resume carries on)");
  assert.equal(progressLine(4, 6, "paused").max, 6);
});

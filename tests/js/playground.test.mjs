// The playground page's pure modules (www/src/state.js, spec.js, python.js): the state's
// validation and URL encoding (the gate for shared links), the page state -> engine spec mapping
// and back, and the Keras snippet.
//
//     node --test tests/js/playground.test.mjs
//
// Node 20+, no npm dependencies, no engine build needed.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ACQUISITIONS,
  ASHA_MODELS,
  DATASETS,
  LIMITS,
  SECTIONS,
  TUNERS,
  bayesianOptions,
  decodeState,
  engineOptions,
  defaultObjective,
  defaultState,
  encodeState,
  objectivesFor,
  taskOf,
  validateP,
  validateState,
} from "../../www/src/state.js";
import { buildSpec, cliCommand, fitHps, layerHpName, parseSpecText, resolveFit, specText } from "../../www/src/spec.js";
import { CATALOG } from "../../www/src/catalog.js";
import { kerasSnippet, pyFloat, pyStr } from "../../www/src/python.js";

const BINARY = { kind: "binary", classes: 2 };
const MULTI = { kind: "multiclass", classes: 10 };
const REGRESSION = { kind: "regression", classes: null };

// A hash holding any JSON (no validation on the way in), to feed decodeState bad states.
function rawHash(obj) {
  const bytes = new TextEncoder().encode(typeof obj === "string" ? obj : JSON.stringify(obj));
  return "#s=" + Buffer.from(bytes).toString("base64url");
}

function withModel(patch, base = defaultState()) {
  return { ...base, model: { ...base.model, ...patch } };
}

function throwsMatching(f, ...res) {
  let err;
  try {
    f();
  } catch (e) {
    err = e;
  }
  assert.ok(err, "expected an error");
  assert.ok(err instanceof Error, `expected an Error, got ${err}`);
  for (const re of res) assert.match(err.message, re);
  return err;
}

// A state using most of what the form can express.
function richState() {
  const s = defaultState();
  s.data = { ...s.data, source: "csv", noise: 15, trainPct: 70, seed: 123, features: ["x1", "sin(x2)"], csv: { name: 'données "été" <b>\n.csv', label: "y ✓", columns: ["a", "b,c", "y ✓"], task: "classification" } };
  s.model = {
    hidden: [
      { type: "dense", units: { hp: "Int", min: 8, max: 256, step: 2, sampling: "log" }, activation: { value: "gelu" } },
      { type: "dropout", rate: { hp: "Float", min: 0, max: 0.5, sampling: "linear" } },
      { type: "dense", units: { value: 3 }, activation: { hp: "Choice", values: ["relu", "leaky_relu", "swish"] } },
      { type: "dropout", rate: { hp: "Boolean" } },
    ],
    repeat: { min: 1, max: 4 },
    regularizer: "l2",
    regRate: { hp: "Float", min: 1e-5, max: 0.01, sampling: "log" },
    optimizer: { hp: "Choice", values: ["adam", "rmsprop", "nadam"] },
    learningRate: { value: 0.0031 },
    batchSize: { hp: "Int", min: 8, max: 64, step: 8, sampling: "linear" },
    epochs: { hp: "Int", min: 5, max: 50, step: 1, sampling: "linear" },
    normalize: false,
  };
  s.tuner = { ...s.tuner, kind: "bayesian", objective: "val_loss", numInitialPoints: 4, device: "cpu", workers: 8 };
  s.hide = ["json", "share"];
  return s;
}

// ---------------------------------------------------------------------------------------------
// state.js

test("the default state is valid, normalised, and round-trips through the URL hash exactly", () => {
  const s = defaultState();
  assert.deepEqual(validateState(s), s);
  const hash = encodeState(s);
  assert.match(hash, /^s=[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeState("#" + hash), s);
  assert.deepEqual(decodeState(hash), s);
  assert.equal(encodeState(decodeState(hash)), hash);
  assert.deepEqual(decodeState(""), s);
  assert.deepEqual(decodeState("#"), s);
  // the default search is the small one the brief describes
  assert.equal(s.data.source, "circle");
  assert.equal(s.data.noise, 10);
  assert.equal(s.tuner.pace, "watch");
  assert.equal(s.lesson, null);
  assert.equal(s.race, null);
  assert.deepEqual(s.model.hidden[0].units, { hp: "Int", min: 2, max: 16, step: 2, sampling: "linear" });
  assert.deepEqual(s.model.learningRate, { hp: "Float", min: 1e-3, max: 1e-1, sampling: "log" });
  assert.equal(s.tuner.workers, 2);
  assert.equal(s.spec, null);
});

test("a rich state with non-ASCII text and a custom spec round-trips exactly", () => {
  const s = richState();
  assert.deepEqual(decodeState(encodeState(s)), s);
  const custom = { ...s, spec: JSON.stringify({ name: "modèle 🚀", layers: [{ class_name: "Dense", config: { units: 3 } }] }) };
  assert.deepEqual(decodeState(encodeState(custom)), custom);
});

test("missing fields are filled from the defaults; unknown keys are refused by path", () => {
  assert.deepEqual(validateState({}), defaultState());
  const s = validateState({ data: { source: "digits" }, model: { hidden: [] }, tuner: { objective: "val_loss" } });
  assert.equal(s.data.source, "digits");
  assert.equal(s.data.trainPct, 50);
  assert.deepEqual(s.model.hidden, []);
  assert.deepEqual(s.model.optimizer, { value: "adam" });
  // a range's step and sampling have defaults
  const p = validateState({ model: { hidden: [{ type: "dense", units: { hp: "Int", min: 1, max: 4 } }] } }).model.hidden[0];
  assert.deepEqual(p.units, { hp: "Int", min: 1, max: 4, step: 1, sampling: "linear" });
  assert.deepEqual(p.activation, { value: "tanh" });
  throwsMatching(() => validateState({ data: { colour: 1 } }), /^data: unknown key "colour"/);
  throwsMatching(() => validateState({ model: { hidden: [{ type: "dense", unit: { value: 2 } }] } }), /model\.hidden\[0\]: unknown key "unit"/);
  throwsMatching(() => validateState({ model: { hidden: [{ type: "dense", units: { value: 2, extra: 1 } }] } }), /model\.hidden\[0\]\.units: unknown key "extra"/);
  throwsMatching(() => validateState({ __proto__: null, x: 1 }), /unknown key "x"/);
  throwsMatching(() => validateState(JSON.parse('{"__proto__": {"polluted": true}}')), /unknown key "__proto__"/);
  assert.equal({}.polluted, undefined);
  throwsMatching(() => validateState({ v: 2 }), /^v: 2 is not a known state version/);
});

test("decodeState refuses bad links with messages that name the field", () => {
  throwsMatching(() => decodeState("#s=%%%"), /not valid base64url/);
  throwsMatching(() => decodeState("#s=abcde"), /not valid base64url/);
  throwsMatching(() => decodeState(rawHash("not json at all")), /not valid JSON/);
  throwsMatching(() => decodeState("#s=" + Buffer.from([0xff, 0xfe, 0x7b]).toString("base64url")), /not UTF-8/);
  throwsMatching(() => decodeState("#config=abc"), /expected #s=/);
  throwsMatching(() => decodeState(rawHash([1, 2])), /^state: \[1,2\] is not an object/);

  const big = defaultState();
  big.model.hidden[0] = { type: "dense", units: { value: 1e9 }, activation: { value: "relu" } };
  throwsMatching(() => decodeState(rawHash(big)), /^model\.hidden\[0\]\.units\.value: 1000000000 is too large \(1\.\.4096\)/);
  const bigMax = defaultState();
  bigMax.model.hidden[0].units.max = 1e9;
  throwsMatching(() => decodeState(rawHash(bigMax)), /model\.hidden\[0\]\.units\.max: 1000000000 is too large \(1\.\.4096\)/);

  const many = defaultState();
  many.model.hidden = Array.from({ length: 10_000 }, () => ({ type: "dense", units: { value: 4 }, activation: { value: "relu" } }));
  throwsMatching(() => validateState(many), /^model\.hidden: 10000 entries is too many \(at most 32\)/);
  // short entries, so the link itself stays under the size limit: the count is checked first
  many.model.hidden = Array(10_000).fill(0);
  throwsMatching(() => decodeState(rawHash(many)), /^model\.hidden: 10000 entries is too many \(at most 32\)/);

  const xss = defaultState();
  xss.model.hidden[1].activation = { value: "<script>" };
  const e = throwsMatching(() => decodeState(rawHash(xss)), /^model\.hidden\[1\]\.activation\.value: "<script>" is not an allowed activation/);
  assert.match(e.message, /relu, tanh/);
  const xssChoice = defaultState();
  xssChoice.model.hidden[0].activation.values = ["relu", "<img src=x onerror=alert(1)>"];
  throwsMatching(() => decodeState(rawHash(xssChoice)), /model\.hidden\[0\]\.activation\.values\[1\]/);

  throwsMatching(() => decodeState("#s=" + "A".repeat(300_000)), /too long \(300002 characters; at most 204800\)/);
  // refused before any decoding: even junk of that size gives the size message
  throwsMatching(() => decodeState("#" + "!".repeat(205_000)), /too long/);
});

test("validateState enforces the page's limits", () => {
  const bad = (patch, re) => throwsMatching(() => validateState(patch), re);
  const layer = (l) => ({ model: { hidden: [l] } });
  bad(layer({ type: "dropout", rate: { value: 1 } }), /model\.hidden\[0\]\.rate\.value: 1 is too large \(0\.\.0\.99\)/);
  bad(layer({ type: "dropout", rate: { value: -0.1 } }), /rate\.value: -0\.1 is too small/);
  bad(layer({ type: "dropout", rate: { hp: "Float", min: 0, max: 0.5, sampling: "log" } }), /rate\.min: 0 must be above 0 with log sampling/);
  bad(layer({ type: "dense", units: { value: 2.5 } }), /units\.value: 2\.5 is not an integer/);
  bad(layer({ type: "dense", units: { hp: "Int", min: 9, max: 3 } }), /units\.min: 9 is larger than max \(3\)/);
  bad(layer({ type: "dense", units: { hp: "Float", min: 1, max: 3 } }), /units\.hp: "Float" is not a range kind for units \(Int\)/);
  bad(layer({ type: "dense", activation: { hp: "Choice", values: [] } }), /activation\.values: \[\] is empty/);
  bad(layer({ type: "dense", activation: { hp: "Choice", values: ["relu", "relu"] } }), /values\[1\]: "relu" is listed twice/);
  bad(layer({ type: "dense", activation: { hp: "Choice", values: Array(33).fill("relu") } }), /33 entries is too many \(at most 32\)/);
  bad(layer({ type: "conv" }), /model\.hidden\[0\]\.type: "conv" is not a layer type/);
  bad({ model: { learningRate: { value: 0 } } }, /model\.learningRate\.value: 0 is too small \(0\.000001\.\.10\)/);
  bad({ model: { batchSize: { value: 5000 } } }, /model\.batchSize\.value: 5000 is too large \(1\.\.4096\)/);
  bad({ model: { epochs: { hp: "Int", min: 1, max: 501 } } }, /model\.epochs\.max: 501 is too large \(1\.\.500\)/);
  bad({ model: { optimizer: { value: "lion" } } }, /model\.optimizer\.value: "lion" is not an allowed optimizer/);
  bad({ model: { repeat: { min: 1, max: 20 } } }, /model\.repeat\.max: 20 repeats 2 layers into 40 \(at most 32 hidden layers\)/);
  bad({ model: { regularizer: "l3" } }, /model\.regularizer: "l3" is not a regularizer/);
  bad({ tuner: { maxTrials: 1001 } }, /tuner\.maxTrials: 1001 is too large \(1\.\.1000\)/);
  bad({ tuner: { executionsPerTrial: 6 } }, /tuner\.executionsPerTrial/);
  bad({ tuner: { workers: 9 } }, /tuner\.workers: 9 is too large \(1\.\.8\)/);
  bad({ tuner: { factor: 1 } }, /tuner\.factor: 1 is too small \(2\.\.10\)/);
  bad({ tuner: { seed: 2 ** 31 } }, /tuner\.seed: 2147483648 is too large/);
  bad({ tuner: { seed: -1 } }, /tuner\.seed: -1 is too small/);
  bad({ tuner: { kind: "evolution" } }, /tuner\.kind: "evolution" is not a tuner \(random, grid, hyperband, bayesian, bohb, asha\)/);
  bad({ tuner: { objective: "val_mae" } }, /tuner\.objective: "val_mae" is not an objective for a binary task/);
  bad({ data: { noise: 51 } }, /data\.noise: 51 is too large \(0\.\.50\)/);
  bad({ data: { trainPct: 5 } }, /data\.trainPct: 5 is too small \(10\.\.90\)/);
  bad({ data: { features: ["x1", "x3"] } }, /data\.features\[1\]: "x3" is not a feature/);
  bad({ data: { features: [] } }, /data\.features: \[\] is empty/);
  bad({ data: { source: "csv", csv: { name: "x".repeat(201), task: "regression" } } }, /data\.csv\.name: .* is too long \(201 characters; at most 200\)/);
  bad({ hide: ["editor", "everything"] }, /hide\[1\]: "everything" is not a section/);
  bad({ spec: "{" }, /^spec is not valid JSON/);
  bad({ spec: JSON.stringify({ compile: {} }) }, /spec: missing "layers"/);
  bad({ spec: JSON.stringify({ layers: [{ class_name: "Dense", config: { units: 1e7 } }] }) }, /spec\.layers\[0\]\.config\.units: 10000000 asks for too many units/);
  bad({ spec: JSON.stringify({ layers: [{ repeat: 1000, layers: [{ class_name: "Dense", config: { units: 2 } }] }] }) }, /spec\.layers\[0\]\.repeat: 1000 repeats too often/);
  bad({ spec: JSON.stringify({ layers: [], name: "x".repeat(110_000) }) }, /^spec: the text is too long \(\d+ bytes; at most 102400\)/);
  // regression data sets take regression objectives
  assert.equal(validateState({ data: { source: "reg-plane" }, tuner: { objective: "val_mae" } }).tuner.objective, "val_mae");
  // -0 becomes 0 (JSON would not keep it)
  assert.ok(Object.is(validateState({ data: { noise: -0 } }).data.noise, 0));
  assert.deepEqual(validateP("rate", { hp: "Boolean" }), { hp: "Boolean" });
});

test("Bayesian optimization's options: catalog defaults, URL round trip, refusals, engine options and CLI flags", () => {
  // the defaults are the engine's (its catalog), not the page's own numbers
  const engine = CATALOG.tuners.find((t) => t.name === "bayesian").options;
  const d = defaultState().tuner;
  assert.equal(d.acquisition, engine.acquisition);
  assert.equal(d.beta, engine.beta);
  assert.equal(d.alpha, engine.alpha);
  assert.equal(d.numInitialPoints, engine.num_initial_points);
  assert.deepEqual(ACQUISITIONS, ["ei", "lcb"]);
  // a state with every option set round-trips through the URL exactly
  const s = defaultState();
  s.tuner = { ...s.tuner, kind: "bayesian", maxTrials: 7, numInitialPoints: 3, acquisition: "lcb", beta: 1.75, alpha: 0.003 };
  const hash = encodeState(s);
  assert.deepEqual(decodeState("#" + hash), s);
  assert.equal(encodeState(decodeState(hash)), hash);
  // a link from before these options opens with the defaults
  const old = defaultState();
  for (const k of ["acquisition", "beta", "alpha"]) delete old.tuner[k];
  assert.deepEqual(decodeState(rawHash(old)), defaultState());
  // invalid values are refused, naming the field, the value and what is allowed
  const bad = (tuner, re) => throwsMatching(() => decodeState(rawHash({ ...defaultState(), tuner: { ...defaultState().tuner, ...tuner } })), re);
  bad({ acquisition: "ucb" }, /^tuner\.acquisition: "ucb" is not an acquisition \(ei, lcb\)$/);
  bad({ acquisition: null }, /^tuner\.acquisition: null is not an acquisition \(ei, lcb\)$/);
  bad({ beta: -0.5 }, /^tuner\.beta: -0\.5 is too small \(0\.\.100\)$/);
  bad({ beta: LIMITS.betaMax + 1 }, /^tuner\.beta: 101 is too large \(0\.\.100\)$/);
  bad({ beta: "2.6" }, /^tuner\.beta: "2\.6" is not a number \(0\.\.100\)$/);
  bad({ alpha: -1e-4 }, /^tuner\.alpha: -0\.0001 is too small \(0\.\.1\)$/);
  bad({ alpha: 2 }, /^tuner\.alpha: 2 is too large \(0\.\.1\)$/);
  bad({ alpha: null }, /^tuner\.alpha: null is not a number \(0\.\.1\)$/);
  bad({ numInitialPoints: 0 }, /^tuner\.numInitialPoints: 0 is too small \(1\.\.500\)$/);
  bad({ numInitialPoints: 2.5 }, /^tuner\.numInitialPoints: 2\.5 is not an integer \(1\.\.500\)$/);
  // the edges are allowed (the engine takes alpha and beta >= 0)
  assert.equal(validateState({ tuner: { alpha: 0, beta: 0 } }).tuner.alpha, 0);
  // the engine's options: beta only with "lcb" (the engine refuses it with "ei")
  assert.deepEqual(bayesianOptions(s.tuner), { acquisition: "lcb", alpha: 0.003, beta: 1.75, numInitialPoints: 3 });
  assert.deepEqual(bayesianOptions(defaultState().tuner), { acquisition: "ei", alpha: 1e-4 });
  // the command line: the same flags, beta only with "lcb", the initial points only when set
  const flags = (words) => words.slice(words.indexOf("--tuner"));
  const lcb = cliCommand(s);
  assert.deepEqual(flags(lcb).slice(0, 2), ["--tuner", "bayesian"]);
  const at = (words, flag) => (words.includes(flag) ? words[words.indexOf(flag) + 1] : undefined);
  assert.equal(at(lcb, "--acquisition"), "lcb");
  assert.equal(at(lcb, "--beta"), "1.75");
  assert.equal(at(lcb, "--alpha"), "0.003");
  assert.equal(at(lcb, "--num-initial-points"), "3");
  assert.equal(at(lcb, "--max-trials"), "7");
  const ei = cliCommand({ ...s, tuner: { ...s.tuner, acquisition: "ei", numInitialPoints: null } });
  assert.equal(at(ei, "--acquisition"), "ei");
  assert.equal(at(ei, "--alpha"), "0.003");
  assert.ok(!ei.includes("--beta"), ei.join(" "));
  assert.ok(!ei.includes("--num-initial-points"), ei.join(" "));
  // other tuners get none of them
  const random = cliCommand({ ...s, tuner: { ...s.tuner, kind: "random" } });
  for (const f of ["--acquisition", "--beta", "--alpha", "--num-initial-points"]) assert.ok(!random.includes(f), f);
});

test("BOHB and ASHA: the panel offers every tuner of the catalog; their options' defaults, URL round trip, refusals, engine options, CLI flags and Keras code", () => {
  // the catalog is the one list (the panel and the race offer all of it)
  assert.deepEqual(TUNERS, CATALOG.tuners.map((t) => t.name));
  assert.ok(TUNERS.includes("bohb") && TUNERS.includes("asha"));
  // the defaults are the engine's
  const bohb = CATALOG.tuners.find((t) => t.name === "bohb").options;
  const asha = CATALOG.tuners.find((t) => t.name === "asha").options;
  const d = defaultState().tuner;
  assert.equal(d.randomFraction, bohb.random_fraction);
  assert.equal(d.randomFraction, asha.random_fraction);
  assert.equal(d.minPointsInModel, bohb.min_points_in_model);
  assert.equal(d.model, asha.model);
  assert.deepEqual(ASHA_MODELS, ["random", "gp"]);
  // states with every option set round-trip through the URL exactly
  const b = defaultState();
  b.tuner = { ...b.tuner, kind: "bohb", maxEpochs: 9, factor: 3, hyperbandIterations: 2, randomFraction: 0.25, minPointsInModel: 4 };
  const a = defaultState();
  a.tuner = { ...a.tuner, kind: "asha", maxEpochs: 27, factor: 3, maxTrials: 40, model: "gp", randomFraction: 0.5, minPointsInModel: null };
  for (const s of [b, a]) {
    const hash = encodeState(s);
    assert.deepEqual(decodeState("#" + hash), s);
    assert.equal(encodeState(decodeState(hash)), hash);
  }
  // a link from before these options opens with the defaults
  const old = { ...a, tuner: { ...a.tuner } };
  for (const k of ["randomFraction", "minPointsInModel", "model"]) delete old.tuner[k];
  assert.deepEqual(decodeState(rawHash(old)).tuner, { ...a.tuner, randomFraction: d.randomFraction, minPointsInModel: null, model: "random" });
  // invalid values are refused, naming the field, the value and what is allowed
  const bad = (tuner, re) => throwsMatching(() => decodeState(rawHash({ ...a, tuner: { ...a.tuner, ...tuner } })), re);
  bad({ randomFraction: 1.5 }, /^tuner\.randomFraction: 1\.5 is too large \(0\.\.1\)$/);
  bad({ randomFraction: -0.1 }, /^tuner\.randomFraction: -0\.1 is too small \(0\.\.1\)$/);
  bad({ randomFraction: "0.3" }, /^tuner\.randomFraction: "0\.3" is not a number \(0\.\.1\)$/);
  bad({ minPointsInModel: 1 }, /^tuner\.minPointsInModel: 1 is too small \(2\.\.500\)$/);
  bad({ minPointsInModel: 2.5 }, /^tuner\.minPointsInModel: 2\.5 is not an integer \(2\.\.500\)$/);
  bad({ model: "tpe" }, /^tuner\.model: "tpe" is not an ASHA model \(random, gp\)$/);
  bad({ model: null }, /^tuner\.model: null is not an ASHA model \(random, gp\)$/);
  bad({ maxEpochs: 0 }, /^tuner\.maxEpochs: 0 is too small \(1\.\.500\)$/);
  bad({ factor: 11 }, /^tuner\.factor: 11 is too large \(2\.\.10\)$/);
  // the engine's options: BOHB has Hyperband's plan (no max trials) and its model's options;
  // ASHA has max trials, its model, and the model's options only with "gp" (the engine refuses
  // them with "random"); min points only when set
  assert.deepEqual(engineOptions(b.tuner), { maxEpochs: 9, factor: 3, hyperbandIterations: 2, randomFraction: 0.25, minPointsInModel: 4 });
  assert.deepEqual(engineOptions(a.tuner), { maxEpochs: 27, factor: 3, maxTrials: 40, model: "gp", randomFraction: 0.5 });
  assert.deepEqual(engineOptions({ ...a.tuner, model: "random", minPointsInModel: 6 }), { maxEpochs: 27, factor: 3, maxTrials: 40, model: "random" });
  assert.deepEqual(engineOptions({ ...b.tuner, kind: "hyperband" }), { maxEpochs: 9, factor: 3, hyperbandIterations: 2 });
  assert.deepEqual(engineOptions({ ...b.tuner, kind: "random" }), { maxTrials: b.tuner.maxTrials });
  // the command line: the same options as flags
  const flags = (words) => words.slice(words.indexOf("--tuner")).join(" ");
  assert.equal(flags(cliCommand(b)), "--tuner bohb --objective val_accuracy --seed 1 --executions-per-trial 1 --max-epochs 9 --factor 3 --hyperband-iterations 2 --random-fraction 0.25 --min-points-in-model 4 --device auto");
  assert.equal(flags(cliCommand(a)), "--tuner asha --objective val_accuracy --seed 1 --executions-per-trial 1 --max-epochs 27 --factor 3 --max-trials 40 --model gp --random-fraction 0.5 --device auto");
  const random = flags(cliCommand({ ...a, tuner: { ...a.tuner, model: "random", device: "cpu", workers: 2 } }));
  assert.equal(random, "--tuner asha --objective val_accuracy --seed 1 --executions-per-trial 1 --max-epochs 27 --factor 3 --max-trials 40 --model random --device cpu --parallel-trials 2");
  // every tuner's flags are options the engine's table has for it (the CLI refuses another
  // tuner's flag), whatever the state's other tuners' fields hold
  const common = ["--tuner", "--objective", "--seed", "--executions-per-trial", "--device", "--parallel-trials"];
  for (const kind of TUNERS) {
    for (const t of [b.tuner, a.tuner, { ...a.tuner, model: "random", kind }]) {
      const words = cliCommand({ ...a, tuner: { ...t, kind, device: "cpu" } });
      const options = CATALOG.tuners.find((x) => x.name === kind).options;
      for (const w of words.slice(words.indexOf("--tuner"))) {
        if (!w.startsWith("--") || common.includes(w)) continue;
        assert.ok(w.slice(2).replace(/-/g, "_") in options, `${kind}: ${w} is not one of its options`);
      }
    }
  }
  // the Keras code of a BOHB or ASHA trial lists its hyperparameters, not the tuner's bookkeeping
  const py = kerasSnippet(RESOLVED, { inputDim: 2, batchSize: 10, epochs: 9, hps: { units_0: 64, "tuner/epochs": 9, "tuner/initial_epoch": 3, "tuner/bracket": 0, "tuner/round": 2, "tuner/trial_id": "0004" }, dataset: "circle" });
  assert.match(py, /#   units_0 = 64\n/);
  assert.match(py, /epochs=9, validation_data/);
  assert.doesNotMatch(py, /tuner\//);
});

test("encodeState refuses an invalid state instead of making a link that cannot open", () => {
  const s = defaultState();
  s.model.epochs = { value: 0 };
  throwsMatching(() => encodeState(s), /model\.epochs\.value: 0 is too small/);
});

test("taskOf, objectivesFor and defaultObjective", () => {
  const at = (source, csv = null) => ({ data: { ...defaultState().data, source, csv } });
  for (const s of ["circle", "xor", "gauss", "spiral"]) assert.deepEqual(taskOf(at(s)), BINARY);
  for (const s of ["reg-plane", "reg-gauss"]) assert.deepEqual(taskOf(at(s)), REGRESSION);
  for (const s of ["digits", "mnist"]) assert.deepEqual(taskOf(at(s)), MULTI);
  const csv = (task) => at("csv", { name: "a.csv", label: "y", columns: ["x", "y"], task });
  assert.deepEqual(taskOf(csv("regression"), { classes: 3 }), REGRESSION);
  assert.deepEqual(taskOf(csv("classification"), { classes: 3 }), { kind: "multiclass", classes: 3 });
  assert.deepEqual(taskOf(csv("classification"), { classes: 2 }), BINARY);
  assert.deepEqual(taskOf(csv("classification")), { kind: "multiclass", classes: null });
  assert.equal(DATASETS.length, 9);
  assert.deepEqual(objectivesFor(BINARY), ["val_accuracy", "val_loss", "accuracy", "loss"]);
  assert.deepEqual(objectivesFor(REGRESSION), ["val_loss", "val_mae", "loss", "mae"]);
  assert.deepEqual(objectivesFor("multiclass"), objectivesFor(MULTI));
  assert.equal(defaultObjective(MULTI), "val_accuracy");
  assert.equal(defaultObjective(REGRESSION), "val_loss");
  assert.ok(SECTIONS.includes("json"));
});

// ---------------------------------------------------------------------------------------------
// spec.js

test("buildSpec of the default state: hp objects, the binary output layer and fit", () => {
  const { spec, fit } = buildSpec(defaultState(), BINARY);
  const activation = (j) => ({ hp: "Choice", name: `activation_${j}`, values: ["tanh", "relu"] });
  assert.deepEqual(spec, {
    layers: [
      { class_name: "Dense", config: { units: { hp: "Int", name: "units_0", min_value: 2, max_value: 16, step: 2, sampling: "linear" }, activation: activation(0) } },
      { class_name: "Dense", config: { units: 8, activation: activation(1) } },
      { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
    ],
    compile: {
      optimizer: { class_name: "adam", config: { learning_rate: { hp: "Float", name: "learning_rate", min_value: 0.001, max_value: 0.1, sampling: "log" } } },
      loss: "binary_crossentropy",
      metrics: ["accuracy"],
    },
  });
  assert.deepEqual(fit, { batch_size: 10, epochs: 20 });
  // the default task is the state's own
  assert.deepEqual(buildSpec(defaultState()), { spec, fit });
  assert.equal(specText(defaultState(), BINARY), JSON.stringify({ ...spec, fit }, null, 2));
});

test("buildSpec's output layer, loss and metrics follow the task", () => {
  const s = defaultState();
  const multi = buildSpec(s, MULTI).spec;
  assert.deepEqual(multi.layers.at(-1), { class_name: "Dense", config: { units: 10, activation: "softmax" } });
  assert.equal(multi.compile.loss, "sparse_categorical_crossentropy");
  assert.deepEqual(multi.compile.metrics, ["accuracy"]);
  const three = buildSpec(s, { kind: "multiclass", classes: 3 }).spec;
  assert.equal(three.layers.at(-1).config.units, 3);
  const reg = buildSpec(s, REGRESSION).spec;
  assert.deepEqual(reg.layers.at(-1), { class_name: "Dense", config: { units: 1, activation: "linear" } });
  assert.equal(reg.compile.loss, "mean_squared_error");
  assert.deepEqual(reg.compile.metrics, ["mae"]);
  // no input layer or Flatten: the data comes flattened
  for (const sp of [multi, reg]) assert.ok(sp.layers.every((l) => l.class_name === "Dense"));
  throwsMatching(() => buildSpec(s, { kind: "multiclass", classes: null }), /number of classes is not known/);
});

test("buildSpec: a tunable number of layers is a repeat block with {i} names", () => {
  const s = withModel({
    hidden: [{ type: "dense", units: { hp: "Int", min: 32, max: 512, step: 32, sampling: "linear" }, activation: { hp: "Choice", values: ["relu", "tanh"] } }],
    repeat: { min: 1, max: 3 },
  });
  const { spec } = buildSpec(s, MULTI);
  assert.deepEqual(spec.layers[0], {
    repeat: { hp: "Int", name: "num_layers", min_value: 1, max_value: 3 },
    layers: [
      {
        class_name: "Dense",
        config: {
          units: { hp: "Int", name: "units_{i}", min_value: 32, max_value: 512, step: 32, sampling: "linear" },
          activation: { hp: "Choice", name: "activation_{i}", values: ["relu", "tanh"] },
        },
      },
    ],
  });
  assert.equal(spec.layers.length, 2);
  // two Dense layers in the block keep apart by their index in the block
  const two = withModel({ hidden: [...s.model.hidden, { type: "dropout", rate: { hp: "Float", min: 0, max: 0.5 } }, s.model.hidden[0]], repeat: { min: 1, max: 2 } });
  const names = JSON.stringify(buildSpec(validateState(two), MULTI).spec);
  assert.match(names, /"units_0_\{i\}"/);
  assert.match(names, /"units_2_\{i\}"/);
  assert.match(names, /"dropout_\{i\}"/);
  assert.equal(layerHpName(validateState(two).model, 1, "rate"), "dropout_{i}");
  assert.equal(layerHpName(defaultState().model, 1, "units"), "units_1");
});

test("buildSpec: a dropout switched on/off is a `when` block; Float dropout is an hp", () => {
  const s = validateState(
    withModel({
      hidden: [
        { type: "dense", units: { value: 16 }, activation: { value: "relu" } },
        { type: "dropout", rate: { hp: "Boolean" } },
        { type: "dropout", rate: { hp: "Float", min: 0.1, max: 0.5, sampling: "linear" } },
        { type: "dropout", rate: { value: 0.25 } },
      ],
    }),
  );
  const { spec } = buildSpec(s, BINARY);
  assert.deepEqual(spec.layers[1], { when: { hp: "Boolean", name: "dropout_1" }, layers: [{ class_name: "Dropout", config: { rate: 0.5 } }] });
  assert.deepEqual(spec.layers[2], { class_name: "Dropout", config: { rate: { hp: "Float", name: "dropout_2", min_value: 0.1, max_value: 0.5, sampling: "linear" } } });
  assert.deepEqual(spec.layers[3], { class_name: "Dropout", config: { rate: 0.25 } });
});

test("buildSpec: L1/L2 on every hidden Dense, ranges of the optimizer, Int log and fit hps", () => {
  const l2 = buildSpec(withModel({ regularizer: "l2" }), BINARY).spec;
  const hiddenDense = l2.layers.slice(0, -1);
  assert.equal(hiddenDense.length, 2);
  for (const l of hiddenDense) assert.deepEqual(l.config.kernel_regularizer, { class_name: "L2", config: { l2: 0.001 } });
  assert.equal(l2.layers.at(-1).config.kernel_regularizer, undefined);

  const s = validateState(
    withModel({
      regularizer: "l1",
      regRate: { hp: "Float", min: 1e-5, max: 1e-2, sampling: "log" },
      optimizer: { hp: "Choice", values: ["adam", "sgd"] },
      hidden: [{ type: "dense", units: { hp: "Int", min: 4, max: 256, step: 1, sampling: "log" }, activation: { value: "relu" } }],
      batchSize: { hp: "Int", min: 8, max: 128, step: 2, sampling: "log" },
      epochs: { hp: "Int", min: 5, max: 30, step: 5, sampling: "linear" },
    }),
  );
  const { spec, fit } = buildSpec(s, BINARY);
  assert.deepEqual(spec.layers[0].config.kernel_regularizer, {
    class_name: "L1",
    config: { l1: { hp: "Float", name: "regularization", min_value: 1e-5, max_value: 0.01, sampling: "log" } },
  });
  // under log sampling a step of 1 is left out (the engine reads it as a multiplier > 1)
  assert.deepEqual(spec.layers[0].config.units, { hp: "Int", name: "units_0", min_value: 4, max_value: 256, sampling: "log" });
  assert.deepEqual(spec.compile.optimizer.class_name, { hp: "Choice", name: "optimizer", values: ["adam", "sgd"] });
  assert.deepEqual(fit, {
    batch_size: { hp: "Int", name: "batch_size", min_value: 8, max_value: 128, step: 2, sampling: "log" },
    epochs: { hp: "Int", name: "epochs", min_value: 5, max_value: 30, step: 5, sampling: "linear" },
  });
  assert.deepEqual(fitHps(fit).map((h) => h.name), ["batch_size", "epochs"]);
  assert.deepEqual(fitHps({ batch_size: 32, epochs: 3 }), []);
});

test("parseSpecText(specText(s)) maps back to the same model", () => {
  const states = [
    [defaultState(), BINARY],
    [defaultState(), MULTI],
    [richState(), { kind: "multiclass", classes: 3 }],
    [withModel({ regularizer: "l2", regRate: { value: 0.02 } }), BINARY],
    [withModel({ hidden: [] }), REGRESSION],
    [withModel({ hidden: [{ type: "dropout", rate: { hp: "Boolean" } }], repeat: { min: 2, max: 5 } }), BINARY],
    [withModel({ batchSize: { hp: "Int", min: 16, max: 64, step: 1, sampling: "log" }, learningRate: { value: 1 } }), BINARY],
  ];
  for (const [state, task] of states) {
    const s = validateState({ ...state, data: { ...state.data, source: "digits" }, tuner: { ...state.tuner, objective: "val_loss" } });
    const got = parseSpecText(specText(s, task), task, s.model);
    assert.ok(got.model, `expected {model} for ${JSON.stringify(s.model).slice(0, 80)}, got ${JSON.stringify(got).slice(0, 200)}`);
    assert.deepEqual(got.model, s.model);
  }
  // without `base`, fields a spec cannot carry come from the defaults
  const s = withModel({ regularizer: "l2" });
  assert.deepEqual(parseSpecText(specText(s, BINARY), BINARY).model, s.model);
});

test("parseSpecText maps a hand edit of a form-shaped spec back to the form", () => {
  const obj = JSON.parse(specText(defaultState(), BINARY));
  obj.layers[1].config.units = 32;
  obj.layers[0].config.units.max_value = 64;
  delete obj.layers[0].config.units.sampling; // a left-out default is the same spec
  obj.compile.optimizer.class_name = "sgd";
  obj.fit.epochs = { hp: "Int", name: "epochs", min_value: 2, max_value: 9, step: 1, sampling: "linear" };
  const { model } = parseSpecText(JSON.stringify(obj), BINARY);
  assert.deepEqual(model.hidden[1].units, { value: 32 });
  assert.deepEqual(model.hidden[0].units, { hp: "Int", min: 2, max: 64, step: 2, sampling: "linear" });
  assert.deepEqual(model.optimizer, { value: "sgd" });
  assert.deepEqual(model.epochs, { hp: "Int", min: 2, max: 9, step: 1, sampling: "linear" });
  // no `fit`: the form keeps the base's batch size and epochs
  delete obj.fit;
  const base = withModel({ batchSize: { value: 77 } }).model;
  assert.deepEqual(parseSpecText(JSON.stringify(obj), BINARY, base).model.batchSize, { value: 77 });
});

test("parseSpecText keeps a spec the form cannot show as custom", () => {
  const formObj = () => JSON.parse(specText(defaultState(), BINARY));
  const isCustom = (obj, why) => {
    const got = parseSpecText(JSON.stringify(obj), BINARY);
    assert.ok(got.custom, `${why}: expected custom, got ${JSON.stringify(got).slice(0, 120)}`);
    return got;
  };
  let o = formObj();
  o.layers[0].config.kernel_initializer = "he_normal";
  let got = isCustom(o, "an extra config key");
  assert.equal(got.custom.layers[0].config.kernel_initializer, "he_normal");
  assert.deepEqual(got.fit, { batch_size: 10, epochs: 20 });
  assert.equal(got.custom.fit, undefined);
  o = formObj();
  o.layers[0].config.units.name = "width";
  isCustom(o, "an hp name of its own");
  o = formObj();
  o.layers[0].config.activation.values = ["relu", "softsign"];
  isCustom(o, "an activation the page does not list");
  o = formObj();
  o.layers.at(-1).config.activation = "softmax";
  isCustom(o, "an output layer of another task");
  o = formObj();
  o.name = "mine";
  isCustom(o, "a top-level name");
  o = formObj();
  o.layers.splice(1, 0, { class_name: "Flatten", config: {} });
  isCustom(o, "a Flatten layer");
  // the KerasTuner guide's spec
  const guide = {
    layers: [
      { class_name: "Flatten", config: {} },
      { repeat: { hp: "Int", name: "num_layers", min_value: 1, max_value: 3 }, layers: [{ class_name: "Dense", config: { units: { hp: "Int", name: "units_{i}", min_value: 32, max_value: 512, step: 32 }, activation: { hp: "Choice", name: "activation", values: ["relu", "tanh"] } } }] },
      { when: { hp: "Boolean", name: "dropout" }, layers: [{ class_name: "Dropout", config: { rate: 0.25 } }] },
      { class_name: "Dense", config: { units: 10, activation: "softmax" } },
    ],
    compile: { optimizer: { class_name: "adam", config: { learning_rate: { hp: "Float", name: "lr", min_value: 1e-4, max_value: 1e-2, sampling: "log" } } }, loss: "categorical_crossentropy", metrics: ["accuracy"] },
  };
  got = parseSpecText(JSON.stringify(guide), MULTI);
  assert.deepEqual(got, { custom: guide, fit: null });

  // a custom state's buildSpec uses the text, with its fit over the form's
  const text = JSON.stringify({ ...guide, fit: { epochs: 3 } });
  const s = validateState({ ...defaultState(), data: { ...defaultState().data, source: "digits" }, spec: text });
  assert.deepEqual(buildSpec(s), { spec: guide, fit: { batch_size: 10, epochs: 3 } });
});

test("parseSpecText errors say what is wrong and where", () => {
  throwsMatching(() => parseSpecText('{\n  "layers": [\n    {"class_name": "Dense",}\n  ]\n}', BINARY), /not valid JSON at line 3, column \d+/);
  throwsMatching(() => parseSpecText("", BINARY), /not valid JSON/);
  throwsMatching(() => parseSpecText("[1, 2]", BINARY), /is not a JSON object/);
  throwsMatching(() => parseSpecText('{"compile": {}}', BINARY), /spec: missing "layers"/);
  throwsMatching(() => parseSpecText('{"layers": {}}', BINARY), /spec\.layers: \{\} is not a list of layers/);
  throwsMatching(() => parseSpecText('{"layers": [], "optimiser": "adam"}', BINARY), /spec: unknown key "optimiser"/);
  throwsMatching(() => parseSpecText('{"layers": [], "fit": {"epochs": 0}}', BINARY), /spec\.fit\.epochs: 0 is too small/);
  throwsMatching(() => parseSpecText('{"layers": [{"class_name": "Dense", "config": {"units": {"hp": "Int", "name": "u", "min_value": 1, "max_value": 1e9}}}]}', BINARY), /spec\.layers\[0\]\.config\.units: .* too many units/);
});

test("resolveFit takes numbers as they are and hps from the trial's values", () => {
  assert.deepEqual(resolveFit({ batch_size: 10, epochs: 20 }, {}), { batchSize: 10, epochs: 20 });
  const fit = { batch_size: { hp: "Int", name: "batch_size", min_value: 8, max_value: 64 }, epochs: { hp: "Choice", name: "epochs", values: [5, 10] } };
  assert.deepEqual(resolveFit(fit, { batch_size: 32, epochs: 10 }), { batchSize: 32, epochs: 10 });
  assert.deepEqual(resolveFit(fit, new Map([["batch_size", 16]])), { batchSize: 16, epochs: 5 });
  assert.deepEqual(resolveFit(fit, {}), { batchSize: 8, epochs: 5 });
  assert.deepEqual(resolveFit({}, {}), { batchSize: 32, epochs: 1 });
});

// ---------------------------------------------------------------------------------------------
// python.js

const RESOLVED = {
  layers: [
    { class_name: "Dense", config: { units: 64, activation: "relu", kernel_regularizer: { class_name: "L2", config: { l2: 0.001 } } } },
    { class_name: "Dropout", config: { rate: 0.25 } },
    { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
  ],
  compile: { optimizer: { class_name: "adam", config: { learning_rate: 0.0031 } }, loss: "binary_crossentropy", metrics: ["accuracy"] },
};

test("kerasSnippet writes the model, compile and fit lines", () => {
  const py = kerasSnippet(RESOLVED, { inputDim: 2, batchSize: 10, epochs: 20, hps: { units_0: 64, activation_0: "relu", learning_rate: 0.0031 }, dataset: "spiral" });
  const lines = py.split("\n");
  for (const line of [
    "import keras",
    "    keras.Input(shape=(2,)),",
    '    keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.L2(0.001)),',
    "    keras.layers.Dropout(0.25),",
    '    keras.layers.Dense(1, activation="sigmoid"),',
    'model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0031), loss="binary_crossentropy", metrics=["accuracy"])',
    "model.fit(x_train, y_train, batch_size=10, epochs=20, validation_data=(x_val, y_val))",
    "#   units_0 = 64",
    '#   activation_0 = "relu"',
    "#   learning_rate = 0.0031",
  ]) {
    assert.ok(lines.includes(line), `missing line ${JSON.stringify(line)} in:\n${py}`);
  }
  assert.ok(lines.indexOf("model = keras.Sequential([") < lines.indexOf("])"));
  // other optimizers and losses
  const sgd = kerasSnippet({ ...RESOLVED, compile: { optimizer: { class_name: "sgd", config: { learning_rate: 1, momentum: 0.9, nesterov: true } }, loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] } }, { inputDim: 64 });
  assert.match(sgd, /optimizer=keras\.optimizers\.SGD\(learning_rate=1\.0, momentum=0\.9, nesterov=True\)/);
  assert.match(sgd, /keras\.Input\(shape=\(64,\)\)/);
  const rms = kerasSnippet({ layers: [], compile: { optimizer: { class_name: "rmsprop", config: {} }, loss: "mean_squared_error", metrics: ["mae"] } }, { inputDim: 3 });
  assert.match(rms, /model\.compile\(optimizer=keras\.optimizers\.RMSprop\(\), loss="mean_squared_error", metrics=\["mae"\]\)/);
  assert.throws(() => kerasSnippet(JSON.parse(specText(defaultState(), BINARY)), { inputDim: 2 }), /resolved spec/);
});

test("kerasSnippet escapes untrusted names in strings and comments", () => {
  const evil = 'a"b\\c\nimport os; os.system("x")';
  const spec = { ...RESOLVED, layers: [{ class_name: "Dense", config: { units: 4, activation: "tanh", name: evil } }, ...RESOLVED.layers.slice(1)] };
  const py = kerasSnippet(spec, { inputDim: 2, batchSize: 1, epochs: 1, hps: { [evil]: evil, "units_{i}": 3 }, dataset: 'my "data"\n.csv' });
  assert.ok(py.includes('keras.layers.Dense(4, activation="tanh", name="a\\"b\\\\c\\nimport os; os.system(\\"x\\")"),'), py);
  // every line that mentions the payload is a comment or inside a string literal
  for (const line of py.split("\n")) {
    if (line.includes("import os")) assert.ok(line.startsWith("#") || line.includes('name="a\\"b'), `payload escaped into code: ${line}`);
  }
  assert.ok(py.includes('# Data: "my \\"data\\"\\n.csv".'));
  assert.ok(py.includes("#   units_{i} = 3"));
  assert.equal(pyStr("\u202e\u0000é"), '"\\u202e\\x00é"');
  assert.equal(pyStr("\ud800"), '"\\ud800"');
});

test("pyFloat prints floats that Python reads back as the same value", () => {
  assert.equal(pyFloat(1), "1.0");
  assert.equal(pyFloat(0.1 + 0.2), "0.30000000000000004");
  assert.equal(pyFloat(1e-7), "1e-7");
  assert.equal(pyFloat(1e21), "1e+21");
  assert.equal(pyFloat(-2.5), "-2.5");
  assert.equal(pyFloat(0.0031), "0.0031");
});

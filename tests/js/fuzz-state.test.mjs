// Fuzzing the playground's URL-hash state decoder (www/src/state.js), the gate every shared link
// goes through: decodeState, and behind it validateState, checkCustomSpec, parseJson and
// encodeState. fast-check drives several generators, from arbitrary text to structured mutations
// of valid states (wrong types, huge and raw JSON numbers, deep nesting, huge lists, extra and
// prototype-pollution keys, HTML in text fields, hand-written model specs).
//
//     node --test tests/js/fuzz-state.test.mjs                  # 100,000 executions, about 25 s
//     FUZZ_RUNS=1000000 FUZZ_SEED=random node --test tests/js/fuzz-state.test.mjs
//                                              # scaled up, a new seed each time: npm run fuzz:state
//     FUZZ_SEED=123 ...                        # another seed (the default is fixed)
//
// Properties, for every input:
// - decodeState returns a state that is a fixed point (validateState(s) deep-equals s, and
//   decodeState(encodeState(s)) deep-equals s), or throws a plain Error (not a TypeError,
//   RangeError, ... from a bug) whose message names the field path (`data.noise: ...`,
//   `model.hidden[0].units.max: ...`, `spec.layers[2].units: ...`) or the link itself;
//   for a mutated valid state, the path is in the section that was mutated;
// - no call takes longer than SLOW_MS (a hang shows up as a failed run, or as the test's own
//   timeout);
// - Object.prototype and Array.prototype never change.
// Bugs found earlier have their own regression tests at the end of the file.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import fc from "fast-check";
import {
  ACQUISITIONS,
  ASHA_MODELS,
  ACTIVATIONS,
  CSV_TASKS,
  DATASETS,
  DEVICES,
  FEATURES,
  LIMITS,
  OPTIMIZERS,
  P_FIELDS,
  REGULARIZERS,
  SECTIONS,
  TUNERS,
  checkCustomSpec,
  decodeState,
  defaultLayer,
  defaultState,
  encodeState,
  objectivesFor,
  parseJson,
  taskOf,
  validateState,
} from "../../www/src/state.js";

const TOTAL = Number(process.env.FUZZ_RUNS || 100_000);
// A fixed seed by default (the test suite gives the same runs each time); FUZZ_SEED=random
// draws one (printed with the totals, and by fast-check with any failure, to replay it).
const SEED = process.env.FUZZ_SEED === "random" ? Date.now() % 2 ** 31 : process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20_260_901;
const SLOW_MS = Number(process.env.FUZZ_SLOW_MS || 2000);

// How the executions are shared between the generators (the structured ones find the most).
const SHARE = {
  "arbitrary strings": 0.12,
  "strings after s=": 0.1,
  "base64url of bytes": 0.1,
  "base64url of JSON values": 0.08,
  "base64url of JSON objects": 0.06,
  "valid states (round trip)": 0.08,
  "mutations of the default state": 0.16,
  "mutations of random valid states": 0.22,
  "mutations of hand-written specs": 0.08,
};
const runsOf = (name) => Math.max(1, Math.round(TOTAL * SHARE[name]));

const counts = {};
const outcomes = { ok: 0, error: 0 };
const sections = {};
let slowest = { ms: 0, what: "" };
let prefixChecked = 0;

after(() => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const lines = Object.entries(counts).map(([k, n]) => `  ${k.padEnd(36)} ${String(n).padStart(9)}`);
  console.log(
    [
      `decodeState executions per generator (seed ${SEED}):`,
      ...lines,
      `  ${"total".padEnd(36)} ${String(total).padStart(9)}`,
      `outcomes: ${outcomes.ok} states, ${outcomes.error} errors; errors by where: ${JSON.stringify(sections)}; ${prefixChecked} errors checked against the one field mutated`,
      `slowest call: ${slowest.ms.toFixed(1)} ms (${slowest.what})`,
    ].join("\n"),
  );
});

// ---------------------------------------------------------------------------------------------
// The checks

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
const hashOfText = (text) => "s=" + b64url(new TextEncoder().encode(text));

const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort().join();
const ARRAY_PROTO_NAMES = Object.getOwnPropertyNames(Array.prototype).sort().join();
function checkPrototypes() {
  assert.equal(Object.getOwnPropertyNames(Object.prototype).sort().join(), PROTO_NAMES, "Object.prototype changed");
  assert.equal(Object.getOwnPropertyNames(Array.prototype).sort().join(), ARRAY_PROTO_NAMES, "Array.prototype changed");
  assert.equal({}.polluted, undefined, "Object.prototype polluted");
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
}

const TOP = ["state", "v", "data", "model", "tuner", "hide", "spec", "lesson", "race"];
// A path error: `data.noise: ...`, `model.hidden[3].units.max: ...`, `hide[1]: ...`;
// spec paths carry the user's own keys (`spec.layers[0].config.units: ...`), and a spec that is
// not JSON says `spec is not valid JSON at line 1, column 5: ...`.
const PATH_ERROR = /^(state|v|data|model|tuner|hide|lesson|race)((\.[A-Za-z]+)|\[\d+\])*: \S/;
const SPEC_ERROR = /^spec([.[][^]*?)?(: \S| is not valid JSON)/;
const LINK_ERROR = /^(the link (is too long|holds no playground state)|the link's state is not (valid base64url|UTF-8 text|valid JSON))/;

/** Where an error says the problem is: its top-level section, or "link". */
function whereOf(message) {
  if (LINK_ERROR.test(message)) return "link";
  const m = PATH_ERROR.exec(message);
  if (m) return m[1];
  if (SPEC_ERROR.test(message)) return "spec";
  return null;
}

/**
 * Runs decodeState on `hash` and checks the properties. `expect.where`: the sections an error
 * may name (a mutated state's error must be about what was mutated).
 */
function check(generator, hash, expect = {}) {
  counts[generator] = (counts[generator] ?? 0) + 1;
  const t0 = performance.now();
  let state;
  let err = null;
  try {
    state = decodeState(hash);
  } catch (e) {
    err = e;
  }
  let ms = performance.now() - t0;
  if (ms > SLOW_MS) {
    // Once more before failing: a garbage collection or a busy machine can stall one call.
    const t1 = performance.now();
    try {
      decodeState(hash);
    } catch {}
    ms = Math.min(ms, performance.now() - t1);
  }
  if (ms > slowest.ms) slowest = { ms, what: `${generator}, ${typeof hash === "string" ? hash.length : "?"} characters` };
  assert.ok(ms < SLOW_MS, `decodeState took ${ms.toFixed(0)} ms (at most ${SLOW_MS})`);
  checkPrototypes();
  if (err) {
    outcomes.error++;
    assert.ok(err instanceof Error, `threw a non-Error: ${String(err)}`);
    assert.equal(Object.getPrototypeOf(err), Error.prototype, `threw a ${err.name} (a bug, not a refusal): ${err.message}`);
    assert.equal(typeof err.message, "string");
    assert.ok(err.message.length <= 500, `a message of ${err.message.length} characters: ${err.message.slice(0, 200)}...`);
    const where = whereOf(err.message);
    assert.ok(where, `the message names no field or path: ${JSON.stringify(err.message)}`);
    if (expect.where) assert.ok(expect.where.includes(where), `expected an error about ${expect.where.join(" or ")}, got: ${err.message}`);
    if (expect.prefixes && where !== "link") {
      const ok = expect.prefixes.some((p) => err.message.startsWith(p) && /^[.[:]/.test(err.message.slice(p.length)));
      assert.ok(ok, `expected an error about ${expect.prefixes.join(" or ")}, got: ${err.message}`);
      prefixChecked++;
    }
    sections[where] = (sections[where] ?? 0) + 1;
    return null;
  }
  outcomes.ok++;
  assert.deepStrictEqual(validateState(state), state, "validateState(decoded) is not the decoded state");
  assert.deepStrictEqual(decodeState(encodeState(state)), state, "decode(encode(decoded)) is not the decoded state");
  assert.deepStrictEqual(JSON.parse(JSON.stringify(state)), state, "the state does not survive JSON");
  return state;
}

/** Runs a property for its generator's share of the executions (`perRun` decodeState calls a run). */
function run(name, arb, predicate, perRun = 1) {
  fc.assert(fc.property(arb, predicate), {
    numRuns: Math.max(1, Math.round(runsOf(name) / perRun)),
    seed: SEED,
    includeErrorInReport: true,
    // A run this slow is a failure already (SLOW_MS); the limit only ends a property that would
    // otherwise go on for ages, and reports it.
    plugins: [fc.interruptAfterTimeLimit(Math.max(120_000, runsOf(name) * 20), { failOnInterrupt: true })],
  });
}

// ---------------------------------------------------------------------------------------------
// Valid states

const sampling = fc.constantFrom("linear", "log");

function fixedArb(f) {
  if (f.type === "int") return fc.integer({ min: f.min, max: f.max });
  if (f.type === "float") return fc.double({ min: f.min, max: f.max, noNaN: true, noDefaultInfinity: true });
  return fc.constantFrom(...f.list);
}

/** A valid P of one field: its fixed value or one of its ranges. */
function pArb(name) {
  const f = P_FIELDS[name];
  const fixed = fixedArb(f);
  const alts = [fixed.map((value) => ({ value }))];
  for (const r of f.ranges) {
    if (r === "Int") {
      alts.push(
        fc.tuple(fixed, fixed, fc.integer({ min: 1, max: f.max }), sampling).map(([a, b, step, s]) => ({ hp: "Int", min: Math.min(a, b), max: Math.max(a, b), step, sampling: s })),
      );
    } else if (r === "Float") {
      alts.push(
        fc.tuple(fixed, fixed, sampling).map(([a, b, s]) => {
          const min = Math.min(a, b);
          return { hp: "Float", min, max: Math.max(a, b), sampling: min > 0 ? s : "linear" };
        }),
      );
    } else if (r === "Choice") {
      alts.push(fc.uniqueArray(fixed, { minLength: 1, maxLength: Math.min(LIMITS.choiceValues, 6) }).map((values) => ({ hp: "Choice", values })));
    } else if (r === "Boolean") {
      alts.push(fc.constant({ hp: "Boolean" }));
    }
  }
  return fc.oneof(...alts);
}

const layerArb = fc.oneof(
  fc.record({ type: fc.constant("dense"), units: pArb("units"), activation: pArb("activation") }),
  fc.record({ type: fc.constant("dropout"), rate: pArb("rate") }),
);

const modelArb = fc
  .record({
    hidden: fc.array(layerArb, { maxLength: 5 }),
    repeat: fc.option(fc.tuple(fc.integer({ min: 1, max: LIMITS.hiddenLayers }), fc.integer({ min: 1, max: LIMITS.hiddenLayers }))),
    regularizer: fc.constantFrom(...REGULARIZERS),
    regRate: pArb("regRate"),
    optimizer: pArb("optimizer"),
    learningRate: pArb("learningRate"),
    batchSize: pArb("batchSize"),
    epochs: pArb("epochs"),
  })
  .map((m) => {
    let repeat = null;
    if (m.repeat) {
      const cap = Math.floor(LIMITS.hiddenLayers / Math.max(1, m.hidden.length));
      const [a, b] = m.repeat.map((x) => 1 + ((x - 1) % cap));
      repeat = { min: Math.min(a, b), max: Math.max(a, b) };
    }
    return { ...m, repeat };
  });

const textArb = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: "grapheme", maxLength: 20 }), fc.constantFrom("<b>x</b>", "<script>alert(1)</script>", "\" onload=\"alert(1)", "é ✓ 日本", "a\nb"));

const dataArb = fc.record({
  source: fc.constantFrom(...DATASETS),
  noise: fc.double({ min: 0, max: 50, noNaN: true }),
  trainPct: fc.oneof(fc.integer({ min: 10, max: 90 }), fc.double({ min: 10, max: 90, noNaN: true })),
  seed: fc.integer({ min: 0, max: LIMITS.seedMax }),
  features: fc.shuffledSubarray(FEATURES, { minLength: 1 }),
  csv: fc.option(fc.record({ name: textArb, label: textArb, columns: fc.array(textArb, { maxLength: 6 }), task: fc.constantFrom(...CSV_TASKS) })),
});

/** A hand-written model spec that checkCustomSpec accepts (units within the page's limit). */
const units = fc.oneof(
  fc.integer({ min: 1, max: P_FIELDS.units.max }),
  fc.record({ hp: fc.constant("Int"), name: fc.constantFrom("units", "u0"), min_value: fc.integer({ min: 1, max: 64 }), max_value: fc.integer({ min: 64, max: P_FIELDS.units.max }) }),
  fc.record({ hp: fc.constant("Choice"), name: fc.constant("units"), values: fc.uniqueArray(fc.integer({ min: 1, max: P_FIELDS.units.max }), { minLength: 1, maxLength: 5 }) }),
);
const specLayer = fc.oneof(
  fc.record({ class_name: fc.constant("Dense"), config: fc.record({ units, activation: fc.constantFrom(...ACTIVATIONS) }) }),
  fc.record({ class_name: fc.constant("Dropout"), config: fc.record({ rate: fc.double({ min: 0, max: 0.9, noNaN: true }) }) }),
);
const specArb = fc.record(
  {
    layers: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: specLayer },
        { weight: 1, arbitrary: fc.record({ repeat: fc.integer({ min: 0, max: 4 }), layers: fc.array(specLayer, { maxLength: 3 }) }) },
        { weight: 1, arbitrary: fc.record({ when: fc.record({ name: fc.constant("deep"), value: fc.boolean() }), layers: fc.array(specLayer, { maxLength: 3 }) }) },
      ),
      { maxLength: 6 },
    ),
    compile: fc.record({ optimizer: fc.constantFrom(...OPTIMIZERS), loss: fc.constantFrom("binary_crossentropy", "mse"), metrics: fc.constant(["accuracy"]) }),
    fit: fc.record({ batch_size: fc.integer({ min: 1, max: 4096 }), epochs: fc.oneof(fc.integer({ min: 1, max: 500 }), fc.constant({ hp: "Int", name: "epochs", min_value: 1, max_value: 30 })) }),
    name: textArb,
  },
  { requiredKeys: ["layers"] },
);

const validStateArb = fc
  .record({
    data: dataArb,
    model: modelArb,
    tuner: fc.record({
      kind: fc.constantFrom(...TUNERS),
      objectiveIndex: fc.nat(),
      maxTrials: fc.integer({ min: 1, max: LIMITS.maxTrials }),
      executionsPerTrial: fc.integer({ min: 1, max: 5 }),
      seed: fc.integer({ min: 0, max: LIMITS.seedMax }),
      maxEpochs: fc.integer({ min: 1, max: 500 }),
      factor: fc.integer({ min: 2, max: 10 }),
      hyperbandIterations: fc.integer({ min: 1, max: 10 }),
      numInitialPoints: fc.option(fc.integer({ min: 1, max: 500 })),
      acquisition: fc.constantFrom(...ACQUISITIONS),
      beta: fc.double({ min: 0, max: LIMITS.betaMax, noNaN: true }),
      alpha: fc.double({ min: 0, max: LIMITS.alphaMax, noNaN: true }),
      randomFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      minPointsInModel: fc.option(fc.integer({ min: 2, max: 500 })),
      model: fc.constantFrom(...ASHA_MODELS),
      device: fc.constantFrom(...DEVICES),
      workers: fc.integer({ min: 1, max: 8 }),
    }),
    hide: fc.shuffledSubarray(SECTIONS),
    spec: fc.option(specArb.map((s) => JSON.stringify(s))),
  })
  .map(({ data, model, tuner: { objectiveIndex, ...tuner }, hide, spec }) => {
    const objectives = objectivesFor(taskOf({ data }));
    return { v: 1, data, model, tuner: { ...tuner, objective: objectives[objectiveIndex % objectives.length] }, hide, spec };
  });

// ---------------------------------------------------------------------------------------------
// Mutations
//
// A mutation picks a node of a valid state (any object, list or value, by index into the list of
// paths) and replaces it, deletes it, wraps it, duplicates it or adds a key beside it. Values
// that JavaScript cannot hold or JSON.stringify cannot write (raw number tokens such as 1e999 or
// -0, nesting 50,000 deep) go in as placeholders replaced in the JSON text.

const RAW = (i) => `@@raw${i}@@`;
class Raw {
  constructor(text) {
    this.text = text;
  }
}

const hugeString = fc.constantFrom(10, 1000, 20_000).map((n) => "x".repeat(n));
const deepRaw = fc
  .record({ depth: fc.oneof(fc.integer({ min: 2, max: 100 }), fc.integer({ min: 1000, max: 70_000 })), kind: fc.constantFrom("[", "{", "value") })
  .map(({ depth, kind }) => {
    if (kind === "[") return new Raw("[".repeat(depth) + "]".repeat(depth));
    if (kind === "{") return new Raw('{"a":'.repeat(depth) + "1" + "}".repeat(depth));
    return new Raw('{"value":'.repeat(depth) + "1" + "}".repeat(depth));
  });
const hugeList = fc
  .record({ n: fc.constantFrom(2, 8, 33, 100, 1000, 2000, 10_000), item: fc.constantFrom(defaultLayer("dense"), defaultLayer("dropout"), 1, "x1", "data", null, [], { value: 8 }) })
  // As text: later ops must not go inside (one change to a shared item would change them all).
  .map(({ n, item }) => new Raw(JSON.stringify(Array.from({ length: n }, () => item))));
const protoObject = fc.constantFrom(
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"__proto__":{"__proto__":{"polluted":"yes"}}}',
  '{"prototype":{"polluted":"yes"}}',
  '{"__proto__":null}',
  '{"__proto__":[]}',
  '{"value":8,"__proto__":{"polluted":"yes"}}',
  '{"hp":"Int","min":1,"max":2,"__proto__":{"polluted":"yes"}}',
).map((t) => new Raw(t));
const strangeP = fc.constantFrom(
  { hp: "Int", min: 5, max: 1 },
  { hp: "Int", min: 1, max: 1e9, step: 1 },
  { hp: "Int", min: 0, max: 8, sampling: "log" },
  { hp: "Int", min: 1.5, max: 8 },
  { hp: "Int", min: 1, max: 8, step: 0 },
  { hp: "Float", min: 0, max: 1, sampling: "log" },
  { hp: "Float", min: -1, max: 1 },
  { hp: "Float" },
  { hp: "Choice", values: [] },
  { hp: "Choice", values: ["relu", "relu"] },
  { hp: "Choice", values: Array.from({ length: 33 }, (_, i) => i + 1) },
  { hp: "Choice" },
  { hp: "Boolean", values: [true] },
  { hp: "Fixed", value: 1 },
  { hp: "int", min: 1, max: 2 },
  { value: 1e9 },
  { value: -1 },
  { value: "8" },
  { value: null },
  { value: [8] },
  { value: 8, hp: "Int" },
  { hp: null },
  {},
);
// Spec fragments the page's light check must refuse (too many units or repeats).
const strangeSpec = fc.constantFrom(
  { units: 5000 },
  { units: 1e9 },
  { units: { hp: "Int", name: "u", min_value: 1, max_value: 1e9 } },
  { units: { hp: "Choice", name: "u", values: [8, 99999] } },
  { units: { value: 5000 } },
  { repeat: 33, layers: [{ units: 8 }] },
  { repeat: { hp: "Int", name: "n", min_value: 1, max_value: 1000 }, layers: [{ units: 8 }] },
  { repeat: 32, layers: [{ repeat: 32, layers: [{ units: 8 }] }] },
  { when: { name: "x", value: true }, layers: Array.from({ length: 70 }, () => ({ units: 8 })) },
  { class_name: "Dense", config: { units: 4097 } },
);
const scalar = fc.constantFrom(
  null, true, false, 0, -1, 1, 1.5, 0.99, 1e-7, 4096, 4097, 500, 501, 33, 1e9, -1e9, 1e308, -1e308, 2 ** 31, 2 ** 53, 2 ** 53 + 2,
  "", "0", "1", "-1", "8", "NaN", "Infinity", "-Infinity", "null", "true", "undefined", "1e9",
  "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "</textarea><svg onload=alert(1)>", "javascript:alert(1)",
  "__proto__", "constructor", "prototype", "toString", "hasOwnProperty",
);
const rawNumber = fc.constantFrom("-0", "-0.0", "1e999", "-1e999", "1e-400", "-1e-400", "1E2", "0.5e1", "100000000000000000000000000000", "4.0", "-0e0").map((t) => new Raw(t));
const enumWord = fc.constantFrom(...DATASETS, ...TUNERS, ...ACTIVATIONS, ...OPTIMIZERS, ...SECTIONS, ...DEVICES, ...FEATURES, "Int", "Float", "Choice", "Boolean", "dense", "dropout", "log", "linear", "regression", "val_mae", "val_loss", "RELU", " relu");
const nasty = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 3, arbitrary: rawNumber },
  { weight: 3, arbitrary: enumWord },
  { weight: 3, arbitrary: strangeP },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.double() }, // NaN and Infinity become null in JSON
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: textArb },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: deepRaw },
  { weight: 1, arbitrary: hugeList },
  { weight: 2, arbitrary: protoObject },
  { weight: 2, arbitrary: strangeSpec },
);
const extraKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "polluted", "toString", "valueOf", "hasOwnProperty", "__defineGetter__", "value", "hp", "min", "max", "step", "values", "type", "repeat", "v", ""),
  fc.string({ maxLength: 8 }),
  fc.constant("k".repeat(5000)),
);
const opKind = fc.constantFrom("replace", "replace", "replace", "delete", "wrap", "duplicate", "add-key");
const op = fc.record({
  kind: opKind,
  at: fc.nat(),
  value: nasty,
  key: extraKey,
});

/** Every path in `v` (arrays of keys and indices), the root included. */
function pathsOf(v, prefix = [], out = []) {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...prefix, i], out));
  else if (v && typeof v === "object") for (const k of Object.keys(v)) pathsOf(v[k], [...prefix, k], out);
  return out;
}

function setOwn(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Applies `ops` to a copy of `base`; returns the JSON text (placeholders replaced) and the
 * sections an error may name.
 */
function mutate(base, ops) {
  const raws = [];
  const put = (v) => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return RAW(raws.length - 1);
    }
    // A copy: later ops mutate inside it, and fast-check's constants are shared between runs.
    return structuredClone(v);
  };
  let root = structuredClone(base);
  const where = new Set();
  for (const o of ops) {
    const paths = pathsOf(root);
    const path = paths[o.at % paths.length];
    o.path = path;
    const section = path.length === 0 || typeof path[0] !== "string" || !TOP.includes(path[0]) ? "state" : path[0];
    where.add(section);
    if (section === "data") where.add("tuner"); // the data set's task decides the objectives
    if (path.length === 0) {
      if (o.kind === "add-key" && root && typeof root === "object" && !Array.isArray(root)) {
        setOwn(root, o.key, put(o.value));
        if (TOP.includes(o.key)) where.add(o.key);
        if (o.key === "data") where.add("tuner");
      } else if (o.kind === "wrap") root = [root];
      else {
        root = put(o.value); // anything at all: an error may be about any section
        for (const t of TOP) where.add(t);
      }
      continue;
    }
    let parent = root;
    for (const k of path.slice(0, -1)) parent = parent[k];
    const last = path[path.length - 1];
    if (o.kind === "replace") setOwn(parent, last, put(o.value));
    else if (o.kind === "delete") {
      if (Array.isArray(parent)) parent.splice(last, 1);
      else delete parent[last];
    } else if (o.kind === "wrap") setOwn(parent, last, Array.isArray(parent[last]) ? { value: parent[last] } : [parent[last]]);
    else if (o.kind === "duplicate") {
      if (Array.isArray(parent)) parent.splice(last, 0, structuredClone(parent[last]));
      else setOwn(parent, last, put(o.value));
    } else if (o.kind === "add-key") {
      const target = parent[last];
      if (target && typeof target === "object" && !Array.isArray(target)) setOwn(target, o.key, put(o.value));
      else setOwn(parent, last, put(o.value));
    }
  }
  // One value replaced inside a section: the error names that field (`model.hidden...` for
  // anything in model.hidden), or one that depends on it.
  let prefixes = null;
  const [first] = ops;
  if (ops.length === 1 && first.kind === "replace" && first.path.length >= 1 && !["spec", "state"].includes(first.path[0])) {
    const [a, b] = first.path;
    prefixes = [typeof b === "string" ? `${a}.${b}` : a];
    if (a === "data") prefixes.push("tuner.objective"); // the data set's task decides the objectives
    if (a === "model" && b === "hidden") prefixes.push("model.repeat.max"); // hidden layers x repeats
  }
  let text = JSON.stringify(root);
  if (text === undefined) text = "null";
  raws.forEach((r, i) => {
    text = text.split(`"${RAW(i)}"`).join(r);
  });
  return { text, where: [...where], prefixes };
}

/** Mutations of a hand-written spec: the state is valid, its `spec` text is mutated. */
function mutateSpec(base, spec, ops, asText) {
  const { text } = mutate(spec, ops);
  const state = { ...base, spec: asText ?? text };
  return JSON.stringify(state);
}

// ---------------------------------------------------------------------------------------------
// The properties

test("fuzz: arbitrary strings", () => {
  run("arbitrary strings", fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme", maxLength: 200 })), (s) => {
    check("arbitrary strings", s);
    check("arbitrary strings", "#" + s);
  }, 2);
});

test("fuzz: strings after s=", () => {
  const b64ish = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ %"), maxLength: 400 });
  run("strings after s=", fc.oneof(fc.string({ unit: "binary" }), b64ish), (s) => {
    check("strings after s=", "#s=" + s);
  });
});

test("fuzz: base64url of arbitrary bytes", () => {
  run("base64url of bytes", fc.uint8Array({ maxLength: 600 }), (bytes) => {
    check("base64url of bytes", "s=" + b64url(bytes));
  });
});

test("fuzz: base64url of arbitrary JSON values", () => {
  run("base64url of JSON values", fc.jsonValue(), (v) => {
    check("base64url of JSON values", hashOfText(JSON.stringify(v)));
  });
});

test("fuzz: base64url of arbitrary objects", () => {
  const withState = fc.object({ key: fc.oneof(fc.constantFrom(...TOP, "__proto__", "constructor"), fc.string()), maxDepth: 3 });
  run("base64url of JSON objects", withState, (o) => {
    check("base64url of JSON objects", hashOfText(JSON.stringify(o)));
  });
});

test("fuzz: random valid states decode to themselves", () => {
  run("valid states (round trip)", validStateArb, (s) => {
    const valid = validateState(s);
    const out = check("valid states (round trip)", "#" + encodeState(s));
    assert.ok(out, "a valid state was refused");
    assert.deepStrictEqual(out, valid);
  });
});

test("fuzz: mutations of the default state", () => {
  run("mutations of the default state", fc.array(op, { minLength: 1, maxLength: 3 }), (ops) => {
    const { text, where, prefixes } = mutate(defaultState(), ops);
    check("mutations of the default state", hashOfText(text), { where: [...where, "link"], prefixes });
  });
});

test("fuzz: mutations of random valid states", () => {
  run("mutations of random valid states", fc.tuple(validStateArb, fc.array(op, { minLength: 1, maxLength: 3 })), ([s, ops]) => {
    const { text, where, prefixes } = mutate(s, ops);
    check("mutations of random valid states", hashOfText(text), { where: [...where, "link"], prefixes });
  });
});

test("fuzz: mutations of hand-written specs", () => {
  const specOp = fc.record({ kind: opKind, at: fc.nat(), value: fc.oneof({ weight: 1, arbitrary: strangeSpec }, { weight: 2, arbitrary: nasty }), key: extraKey });
  const specOps = fc.array(specOp, { minLength: 1, maxLength: 3 });
  const asText = fc.option(fc.constantFrom("", "{", "[]", "null", '{"layers":', '{"layers":[]}x', "\u0000", "{\"layers\":[1,2,]}"), { freq: 8 });
  run("mutations of hand-written specs", fc.tuple(validStateArb, specArb, specOps, asText), ([s, spec, ops, text]) => {
    const json = mutateSpec(s, spec, ops, text ?? undefined);
    // The rest of the state is valid: only `spec` (or the link, when it grew too long) may be wrong.
    check("mutations of hand-written specs", hashOfText(json), { where: ["spec", "link"] });
  });
});

// ---------------------------------------------------------------------------------------------
// Direct checks of the helpers the decoder uses, and regressions

test("checkCustomSpec and parseJson refuse with Errors naming the path", () => {
  assert.throws(() => parseJson("{", "spec"), (e) => Object.getPrototypeOf(e) === Error.prototype && /^spec is not valid JSON/.test(e.message));
  const refuses = (f, re) => assert.throws(f, (e) => Object.getPrototypeOf(e) === Error.prototype && re.test(e.message));
  refuses(() => checkCustomSpec({ layers: [{ units: 5000 }] }), /^spec\.layers\[0\]\.units: 5000 asks for too many units/);
  refuses(() => checkCustomSpec({ layers: [{ repeat: 33, layers: [] }] }), /^spec\.layers\[0\]\.repeat: 33 repeats too often/);
  refuses(() => checkCustomSpec([]), /^spec: \[\] is not a JSON object/);
});

test("the default state is a fixed point", () => {
  const s = defaultState();
  assert.deepStrictEqual(decodeState(""), s);
  assert.deepStrictEqual(decodeState("#" + encodeState(s)), s);
  assert.deepStrictEqual(validateState(s), s);
});

// Found by "mutations of hand-written specs": a spec key is part of the error's path, and a
// 5,000-character key made a 5,000-character message. Keys that are not short names are now
// quoted and shortened (`spec.layers[0].config["kkk..."].units`), and a long path keeps its ends.
test("regression: a long key in a hand-written spec gives a short message", () => {
  const s = defaultState();
  s.spec = JSON.stringify({ layers: [{ class_name: "Dense", config: { ["k".repeat(5000)]: { units: 5000 } } }] });
  const hash = hashOfText(JSON.stringify(s));
  assert.throws(
    () => decodeState(hash),
    (e) => e.message.length < 300 && /^spec\.layers\[0\]\.config\["k{39}\.\.\."\]\.units: 5000 asks for too many units/.test(e.message),
  );
  const deep = { layers: [{ config: {} }] };
  let node = deep.layers[0].config;
  for (let i = 0; i < 30; i++) node = node["key with spaces " + "x".repeat(50)] = {};
  node.units = 9999;
  assert.throws(() => checkCustomSpec(deep), (e) => e.message.length < 300 && /^spec\.layers\[0\]\.config\["key with spaces x[^]*\.\.\.[^]*\.units: 9999 asks/.test(e.message));
  // Short names stay as they were.
  assert.throws(() => checkCustomSpec({ layers: [{ config: { units: 5000 } }] }), (e) => e.message.startsWith("spec.layers[0].config.units: 5000 asks"));
});

// Found while writing the huge-list generators: the units check took the largest of a Choice's
// values with Math.max(0, ...values), a spread of up to 50,000 arguments (a 100 KB spec). Node's
// default stack takes it, so the fuzz runs pass; on a 0.5 MB stack it was a RangeError. Now a loop.
test("regression: a Choice of 45,000 units values on a small stack", async () => {
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    import(workerData.url).then(({ decodeState, defaultState }) => {
      const s = defaultState();
      s.spec = JSON.stringify({ layers: [{ units: { hp: "Choice", name: "u", values: Array(45000).fill(1).concat([5000]) } }] });
      try {
        decodeState("s=" + Buffer.from(JSON.stringify(s)).toString("base64url"));
        parentPort.postMessage("accepted");
      } catch (e) {
        parentPort.postMessage(e.constructor.name + ": " + e.message);
      }
    });`;
  const url = new URL("../../www/src/state.js", import.meta.url).href;
  const w = new Worker(code, { eval: true, workerData: { url }, resourceLimits: { stackSizeMb: 0.5 } });
  try {
    const answer = await new Promise((ok, no) => {
      w.on("message", ok);
      w.on("error", no);
    });
    assert.match(answer, /^Error: spec\.layers\[0\]\.units: \{"hp":"Choice".* asks for too many units/);
  } finally {
    await w.terminate();
  }
});

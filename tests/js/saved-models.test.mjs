// Saved models across surfaces, and tunelab's TensorFlow.js export read by the real
// @tensorflow/tfjs package in Node:
// - `tunelab fit ... --save M --save-tfjs DIR` trains a model and writes it both ways; TF.js's
//   tf.loadLayersModel reads DIR (model.json + weights.bin) and predicts the same as
//   `tunelab predict M` within 1e-5;
// - a model saved by the CLI (Rust) loads in the npm package (`tl.loadModel`) and predicts the
//   same; a model trained and saved in JS (`model.save()`) predicts the same in `tunelab
//   predict`; the package's own `toTfjs()` loads in TF.js.
//
//     cargo build --release && bash scripts/build-npm.sh && node --test tests/js/saved-models.test.mjs
//
// TUNELAB_BIN names the binary (default target/release/tunelab).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import init, * as tl from "../../pkg/tunelab.js";

await init();

const BIN = process.env.TUNELAB_BIN ?? fileURLToPath(new URL("../../target/release/tunelab", import.meta.url));

function tunelab(args) {
  const r = spawnSync(BIN, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `tunelab ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

// A file-less IOHandler: TF.js in Node reads the pair from memory.
function fromFiles(dir) {
  const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const bin = readFileSync(join(dir, json.weightsManifest[0].paths[0]));
  return tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  });
}

// A CSV header line (tunelab reads the first line of a CSV as column names).
const header = (n) => Array.from({ length: n }, (_, j) => `c${j}`).join(",") + "\n";

const SPECS = {
  // Every layer kind, a softmax classifier on the 2-D circle set.
  classifier: {
    layers: [
      { class_name: "Dense", config: { units: 12, activation: "relu" } },
      { class_name: "Dropout", config: { rate: 0.2 } },
      { class_name: "Dense", config: { units: 6, activation: "tanh", use_bias: false } },
      { class_name: "Activation", config: { activation: "sigmoid" } },
      { class_name: "Dense", config: { units: 2, activation: "softmax" } },
    ],
    compile: { optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] },
  },
  // The other activations TF.js has under its own names (leaky_relu becomes a LeakyReLU layer).
  activations: {
    layers: [
      { class_name: "Dense", config: { units: 8, activation: "leaky_relu" } },
      { class_name: "Dense", config: { units: 8, activation: "gelu" } },
      { class_name: "Dense", config: { units: 8, activation: "selu" } },
      { class_name: "Dense", config: { units: 8, activation: "softplus" } },
      { class_name: "Dense", config: { units: 8, activation: "softsign" } },
      { class_name: "Dense", config: { units: 8, activation: "swish" } },
      { class_name: "Dense", config: { units: 8, activation: "silu" } },
      { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
    ],
    compile: { optimizer: "adam", loss: "mse", metrics: [] },
  },
  // A Normalization layer (adapted by fit on the training rows) becomes a diagonal Dense layer.
  normalized: {
    layers: [
      { class_name: "Normalization", config: {} },
      { class_name: "Dense", config: { units: 8, activation: "tanh" } },
      { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
    ],
    compile: { optimizer: "adam", loss: "binary_crossentropy", metrics: [] },
  },
  // 8x8 digits through Flatten, with elu and a linear output.
  digits: {
    input_shape: [64],
    layers: [
      { class_name: "Flatten", config: {} },
      { class_name: "Dense", config: { units: 16, activation: "elu" } },
      { class_name: "Dense", config: { units: 10, activation: "linear" } },
    ],
    compile: { optimizer: "sgd", loss: "categorical_crossentropy", metrics: [] },
  },
};

for (const [name, spec] of Object.entries(SPECS)) {
  test(`TF.js predicts as tunelab: ${name}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `tunelab-tfjs-${name}-`));
    const specPath = join(dir, "spec.json");
    writeFileSync(specPath, JSON.stringify(spec));
    const dataset = name === "digits" ? "digits" : "circle";
    tunelab(["fit", specPath, "--dataset", dataset, "--epochs", "3", "--save", join(dir, "m.tunelab"),
      "--save-tfjs", join(dir, "tfjs"), "--json"]);
    // Inputs: a few rows of the data set, as CSV.
    const width = name === "digits" ? 64 : 2;
    const rows = Array.from({ length: 7 }, (_, i) =>
      Array.from({ length: width }, (_, j) => Math.sin(1.3 * i + 0.7 * j) * (name === "digits" ? 0.5 : 4)));
    writeFileSync(join(dir, "x.csv"), header(width) + rows.map((r) => r.join(",")).join("\n") + "\n");
    const ours = JSON.parse(tunelab(["predict", join(dir, "m.tunelab"), "--x", join(dir, "x.csv"), "--json"]));
    const model = await tf.loadLayersModel(fromFiles(join(dir, "tfjs")));
    const theirs = await model.predict(tf.tensor2d(rows)).array();
    assert.equal(theirs.length, ours.predictions.length);
    for (let i = 0; i < theirs.length; i++) {
      for (let j = 0; j < theirs[i].length; j++) {
        assert.ok(Math.abs(theirs[i][j] - ours.predictions[i][j]) <= 1e-5,
          `row ${i} col ${j}: TF.js ${theirs[i][j]} vs tunelab ${ours.predictions[i][j]}`);
      }
    }
  });
}

function rowsCsv(dir, rows) {
  const p = join(dir, "x.csv");
  writeFileSync(p, header(rows[0].length) + rows.map((r) => r.join(",")).join("\n") + "\n");
  return p;
}

const ROWS = Array.from({ length: 9 }, (_, i) => [Math.cos(i) * 3, Math.sin(2 * i) * 3]);

function close(a, b, what) {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a[i].length; j++) {
      assert.ok(Math.abs(a[i][j] - b[i][j]) <= 1e-5, `${what}: row ${i} col ${j}: ${a[i][j]} vs ${b[i][j]}`);
    }
  }
}

function rows2d(t) {
  const [n, k] = t.shape;
  const d = t.dataSync();
  return Array.from({ length: n }, (_, i) => Array.from(d.slice(i * k, (i + 1) * k)));
}

test("a model saved by the CLI loads in JS, and one saved in JS predicts the same in the CLI", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tunelab-saved-"));
  const specPath = join(dir, "spec.json");
  writeFileSync(specPath, JSON.stringify(SPECS.classifier));
  const x = rowsCsv(dir, ROWS);
  // Rust -> JS
  tunelab(["fit", specPath, "--dataset", "circle", "--epochs", "4", "--save", join(dir, "cli.tunelab"), "--json"]);
  const cli = JSON.parse(tunelab(["predict", join(dir, "cli.tunelab"), "--x", x, "--json"])).predictions;
  const loaded = tl.loadModel(readFileSync(join(dir, "cli.tunelab")));
  close(rows2d(await loaded.predict(tl.tensor(ROWS.flat(), [ROWS.length, 2]))), cli, "CLI-saved model in JS");
  // JS -> Rust: train in JS, save, predict with the CLI.
  const m = tl.modelFromJSON(SPECS.classifier);
  const ds = tl.dataset("circle", { seed: 3 });
  await m.fit(ds.x, ds.y, { epochs: 3, verbose: 0 });
  writeFileSync(join(dir, "js.tunelab"), m.save());
  const ours = rows2d(await m.predict(tl.tensor(ROWS.flat(), [ROWS.length, 2])));
  const inCli = JSON.parse(tunelab(["predict", join(dir, "js.tunelab"), "--x", x, "--json"])).predictions;
  close(inCli, ours, "JS-saved model in the CLI");
  // And the package's own TF.js export.
  const { modelJSON, weights } = m.toTfjs();
  const j = JSON.parse(modelJSON);
  const tfm = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: j.modelTopology,
    weightSpecs: j.weightsManifest[0].weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }));
  close(await tfm.predict(tf.tensor2d(ROWS)).array(), ours, "the package's TF.js export");
  assert.throws(() => tl.loadModel("not bytes"), /loadModel: expected the saved file's bytes/);
  assert.throws(() => tl.loadModel(new Uint8Array([1, 2, 3])), /not a saved tunelab model/);
});

test("activations TF.js lacks or computes otherwise are refused before training", () => {
  const dir = mkdtempSync(join(tmpdir(), "tunelab-tfjs-refused-"));
  for (const act of ["hard_sigmoid", "exponential"]) {
    const specPath = join(dir, `${act}.json`);
    writeFileSync(specPath, JSON.stringify({
      layers: [{ class_name: "Dense", config: { units: 3, activation: act } }, { class_name: "Dense", config: { units: 1 } }],
      compile: { optimizer: "adam", loss: "mse", metrics: [] },
    }));
    const r = spawnSync(BIN, ["fit", specPath, "--dataset", "circle", "--save-tfjs", join(dir, act)], { encoding: "utf8" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`activation.*${act}.*TensorFlow.js`));
  }
});

test("TF.js habits: tf.Tensor inputs, dispose(), tidy()", async () => {
  const xs = tf.tensor2d(ROWS);
  const ys = tf.tensor2d(ROWS.map((r) => [r[0] * r[0] + r[1] * r[1] < 9 ? 1 : 0]));
  const m = tl.modelFromJSON({
    layers: [{ class_name: "Dense", config: { units: 8, activation: "tanh" } }, { class_name: "Dense", config: { units: 1, activation: "sigmoid" } }],
    compile: { optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"] },
  });
  const h = await m.fit(xs, ys, { epochs: 2, verbose: 0 });
  assert.equal(h.history.loss.length, 2);
  // The same numbers as from tunelab's own tensors.
  const viaTf = await m.predict(xs);
  const viaTl = await m.predict(tl.tensor(ROWS.flat(), [ROWS.length, 2]));
  assert.deepEqual(Array.from(viaTf.dataSync()), Array.from(viaTl.dataSync()));
  const t = tl.tensor(xs);
  assert.deepEqual(t.shape, [ROWS.length, 2]);
  const out = tl.tidy(() => tl.tensor([1, 2], [2]));
  assert.deepEqual(Array.from(out.dataSync()), [1, 2]);
  tl.dispose([out, t]);
  assert.ok(out.isDisposed && t.isDisposed);
  await assert.rejects(() => m.predict(t), /disposed/);
  xs.dispose();
  ys.dispose();
});

// tunelab's TensorFlow.js export, read by the real @tensorflow/tfjs package in Node:
// `tunelab fit ... --save M --save-tfjs DIR` trains a model and writes it both ways; TF.js's
// tf.loadLayersModel reads DIR (model.json + weights.bin) and predicts the same as
// `tunelab predict M` within 1e-5.
//
//     cargo build --release && node --test tests/js/tfjs-export.test.mjs
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
      { class_name: "Dense", config: { units: 2, activation: "hard_sigmoid" } },
    ],
    compile: { optimizer: "adam", loss: "mse", metrics: [] },
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
    writeFileSync(join(dir, "x.csv"), rows.map((r) => r.join(",")).join("\n") + "\n");
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

// Vite bundles tunelab.js and, through wasm-bindgen's `new URL("tunelab_wasm_bg.wasm",
// import.meta.url)`, emits the .wasm as an asset: `init()` needs no arguments.
import init, * as tl from "tunelab";

const status = document.getElementById("status");
const summary = document.getElementById("summary");
const bestScore = document.getElementById("best-score");

function buildModel(hp) {
  const model = tl.sequential();
  for (let i = 0; i < hp.Int("num_layers", { minValue: 1, maxValue: 2 }); i++) {
    model.add(tl.layers.dense({ units: hp.Int(`units_${i}`, { minValue: 4, maxValue: 16, step: 4 }), activation: hp.Choice("activation", ["relu", "tanh"]) }));
  }
  model.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
  model.compile({
    optimizer: tl.optimizers.adam({ learningRate: hp.Float("lr", { minValue: 1e-3, maxValue: 1e-1, sampling: "log" }) }),
    loss: "binary_crossentropy",
    metrics: ["accuracy"],
  });
  return model;
}

async function main() {
  await init();
  status.textContent = `tunelab ${tl.version()}: searching…`;
  const { x, y } = tl.dataset("xor", { noise: 0, seed: 1 });
  const tuner = new tl.RandomSearch({
    hypermodel: buildModel,
    objective: "val_accuracy",
    maxTrials: 3,
    seed: 1,
    overwrite: true,
    directory: "vite_app",
    projectName: "xor",
  });
  await tuner.search(x, y, {
    epochs: 2,
    validationSplit: 0.2,
    callbacks: { onTrialEnd: (t) => (status.textContent = `trial ${t.trialId} finished: val_accuracy ${t.score}`) },
  });
  summary.textContent = tuner.resultsSummary();
  const scores = tuner.trials.filter((t) => t.status === "COMPLETED").map((t) => t.score);
  bestScore.textContent = String(Math.max(...scores));
  status.textContent = "done";
}

main().catch((e) => {
  status.textContent = `error: ${e.message}`;
  console.error(e);
});

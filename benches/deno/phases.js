// Run: deno run --no-config -A benches/deno/phases.js [MODEL...] (PKG=path/to/tunelab.js to compare builds)
// Where a tunelab WebGPU fit's time goes in Deno: fits of 1 and 4 epochs on the same model
// and tensors; (t4 - t1) / 3 is an epoch's GPU work, t1 minus that the per-fit overhead.
const tl = await import(Deno.env.get("PKG") ?? "../../pkg/tunelab.js");
import { dataFor, MODELS } from "../browser/bench.js";
await tl.default();
console.log("gpu:", await tl.initGpu());
for (const name of Deno.args.length ? Deno.args : Object.keys(MODELS)) {
  const m = MODELS[name];
  const { n, d, k, x, y } = dataFor(name);
  const model = tl.sequential();
  m.layers.forEach(([units, activation], i) => model.add(tl.layers.dense({ units, activation, ...(i === 0 ? { inputShape: [d] } : {}) })));
  model.compile({ optimizer: tl.optimizers.adam({ learningRate: 1e-3 }), loss: k === 1 ? "binary_crossentropy" : "categorical_crossentropy" });
  model.setDevice("webgpu");
  let t0 = performance.now();
  const xs = tl.tensor(x, [n, d]), ys = tl.tensor(y, [n, k]);
  const tTensor = performance.now() - t0;
  const fit = async (epochs) => { const t = performance.now(); await model.fit(xs, ys, { epochs, batchSize: m.batchSize, verbose: 0, shuffle: true }); return performance.now() - t; };
  await fit(1);
  const t1 = Math.min(await fit(1), await fit(1), await fit(1));
  const t4 = Math.min(await fit(4), await fit(4));
  const epoch = (t4 - t1) / 3;
  console.log(`${name}: tensor ${tTensor.toFixed(1)} ms; fit(1) ${t1.toFixed(1)} ms; fit(4) ${t4.toFixed(1)} ms; per epoch ${epoch.toFixed(1)} ms (${(n / epoch * 1000).toFixed(0)} samples/s); per-fit overhead ${(t1 - epoch).toFixed(1)} ms; ran on ${model.device.device}`);
}
Deno.exit(0);

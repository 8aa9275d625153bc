// Run: deno run --no-config -A benches/deno/overhead.js (PKG=path/to/tunelab.js to compare builds)
// Per-fit overhead of a WebGPU fit in Deno: one tiny step per fit (stepsPerEpoch 1), so what
// is timed is everything around the GPU work: copies, upload, buffers, read backs.
const tl = await import(Deno.env.get("PKG") ?? "../../pkg/tunelab.js");
await tl.default();
console.log("gpu:", await tl.initGpu());
for (const [n, d] of [[500, 2], [8192, 64], [8192, 784]]) {
  const x = new Float32Array(n * d).map((_, i) => Math.sin(i));
  const y = new Float32Array(n * 10).map((_, i) => (i % 10 === 0 ? 1 : 0));
  const model = tl.sequential();
  model.add(tl.layers.dense({ units: 8, activation: "relu", inputShape: [d] }));
  model.add(tl.layers.dense({ units: 10, activation: "softmax" }));
  model.compile({ optimizer: tl.optimizers.adam({ learningRate: 1e-3 }), loss: "categorical_crossentropy" });
  model.setDevice("webgpu");
  const xs = tl.tensor(x, [n, d]), ys = tl.tensor(y, [n, 10]);
  const opts = { epochs: 1, batchSize: 32, stepsPerEpoch: 1, verbose: 0, shuffle: true };
  await model.fit(xs, ys, opts);
  const ts = [];
  for (let i = 0; i < 15; i++) { const t = performance.now(); await model.fit(xs, ys, opts); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  console.log(`${n}x${d}: per fit min ${ts[0].toFixed(1)} ms, median ${ts[7].toFixed(1)} ms (${model.device.device})`);
}
Deno.exit(0);

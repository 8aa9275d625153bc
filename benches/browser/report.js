// The report both benchmark runners print (benches/browser/run.mjs in Chromium,
// benches/deno/run.js in Deno): the samples/s table with the tunelab/TF.js ratios, and the
// per-cell details. Plain ES module, no Node or Deno APIs.

export const MODEL_ORDER = ["64-128-64-10", "784-256-128-10", "2-8-8-1"];
export const MODEL_SAMPLES = { "64-128-64-10": 8192, "784-256-128-10": 8192, "2-8-8-1": 500 };

export const fmtRate = (r) => (r === undefined ? "-" : Math.round(r).toLocaleString("en-US"));

// A text table; the columns listed in `left` are left-aligned, the others right-aligned.
export function table(rows, header, left = [0]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (!left.includes(i) ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join(" | ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)].join("\n");
}

// The report's opening: what was measured where (`where`: "in Chromium", ...), the ratio table,
// and the models and their data (`dataFrom`: where the seeded data is made).
export function summaryLines(where, dataFrom, models, cells, results) {
  const any = Object.values(results);
  const tlVersion = any.find((r) => r.library === "tunelab")?.version ?? "?";
  const tfVersion = any.find((r) => r.library === "tfjs")?.version ?? "?";
  const { text, capped } = ratioTable(models, cells, results);
  const out = [
    `MLP training throughput ${where}, samples/s of one epoch after a warm-up epoch (higher is better)`,
    `tunelab ${tlVersion} vs TensorFlow.js ${tfVersion}; Adam(lr 1e-3), categorical crossentropy (binary for 2-8-8-1), shuffle on for both`,
    "",
    text,
    "",
    "ratio = tunelab samples/s / TF.js samples/s.",
    "models: 64-128-64-10 relu/softmax, batch 32, 8192 samples x 64 features; 784-256-128-10 relu/softmax, batch 128,",
    `        8192 x 784; 2-8-8-1 tanh/sigmoid, batch 10, 500 spiral samples. Data from a fixed-seed PRNG ${dataFrom}.`,
  ];
  if (capped.length) out.push(`* capped sample count (the first rows of the same data), so compare per-sample rates: ${capped.join("; ")}`);
  return out;
}

// The main table: samples/s per model and cell, and the two ratios. `results` maps
// "model|library device" to a cell's result; a cell not in `cells` shows "-", one that ran
// and failed "failed", one trained on fewer samples than the model's set is starred (and
// listed in `capped`).
export function ratioTable(models, cells, results) {
  const capped = [];
  const rows = models.map((model) => {
    const get = (key) => results[`${model}|${key}`];
    const cell = (key) => {
      if (!cells.some(([l, d]) => `${l} ${d}` === key)) return "-";
      const r = get(key);
      if (!r) return "failed";
      if (r.samples < MODEL_SAMPLES[model]) {
        capped.push(`${model} ${key}: ${r.samples} samples`);
        return `${fmtRate(r.samplesPerSec)}*`;
      }
      return fmtRate(r.samplesPerSec);
    };
    const ratio = (a, b) => {
      const [ra, rb] = [get(a), get(b)];
      return ra && rb ? `${(ra.samplesPerSec / rb.samplesPerSec).toFixed(2)}x` : "-";
    };
    return [model, cell("tunelab cpu"), cell("tfjs wasm"), ratio("tunelab cpu", "tfjs wasm"), cell("tunelab webgpu"), cell("tfjs webgpu"), ratio("tunelab webgpu", "tfjs webgpu")];
  });
  return { text: table(rows, ["model", "tunelab cpu", "tfjs wasm", "ratio", "tunelab webgpu", "tfjs webgpu", "ratio"]), capped };
}

// The per-cell lines and the problems, as the report ends.
export function detailLines(models, cells, results, failures) {
  const out = ["", "per cell (timed fits x samples, time of those fits, warm-up fit, loss of the last timed epoch, where it ran):"];
  const detail = [];
  for (const model of models) {
    for (const [library, device] of cells) {
      const r = results[`${model}|${library} ${device}`];
      if (!r) detail.push([model, `${library} ${device}`, "failed", "", "", "", ""]);
      else detail.push([model, `${library} ${device}`, `${r.fits} x ${r.samples}`, `${r.ms.toFixed(1)} ms`, `${r.warmupMs.toFixed(0)} ms`, r.loss.toFixed(4), r.ranOn]);
    }
  }
  out.push(table(detail, ["model", "cell", "fits x n", "timed", "warm-up", "loss", "ran on"], [0, 1, 6]));
  if (failures.length) out.push("", "problems:", ...failures.map((f) => `  ${f}`));
  return out;
}

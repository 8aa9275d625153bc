// The browser benchmark (benches/browser/bench.js) without a browser: Deno, whose WebGPU is wgpu
// on the machine's Vulkan (or Metal/DX12) driver, runs the same cells as benches/browser/run.mjs:
// tunelab (wasm CPU engine, and WebGPU) and TensorFlow.js 4.22 (wasm single-threaded SIMD, and
// webgpu) on the three MLPs, and prints samples/s and the tunelab/TF.js ratios.
//
//   deno run --no-config --allow-read=. --allow-run --allow-env benches/deno/run.js
//
// from the repository root (benches/deno/gpu-machine.sh does it on a GPU machine). Each cell runs
// in its own Deno process (benches/deno/cell.js), as each runs in a fresh page in Chromium.
// Options (environment), as for run.mjs: BENCH_MODELS=a,b; BENCH_CELLS=tunelab-webgpu,tfjs-webgpu
// (default all four: tunelab-cpu, tfjs-wasm, tunelab-webgpu, tfjs-webgpu); BENCH_CELL_TIMEOUT_S
// (default 150); BENCH_MIN_MS (default 200); BENCH_TFJS_WEBGPU_CAP=N; BENCH_TFJS_YIELD (default
// never); and Deno's own DENO_WEBGPU_BACKEND (e.g. vulkan; unset, every backend), which the cells
// inherit. Progress goes to stderr, the report to stdout; it exits 1 if a cell failed.

import { MODEL_ORDER, MODEL_SAMPLES, detailLines, fmtRate, summaryLines } from "../browser/report.js";

const ROOT = new URL("../../", import.meta.url);
const CELL_SCRIPT = new URL("./cell.js", import.meta.url);
const envVar = (k) => Deno.env.get(k);
const CELL_TIMEOUT_MS = Number(envVar("BENCH_CELL_TIMEOUT_S") || 150) * 1000;
const TFJS_YIELD = envVar("BENCH_TFJS_YIELD") || "never";
const MIN_MS = Number(envVar("BENCH_MIN_MS") || 200);
const TFJS_WEBGPU_CAP = envVar("BENCH_TFJS_WEBGPU_CAP") ? Number(envVar("BENCH_TFJS_WEBGPU_CAP")) : undefined;
const CAPS = TFJS_WEBGPU_CAP ? { "tfjs webgpu": TFJS_WEBGPU_CAP } : {};

const ALL_CELLS = [
  ["tunelab", "cpu"],
  ["tfjs", "wasm"],
  ["tunelab", "webgpu"],
  ["tfjs", "webgpu"],
];
const CELLS = envVar("BENCH_CELLS") ? ALL_CELLS.filter(([l, d]) => envVar("BENCH_CELLS").split(",").map((s) => s.trim()).includes(`${l}-${d}`)) : ALL_CELLS;

// Lines the children may write to stderr that say nothing about the run: libwayland's, when the
// Vulkan loader probes presentation support on a machine without a display.
const BENIGN_STDERR = [/^error: XDG_RUNTIME_DIR is invalid or not set in the environment\.$/];

function exists(rel) {
  try {
    Deno.statSync(new URL(rel, ROOT));
    return true;
  } catch {
    return false;
  }
}

function preflight() {
  const missing = [];
  for (const f of ["pkg/tunelab.js", "pkg/wasm/tunelab_wasm.js", "pkg/wasm/tunelab_wasm_bg.wasm"]) {
    if (!exists(f)) missing.push(`${f} is missing: run \`bash scripts/build-npm.sh\` (or copy pkg/ here, see benches/deno/pack.sh)`);
  }
  for (const f of [
    "@tensorflow/tfjs/dist/tf.es2017.min.js",
    "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js",
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
    "@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.es2017.min.js",
  ]) {
    if (!exists(`benches/browser/node_modules/${f}`)) missing.push(`benches/browser/node_modules/${f} is missing: run \`npm install --prefix benches/browser\` (or see benches/deno/pack.sh)`);
  }
  if (missing.length) {
    console.error(missing.join("\n"));
    Deno.exit(2);
  }
}

/** Runs cell.js with `arg` in a fresh Deno process; {value} or {error}, and problems. */
async function runCell(arg, timeoutMs) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", `--allow-read=${ROOT.pathname}`, CELL_SCRIPT.href, typeof arg === "string" ? arg : JSON.stringify(arg)],
    stdout: "piped",
    stderr: "piped",
    signal: ac.signal,
  });
  let out;
  try {
    out = await cmd.output();
  } finally {
    clearTimeout(timer);
  }
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder()
    .decode(out.stderr)
    .split("\n")
    .filter((l) => l.trim() && !BENIGN_STDERR.some((re) => re.test(l)));
  const line = stdout.split("\n").find((l) => l.startsWith("CELL "));
  if (ac.signal.aborted) return { error: `timed out after ${timeoutMs / 1000} s`, problems: [], stderr };
  if (!line) return { error: `the cell process exited with ${out.code} and no result`, problems: [], stderr };
  const r = JSON.parse(line.slice(5));
  return { ...r, stderr };
}

// ---------------------------------------------------------------------------------------------
// Report

// PCI vendor ids, as Deno's adapter info gives them (a decimal number in `vendor`).
const VENDORS = { 0x10de: "NVIDIA", 0x1002: "AMD", 0x8086: "Intel", 0x10005: "Mesa (software)", 0x13b5: "ARM", 0x5143: "Qualcomm", 0x106b: "Apple" };
function fmtVendor(v) {
  if (v === undefined || v === "") return undefined;
  const n = /^\d+$/.test(String(v)) ? Number(v) : NaN;
  if (Number.isNaN(n)) return String(v);
  return `${v} (0x${n.toString(16)}${VENDORS[n] ? ` ${VENDORS[n]}` : ""})`;
}

async function main() {
  preflight();
  const models = envVar("BENCH_MODELS") ? envVar("BENCH_MODELS").split(",").map((s) => s.trim()) : MODEL_ORDER;
  for (const m of models) {
    if (!MODEL_SAMPLES[m]) {
      console.error(`unknown model ${m} (known: ${MODEL_ORDER.join(", ")})`);
      Deno.exit(2);
    }
  }
  const started = performance.now();
  const results = {};
  const failures = [];
  const e = await runCell("environment", 60_000);
  for (const l of e.stderr ?? []) console.error(`  [deno stderr] ${l}`);
  const env = e.value ?? { error: e.error };
  const w = env.webgpu;
  if (w && !w.error) console.error(`WebGPU adapter: ${w.description || "?"} (vendor ${fmtVendor(w.vendor) ?? "?"}, device ${w.device || "?"}, architecture ${w.architecture || "-"}, isFallbackAdapter ${w.isFallbackAdapter})`);
  else console.error(`WebGPU adapter: none (${w?.error ?? env.error ?? "unknown"})`);

  for (const model of models) {
    for (const [library, device] of CELLS) {
      const key = `${library} ${device}`;
      const t0 = performance.now();
      Deno.stderr.writeSync(new TextEncoder().encode(`${model.padEnd(15)} ${key.padEnd(15)} ... `));
      const r = await runCell({ library, device, model, samples: CAPS[key], minMs: MIN_MS, yieldEvery: TFJS_YIELD }, CELL_TIMEOUT_MS);
      const wall = ((performance.now() - t0) / 1000).toFixed(1);
      if (r.value) {
        results[`${model}|${key}`] = r.value;
        const v = r.value;
        console.error(`${fmtRate(v.samplesPerSec)} samples/s (${v.fits} x ${v.samples} samples in ${v.ms.toFixed(1)} ms, warm-up ${v.warmupMs.toFixed(0)} ms, loss ${v.loss.toFixed(4)}, ran on ${v.ranOn}; ${wall} s)`);
      } else {
        failures.push(`${model} ${key}: ${r.error}`);
        console.error(`FAILED: ${r.error} (${wall} s)`);
      }
      for (const p of r.problems ?? []) {
        failures.push(`${model} ${key}: ${p}`);
        console.error(`  ${p}`);
      }
      for (const l of [...new Set(r.stderr ?? [])]) console.error(`  [deno stderr] ${l}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;

  const any = Object.values(results);
  const gpuLabel = any.find((r) => r.gpuLabel)?.gpuLabel;
  const tfAdapter = any.find((r) => r.library === "tfjs" && r.device === "webgpu")?.backendInfo?.adapter;
  const tfWasm = any.find((r) => r.library === "tfjs" && r.device === "wasm");

  const out = [];
  out.push(...summaryLines("in Deno (no browser)", "(benches/browser/bench.js)", models, CELLS, results));
  if (tfWasm) {
    out.push(
      `tunelab cpu = its wasm engine (one thread); tfjs wasm = tfjs-backend-wasm, SIMD ${tfWasm.backendInfo?.simd ? "on" : "off"}, threads ${tfWasm.backendInfo?.threads ? "on" : "off"}` +
        ` (loaded ${tfWasm.wasmFiles?.join(", ") || "?"})`,
    );
  }
  out.push(
    `timing: performance.now() around one fit({epochs: 1}) on the model after its warm-up fit, each fit started in a fresh task;` +
      ` an epoch under ${MIN_MS} ms is repeated until the fits add up to ${MIN_MS} ms (rate = all samples / all time); TF.js fit yieldEvery: ${TFJS_YIELD}`,
  );
  out.push(`Deno: ${env.deno ? `deno ${env.deno.deno}, v8 ${env.deno.v8}` : "?"} (${env.userAgent ?? "?"}); each cell in its own deno process`);
  const backends = envVar("DENO_WEBGPU_BACKEND");
  out.push(`Deno's WebGPU backends: ${backends ? `DENO_WEBGPU_BACKEND=${backends}` : "all (DENO_WEBGPU_BACKEND unset: wgpu picks among Vulkan and OpenGL adapters, and falls back to OpenGL when Vulkan has none)"}`);
  if (w && !w.error) {
    const fields = [["vendor", fmtVendor(w.vendor)], ["architecture", w.architecture], ["device", w.device], ["description", w.description]].filter(([, v]) => v).map(([k, v]) => `${k} ${v}`);
    out.push(`WebGPU adapter (navigator.gpu.requestAdapter().info): ${fields.join(", ") || "no info"}, isFallbackAdapter ${w.isFallbackAdapter}`);
  } else out.push(`WebGPU adapter: none (${w?.error ?? env.error ?? "unknown"})`);
  if (gpuLabel) out.push(`tunelab initGpu(): ${gpuLabel}`);
  if (tfAdapter) out.push(`TF.js webgpu backend's adapterInfo: vendor ${fmtVendor(tfAdapter.vendor) ?? "-"}, architecture ${tfAdapter.architecture || "-"}`);
  const software = w && !w.error && (w.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software/i.test(`${w.description} ${w.architecture}`));
  if (software) out.push("NOTE: the WebGPU adapter is a software (CPU) implementation: the webgpu columns measure this machine's CPU cores, not a GPU.");
  for (const r of any.filter((r) => r.library === "tunelab" && r.device === "webgpu" && !String(r.ranOn).startsWith("webgpu"))) {
    out.push(`NOTE: tunelab webgpu ${r.model}: ran on ${r.ranOn}${r.note ? ` (${r.note})` : ""}`);
  }
  out.push(`host: ${env.hardwareConcurrency ?? "?"} logical cores; whole run ${seconds.toFixed(0)} s`);
  out.push(...detailLines(models, CELLS, results, failures));
  console.log(out.join("\n"));
  Deno.exit(failures.length ? 1 : 0);
}

await main();

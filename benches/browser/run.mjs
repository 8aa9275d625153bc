// Browser benchmark driver: serves the repository root on 127.0.0.1 (node:http), opens
// benches/browser/index.html in Debian's Chromium (playwright-core, headless), trains each
// model with tunelab (cpu = wasm, webgpu) and TensorFlow.js 4.22 (wasm single-threaded SIMD,
// webgpu), one cell per fresh page, and prints samples/s and the tunelab/TF.js ratios.
//
//   npm install                      # playwright-core and @tensorflow/* (devDependencies)
//   bash scripts/build-npm.sh        # pkg/ (tunelab's npm package)
//   npm run bench:browser            # or: node benches/browser/run.mjs
//
// Options (environment): CHROMIUM=/path (default /usr/bin/chromium); BENCH_MODELS=a,b (model
// names, default all); BENCH_CELL_TIMEOUT_S (default 150); BENCH_TFJS_YIELD=auto|epoch|never
// (TF.js fit's yieldEvery, default never); BENCH_TFJS_WEBGPU_CAP=N (see below); BENCH_MIN_MS
// (an epoch shorter than this is repeated until the fits add up to it, default 200). Progress goes to stderr, the report to stdout.

import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM, CHROMIUM_ARGS, WEBGPU_ARGS, serve } from "../../tests/js/serve.mjs";
import { MODEL_ORDER, MODEL_SAMPLES, detailLines, fmtRate, summaryLines } from "./report.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
const PAGE = "/benches/browser/index.html";
const CELL_TIMEOUT_MS = Number(process.env.BENCH_CELL_TIMEOUT_S || 150) * 1000;
const TFJS_YIELD = process.env.BENCH_TFJS_YIELD || "never";
const MIN_MS = Number(process.env.BENCH_MIN_MS || 200);

// Optional sample cap for TF.js's webgpu backend (BENCH_TFJS_WEBGPU_CAP=N: its cells train on
// the first N rows of the same data). On SwiftShader, the software WebGPU of headless Chromium
// here, the uncapped run takes about 2 minutes in all, so the default is no cap. A capped cell
// is starred in the table; its rate is still samples/s, so the ratios compare per-sample rates.
const TFJS_WEBGPU_CAP = process.env.BENCH_TFJS_WEBGPU_CAP ? Number(process.env.BENCH_TFJS_WEBGPU_CAP) : undefined;
const CAPS = TFJS_WEBGPU_CAP ? { "tfjs webgpu": TFJS_WEBGPU_CAP } : {};

const CELLS = [
  ["tunelab", "cpu"],
  ["tfjs", "wasm"],
  ["tunelab", "webgpu"],
  ["tfjs", "webgpu"],
];


// ---------------------------------------------------------------------------------------------
// Checks

function preflight() {
  const missing = [];
  if (!existsSync(join(ROOT, "pkg", "tunelab.js")) || !existsSync(join(ROOT, "pkg", "wasm", "tunelab_wasm_bg.wasm"))) {
    missing.push("pkg/ has no built package: run `bash scripts/build-npm.sh`");
  }
  for (const f of [
    "@tensorflow/tfjs/dist/tf.es2017.min.js",
    "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js",
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
    "@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.es2017.min.js",
  ]) {
    if (!existsSync(join(ROOT, "benches", "browser", "node_modules", f))) missing.push(`benches/browser/node_modules/${f} is missing: run \`npm install --prefix benches/browser\``);
  }
  if (!existsSync(CHROMIUM)) missing.push(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  if (missing.length) {
    console.error(missing.join("\n"));
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------
// One cell in a fresh page

async function runInPage(browser, url, fn, arg, timeoutMs) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on("crash", () => problems.push("the page crashed"));
  const wasmFiles = new Set();
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith(".wasm")) wasmFiles.add(path.slice(path.lastIndexOf("/") + 1));
  });
  let timer;
  try {
    await page.goto(url);
    await page.waitForFunction(() => globalThis.bench !== undefined, null, { timeout: 30_000 });
    const work = page.evaluate(fn, arg);
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
    });
    const value = await Promise.race([work, timeout]);
    return { value: value && { ...value, wasmFiles: [...wasmFiles] }, problems };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e).split("\n")[0], problems, wasmFiles: [...wasmFiles] };
  } finally {
    clearTimeout(timer);
    await context.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  preflight();
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch (e) {
    console.error(`playwright-core is not installed: run \`npm install\` at the repository root (${e.message})`);
    process.exit(2);
  }
  const models = process.env.BENCH_MODELS ? process.env.BENCH_MODELS.split(",").map((s) => s.trim()) : MODEL_ORDER;
  const started = performance.now();
  const site = await serve(ROOT);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...WEBGPU_ARGS],
  });
  const url = site.origin + PAGE;
  const results = {};
  const failures = [];
  let env;
  let version;
  try {
    const e = await runInPage(browser, url, () => globalThis.bench.environment(), null, 30_000);
    env = e.value ?? { error: e.error };
    for (const model of models) {
      for (const [library, device] of CELLS) {
        const key = `${library} ${device}`;
        const samples = CAPS[key];
        const t0 = performance.now();
        process.stderr.write(`${model.padEnd(15)} ${key.padEnd(15)} ... `);
        const r = await runInPage(browser, url, (a) => globalThis.bench.runCell(a), { library, device, model, samples, minMs: MIN_MS, yieldEvery: TFJS_YIELD }, CELL_TIMEOUT_MS);
        const wall = ((performance.now() - t0) / 1000).toFixed(1);
        if (r.value) {
          results[`${model}|${key}`] = r.value;
          const v = r.value;
          process.stderr.write(
            `${fmtRate(v.samplesPerSec)} samples/s (${v.fits} x ${v.samples} samples in ${v.ms.toFixed(1)} ms, warm-up ${v.warmupMs.toFixed(0)} ms, loss ${v.loss.toFixed(4)}, ran on ${v.ranOn}; ${wall} s)\n`,
          );
        } else {
          failures.push(`${model} ${key}: ${r.error}`);
          process.stderr.write(`FAILED: ${r.error} (${wall} s)\n`);
        }
        for (const p of r.problems) {
          failures.push(`${model} ${key}: ${p}`);
          process.stderr.write(`  ${p}\n`);
        }
      }
    }
  } finally {
    version = browser.version();
    await browser.close().catch(() => {});
    await site.close();
  }
  const seconds = (performance.now() - started) / 1000;

  const any = Object.values(results);
  const gpuLabel = any.find((r) => r.gpuLabel)?.gpuLabel;
  const tlGpuNotes = [...new Set(any.filter((r) => r.library === "tunelab" && r.device === "webgpu" && !String(r.ranOn).startsWith("webgpu")).map((r) => `${r.model}: ran on ${r.ranOn}${r.note ? ` (${r.note})` : ""}`))];

  const out = [];
  out.push(...summaryLines("in Chromium", "in the page", models, CELLS, results));
  const tfWasm = any.find((r) => r.library === "tfjs" && r.device === "wasm");
  out.push(
    `tunelab cpu = its wasm engine (one thread); tfjs wasm = tfjs-backend-wasm, SIMD ${fmtFlag(any, "simd")}, threads ${fmtFlag(any, "threads")}` +
      ` (crossOriginIsolated: ${env?.crossOriginIsolated}; loaded ${tfWasm?.wasmFiles?.filter((f) => f.startsWith("tfjs")).join(", ") || "?"})`,
  );
  out.push(
    `timing: performance.now() around one fit({epochs: 1}) on the model after its warm-up fit, each fit started in a fresh task;` +
      ` an epoch under ${MIN_MS} ms is repeated until the fits add up to ${MIN_MS} ms (rate = all samples / all time); TF.js fit yieldEvery: ${TFJS_YIELD}`,
  );
  const chromiumVersion = (() => {
    try {
      return execFileSync(CHROMIUM, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "?";
    }
  })();
  out.push(`Chromium: ${version} (${chromiumVersion}; ${env?.userAgent ?? "?"}), headless`);
  const w = env?.webgpu;
  if (w && !w.error) {
    const fields = ["vendor", "architecture", "device", "description"].filter((k) => w[k]).map((k) => `${k} ${w[k]}`);
    out.push(`WebGPU adapter (navigator.gpu.requestAdapter().info): ${fields.join(", ") || "no info"}, isFallbackAdapter ${w.isFallbackAdapter}`);
  } else out.push(`WebGPU adapter: none (${w?.error ?? "unknown"})`);
  if (gpuLabel) out.push(`tunelab initGpu(): ${gpuLabel}`);
  const software = w && !w.error && (/swiftshader/i.test(`${w.vendor} ${w.architecture} ${w.description}`) || w.isFallbackAdapter);
  if (software) {
    const what = /swiftshader/i.test(`${w.vendor} ${w.architecture} ${w.description}`) ? "SwiftShader, a software (CPU) implementation of WebGPU" : "a software fallback adapter";
    out.push(`NOTE: the WebGPU adapter is ${what}: the webgpu columns measure it on this machine's CPU cores, not a GPU.`);
  }
  for (const n of tlGpuNotes) out.push(`NOTE: tunelab webgpu ${n}`);
  out.push(`host: ${env?.hardwareConcurrency ?? "?"} logical cores; whole run ${seconds.toFixed(0)} s`);
  out.push(...detailLines(models, CELLS, results, failures));
  console.log(out.join("\n"));
  process.exitCode = failures.length ? 1 : 0;
}

// A TF.js wasm backend flag as the page read it (WASM_HAS_SIMD_SUPPORT, ..._MULTITHREAD_SUPPORT).
function fmtFlag(results, key) {
  const r = results.find((x) => x.library === "tfjs" && x.device === "wasm");
  return r ? (r.backendInfo?.[key] ? "on" : "off") : "?";
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

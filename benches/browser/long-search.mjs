// Long-search benchmark: does memory stay flat over a long search in the browser?
//
// Drives the real playground page (dist/, the Trunk build) in Debian's Chromium (playwright-core,
// headless, a fresh profile on disk): a random search of 1,000 trials of tiny models (XOR with
// 450 training points, one hidden layer of 2..8 units, one epoch at batch size 1, the learning
// rate a log-scaled Float so no two trials are alike) runs in the page's search worker and its
// trial workers, as a visitor's would; the state goes in the URL hash. Every 50 trials, after a
// garbage collection in the page and in every worker, it samples:
//
//   renderer RSS    VmRSS of Chromium's renderer processes (the page and all its workers), summed;
//                   also the GPU process's (WebGPU buffers live there) and all of Chromium's
//   page JS heap    the page's main thread (CDP Performance.getMetrics: JSHeapUsedSize)
//   DOM nodes       the page's (CDP Memory.getDOMCounters)
//   wasm memory     the search worker's WebAssembly memory (the engine's linear memory)
//   IndexedDB       the bytes of the profile's IndexedDB files (the stored trials)
//
// and every trial worker reports, at each job it receives, its wasm memory and the live GPU
// buffers its engine holds (tl.gpuBufferCount()): what the trials before left behind.
// Nothing in the page is changed for this: the probes run in the workers through the DevTools
// protocol (Playwright's worker.evaluate), and the trial workers' reports come as console lines.
//
// It prints a table of the samples, then each figure after the warm-up (the median of the
// samples from trial 100 to 300) against the end (the median of the last fifth's), and exits 1
// if memory grew: a "flat" figure (trial worker wasm, live GPU buffers, GPU process RSS) by
// more than 5%, or a "per trial" one, which keeps the search's results by design, by more than
// its budget per trial (renderer RSS 200 KB: the page's results table is laid out row by row;
// page JS heap 16 KB; search worker wasm 4 KB). Exit 2: no page built or no Chromium.
//
//   node benches/browser/long-search.mjs          # or: npm run bench:long
//
// The trial workers take each job LONG_PACE_MS (100) after it arrives, so that the search runs
// at about 13 trials/s on the CPU path: the engine alone runs 70 trials/s on two workers here,
// faster than the page's main thread redraws its 1,000-row table, so the page falls behind and
// samples come every few hundred trials. LONG_PACE_MS=0 runs at full speed (a stress test of how
// fast the workers free what each trial used).
//
// Environment:
//   LONG_DEVICES=cpu,webgpu   which paths, in order (default both; webgpu runs on SwiftShader,
//                             Chromium's software Vulkan, with --enable-unsafe-webgpu)
//   LONG_TRIALS=1000          trials of the CPU run (about 80 s);  LONG_GPU_TRIALS=1000: of the
//                             WebGPU run (about 9 minutes: SwiftShader trains about 2 trials/s)
//   LONG_BATCH=1, LONG_GPU_BATCH=32   the batch size on each path
//   LONG_EVERY=50             trials between samples;  LONG_WARMUP=100: the reference sample
//   LONG_MAX_GROWTH_PCT=5     the "flat" limit;  the "per trial" budgets: LONG_RSS_KB_PER_TRIAL=200,
//                             LONG_PAGE_KB_PER_TRIAL=16, LONG_SEARCH_KB_PER_TRIAL=4
//   LONG_PACE_MS=100          see above;  LONG_WORKERS=2: trial workers on the CPU path
//   LONG_HIDE=results,charts  a diagnostic: the page's sections to hide (classroom flags)
//   LONG_FORCE_GC_MS=0        a diagnostic: gc() in every worker this often (tells memory that
//                             waits for the collector from memory that is kept)
//   LONG_TIMEOUT_S=3600       per run;  LONG_DIST=dist;  CHROMIUM=/usr/bin/chromium
//   LONG_JSON=path            also write every sample as JSON;  LONG_REPORT=path: only print the
//                             report of such a file
//
// Progress goes to stderr, the tables to stdout.

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM, CHROMIUM_ARGS, WEBGPU_ARGS, serve } from "../../tests/js/serve.mjs";
import { defaultState, encodeState } from "../../www/src/state.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
const DIST = resolve(ROOT, process.env.LONG_DIST || "dist");
const DEVICES = (process.env.LONG_DEVICES || "cpu,webgpu").split(",").map((d) => d.trim()).filter(Boolean);
const TRIALS = {
  cpu: Number(process.env.LONG_TRIALS || 1000),
  webgpu: Number(process.env.LONG_GPU_TRIALS || 1000),
};
// Batch size 1 on the CPU path (more work per trial); 32 on WebGPU, where each step is a round
// of dispatches on SwiftShader.
const BATCH = { cpu: Number(process.env.LONG_BATCH || 1), webgpu: Number(process.env.LONG_GPU_BATCH || 32) };
const HIDE = (process.env.LONG_HIDE || "").split(",").filter(Boolean);
const EVERY = Number(process.env.LONG_EVERY || 50);
const WARMUP = Number(process.env.LONG_WARMUP || 100);
const LIMIT_PCT = Number(process.env.LONG_MAX_GROWTH_PCT || 5);
const WORKERS = Number(process.env.LONG_WORKERS || 2);
const FORCE_GC_MS = Number(process.env.LONG_FORCE_GC_MS || 0);
const PACE_MS = Number(process.env.LONG_PACE_MS ?? 100);
const TIMEOUT_MS = Number(process.env.LONG_TIMEOUT_S || 3600) * 1000;
const ARGS = [
  ...CHROMIUM_ARGS,
  // gc() in the page and in every worker, so a sample measures what is kept, not garbage.
  "--js-flags=--expose-gc",
];

const log = (...a) => console.error(...a);
const MB = (b) => (b == null ? "-" : (b / 2 ** 20).toFixed(1));

// ---------------------------------------------------------------------------------------------
// Chromium's processes (Linux /proc)

/** The process tree under `pid`: [{pid, type, rss}] (rss in bytes, type from --type=). */
function processTree(rootPid) {
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const out = [];
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop();
    try {
      // Chromium's children rewrite their title: one string with spaces, not NUL-separated.
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/[\0 ]/);
      const type = (cmd.find((a) => a.startsWith("--type=")) ?? "--type=browser").slice(7);
      const sub = (cmd.find((a) => a.startsWith("--utility-sub-type=")) ?? "").slice(19);
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
      out.push({ pid, type: sub ? `${type}:${sub}` : type, rss });
    } catch {
      /* gone meanwhile */
    }
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * The browser process launched with `marker` among its arguments (playwright's Browser has no
 * pid): the one whose command line holds it and is not a child process (no --type=).
 */
function browserPid(marker) {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      if (cmd.includes(marker) && !cmd.some((a) => a.startsWith("--type="))) return Number(name);
    } catch {
      /* gone meanwhile */
    }
  }
  throw new Error(`no browser process with ${marker}`);
}

/** Bytes of the files under `dir` (0 when it does not exist). */
function duBytes(dir) {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    try {
      total += e.isDirectory() ? duBytes(p) : statSync(p).size;
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Probes (code that runs inside the page's workers, through the DevTools protocol; the page
// itself is not changed for the benchmark)

const TAG = "tunelab-long-search";

/**
 * The engine's figures in a worker: its wasm memory and, where the JS API has it, its live GPU
 * buffers. The engine module is the instance the worker loaded (same URL, same module map); its
 * init returns that instance's exports at once, as it is initialised by then.
 */
async function workerProbe({ wasmUrl, apiUrl, gc }) {
  if (gc) globalThis.gc?.();
  const engine = await import(wasmUrl);
  const exports = await engine.default();
  const api = await import(apiUrl);
  // tl.gpuBufferCount(): live GPU buffers the engine holds in this worker. Null (with the reason)
  // where the JS API or the engine build in dist/ predates it.
  let gpuBuffers = null;
  let gpuNote = null;
  if (typeof api.gpuBufferCount !== "function") gpuNote = "tl.gpuBufferCount is not in this build's JS API";
  else {
    try {
      gpuBuffers = api.gpuBufferCount();
    } catch (e) {
      gpuNote = `tl.gpuBufferCount() failed (${e.message.split("\n")[0]}): the engine build in dist/ predates it`;
    }
  }
  return { gpuNote, url: self.location.pathname, wasmBytes: exports.memory.buffer.byteLength, gpuBuffers };
}

/**
 * Installed in each trial worker as it starts: a second "message" listener beside the worker's
 * own, which, whenever a job arrives, reports the engine's wasm memory and live GPU buffers (what
 * the previous trials left behind) on the console, where the benchmark reads it. So every trial is
 * measured, however fast the search goes, and the last ones too (the pool of trial workers ends
 * with the search). `forceGcMs`: a diagnostic, a garbage collection that often.
 */
async function instrumentTrialWorker({ wasmUrl, apiUrl, tag, forceGcMs, paceMs }) {
  const engine = await import(wasmUrl);
  const api = await import(apiUrl);
  let exports = null;
  let jobs = 0;
  if (forceGcMs && globalThis.gc) setInterval(() => globalThis.gc(), forceGcMs);
  if (paceMs > 0) {
    // Each message reaches the worker's own handler paceMs later (in order): the trials come at
    // a pace the page's main thread and the sampling keep up with. Its handler is set once the
    // module has loaded its imports: wait for it.
    while (!self.onmessage) await new Promise((ok) => setTimeout(ok, 5));
    const handler = self.onmessage;
    self.onmessage = (e) => setTimeout(() => handler.call(self, e), paceMs);
  }
  self.addEventListener("message", (e) => {
    if (!e.data || e.data.type !== "train") return;
    jobs++;
    if (!exports) {
      engine.default().then((x) => (exports = x)); // initialised by the "data" message before
      return;
    }
    let gpu = null;
    try {
      gpu = typeof api.gpuBufferCount === "function" ? api.gpuBufferCount() : null;
    } catch {
      /* an engine build without it: reported by workerProbe */
    }
    console.debug(tag, JSON.stringify({ jobs, wasm: exports.memory.buffer.byteLength, gpu }));
  });
}

async function sample(run, done, phase) {
  const { page, cdp, origin, browserPid } = run;
  // gc() in the page and every worker first, so a sample measures what is kept, not garbage.
  await cdp.send("HeapProfiler.collectGarbage");
  const urls = { wasmUrl: `${origin}/lib/wasm/tunelab.js`, apiUrl: `${origin}/lib/tunelab.js`, gc: true };
  const workers = [];
  for (const w of run.workers) {
    try {
      workers.push(await w.evaluate(workerProbe, urls));
    } catch (e) {
      // A worker that ended between the listing and the probe: nothing to measure.
      if (!/closed|destroyed|Target/i.test(e.message)) throw e;
    }
  }
  const { metrics } = await cdp.send("Performance.getMetrics");
  const metric = (name) => metrics.find((m) => m.name === name)?.value ?? null;
  const dom = await cdp.send("Memory.getDOMCounters");
  // On disk, from the profile (navigator.storage.estimate() waits behind the search's writes).
  const idb = run.profile ? duBytes(join(run.profile, "Default", "IndexedDB")) : null;
  const procs = processTree(browserPid);
  const sum = (f) => procs.filter(f).reduce((a, p) => a + p.rss, 0);
  const trialWorkers = workers.filter((w) => /trial-worker/.test(w.url));
  const searchWorker = workers.find((w) => /search-worker/.test(w.url));
  const gpu = trialWorkers.map((w) => w.gpuBuffers).filter((n) => typeof n === "number");
  run.gpuNote ??= workers.find((w) => w.gpuNote)?.gpuNote ?? null;
  return {
    phase,
    trials: done,
    seconds: (Date.now() - run.t0) / 1000,
    rendererRss: sum((p) => p.type === "renderer"),
    gpuRss: sum((p) => p.type === "gpu-process"),
    allRss: sum(() => true),
    // Every process's, by its type (browser, renderer, gpu-process, utility:network.mojom...).
    rssByType: procs.reduce((m, p) => ((m[p.type] = (m[p.type] ?? 0) + p.rss), m), {}),
    pageHeap: metric("JSHeapUsedSize"),
    domNodes: dom.nodes,
    searchWasm: searchWorker?.wasmBytes ?? null,
    trialWasm: trialWorkers.length ? Math.max(...trialWorkers.map((w) => w.wasmBytes)) : null,
    trialWorkers: trialWorkers.length,
    gpuBuffers: gpu.length ? gpu.reduce((a, b) => a + b, 0) : null,
    idb,
  };
}

// ---------------------------------------------------------------------------------------------
// One run: one device, one fresh browser

/** The search: XOR (90% of 500 points to train on), one tiny hidden layer, one epoch per trial. */
function stateFor(device, trials) {
  const s = defaultState();
  s.data = { ...s.data, source: "xor", noise: 0, trainPct: 90, seed: 3, features: ["x1", "x2"] };
  s.model = {
    ...s.model,
    hidden: [{ type: "dense", units: { hp: "Int", min: 2, max: 8, step: 1, sampling: "linear" }, activation: { hp: "Choice", values: ["tanh", "relu", "sigmoid"] } }],
    learningRate: { hp: "Float", min: 1e-3, max: 1e-1, sampling: "log" },
    batchSize: { value: BATCH[device] },
    epochs: { value: 1 },
  };
  s.tuner = { ...s.tuner, kind: "random", objective: "val_accuracy", maxTrials: trials, seed: 11, device, workers: WORKERS };
  s.hide = HIDE;
  return s;
}

async function progress(page) {
  return page.evaluate(() => {
    const p = window.tunelabPage;
    let done = 0;
    let failed = 0;
    for (const t of p.trials) {
      if (t.status === "COMPLETED") done++;
      else if (t.status === "FAILED" || t.status === "INVALID") {
        done++;
        failed++;
      }
    }
    const err = document.querySelector("#search-error")?.textContent?.trim() || null;
    return { done, failed, running: p.running, error: err, device: document.querySelector("#device-status")?.textContent ?? "" };
  });
}

async function runOne(chromium, site, device) {
  const trials = TRIALS[device];
  // A switch Chromium ignores, to find this browser's process (and so its children) in /proc.
  const marker = `--tunelab-long-search=${process.pid}-${device}-${Date.now()}`;
  // A profile on disk, as a visitor's: IndexedDB is stored in files (an incognito context, as
  // browser.newContext() makes, would keep it in the browser process's memory).
  const profile = mkdtempSync(join(tmpdir(), "tunelab-long-search-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [...ARGS, ...(device === "webgpu" ? WEBGPU_ARGS : []), marker],
    viewport: { width: 1360, height: 1000 },
  });
  const problems = [];
  const urls = { wasmUrl: `${site.origin}/lib/wasm/tunelab.js`, apiUrl: `${site.origin}/lib/tunelab.js` };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    // A failed request is listed by its URL (its console line does not name it).
    page.on("console", (m) => {
      if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) problems.push(`console.error: ${m.text()}`);
    });
    context.on("response", (r) => {
      if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    // Every worker, the trial workers too (workers of a worker: page.workers() lists only the
    // page's own), until it ends; each trial worker reports its figures at every job.
    const workers = new Set();
    const jobs = []; // {t, started, worker, wasm, gpu}: one per job a trial worker received
    let started = 0;
    let nextWorker = 0;
    page.on("worker", (w) => {
      workers.add(w);
      w.on("close", () => workers.delete(w));
      const id = nextWorker++;
      w.on("console", (m) => {
        const text = m.text();
        if (text.startsWith(TAG)) {
          const j = JSON.parse(text.slice(TAG.length + 1));
          jobs.push({ t: Date.now(), started: ++started, worker: id, wasm: j.wasm, gpu: j.gpu });
        } else if (m.type() === "error") problems.push(`worker console.error: ${text}`);
      });
      if (/trial-worker/.test(w.url())) {
        w.evaluate(instrumentTrialWorker, { ...urls, tag: TAG, forceGcMs: FORCE_GC_MS, paceMs: PACE_MS }).catch((e) => {
          if (!/closed|destroyed|Target/i.test(e.message)) problems.push(`instrumenting ${w.url()}: ${e.message}`);
        });
      } else if (FORCE_GC_MS) {
        w.evaluate((ms) => globalThis.gc && setInterval(() => globalThis.gc(), ms), FORCE_GC_MS).catch(() => {});
      }
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send("Performance.enable");
    await page.goto(`${site.origin}/#${encodeState(stateFor(device, trials))}`);
    await page.waitForFunction(() => window.tunelabPage && window.tunelabPage.info, null, { timeout: 60_000 });
    const pid = browserPid(marker);
    const run = { page, cdp, workers, origin: site.origin, browserPid: pid, profile, t0: Date.now() };
    log(`[${device}] ${trials} trials, a sample every ${EVERY}`);
    await page.click("#btn-start");
    const samples = [];
    let next = EVERY;
    let p;
    for (;;) {
      p = await progress(page);
      if (p.error) throw new Error(`the page reports: ${p.error}`);
      if (!p.running && p.done >= trials) break;
      if (p.done >= next && p.running) {
        const s = await sample(run, p.done, "running");
        samples.push(s);
        log(`[${device}] ${p.done}/${trials} trials, ${s.seconds.toFixed(0)} s: renderer ${MB(s.rendererRss)} MB, page heap ${MB(s.pageHeap)} MB, search worker wasm ${MB(s.searchWasm)} MB, trial worker wasm ${MB(jobs.at(-1)?.wasm)} MB, GPU buffers ${jobs.at(-1)?.gpu ?? "n/a"}`);
        while (next <= p.done) next += EVERY;
      }
      if (Date.now() - run.t0 > TIMEOUT_MS) throw new Error(`${p.done} of ${trials} trials after ${TIMEOUT_MS / 1000} s`);
      if (!p.running && Date.now() - run.t0 > 30_000 && p.done === 0) throw new Error("the search did not start");
      await page.waitForTimeout(100);
    }
    const seconds = (Date.now() - run.t0) / 1000;
    // Once the search has ended (its trial workers with it): what the page and the search worker keep.
    await page.waitForTimeout(1000);
    const idle = await sample(run, p.done, "after the search");
    samples.push(idle);
    log(`[${device}] done: ${p.done} trials in ${seconds.toFixed(0)} s`);
    return { device, trials: p.done, seconds, samples, jobs, failed: p.failed, deviceText: p.device, problems, gpuNote: run.gpuNote };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Report

// How each figure is judged. "flat": must stay within LIMIT_PCT of its value after the warm-up
// (nothing a trial leaves behind should pile up in a trial worker or the GPU process). "per
// trial": grows with the search's results by design and must grow by less than its budget per
// trial: the page's trial records and charts (page JS heap), the oracle's trials (search worker
// wasm), and in the renderer's RSS also the results table's DOM and layout, one row per trial
// (hiding the table and charts with LONG_HIDE=results,charts took the renderer's growth from 88
// to 24 KB per trial in one run). The rest is reported.
const FIGURES = [
  // [key, label, unit, rule, budget bytes per trial]
  ["trialWasm", "trial worker wasm memory (largest)", "MB", "flat"],
  ["gpuBuffers", "live GPU buffers (trial workers)", "", "flat"],
  ["gpuRss", "GPU process RSS", "MB", "flat"],
  ["rendererRss", "renderer RSS", "MB", "per trial", Number(process.env.LONG_RSS_KB_PER_TRIAL || 200) * 1024],
  ["pageHeap", "page JS heap", "MB", "per trial", Number(process.env.LONG_PAGE_KB_PER_TRIAL || 16) * 1024],
  ["searchWasm", "search worker wasm memory", "MB", "per trial", Number(process.env.LONG_SEARCH_KB_PER_TRIAL || 4) * 1024],
  ["allRss", "all Chromium processes RSS", "MB", "reported"],
  ["domNodes", "DOM nodes (results table)", "", "reported"],
  ["idb", "IndexedDB on disk (stored trials)", "MB", "reported"],
];

const show = (v, unit) => (v == null ? "n/a" : unit === "MB" ? MB(v) : String(v));

/** Each figure's median over `samples` (and the median of their trial numbers). */
function medianSample(samples) {
  const med = (xs) => {
    const v = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
    if (!v.length) return null;
    const m = v.length >> 1;
    return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  };
  const out = {};
  for (const k of Object.keys(samples[0])) out[k] = typeof samples[0][k] === "number" || samples[0][k] === null ? med(samples.map((s) => s[k])) : samples[0][k];
  return out;
}

/** The trial workers' figures once `n` jobs had started: the largest wasm, the summed GPU buffers. */
function jobFigures(jobs, n) {
  const last = new Map();
  for (const j of jobs) {
    if (j.started > n) break;
    last.set(j.worker, j);
  }
  if (!last.size) return { trialWasm: null, gpuBuffers: null };
  const all = [...last.values()];
  const gpu = all.map((j) => j.gpu).filter((g) => typeof g === "number");
  return { trialWasm: Math.max(...all.map((j) => j.wasm)), gpuBuffers: gpu.length ? gpu.reduce((a, b) => a + b, 0) : null };
}

function report(r) {
  const out = [];
  const running = r.samples.filter((s) => s.phase === "running");
  out.push(`\n## ${r.device}: ${r.trials} trials (${r.failed} failed) in ${r.seconds.toFixed(0)} s, ${(r.trials / r.seconds).toFixed(1)} trials/s; ${r.deviceText || "device not reported"}`);
  out.push(`\nsamples (after a garbage collection in the page and every worker; trial workers' figures as their jobs arrive):\n`);
  const cols = ["trials", "s", "renderer MB", "GPU proc MB", "all MB", "page heap MB", "DOM nodes", "search wasm MB", "trial wasm MB", "GPU buffers", "IndexedDB MB"];
  out.push(`| ${cols.join(" | ")} |`);
  out.push(`|${cols.map(() => "---").join("|")}|`);
  for (const s of r.samples) {
    const j = s.phase === "running" ? jobFigures(r.jobs, s.trials + 2) : { trialWasm: null, gpuBuffers: null };
    const label = s.phase === "running" ? String(s.trials) : `${s.trials} (ended)`;
    out.push(`| ${[label, s.seconds.toFixed(0), MB(s.rendererRss), MB(s.gpuRss), MB(s.allRss), MB(s.pageHeap), s.domNodes, MB(s.searchWasm), MB(j.trialWasm), j.gpuBuffers ?? "n/a", MB(s.idb)].join(" | ")} |`);
  }
  const over = [];
  // The page redraws its whole results table as trials come in, and a sample may catch a table
  // or two that are not collected yet (RSS and DOM nodes jump by 10% for one sample): each end
  // is the median of its samples, those of the fifth of the search after the warm-up, and those
  // of its last fifth.
  const fifth = Math.max(EVERY, 0.2 * r.trials);
  const first = running.filter((s) => s.trials >= WARMUP && s.trials < WARMUP + fifth);
  const last = running.filter((s) => s.trials >= r.trials - fifth);
  const baseSet = first.length ? first : running.filter((s) => s.trials >= WARMUP).slice(0, 1);
  const endSet = last.length ? last : running.slice(-1);
  if (!baseSet.length || !endSet.length || endSet.at(-1) === baseSet[0]) {
    out.push(`\ntoo few samples while the search ran (${running.length}) to compare; run more trials (LONG_TRIALS)`);
    over.push(`${r.device}: too few samples`);
  } else {
    const base = medianSample(baseSet);
    const end = medianSample(endSet);
    if (endSet.at(-1).trials < 0.9 * r.trials) out.push(`\nnote: the last sample while the search ran is at trial ${endSet.at(-1).trials} of ${r.trials}`);
    // The trial workers' figures from their own reports: at the warm-up, and at the last job.
    const jb = jobFigures(r.jobs, WARMUP);
    const je = jobFigures(r.jobs, Infinity);
    const lastJob = r.jobs.at(-1)?.started ?? 0;
    const from = { ...base, ...jb };
    const to = { ...end, ...je };
    const range = (set) => (set.length > 1 ? `trials ${set[0].trials}..${set.at(-1).trials}, median of ${set.length} samples` : `trial ${set[0].trials}`);
    out.push(`\nafter the warm-up (${range(baseSet)}; trial workers at job ${Math.min(WARMUP, lastJob)}) vs the end (${range(endSet)}; trial workers at job ${lastJob}):\n`);
    out.push("| figure | warm-up | end | growth | per trial | rule | verdict |");
    out.push("|---|---|---|---|---|---|---|");
    const trials = end.trials - base.trials;
    for (const [key, label, unit, rule, budget] of FIGURES) {
      const a = from[key];
      const b = to[key];
      const known = typeof a === "number" && typeof b === "number";
      const growth = !known ? null : a === 0 ? (b === 0 ? 0 : Infinity) : ((b - a) / a) * 100;
      const perTrial = known && unit === "MB" && trials > 0 ? (b - a) / trials : null;
      let verdict = "reported";
      let ruleText = "-";
      if (rule === "flat") {
        ruleText = `within +${LIMIT_PCT}%`;
        verdict = growth == null ? "n/a" : growth > LIMIT_PCT ? "GREW" : "flat";
        if (verdict === "GREW") over.push(`${r.device}: ${label} ${show(a, unit)} -> ${show(b, unit)} ${unit} (+${growth.toFixed(1)}%)`);
      } else if (rule === "per trial") {
        ruleText = `< ${(budget / 1024).toFixed(0)} KB/trial`;
        verdict = perTrial == null ? "n/a" : perTrial > budget ? "GREW" : "within budget";
        if (verdict === "GREW") over.push(`${r.device}: ${label} ${show(a, unit)} -> ${show(b, unit)} ${unit} (${(perTrial / 1024).toFixed(1)} KB per trial)`);
      }
      const g = growth == null ? "n/a" : `${growth >= 0 ? "+" : ""}${growth.toFixed(1)}%`;
      const pt = perTrial == null ? "-" : `${(perTrial / 1024).toFixed(1)} KB`;
      out.push(`| ${label}${unit ? ` (${unit})` : ""} | ${show(a, unit)} | ${show(b, unit)} | ${g} | ${pt} | ${ruleText} | ${verdict} |`);
    }
  }
  const typesAt = (x) => x?.rssByType ?? {};
  const rb = typesAt(running.find((x) => x.trials >= WARMUP));
  const re = typesAt(running.at(-1));
  const types = [...new Set([...Object.keys(rb), ...Object.keys(re)])].sort();
  if (types.length) out.push(`\nRSS by process type, trial ${running.find((x) => x.trials >= WARMUP)?.trials} -> ${running.at(-1)?.trials}: ${types.map((t) => `${t} ${MB(rb[t] ?? 0)} -> ${MB(re[t] ?? 0)} MB`).join("; ")}`);
  if (r.gpuNote) out.push(`\nGPU buffers: ${r.gpuNote}`);
  if (r.problems.length) out.push(`\npage problems (${r.problems.length}):\n  ${[...new Set(r.problems)].slice(0, 10).join("\n  ")}`);
  console.log(out.join("\n"));
  return over;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (process.env.LONG_REPORT) {
    // The report again, from a run saved with LONG_JSON.
    const over = JSON.parse(readFileSync(process.env.LONG_REPORT, "utf8")).flatMap((r) => report(r));
    if (over.length) console.log(`\nmemory grew:\n  ${over.join("\n  ")}`);
    process.exit(over.length ? 1 : 0);
  }
  const missing = [];
  if (!existsSync(join(DIST, "index.html")) || !existsSync(join(DIST, "lib", "wasm", "tunelab_bg.wasm"))) missing.push(`${DIST} has no page: build it with \`trunk build --release\``);
  if (!existsSync(CHROMIUM)) missing.push(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  if (process.platform !== "linux") missing.push("the RSS figures read /proc: Linux only");
  if (missing.length) {
    log(missing.join("\n"));
    process.exit(2);
  }
  const { chromium } = await import("playwright-core");
  const site = await serve(DIST);
  const results = [];
  const over = [];
  let failed = false;
  try {
    for (const device of DEVICES) {
      if (!(device in TRIALS)) throw new Error(`LONG_DEVICES: unknown device ${JSON.stringify(device)} (cpu, webgpu)`);
      try {
        const r = await runOne(chromium, site, device);
        results.push(r);
        over.push(...report(r));
      } catch (e) {
        failed = true;
        log(`[${device}] failed: ${e.message}`);
      }
    }
  } finally {
    await site.close();
  }
  if (process.env.LONG_JSON) writeFileSync(process.env.LONG_JSON, JSON.stringify(results, null, 1));
  if (over.length) console.log(`\nmemory grew:\n  ${over.join("\n  ")}`);
  else if (!failed) console.log(`\nmemory flat: every "flat" figure within +${LIMIT_PCT}% of its value after the warm-up, every "per trial" one within its budget`);
  process.exit(failed || over.length ? 1 : 0);
}

await main();

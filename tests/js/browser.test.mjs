// Browser tests of the npm package (issue 6): the built package in pkg/ runs in Debian's
// Chromium, driven by playwright-core, served by a small node:http server.
//
//   bash scripts/build-npm.sh                 # pkg/
//   cargo build --release --examples          # target/release/examples/guide_reference
//   npm ci && npm run test:browser            # or: node tests/js/browser.test.mjs
//
// CHROMIUM=/path/to/chromium picks another browser (default /usr/bin/chromium). Never
// `npx playwright install`: playwright-core only drives the browser that is already here.
//
// The scenarios themselves (the guide search, a HyperModel with a fit override, a function
// tuner, a resumable search, a search that fills the storage quota, bad input, the widget under
// a fake anywidget model) are in tests/js/browser/fixtures.js and run in the page. The embed
// (pkg/embed.html, a search from the URL hash) and examples/plain.html are opened as they are.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CHROMIUM, CHROMIUM_ARGS, WEBGPU_ARGS, serve } from "./serve.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
const PKG = join(ROOT, "pkg");
const GUIDE_REFERENCE = join(ROOT, "target", "release", "examples", "guide_reference");
const VITE_APP = join(ROOT, "examples", "vite-app");
const FIXTURES = "/tests/js/browser/fixtures.js";
const TEST_PAGE = "/tests/js/browser/index.html";
const EMBED = "/pkg/embed.html";
const PLAIN = "/examples/plain.html";
// Generous for a 2-core machine; the whole file takes well under a minute there.
const TIMEOUT = 120_000;

// ---------------------------------------------------------------------------------------------
// Browser and pages

let browser;
let site;

before(async () => {
  if (!existsSync(join(PKG, "tunelab.js")) || !existsSync(join(PKG, "wasm", "tunelab_wasm_bg.wasm"))) {
    throw new Error("pkg/ has no built package: run `bash scripts/build-npm.sh` first");
  }
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch (e) {
    throw new Error(`playwright-core is not installed: run \`npm ci\` at the repository root (${e.message})`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...WEBGPU_ARGS],
  });
  site = await serve(ROOT);
});

after(async () => {
  await browser?.close();
  await site?.close();
});

// Every page error and console error or warning of every page, expected ones included (the
// last test checks that none is the engine's trap, "unreachable").
const everyError = [];

// Records each value body[data-state] takes (the embed's and plain.html's progress) in
// window.__states, from the first paint on.
function recordStates() {
  window.__states = [];
  const watch = () => {
    let last;
    const note = () => {
      const s = document.body.dataset.state;
      if (s !== undefined && s !== last) window.__states.push((last = s));
    };
    new MutationObserver(note).observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
    note();
  };
  if (document.body) watch();
  else document.addEventListener("DOMContentLoaded", watch, { once: true });
}

// A page of its own context (its own IndexedDB), with the page's errors collected.
async function openPage(url = site.origin + TEST_PAGE) {
  const context = await browser.newContext();
  await context.addInitScript(recordStates);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => {
    problems.push(`pageerror: ${e.message}`);
    everyError.push(`${url}: pageerror: ${e.message}\n${e.stack ?? ""}`);
  });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") everyError.push(`${url}: console.${m.type()}: ${m.text()}`);
    // A failed fetch is reported below with its URL.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console.error: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on("crash", () => problems.push("the page crashed"));
  await page.goto(url);
  return { page, context, problems };
}

// Calls fixtures.js's `name(arg)` in the page and returns its result.
function inPage(page, name, arg) {
  return page.evaluate(
    async ([fixtures, name, arg]) => {
      const f = await import(fixtures);
      return f[name](arg);
    },
    [FIXTURES, name, arg],
  );
}

// ---------------------------------------------------------------------------------------------
// Reference texts

const execFileP = promisify(execFile);

async function guideReference() {
  if (!existsSync(GUIDE_REFERENCE)) {
    throw new Error(`${GUIDE_REFERENCE} does not exist: run \`cargo build --release --examples\` first`);
  }
  const { stdout } = await execFileP(GUIDE_REFERENCE, [], { cwd: ROOT, maxBuffer: 16 << 20 });
  const ref = JSON.parse(stdout);
  assert.equal(typeof ref.search_space_summary, "string", "guide_reference prints search_space_summary");
  assert.equal(typeof ref.results_summary, "string", "guide_reference prints results_summary");
  return ref;
}

/**
 * Lines of `actual` that differ from `expected`, allowing `Score: <number>` lines to differ by
 * `rel` relative (float sums on another platform); everything else must be the same text.
 */
function summaryDifferences(actual, expected, rel = 1e-3) {
  const a = actual.split("\n");
  const e = expected.split("\n");
  const out = [];
  if (a.length !== e.length) out.push(`${a.length} lines, expected ${e.length}`);
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] === e[i]) continue;
    const sa = /^Score: (\S+)$/.exec(a[i] ?? "");
    const se = /^Score: (\S+)$/.exec(e[i] ?? "");
    if (sa && se) {
      const [x, y] = [Number(sa[1]), Number(se[1])];
      if (Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= rel * Math.max(Math.abs(x), Math.abs(y))) continue;
    }
    out.push(`line ${i + 1}: ${JSON.stringify(a[i])}, expected ${JSON.stringify(e[i])}`);
  }
  return out;
}

function assertNoProblems(problems) {
  assert.deepEqual(problems, [], "the page logged errors");
}

// ---------------------------------------------------------------------------------------------
// The embed (pkg/embed.html): configs in the URL hash

// A small model spec with hyperparameters for the xor data (8 x 3 = 24 combinations).
const XOR_SPEC = {
  layers: [
    { class_name: "Dense", config: { units: { hp: "Int", name: "units", min_value: 4, max_value: 32, step: 4 }, activation: "tanh" } },
    { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
  ],
  compile: {
    optimizer: { class_name: "adam", config: { learning_rate: { hp: "Choice", name: "lr", values: [0.003, 0.01, 0.03] } } },
    loss: "binary_crossentropy",
    metrics: ["accuracy"],
  },
};

function xorConfig({ maxTrials = 3, epochs = 3, ...rest } = {}) {
  return {
    dataset: "xor",
    tuner: "RandomSearch",
    spec: XOR_SPEC,
    options: { maxTrials, objective: "val_accuracy", seed: 1 },
    fit: { epochs, validationSplit: 0.2 },
    ...rest,
  };
}

// embed.html's two hash encodings (widget.js's encodeConfig and encodeURIComponent).
const base64url = (config) => Buffer.from(JSON.stringify(config), "utf8").toString("base64url");
const uriEncoded = (config) => encodeURIComponent(JSON.stringify(config));

const FINAL = ["done", "error", "stopped"];

/**
 * Waits until body[data-state] has reached one of `states` for the `nth` time (a new hash runs
 * the search again) and the page's tunelabStatus agrees, then returns that status. On a timeout
 * the error says where the page was.
 */
async function waitForState(page, states = FINAL, { nth = 1, timeout = 90_000 } = {}) {
  try {
    await page.waitForFunction(
      ([states, nth]) => {
        const state = document.body?.dataset.state;
        return (
          states.includes(state) &&
          window.tunelabStatus?.state === state &&
          (window.__states ?? []).filter((s) => states.includes(s)).length >= nth
        );
      },
      [states, nth],
      { timeout },
    );
  } catch (e) {
    const where = await page.evaluate(() => ({ states: window.__states, status: window.tunelabStatus ?? null })).catch(() => null);
    throw new Error(`${e.message}\nwaiting for body[data-state] in ${states} (${nth}): ${JSON.stringify(where)}`);
  }
  return page.evaluate(() => window.tunelabStatus);
}

// What the embed's view shows: its roots, its rows' statuses, the summary and error texts.
function embedView(page) {
  return page.evaluate(() => ({
    roots: document.querySelectorAll(".tlw").length,
    rows: [...document.querySelectorAll(".tlw tbody tr")].map((r) => ({ trial: r.dataset.trial, status: r.dataset.status })),
    summary: document.querySelector(".tlw-summary")?.textContent ?? null,
    summaryShown: !document.querySelector(".tlw-summary")?.closest("details")?.hidden,
    error: document.querySelector("#view .tlw-error")?.textContent ?? null,
    stateBadge: document.querySelector(".tlw-state")?.textContent ?? null,
    stopButtons: [...document.querySelectorAll(".tlw-head button")].filter((b) => !b.hidden && /stop/.test(b.textContent)).length,
    startButtons: [...document.querySelectorAll(".tlw-head button")].filter((b) => !b.hidden && /start/.test(b.textContent)).length,
    states: window.__states,
  }));
}

// ---------------------------------------------------------------------------------------------
// Tests

test("(a) the KerasTuner guide search in the page matches the native reference", { timeout: TIMEOUT }, async () => {
  const [ref, { page, context, problems }] = await Promise.all([guideReference(), openPage()]);
  try {
    const r = await inPage(page, "guideSearch");
    console.log(`# guide search in Chromium: ${r.ms.toFixed(0)} ms`);
    assert.equal(r.searchSpaceSummary, ref.search_space_summary, "searchSpaceSummary() text");
    const diffs = summaryDifferences(r.resultsSummary, ref.results_summary);
    assert.deepEqual(diffs, [], `resultsSummary() differs from the reference:\n${r.resultsSummary}\n--- reference ---\n${ref.results_summary}`);
    assert.equal(r.trials.length, 3);
    assert.equal(r.trialEnds, 3);
    for (const t of r.trials) assert.equal(t.status, "COMPLETED", `trial ${t.trialId}: ${t.message}`);
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(b) a HyperModel subclass with a fit override tunes batchSize and shuffle", { timeout: TIMEOUT }, async () => {
  const { page, context, problems } = await openPage();
  try {
    const r = await inPage(page, "fitOverrideSearch");
    assert.equal(r.trials.length, 3);
    assert.equal(r.fitCalls, 3, "fit(hp, model, x, y, options) is called once per trial");
    for (const t of r.trials) {
      assert.equal(t.status, "COMPLETED", `trial ${t.trialId}: ${t.message}`);
      assert.ok([16, 32].includes(t.values.batch_size), `trial ${t.trialId} batch_size: ${JSON.stringify(t.values)}`);
      assert.equal(typeof t.values.shuffle, "boolean", `trial ${t.trialId} shuffle: ${JSON.stringify(t.values)}`);
      assert.ok(Number.isFinite(t.score) && t.score > 0 && t.score <= 1, `trial ${t.trialId} score ${t.score}`);
    }
    assert.match(r.searchSpaceSummary, /^batch_size \(Choice\)$/m);
    assert.match(r.searchSpaceSummary, /^shuffle \(Boolean\)$/m);
    assert.match(r.resultsSummary, /^batch_size: (16|32)$/m);
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(c) a Tuner subclass with runTrial tunes any function", { timeout: TIMEOUT }, async () => {
  const { page, context, problems } = await openPage();
  try {
    const r = await inPage(page, "functionSearch");
    assert.equal(r.trials.length, 20);
    const scores = r.trials.map((t) => t.score);
    for (const t of r.trials) {
      assert.equal(t.status, "COMPLETED", `trial ${t.trialId}: ${t.message}`);
      assert.ok(t.values.x >= -1 && t.values.x <= 1);
      assert.ok(Math.abs(t.score - (t.values.x * t.values.x + 1)) < 1e-9, `score is x*x+1 for trial ${t.trialId}`);
    }
    const best = Math.min(...scores);
    assert.ok(best >= 1 && best < 1.1, `best score ${best}`);
    assert.ok(r.bestValues.x >= -1 && r.bestValues.x <= 1, `best x ${r.bestValues.x}`);
    assert.ok(Math.abs(r.bestValues.x * r.bestValues.x + 1 - best) < 1e-9, "getBestHyperparameters() is the best trial's");
    assert.match(r.resultsSummary, /Objective\(name="default_objective", direction="min"\)/);
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(d) a search interrupted by a reload resumes from IndexedDB", { timeout: TIMEOUT }, async () => {
  const { page, context, problems } = await openPage();
  const projectName = `resume_${process.pid}_${Date.now()}`;
  try {
    // Page 1: start the search; once 2 trials are saved, the next trial's fit never ends.
    await page.evaluate(
      ([fixtures, projectName]) => {
        window.__run = import(fixtures).then((f) => f.resumableSearch({ projectName, holdAfterSaved: 2 }));
        window.__run.catch((e) => (window.__runError = String(e)));
      },
      [FIXTURES, projectName],
    );
    await page.waitForFunction(() => window.__runError || (window.__resume && window.__resume.held), null, { timeout: 60_000 });
    const first = await page.evaluate(() => ({ error: window.__runError ?? null, log: window.__resume }));
    assert.equal(first.error, null);
    const savedIds = first.log.saved.at(-1);
    assert.ok(savedIds.length >= 2, `trials saved before the reload: ${JSON.stringify(first.log.saved)}`);
    assert.ok(first.log.begins.length > savedIds.length, "a trial was running when the page reloaded");
    const savedScores = Object.fromEntries(first.log.ends.filter((e) => savedIds.includes(e.trialId)).map((e) => [e.trialId, e.score]));

    await page.reload();

    // Page 2: the same search, same options, no overwrite, runs to the end.
    const second = await inPage(page, "resumableSearch", { projectName });
    assert.equal(second.trials.length, 6, `trials after resuming: ${JSON.stringify(second.trials)}`);
    for (const t of second.trials) assert.equal(t.status, "COMPLETED", `trial ${t.trialId}: ${t.message}`);
    for (const id of savedIds) {
      const t = second.trials.find((x) => x.trialId === id);
      assert.ok(t, `trial ${id} (saved before the reload) is still there`);
      assert.equal(t.score, savedScores[id], `trial ${id} kept its score`);
      assert.ok(!second.begins.includes(id), `trial ${id} was not run again`);
    }
    assert.equal(second.begins.length, 6 - savedIds.length, `trials begun after the reload: ${JSON.stringify(second.begins)}`);
    assert.equal(new Set(second.trials.map((t) => t.trialId)).size, 6, "trial ids are distinct");
    console.log(`# resume: trials ${savedIds} saved before the reload (trial ${first.log.begins.at(-1)} running); begun after it: ${second.begins}`);
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(d2) a full IndexedDB quota ends search() with a clear error; what was saved stays and the search resumes", { timeout: TIMEOUT }, async () => {
  const projectName = "quota";
  // The same search uninterrupted, in a context of its own: the reference result, and the
  // origin's usage as it goes (Chromium counts it in 4 KiB pages).
  const ref = await (async () => {
    const { page, context, problems } = await openPage();
    try {
      const r = await inPage(page, "quotaSearch", { projectName, measure: true });
      assert.equal(r.error, null, "the uninterrupted search");
      assertNoProblems(problems);
      return r;
    } finally {
      await context.close();
    }
  })();
  assert.equal(ref.trials.length, 6);
  // usage: [before, at trial 0's fit, ..., at trial 5's fit, after]. The quota is set before
  // the search (Chromium caches an origin's free space for up to 30 s, so lowering it mid-search
  // is not seen in time), halfway between two readings that differ, the first no earlier than
  // trial 2's fit (trials 0 and 1 saved): IndexedDB then aborts a write partway through the
  // search with a real QuotaExceededError, wherever the sizes of what the package stores go.
  const u = ref.usage;
  let k = 3;
  while (k + 1 < u.length && !(u[k + 1] > u[k])) k++;
  assert.ok(k + 1 < u.length, `the usage grows after trial 2 starts: ${u}`);
  const budget = Math.floor((u[k] + u[k + 1]) / 2) - u[0];

  const { page, context, problems } = await openPage();
  try {
    const cdp = await context.newCDPSession(page);
    const { usage } = await page.evaluate(() => navigator.storage.estimate());
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: site.origin, quotaSize: usage + budget });

    // The search ends with the store's message instead of hanging (the fixture gives up after 20 s).
    const t0 = Date.now();
    const first = await inPage(page, "quotaSearch", { projectName });
    assert.equal(first.hung, false, "search() settled");
    assert.ok(first.error, `search() rejected: ${JSON.stringify(first)}`);
    assert.equal(first.error.isError, true, "with an Error");
    assert.match(first.error.message, /saving the search to IndexedDB failed: storage is full/);
    assert.match(first.error.message, /quota/);
    assert.doesNotMatch(first.error.message, /unreachable|RuntimeError|undefined|\[object /);
    const saved = first.saved.at(-1) ?? [];
    assert.ok(saved.length >= 1 && first.ends.length < 6, `quota ran out partway: saved ${JSON.stringify(first.saved)}, ended ${first.ends.length}`);
    const ended = Object.fromEntries(first.ends.map((e) => [e.trialId, e]));

    // Room again: a new tuner on the same storage finds every saved trial as it was.
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: site.origin });
    const second = await inPage(page, "quotaSearch", { projectName });
    for (const id of saved) {
      const t = second.reloaded.find((x) => x.trialId === id);
      assert.ok(t, `trial ${id} (saved before the quota ran out) was reloaded: ${JSON.stringify(second.reloaded)}`);
      assert.equal(t.status, "COMPLETED", `trial ${id}`);
      assert.equal(t.score, ended[id].score, `trial ${id} kept its score`);
      assert.ok(!second.begins.includes(id), `trial ${id} was not run again`);
    }
    for (const t of second.reloaded.filter((x) => x.status === "COMPLETED")) {
      assert.equal(t.score, ended[t.trialId]?.score, `reloaded trial ${t.trialId} is the one that ran`);
    }
    // And the search runs the rest: the interrupted and resumed search is the uninterrupted one.
    assert.equal(second.hung, false, "the resumed search() settled");
    assert.equal(second.error, null, "the resumed search");
    assert.equal(second.trials.length, 6, `trials after resuming: ${JSON.stringify(second.trials)}`);
    for (const t of second.trials) assert.equal(t.status, "COMPLETED", `trial ${t.trialId}: ${t.message}`);
    assert.deepEqual(second.trials, ref.trials, "the same trials as the uninterrupted search");
    const kept = second.reloaded.filter((x) => x.status === "COMPLETED").map((x) => x.trialId);
    console.log(`# storage full: quota +${budget} B, trials ended ${first.ends.map((e) => e.trialId)}, saved ${saved}, reloaded ${kept}; resumed ${second.begins} (${Date.now() - t0} ms)`);
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(e) bad input from JS gives clear Errors naming the offending field", { timeout: TIMEOUT }, async () => {
  const { page, context, problems } = await openPage();
  try {
    const r = await inPage(page, "badInputs");
    const expect = {
      unknownTunerOption: /max_?trialz/i,
      unknownFitOption: /unknown fit option `epochz`/,
      unknownLayerOption: /unknown Dense option `unitz`/,
      unknownSearchOption: /unknown search option `epochz`/,
      nanInX: /\bx\b.*NaN/,
      unitsNotANumber: /units.*"ten"/,
      epochsNotANumber: /epochs.*"two"/,
      unknownLoss: /unknown loss `mean_squared_errorz`/,
      unknownActivation: /unknown activation `relux`/,
      mismatchedRows: /x has 1 samples but y has 500/,
    };
    for (const [name, re] of Object.entries(expect)) {
      const { type, message } = r[name];
      assert.notEqual(message, "no error", `${name} should throw`);
      assert.ok(type === "Error" || type === "TypeError" || type === "RangeError", `${name}: ${type}`);
      assert.doesNotMatch(message, /unreachable|RuntimeError|engine failure/i, `${name}: ${message}`);
      assert.match(message, re, `${name}: ${message}`);
    }
    assert.ok(Number.isFinite(r.fitAfterErrors.loss), "the engine still trains after the errors");
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(f) the Vite example builds (the .wasm included) and runs a search", { timeout: TIMEOUT }, async () => {
  const outDir = mkdtempSync(join(tmpdir(), "tunelab-vite-"));
  let app;
  let ctx;
  try {
    const vite = join(ROOT, "node_modules", "vite", "bin", "vite.js");
    assert.ok(existsSync(vite), "vite is installed (npm ci at the repository root)");
    const log = await new Promise((ok, fail) => {
      const p = spawn(process.execPath, [vite, "build", "--outDir", outDir, "--emptyOutDir"], { cwd: VITE_APP });
      let text = "";
      p.stdout.on("data", (d) => (text += d));
      p.stderr.on("data", (d) => (text += d));
      p.on("error", fail);
      p.on("close", (code) => (code === 0 ? ok(text) : fail(new Error(`vite build exited ${code}:\n${text}`))));
    });
    const assets = readdirSync(join(outDir, "assets"));
    assert.ok(assets.some((f) => f.endsWith(".wasm")), `vite build emitted the .wasm: ${assets}\n${log}`);
    app = await serve(outDir);
    const { page, context, problems } = await openPage(app.origin + "/");
    ctx = context;
    await page.waitForFunction(() => /^(done|error)/.test(document.getElementById("status")?.textContent ?? ""), null, { timeout: 60_000 });
    const status = await page.textContent("#status");
    assert.equal(status, "done");
    const summary = await page.textContent("#summary");
    assert.match(summary, /^Results summary\nResults in vite_app\/xor\n/);
    assert.equal(summary.match(/^Trial \d+ summary$/gm)?.length, 3, summary);
    const best = Number(await page.textContent("#best-score"));
    assert.ok(best > 0 && best <= 1, `best score ${best}`);
    const top = Number(/^Score: (\S+)$/m.exec(summary)[1]);
    assert.equal(best, top, "the best score is the summary's first");
    assertNoProblems(problems);
  } finally {
    await ctx?.close();
    await app?.close();
    rmSync(outDir, { recursive: true, force: true });
  }
});

test("(g) the embed with no hash runs the default search (KerasTuner's guide on the digits)", { timeout: TIMEOUT }, async () => {
  const { page, context, problems } = await openPage(site.origin + EMBED);
  try {
    const status = await waitForState(page);
    assert.equal(status.state, "done", `the default search ended ${status.state}: ${status.error}`);
    const defaults = await page.evaluate(async () => (await import("./widget.js")).DEFAULT_CONFIG);
    const maxTrials = defaults.options.maxTrials;
    assert.ok(Number.isInteger(maxTrials) && maxTrials > 0, `DEFAULT_CONFIG.options.maxTrials: ${maxTrials}`);
    assert.equal(status.trials.length, maxTrials, "tunelabStatus.trials: one per trial of the default config");
    for (const t of status.trials) assert.equal(t.status, "COMPLETED", `trial ${t.trialId}: ${t.message}`);
    const view = await embedView(page);
    assert.equal(view.roots, 1);
    assert.equal(view.rows.length, maxTrials, `trials table rows: ${JSON.stringify(view.rows)}`);
    assert.equal(view.stateBadge, "done");
    assert.equal(view.stopButtons, 0, "no stop button once the search is done");
    assert.ok(view.summaryShown, "the results summary is shown");
    assert.match(view.summary, /^Results summary\n/);
    assert.equal(view.summary.match(/^Trial \S+ summary$/gm)?.length, maxTrials, view.summary);
    assert.equal(status.summary, view.summary, "tunelabStatus.summary is the text shown");
    assert.deepEqual(view.states, ["running", "done"]);
    // The default is the guide on the digits; its best val_accuracy after 3 epochs is ~0.96.
    assert.equal(defaults.dataset, "digits");
    assert.equal(status.dataset, "digits");
    assert.equal(status.objective, "val_accuracy");
    assert.ok(status.best && status.best.score > 0.8 && status.best.score <= 1, `best: ${JSON.stringify(status.best)}`);
    assert.equal(status.best.score, Math.max(...status.trials.map((t) => t.score)), "the best trial has the highest val_accuracy");
    const note = await page.evaluate(() => ({ hidden: document.getElementById("note").hidden, link: document.querySelector("#note a")?.getAttribute("href") }));
    assert.equal(note.hidden, false, "the page says it ran the default example");
    assert.match(note.link ?? "", /^#[A-Za-z0-9_-]+$/, "with the default config as a base64url link");
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(h) the embed runs a Hyperband search from a base64url hash", { timeout: TIMEOUT }, async () => {
  const config = { ...xorConfig(), tuner: "Hyperband", options: { maxEpochs: 3, factor: 3, objective: "val_accuracy" } };
  const { page, context, problems } = await openPage(`${site.origin}${EMBED}#${base64url(config)}`);
  try {
    const status = await waitForState(page);
    assert.equal(status.state, "done", `the Hyperband search ended ${status.state}: ${status.error}`);
    assert.equal(status.tuner, "Hyperband");
    assert.equal(status.dataset, "xor");
    const view = await embedView(page);
    assert.ok(view.rows.length >= 3, `trials table rows: ${JSON.stringify(view.rows)}`);
    assert.equal(view.rows.length, status.trials.length);
    for (const t of status.trials) {
      assert.equal(t.status, "COMPLETED", `trial ${t.trialId}: ${t.message}`);
      const epochs = t.values["tuner/epochs"];
      assert.ok(Number.isInteger(epochs) && epochs >= 1 && epochs <= 3, `trial ${t.trialId} tuner/epochs: ${JSON.stringify(t.values)}`);
    }
    assert.ok(status.trials.some((t) => t.values["tuner/epochs"] === 3), "some trial trains to maxEpochs");
    assert.match(view.summary, /^Results summary\n/);
    assert.ok(status.best && status.best.score > 0.5 && status.best.score <= 1, `best: ${JSON.stringify(status.best)}`);
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(i) the embed shows bad configs as errors: broken JSON, an unknown activation", { timeout: TIMEOUT }, async () => {
  const rleu = structuredClone(XOR_SPEC);
  rleu.layers[0].config.activation = "rleu";
  const cases = [
    { name: "broken JSON", hash: "%7Bbroken", expect: /not valid JSON/ },
    { name: "activation rleu", hash: base64url(xorConfig({ spec: rleu })), expect: /rleu/ },
  ];
  for (const c of cases) {
    const { page, context, problems } = await openPage(`${site.origin}${EMBED}#${c.hash}`);
    try {
      const status = await waitForState(page);
      assert.equal(status.state, "error", `${c.name}: ${JSON.stringify(status)}`);
      assert.match(status.error, c.expect, c.name);
      assert.doesNotMatch(status.error, /unreachable|RuntimeError|panicked/i, c.name);
      const view = await embedView(page);
      assert.match(view.error ?? "", c.expect, `${c.name}: the error shown in the page`);
      assert.ok(view.rows.every((r) => r.status !== "RUNNING"), `${c.name}: ${JSON.stringify(view.rows)}`);
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  }
});

test("(j) the same config URI-encoded and base64url runs the same trials", { timeout: TIMEOUT }, async () => {
  const config = xorConfig({ maxTrials: 3, epochs: 2 });
  const runs = {};
  for (const [kind, hash] of [["URI-encoded", uriEncoded(config)], ["base64url", base64url(config)]]) {
    const { page, context, problems } = await openPage(`${site.origin}${EMBED}#${hash}`);
    try {
      const status = await waitForState(page);
      assert.equal(status.state, "done", `${kind}: ${status.error}`);
      assert.equal(status.trials.length, 3, kind);
      runs[kind] = status.trials;
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  }
  const values = (trials) => trials.map((t) => ({ trialId: t.trialId, values: t.values }));
  assert.deepEqual(values(runs["URI-encoded"]), values(runs["base64url"]), "the same hyperparameter values, trial by trial");
  assert.deepEqual(runs["URI-encoded"], runs["base64url"], "the same trials (scores and statuses too)");
});

test("(k) a new hash runs the new search in the same page", { timeout: TIMEOUT }, async () => {
  const first = xorConfig({ maxTrials: 2, epochs: 2 });
  const second = xorConfig({ maxTrials: 4, epochs: 2, title: "the second search" });
  const { page, context, problems } = await openPage(`${site.origin}${EMBED}#${base64url(first)}`);
  try {
    const a = await waitForState(page);
    assert.equal(a.state, "done", a.error);
    assert.equal(a.trials.length, 2);
    await page.evaluate((hash) => (location.hash = hash), base64url(second));
    const b = await waitForState(page, FINAL, { nth: 2 });
    assert.equal(b.state, "done", b.error);
    assert.equal(b.title, "the second search");
    assert.equal(b.trials.length, 4, `trials of the second search: ${JSON.stringify(b.trials)}`);
    const view = await embedView(page);
    assert.deepEqual(view.states, ["running", "done", "running", "done"]);
    assert.equal(view.roots, 1, "exactly one .tlw view in the page");
    assert.equal(view.rows.length, 4, `rows: ${JSON.stringify(view.rows)}`);
    assert.equal(await page.evaluate(() => document.querySelector(".tlw-title")?.textContent), "the second search");
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(l) widget.js: render() under a fake anywidget model runs the search and cleans up", { timeout: TIMEOUT }, async () => {
  const { page, context, problems } = await openPage();
  try {
    const config = xorConfig({ maxTrials: 3, epochs: 2, title: "widget test" });
    const r = await inPage(page, "widgetRender", config);
    assert.equal(r.status.state, "done", `widget status: ${JSON.stringify(r.status)}`);
    assert.equal(r.statusIsText, true, "a Unicode status traitlet gets JSON text");
    assert.equal(r.status.title, "widget test");
    assert.equal(r.status.trials.length, config.options.maxTrials);
    for (const t of r.status.trials) assert.equal(t.status, "COMPLETED", `trial ${t.trialId}: ${t.message}`);
    assert.match(r.status.summary, /^Results summary\n/);
    assert.match(r.domSummary ?? "", /^Results summary\n/);
    assert.equal(r.roots, 1);
    assert.equal(r.rows, config.options.maxTrials);
    assert.equal(r.stateText, "done");
    assert.ok(r.calls.saveChanges >= r.calls.set.length && r.calls.set.length > 0, `set ${r.calls.set.length}, save_changes ${r.calls.saveChanges}`);
    assert.ok(r.calls.set.every((name) => name === "status"), `model.set: ${r.calls.set}`);
    assert.deepEqual(r.calls.on, ["change:config"]);
    assert.equal(r.cleanupIsFunction, true, "render() returns its cleanup");
    assert.equal(r.childrenAfterCleanup, 0, "the cleanup empties el");
    assert.deepEqual(r.calls.off, [{ event: "change:config", sameHandler: true }], "the cleanup calls model.off with render's handler");
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(m) the stop button ends the search after the running trial", { timeout: TIMEOUT }, async () => {
  // Trials long enough (~0.3 s on 2 cores) that the click lands well before the last of 12.
  const config = xorConfig({ maxTrials: 12, epochs: 40 });
  const { page, context, problems } = await openPage(`${site.origin}${EMBED}#${base64url(config)}`);
  try {
    // The stop button is clicked in the page the moment the first trial completes: Playwright's
    // own click waits for the header (which reflows as trials end) to hold still, and on a
    // loaded machine the 12 trials could all end in that wait.
    const clicked = await page.waitForFunction(
      () => {
        if (!window.tunelabStatus?.trials?.some((t) => t.status === "COMPLETED")) return false;
        const stops = [...document.querySelectorAll(".tlw-head button")].filter((b) => /stop/.test(b.textContent));
        if (stops.length !== 1) return `${stops.length} stop buttons`;
        stops[0].click();
        return "clicked";
      },
      null,
      { timeout: 60_000, polling: 10 },
    );
    assert.equal(await clicked.jsonValue(), "clicked", "the view has one stop button");
    const status = await waitForState(page);
    assert.equal(status.state, "stopped", `after stop: ${JSON.stringify(status)}`);
    assert.ok(status.trials.length >= 1 && status.trials.length < config.options.maxTrials, `trials after stop: ${status.trials.length} of ${config.options.maxTrials}`);
    assert.ok(status.trials.every((t) => t.status !== "RUNNING"), `statuses: ${status.trials.map((t) => t.status)}`);
    assert.ok(status.trials.some((t) => t.status === "COMPLETED"), "the trials finished before the stop are kept");
    const view = await embedView(page);
    assert.equal(view.stateBadge, "stopped");
    assert.equal(view.rows.length, status.trials.length);
    assert.ok(view.rows.every((r) => r.status !== "RUNNING"), `rows: ${JSON.stringify(view.rows)}`);
    assert.equal(view.stopButtons, 0, "the stop button is gone");
    // Nothing starts after the stop.
    await page.waitForTimeout(500);
    assert.equal((await page.evaluate(() => window.tunelabStatus)).trials.length, status.trials.length);
    assert.deepEqual(await page.evaluate(() => window.__states), ["running", "stopped"]);
    console.log(`# stop: ${status.trials.length} of ${config.options.maxTrials} trials, ${status.trials.map((t) => t.status)}`);
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

// A probe of the page's main thread: every long task (a task that held the thread over 50 ms,
// PerformanceObserver "longtask") from start() to stop(); stop() gives the longest in ms (0: none).
// (Timer gaps are no measure here: on a loaded 2-core machine the OS delays an idle thread too.)
function longTaskProbe() {
  const t0 = performance.now();
  const seen = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.startTime >= t0) seen.push(e.duration);
  });
  obs.observe({ type: "longtask", buffered: true });
  return {
    stop: () => {
      for (const e of obs.takeRecords()) if (e.startTime >= t0) seen.push(e.duration);
      obs.disconnect();
      return Math.round(Math.max(0, ...seen));
    },
  };
}

test("(p) the embed trains in a Web Worker: no main-thread task of 100 ms, where the same search in the page makes some", { timeout: TIMEOUT }, async () => {
  // One wide layer (2,048 or 3,072 units) on the 1,797 digits: an epoch takes well over 100 ms here, and the
  // engine yields only between epochs, so the same search run on the main thread stalls it.
  const spec = structuredClone(XOR_SPEC);
  spec.layers = [
    { class_name: "Dense", config: { units: { hp: "Choice", name: "units", values: [2048, 3072] }, activation: "relu" } },
    { class_name: "Dense", config: { units: 10, activation: "softmax" } },
  ];
  spec.compile.loss = "categorical_crossentropy";
  const config = { dataset: "digits", tuner: "RandomSearch", spec, options: { maxTrials: 2, objective: "val_accuracy", seed: 1 }, fit: { epochs: 3, validationSplit: 0.2, batchSize: 1024 } };
  const { page, context, problems } = await openPage(`${site.origin}${EMBED}#${base64url(config)}`);
  try {
    await page.evaluate(`window.__probe = (${longTaskProbe})()`);
    const status = await waitForState(page);
    const workerGap = await page.evaluate(() => window.__probe.stop());
    assert.equal(status.state, "done", status.error);
    assert.equal(status.trials.length, 2);
    const workers = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name).filter((n) => n.endsWith("/widget-worker.js")));
    assert.equal(workers.length, 1, "the embed loaded its search worker");
    // The control: the same search through runSearch on the page's main thread.
    const inPageGap = await page.evaluate(
      async ([config, probe]) => {
        const w = await import("./widget.js");
        const p = eval(`(${probe})`)();
        await w.runSearch(config);
        return p.stop();
      },
      [config, String(longTaskProbe)],
    );
    console.log(`# longest main-thread task: ${workerGap} ms with the worker, ${inPageGap} ms with the same search on the main thread`);
    assert.ok(inPageGap > 100, `the probe sees a stall when the search runs on the main thread (${inPageGap} ms)`);
    assert.ok(workerGap < 100, `a main-thread task took ${workerGap} ms while the worker trained`);
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(n) examples/plain.html trains, evaluates and searches", { timeout: TIMEOUT }, async () => {
  const { page, context, problems } = await openPage(site.origin + PLAIN);
  try {
    await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 90_000 });
    const r = await page.evaluate(() => ({
      state: document.body.dataset.state,
      status: document.getElementById("status").textContent,
      history: document.getElementById("history").textContent,
      summary: document.getElementById("summary").textContent,
    }));
    assert.equal(r.state, "done", r.status);
    assert.match(r.status, /^done: 6 trials; best val_accuracy \d\.\d{3}$/);
    assert.match(r.history, /^evaluate: loss \d+\.\d{4}, accuracy \d\.\d{3}$/m);
    assert.match(r.history, /^history\.val_accuracy: \[/m);
    assert.match(r.summary, /^Results summary\n/);
    assert.equal(r.summary.match(/^Trial \S+ summary$/gm)?.length, 3, r.summary);
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("(o) no page error or console error anywhere is the engine's trap (unreachable)", () => {
  const traps = everyError.filter((m) => /unreachable/i.test(m));
  console.log(`# page errors and console errors/warnings seen in all the pages: ${everyError.length}`);
  assert.deepEqual(traps, [], "an engine panic reached the page");
});

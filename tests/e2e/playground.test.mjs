// End-to-end tests of the playground page (issue 7), in Debian's Chromium driven by
// playwright-core, on the Trunk build in dist/:
//
//   PATH=$PWD/node_modules/.bin:$PATH trunk build --release     # dist/
//   node --test tests/e2e/playground.test.mjs
//
// Screenshots of the main states go to test-results/playground/ for a reviewer to look at.
// States are written straight into the URL hash with www/src/state.js (the page's own codec),
// which is also how a shared link reaches the page.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CHROMIUM, CHROMIUM_ARGS, WEBGPU_ARGS, serve } from "../js/serve.mjs";
import { encodeState, tunerAbout, tunerClass } from "../../www/src/state.js";
import { hyperbandPlan } from "../../www/src/importance.js";
import { CATALOG } from "../../www/src/catalog.js";

const tunerOptionsOf = (kind) => CATALOG.tuners.find((t) => t.name === kind).options;
import { DIST, ROOT, requireBuiltPage, stateWith } from "./common.mjs";

const SHOTS = join(ROOT, "test-results", "playground");
const TIMEOUT = 240_000;
const ARGS = CHROMIUM_ARGS;

let browser;
let gpuBrowser;
let site;
const problems = [];

before(async () => {
  requireBuiltPage();
  mkdirSync(SHOTS, { recursive: true });
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  gpuBrowser = await chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, ...WEBGPU_ARGS] });
  site = await serve(DIST);
});

after(async () => {
  await browser?.close();
  await gpuBrowser?.close();
  await site?.close();
});

async function open(state, { gpu = false, context = null, width = 1360, height = 1000 } = {}) {
  const ctx = context ?? (await (gpu ? gpuBrowser : browser).newContext({ viewport: { width, height }, acceptDownloads: true }));
  const page = await ctx.newPage();
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
  });
  await page.goto(`${site.origin}/${state ? "#" + encodeState(state) : ""}`);
  // A CSV state has no data until a file is chosen: then the engine being ready is enough.
  const csv = state && state.data && state.data.source === "csv";
  await page.waitForFunction((csv) => window.tunelabPage && (csv ? /ready/.test(document.querySelector("#engine-status").textContent) : window.tunelabPage.info), csv, { timeout: 60000 });
  return page;
}

async function runToEnd(page, n, { timeout = TIMEOUT } = {}) {
  await page.click("#btn-start");
  await waitDone(page, n, timeout);
}

async function waitDone(page, n, timeout = TIMEOUT) {
  await page.waitForFunction(
    (n) => {
      const p = window.tunelabPage;
      const done = p.trials.filter((t) => ["COMPLETED", "FAILED", "INVALID"].includes(t.status)).length;
      return !p.running && done >= n;
    },
    n,
    { timeout, polling: 250 },
  );
}

const trialsOf = (page) => page.evaluate(() => window.tunelabPage.trials);

/** Pixels of a chart's canvas that are not background: > 0 means something is drawn. */
async function inked(page, id) {
  return page.evaluate((id) => {
    const c = document.querySelector(`#${id} canvas`);
    if (!c || !c.width || !c.height) return 0;
    const g = c.getContext("2d");
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
    return n;
  }, id);
}

async function download(page, button) {
  const [d] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
  return readFileSync(await d.path(), "utf8");
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

function checkTrials(list, n, { epochs } = {}) {
  assert.equal(list.length, n, `trials: ${JSON.stringify(list.map((t) => [t.id, t.status]))}`);
  for (const t of list) {
    assert.equal(t.status, "COMPLETED", `trial ${t.id}: ${t.status} ${t.message ?? ""}`);
    assert.ok(Number.isFinite(t.score), `trial ${t.id} score ${t.score}`);
    if (epochs) assert.ok(t.curves.val_loss.length >= 1 && t.curves.val_loss.length <= epochs);
  }
}

const small = (extra = {}) => ({
  hidden: [{ type: "dense", units: { hp: "Int", min: 4, max: 12, step: 4 }, activation: { hp: "Choice", values: ["tanh", "relu"] } }, { type: "dense", units: { value: 8 }, activation: { value: "tanh" } }],
  repeat: null,
  regularizer: "none",
  regRate: { value: 0.001 },
  optimizer: { value: "adam" },
  learningRate: { hp: "Float", min: 0.003, max: 0.1, sampling: "log" },
  batchSize: { value: 16 },
  epochs: { value: 6 },
  ...extra,
});

test("random search on spiral runs to the end: table, charts, best result, exports", { timeout: TIMEOUT }, async () => {
  const s = stateWith({ data: { source: "spiral", noise: 10 }, model: small(), tuner: { kind: "random", maxTrials: 4, seed: 3, workers: 2, device: "cpu" } });
  const page = await open(s);
  await shot(page, "01-start");
  await runToEnd(page, 4);
  const list = await trialsOf(page);
  checkTrials(list, 4, { epochs: 6 });
  assert.equal(await page.evaluate(() => window.tunelabPage.maxRunning), 2, "two trial workers trained side by side");
  // The table: one row per trial, sortable by score.
  assert.equal(await page.locator("#trials tbody tr").count(), 4);
  await page.click("#trials thead th:has-text('score') button");
  await page.click("#trials thead th:has-text('score') button");
  const firstScore = Number(await page.locator("#trials tbody tr:first-child td").nth(4 + Object.keys(list[0].hps).length - 2).textContent());
  assert.ok(Number.isFinite(firstScore));
  // Every chart has ink: boundary, objective, curves, parallel, importance (message text counts).
  for (const id of ["chart-boundary", "chart-objective", "chart-curves", "chart-parallel"]) {
    assert.ok((await inked(page, id)) > 500, `${id} is empty`);
  }
  // Best result and its model.
  const best = list.reduce((a, b) => (b.score > a.score ? b : a));
  await page.waitForFunction(() => document.querySelector("#best-summary").textContent.includes("Total params"), null, { timeout: 30000 });
  assert.match(await page.textContent("#best-score"), new RegExp(`Trial ${best.id}`));
  // Exports.
  const csv = await download(page, "#export-csv");
  const lines = csv.trim().split("\n");
  assert.equal(lines.length, 5);
  // The engine's exports (as `tunelab tune --csv/--json` writes them).
  assert.match(lines[0], /^trial_id,status,score,best_step,.*message$/);
  const json = JSON.parse(await download(page, "#export-json"));
  assert.equal(json.trials.length, 4);
  assert.deepEqual(json.trials.map((t) => t.score), list.map((t) => t.score));
  assert.deepEqual(json.best_hyperparameters, best.hps);
  const w = JSON.parse(await download(page, "#export-weights"));
  assert.equal(w.trial_id, best.id);
  assert.equal(w.weights.length, 6); // three Dense layers: kernel + bias each
  assert.deepEqual(w.weights[0].shape, [2, best.hps.units_0]);
  assert.ok(w.weights[0].data.every(Number.isFinite));
  const py = await download(page, "#export-python");
  assert.match(py, /import keras/);
  assert.match(py, new RegExp(`Dense\\(${best.hps.units_0}, activation="${best.hps.activation_0}"`));
  // Retrain the best on all rows.
  await page.click("#btn-retrain");
  await page.waitForFunction(() => /retrained trial/.test(document.querySelector("#retrain-status").textContent), null, { timeout: 60000 });
  assert.match(await page.textContent("#retrain-status"), /on all 500 rows/);
  await shot(page, "02-random-spiral-done");
  await page.context().close();
});

test("Hyperband on spiral fills its brackets", { timeout: TIMEOUT }, async () => {
  const s = stateWith({ data: { source: "spiral" }, model: small(), tuner: { kind: "hyperband", maxEpochs: 9, factor: 3, seed: 2, workers: 2, device: "cpu", objective: "val_accuracy" } });
  const page = await open(s);
  await page.click("#btn-start");
  // KerasTuner's Hyperband sizes, ceil(ceil(1 + log_3(9)) / (b + 1) * 3^(b - r)): bracket 2
  // runs 9, 3, 1 trials, bracket 1 runs 5, 2, bracket 0 runs 3: 23.
  await waitDone(page, 23);
  const list = await trialsOf(page);
  assert.equal(list.length, 23);
  assert.ok(list.every((t) => t.status === "COMPLETED"));
  assert.ok(list.some((t) => t.tuner && t.tuner.parent), "later rounds continue earlier trials");
  assert.ok((await inked(page, "chart-brackets")) > 500);
  // every trial in its own bracket's cell (2 workers overlap brackets)
  await page.waitForFunction(() => document.querySelector("#chart-brackets").getAttribute("aria-label") === "Hyperband brackets: 23 of 23 trials done", null, { timeout: 10000 });
  await shot(page, "03-hyperband-spiral");
  await page.context().close();
});

test("random search and Hyperband on the 8x8 digits", { timeout: TIMEOUT }, async () => {
  // 8 unit counts: Hyperband's 5 distinct configurations below never run out of new ones (the
  // engine, like KerasTuner, does not train a configuration twice).
  const model = small({ hidden: [{ type: "dense", units: { hp: "Int", min: 16, max: 128, step: 16 }, activation: { value: "relu" } }], learningRate: { value: 0.01 }, batchSize: { value: 32 }, epochs: { value: 4 } });
  let page = await open(stateWith({ data: { source: "digits", trainPct: 80 }, model, tuner: { kind: "random", maxTrials: 3, workers: 2, device: "cpu", objective: "val_accuracy" } }));
  await runToEnd(page, 3);
  let list = await trialsOf(page);
  checkTrials(list, 3);
  assert.ok(Math.max(...list.map((t) => t.score)) > 0.85, "digits val_accuracy");
  // Images have no plane: the box shows the confusion of the best trial on the test rows.
  assert.equal(await page.textContent("#boundary-kind"), "Confusion");
  await page.waitForFunction(() => /of \d+ test rows right/.test(document.querySelector("#chart-boundary").getAttribute("aria-label")));
  await shot(page, "04-random-digits");
  await page.context().close();
  page = await open(stateWith({ data: { source: "digits", trainPct: 80 }, model, tuner: { kind: "hyperband", maxEpochs: 3, factor: 3, workers: 2, device: "cpu", objective: "val_accuracy" } }));
  await page.click("#btn-start");
  // max_epochs 3, factor 3: brackets of 3 + 1 and 2 trials.
  await waitDone(page, 6);
  list = await trialsOf(page);
  assert.equal(list.length, 6);
  await shot(page, "05-hyperband-digits");
  await page.context().close();
});

test("grid search runs every combination; Bayesian optimization pauses and resumes", { timeout: TIMEOUT }, async () => {
  const grid = small({
    hidden: [{ type: "dense", units: { hp: "Int", min: 4, max: 8, step: 4 }, activation: { hp: "Choice", values: ["tanh", "relu"] } }],
    learningRate: { value: 0.03 },
    epochs: { value: 3 },
  });
  let page = await open(stateWith({ data: { source: "xor" }, model: grid, tuner: { kind: "grid", maxTrials: 10, workers: 2, device: "cpu" } }));
  await runToEnd(page, 4);
  let list = await trialsOf(page);
  checkTrials(list, 4);
  const combos = list.map((t) => `${t.hps.units_0}/${t.hps.activation_0}`).sort();
  assert.deepEqual(combos, ["4/relu", "4/tanh", "8/relu", "8/tanh"]);
  await shot(page, "12-grid");
  await page.context().close();
  // MNIST epochs last long enough to pause inside a trial.
  const mnist = small({ hidden: [{ type: "dense", units: { hp: "Int", min: 16, max: 48, step: 16 }, activation: { value: "relu" } }], batchSize: { value: 64 }, epochs: { value: 3 } });
  page = await open(stateWith({ data: { source: "mnist", trainPct: 80 }, model: mnist, tuner: { kind: "bayesian", maxTrials: 4, numInitialPoints: 2, workers: 1, device: "cpu", objective: "val_accuracy" } }));
  await page.click("#btn-start");
  await page.waitForFunction(() => window.tunelabPage.trials.filter((t) => t.status === "COMPLETED").length >= 1, null, { timeout: TIMEOUT, polling: 50 });
  await page.click("#btn-pause");
  await page.waitForFunction(() => !window.tunelabPage.running);
  const paused = (await trialsOf(page)).filter((t) => t.status === "COMPLETED");
  assert.ok(!(await page.isDisabled("#btn-resume")));
  await page.click("#btn-resume");
  await waitDone(page, 4);
  list = await trialsOf(page);
  checkTrials(list, 4);
  for (const p of paused) assert.equal(list.find((t) => t.id === p.id).score, p.score, `trial ${p.id} kept`);
  await page.context().close();
});

test("Bayesian optimization's options show with the Bayesian tuner; a search with acquisition lcb runs to the end", { timeout: TIMEOUT }, async () => {
  const page = await open(stateWith({ data: { source: "spiral" }, model: small({ epochs: { value: 4 } }), tuner: { kind: "random", maxTrials: 4, workers: 1, device: "cpu", objective: "val_accuracy" } }), { width: 1366, height: 768 });
  for (const id of ["#tuner-initial", "#tuner-acquisition", "#tuner-beta", "#tuner-alpha"]) assert.equal(await page.isVisible(id), false, `${id} hidden for random search`);
  await page.selectOption("#tuner-kind", "bayesian");
  for (const id of ["#tuner-initial", "#tuner-acquisition", "#tuner-alpha"]) assert.equal(await page.isVisible(id), true, `${id} shown for Bayesian optimization`);
  // the engine's defaults (its catalog); beta belongs to "lcb" alone
  assert.equal(await page.inputValue("#tuner-acquisition"), "ei");
  assert.equal(await page.inputValue("#tuner-alpha"), "0.0001");
  assert.equal(await page.inputValue("#tuner-initial"), "");
  assert.equal(await page.isVisible("#tuner-beta"), false, "beta hidden with ei");
  assert.doesNotMatch(await page.inputValue("#cli-command"), /--beta/);
  await page.selectOption("#tuner-acquisition", "lcb");
  assert.equal(await page.isVisible("#tuner-beta"), true, "beta shown with lcb");
  assert.equal(await page.inputValue("#tuner-beta"), "2.6");
  await page.fill("#tuner-beta", "1.5");
  await page.press("#tuner-beta", "Tab");
  await page.fill("#tuner-initial", "2");
  await page.press("#tuner-initial", "Tab");
  // an out-of-range value is refused with the field, the value and the range, and put back
  await page.fill("#tuner-alpha", "5");
  await page.press("#tuner-alpha", "Tab");
  assert.match(await page.textContent("#search-error"), /tuner\.alpha: 5 is too large \(0\.\.1\)/);
  assert.equal(await page.inputValue("#tuner-alpha"), "0.0001");
  await page.fill("#tuner-alpha", "0.001");
  await page.press("#tuner-alpha", "Tab");
  const t = await page.evaluate(() => window.tunelabPage.state.tuner);
  assert.deepEqual([t.kind, t.acquisition, t.beta, t.alpha, t.numInitialPoints], ["bayesian", "lcb", 1.5, 0.001, 2]);
  assert.match(await page.inputValue("#cli-command"), /--tuner bayesian .*--num-initial-points 2 --acquisition lcb --alpha 0\.001 --beta 1\.5/);
  // the URL holds them: a reload opens the same panel
  await page.reload();
  await page.waitForFunction(() => window.tunelabPage && window.tunelabPage.info);
  assert.equal(await page.inputValue("#tuner-acquisition"), "lcb");
  assert.equal(await page.inputValue("#tuner-beta"), "1.5");
  await page.locator("#sec-tuner").screenshot({ path: join(SHOTS, "14-bayesian-options.png") });
  // 2 random points, then 2 trials chosen by the Gaussian process with lcb
  await runToEnd(page, 4);
  checkTrials(await trialsOf(page), 4);
  assert.equal((await page.textContent("#search-error")).trim(), "");
  await page.context().close();
});

// BOHB and ASHA (issue 23): picked in the panel like the others, their options checked and sent
// to the engine, their searches run to the end with promotions to more epochs.
async function pickTuner(page, kind, fields) {
  await page.selectOption("#tuner-kind", kind);
  assert.match(await page.textContent("#tuner-explain"), new RegExp(`^${tunerClass(kind)}: ${tunerAbout(kind).replace(/[()]/g, "\\$&")}\\.$`));
  for (const [id, value] of fields) {
    if (id === "#tuner-model") await page.selectOption(id, value);
    else {
      await page.fill(id, value);
      await page.press(id, "Tab");
    }
  }
}

const shown = (page, ids) => Promise.all(ids.map((id) => page.isVisible(id)));

test("ASHA in the panel: its options, a refused value, the CLI line, and 2 workers promoting trials to more epochs", { timeout: TIMEOUT }, async () => {
  const page = await open(stateWith({ data: { source: "xor" }, model: small({ epochs: { value: 4 } }), tuner: { kind: "random", maxTrials: 4, seed: 5, workers: 2, device: "cpu" } }), { width: 1366, height: 768 });
  assert.ok((await page.$$eval("#race-a option", (o) => o.map((x) => x.value))).includes("asha"), "the race offers ASHA");
  await pickTuner(page, "asha", [["#tuner-max-epochs", "4"], ["#tuner-factor", "2"], ["#tuner-max-trials", "8"], ["#tuner-model", "gp"]]);
  assert.deepEqual(await shown(page, ["#tuner-max-epochs", "#tuner-factor", "#tuner-max-trials", "#tuner-model", "#tuner-random-fraction", "#tuner-min-points", "#tuner-iterations", "#tuner-acquisition"]), [true, true, true, true, true, true, false, false]);
  await page.fill("#tuner-random-fraction", "1.5");
  await page.press("#tuner-random-fraction", "Tab");
  assert.match(await page.textContent("#search-error"), /tuner\.randomFraction: 1\.5 is too large \(0\.\.1\)/);
  assert.equal(await page.inputValue("#tuner-random-fraction"), String(tunerOptionsOf("asha").random_fraction));
  await page.selectOption("#tuner-model", "random");
  assert.deepEqual(await shown(page, ["#tuner-random-fraction", "#tuner-min-points"]), [false, false]);
  assert.match(await page.inputValue("#cli-command"), / --tuner asha .*--max-epochs 4 --factor 2 --max-trials 8 --model random --device cpu --parallel-trials 2$/);
  assert.equal(await page.textContent("#brackets-title"), "ASHA rungs");
  await runToEnd(page, 8);
  const list = await trialsOf(page);
  checkTrials(list, 8);
  // rungs of 1, 2 and 4 epochs: promoted trials continue their parents to more epochs
  const epochs = new Set(list.map((t) => t.tuner?.epochs));
  assert.ok(epochs.has(1) && epochs.has(2), `epochs ${[...epochs]}`);
  assert.ok(list.some((t) => t.tuner?.parent && t.tuner.initialEpoch > 0), "promotions");
  assert.ok((await inked(page, "chart-brackets")) > 200, "the rungs are drawn");
  // the view counts every trial in its cell (drawn a moment after the last trial ends)
  await page.waitForFunction((want) => document.querySelector("#chart-brackets").getAttribute("aria-label") === want, "ASHA rungs: 8 trials done", { timeout: 10000 });
  assert.equal((await page.textContent("#search-error")).trim(), "");
  await shot(page, "15-asha");
  // a race against random search (8 trials x 4 epochs = 32): ASHA's search worker stops its
  // tuner as the trial that reaches the budget ends (spent at most 33), before the free worker
  // begins another; the other worker's running trial still ends (up to 2 epochs more)
  await page.selectOption("#race-b", "asha");
  assert.match(await page.textContent("#race-plan"), /^Each tuner spends 32 epochs: random search 8 trials × 4 epochs; ASHA its rungs \(max epochs 4, factor 2\) until it has spent as many\.$/);
  await page.click("#race-start");
  await page.waitForFunction(() => window.tunelabPage.race?.finished, null, { timeout: TIMEOUT, polling: 250 });
  const race = await page.evaluate(() => window.tunelabPage.race);
  assert.deepEqual(race.sides.map((x) => [x.kind, x.error, x.stopped]), [["random", null, false], ["asha", null, false]]);
  assert.equal(race.sides[0].spent, 32);
  assert.ok(race.sides[1].spent >= 32 && race.sides[1].spent <= 35, `ASHA spent ${race.sides[1].spent}`);
  await page.context().close();
});

test("BOHB in the panel: its options, the CLI line, and its brackets run to the end with 2 workers", { timeout: TIMEOUT }, async () => {
  const page = await open(stateWith({ data: { source: "xor" }, model: small({ epochs: { value: 4 } }), tuner: { kind: "random", maxTrials: 4, seed: 4, workers: 2, device: "cpu" } }), { width: 1366, height: 768 });
  await pickTuner(page, "bohb", [["#tuner-max-epochs", "3"], ["#tuner-factor", "3"], ["#tuner-random-fraction", "0.5"], ["#tuner-min-points", "2"]]);
  assert.deepEqual(await shown(page, ["#tuner-max-epochs", "#tuner-factor", "#tuner-iterations", "#tuner-random-fraction", "#tuner-min-points", "#tuner-max-trials", "#tuner-model"]), [true, true, true, true, true, false, false]);
  await page.fill("#tuner-min-points", "1");
  await page.press("#tuner-min-points", "Tab");
  assert.match(await page.textContent("#search-error"), /tuner\.minPointsInModel: 1 is too small \(2\.\.500\)/);
  assert.equal(await page.inputValue("#tuner-min-points"), "2");
  assert.match(await page.inputValue("#cli-command"), / --tuner bohb .*--max-epochs 3 --factor 3 --hyperband-iterations 1 --random-fraction 0\.5 --min-points-in-model 2 --device cpu/);
  // the link holds them
  await page.reload();
  await page.waitForFunction(() => window.tunelabPage && window.tunelabPage.info);
  const t = await page.evaluate(() => window.tunelabPage.state.tuner);
  assert.deepEqual([t.kind, t.maxEpochs, t.factor, t.randomFraction, t.minPointsInModel], ["bohb", 3, 3, 0.5, 2]);
  await page.locator("#sec-tuner").screenshot({ path: join(SHOTS, "16-bohb-options.png") });
  // max epochs 3, factor 3: Hyperband's plan, 3 + 1 and 2 trials
  const n = hyperbandPlan(3, 3).reduce((a, b) => a + b.rounds.reduce((x, r) => x + r.trials, 0), 0);
  assert.equal(n, 6);
  await runToEnd(page, n);
  const list = await trialsOf(page);
  checkTrials(list, n);
  assert.deepEqual([...new Set(list.map((t) => t.tuner?.epochs))].sort(), [1, 3]);
  assert.ok(list.some((t) => t.tuner?.parent), "round 1 continues a round 0 trial");
  assert.ok((await inked(page, "chart-brackets")) > 200, "the brackets are drawn");
  // the view counts every trial in its cell (drawn a moment after the last trial ends)
  await page.waitForFunction((want) => document.querySelector("#chart-brackets").getAttribute("aria-label") === want, "BOHB brackets: 6 of 6 trials done", { timeout: 10000 });
  assert.equal((await page.textContent("#search-error")).trim(), "");
  await shot(page, "17-bohb");
  await page.context().close();
});

test("Stop ends the search after the running trial; Resume carries on to max trials", { timeout: TIMEOUT }, async () => {
  const model = small({ hidden: [{ type: "dense", units: { hp: "Int", min: 16, max: 32, step: 16 }, activation: { value: "relu" } }], batchSize: { value: 64 }, epochs: { value: 2 } });
  const page = await open(stateWith({ data: { source: "mnist", trainPct: 80 }, model, tuner: { kind: "random", maxTrials: 4, workers: 1, device: "cpu", objective: "val_accuracy" } }));
  await page.click("#btn-start");
  await page.waitForFunction(() => window.tunelabPage.trials.some((t) => t.status === "RUNNING"), null, { timeout: 60000, polling: 50 });
  await page.click("#btn-stop");
  await page.waitForFunction(() => !window.tunelabPage.running, null, { timeout: TIMEOUT });
  let list = await trialsOf(page);
  assert.ok(list.length >= 1 && list.length < 4, `${list.length} trials after Stop`);
  assert.ok(list.every((t) => t.status === "COMPLETED"), "the running trial finished; none was cut");
  assert.match(await page.textContent("#search-progress-text"), /of 4 trials · stopped/);
  await page.click("#btn-resume");
  await waitDone(page, 4);
  list = await trialsOf(page);
  checkTrials(list, 4);
  await page.context().close();
});

test("CSV upload: good file trains, malformed files are refused with line and column", { timeout: TIMEOUT }, async () => {
  const page = await open(stateWith({ data: { source: "csv" }, model: small({ epochs: { value: 3 } }), tuner: { maxTrials: 2, device: "cpu" } }));
  let rows = "name,<b>a</b>,b,label\n";
  for (let i = 0; i < 200; i++) {
    const a = (i % 20) / 10 - 1;
    const b = Math.floor(i / 20) / 5 - 1;
    rows += `p${i},${a},${b},${a * b > 0 ? 1 : 0}\n`;
  }
  await page.setInputFiles("#csv-file", { name: "quadrants.csv", mimeType: "text/csv", buffer: Buffer.from(rows) });
  await page.waitForFunction(() => !document.querySelector("#csv-columns").hidden);
  // A column name is data, shown as text.
  assert.ok((await page.textContent("#csv-inputs")).includes("<b>a</b>"));
  assert.equal(await page.locator("#csv-inputs b").count(), 0);
  // The text column cannot be an input; pick a and b.
  await page.uncheck('#csv-inputs input[value="name"]');
  await page.waitForFunction(() => window.tunelabPage.info && window.tunelabPage.info.inputDim === 2);
  const info = await page.evaluate(() => window.tunelabPage.info);
  assert.equal(info.rows, 200);
  assert.equal(info.task.kind, "binary");
  await runToEnd(page, 2);
  checkTrials(await trialsOf(page), 2);
  await shot(page, "06-csv");
  // Malformed: a non-number in a used column.
  await page.setInputFiles("#csv-file", { name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from("x,y\n1,0\n2,1\nabc,0\n") });
  await page.waitForFunction(() => !document.querySelector("#data-error").hidden);
  assert.match(await page.textContent("#data-error"), /line 4, column "x": "abc" is not a number/);
  // Ragged lines.
  await page.setInputFiles("#csv-file", { name: "ragged.csv", mimeType: "text/csv", buffer: Buffer.from("x,y\n1,0\n2\n") });
  await page.waitForFunction(() => /line 3/.test(document.querySelector("#data-error").textContent));
  await shot(page, "07-csv-error");
  await page.context().close();
});

test("a reload mid-search resumes: finished trials kept, numbering continues (MNIST)", { timeout: TIMEOUT }, async () => {
  // MNIST (8,000 training rows of 784 pixels) makes each epoch long enough to reload inside.
  // 4 unit counts, so that 3 trials find 3 distinct configurations (the engine never trains one twice).
  const model = small({ hidden: [{ type: "dense", units: { hp: "Int", min: 32, max: 128, step: 32 }, activation: { value: "relu" } }], learningRate: { value: 0.003 }, batchSize: { value: 32 }, epochs: { value: 5 } });
  const s = stateWith({ data: { source: "mnist", trainPct: 80 }, model, tuner: { kind: "random", maxTrials: 3, seed: 9, workers: 1, device: "cpu", objective: "val_accuracy" } });
  const page = await open(s);
  const info = await page.evaluate(() => window.tunelabPage.info);
  assert.deepEqual([info.rows, info.inputDim, info.task.classes], [10000, 784, 10]);
  await page.click("#btn-start");
  await page.waitForFunction(() => {
    const t = window.tunelabPage.trials;
    return t.filter((x) => x.status === "COMPLETED").length >= 1 && t.some((x) => x.status === "RUNNING" && x.epoch >= 2);
  }, null, { timeout: TIMEOUT, polling: 100 });
  const snapshot = await trialsOf(page);
  await page.reload();
  const before = snapshot.filter((t) => t.status === "COMPLETED");
  const runningBefore = snapshot.find((t) => t.status === "RUNNING");
  await page.waitForFunction(() => window.tunelabPage && window.tunelabPage.running, null, { timeout: 60000 });
  await shot(page, "08-resumed");
  // The interrupted trial goes on from its last stored epoch, not from 0.
  const resumed = (await trialsOf(page)).find((t) => t.id === runningBefore.id);
  assert.ok(resumed.curves.val_loss.length >= 2, "the interrupted trial keeps its epochs");
  await waitDone(page, 3);
  const list = await trialsOf(page);
  checkTrials(list, 3);
  assert.deepEqual(list.map((t) => Number(t.id)), [0, 1, 2]);
  assert.ok(Math.max(...list.map((t) => t.score)) > 0.85, "MNIST val_accuracy");
  for (const b of before) {
    const a = list.find((t) => t.id === b.id);
    assert.equal(a.score, b.score, `trial ${b.id} was not re-run`);
  }
  assert.equal(new Set(list.map((t) => t.id)).size, 3);
  await page.context().close();
});

test("a shared URL opens the same state; classroom flags hide sections", { timeout: TIMEOUT }, async () => {
  const s = stateWith({ data: { source: "xor", noise: 25, seed: 7, features: ["x1", "x2", "x1x2"] }, tuner: { kind: "hyperband", maxEpochs: 12, factor: 2 } });
  const page = await open(s);
  const href = page.url();
  const ctx2 = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const other = await ctx2.newPage();
  await other.goto(href);
  await other.waitForFunction(() => window.tunelabPage && window.tunelabPage.info);
  assert.deepEqual(await other.evaluate(() => window.tunelabPage.state), await page.evaluate(() => window.tunelabPage.state));
  assert.equal(await other.inputValue("#data-source"), "xor");
  assert.equal(await other.inputValue("#data-noise"), "25");
  assert.equal(await other.inputValue("#tuner-kind"), "hyperband");
  assert.equal(await other.isChecked('#features input[value="x1x2"]'), true);
  // Classroom: the teacher ticks sections to hide; the link opens without them.
  await page.check('#hide-list input[value="editor"]');
  await page.check('#hide-list input[value="tuner"]');
  const classroom = page.url();
  await other.goto(classroom);
  await other.reload();
  await other.waitForFunction(() => window.tunelabPage && window.tunelabPage.info);
  assert.equal(await other.isVisible("#sec-editor"), false);
  assert.equal(await other.isVisible("#tuner-settings"), false);
  assert.equal(await other.isVisible("#sec-data"), true);
  // The learner still runs the search the teacher set up.
  assert.equal(await other.isVisible("#btn-start"), true);
  await shot(other, "09-classroom");
  // A broken or hostile link falls back to the defaults with a message, never a half state.
  await other.goto(`${site.origin}/#s=not-base64!!`);
  await other.reload();
  await other.waitForFunction(() => document.querySelector("#banner"));
  assert.match(await other.textContent("#banner"), /could not be used/);
  await ctx2.close();
  await page.context().close();
});

test("the embed snippet opens the notebook embed on the same search (random search, ASHA with gp, BOHB)", { timeout: TIMEOUT }, async () => {
  for (const tuner of [{ maxTrials: 2 }, { kind: "asha", maxEpochs: 2, factor: 2, maxTrials: 3, model: "gp", randomFraction: 0.5 }, { kind: "bohb", maxEpochs: 2, factor: 2 }]) {
    const page = await open(stateWith({ data: { source: "circle" }, model: small({ epochs: { value: 2 } }), tuner }));
    const code = await page.inputValue("#embed-code");
    const src = code.match(/src="([^"]+)"/)[1].replace(/&quot;/g, '"');
    assert.match(src, /\/lib\/embed\.html#/);
    const embed = await page.context().newPage();
    await embed.goto(src);
    await embed.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: TIMEOUT });
    assert.equal(await embed.evaluate(() => document.body.dataset.state), "done", `${tuner.kind ?? "random"}: ${await embed.textContent("body")}`);
    await page.context().close();
  }
});

test("CPU forced and WebGPU (software adapter) both train, and the page says which", { timeout: TIMEOUT }, async () => {
  const model = small({ epochs: { value: 3 } });
  let page = await open(stateWith({ data: { source: "gauss" }, model, tuner: { maxTrials: 2, device: "cpu" } }));
  await runToEnd(page, 2);
  checkTrials(await trialsOf(page), 2);
  assert.match(await page.textContent("#device-status"), /cpu/i);
  await page.context().close();
  page = await open(stateWith({ data: { source: "gauss" }, model, tuner: { maxTrials: 2, device: "webgpu" } }), { gpu: true });
  await runToEnd(page, 2);
  checkTrials(await trialsOf(page), 2);
  assert.match(await page.textContent("#device-status"), /webgpu/i);
  await shot(page, "10-webgpu");
  await page.context().close();
});

test("the main thread answers within 100 ms while trials train", { timeout: TIMEOUT }, async () => {
  // Two trial workers on MNIST keep both cores busy and post weights after every epoch.
  const model = small({ hidden: [{ type: "dense", units: { hp: "Int", min: 32, max: 96, step: 32 }, activation: { value: "relu" } }], batchSize: { value: 32 }, epochs: { value: 20 } });
  const s = stateWith({ data: { source: "mnist", trainPct: 80 }, model, tuner: { maxTrials: 20, workers: 2, device: "cpu", objective: "val_accuracy" } });
  const page = await open(s);
  await page.click("#btn-start");
  await page.waitForFunction(() => window.tunelabPage.trials.some((t) => t.status === "RUNNING" && t.epoch >= 1), null, { timeout: 60000 });
  // 40 pings, 50 ms apart, each timed from posting a task to the main thread running it.
  const delays = await page.evaluate(async () => {
    const out = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 0));
      out.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  });
  const stillRunning = await page.evaluate(() => window.tunelabPage.running);
  assert.ok(stillRunning, "the search ran during the measurement");
  const worst = Math.max(...delays);
  console.log(`main thread: worst delay ${worst.toFixed(1)} ms over ${delays.length} pings during the search`);
  assert.ok(worst < 100, `the main thread was blocked for ${worst.toFixed(1)} ms`);
  // Pause stops the workers at once; the page says so.
  await page.click("#btn-pause");
  await page.waitForFunction(() => !window.tunelabPage.running && /paused/.test(document.querySelector("#search-progress-text").textContent));
  await page.context().close();
});

test("phone width: the layout fits and the page still runs", { timeout: TIMEOUT }, async () => {
  const page = await open(stateWith({ data: { source: "circle" }, model: small({ epochs: { value: 2 } }), tuner: { maxTrials: 1 } }), { width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than the phone`);
  // Keyboard only: Start with Enter, then pick the trial's row with Enter.
  await page.focus("#btn-start");
  await page.keyboard.press("Enter");
  await waitDone(page, 1);
  await page.focus("#trials tbody tr");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("#trials tbody tr.selected"));
  assert.match(await page.textContent("#boundary-which"), /trial/);
  await shot(page, "11-phone");
  await page.context().close();
});

test("no page errors, console errors or console warnings", () => {
  assert.deepEqual(problems, []);
});

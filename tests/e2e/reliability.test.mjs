// Reliability of the playground page (issue 9), end to end in Debian's Chromium driven by
// playwright-core, on the Trunk build in dist/:
//
//   PATH=$PWD/node_modules/.bin:$PATH trunk build --release     # dist/ (or: node www/build.mjs dist)
//   node --test --test-concurrency=1 tests/e2e/reliability.test.mjs
//
// What a learner's browser does to a search: a reload at any moment, a full
// storage quota, trials that blow up or cannot be built, and hostile input (a huge file, a
// shared link asking for a giant network, names carrying HTML). Screenshots go to
// test-results/reliability/. States are written into the URL hash with www/src/state.js, as in
// tests/e2e/playground.test.mjs; hostile links are encoded by hand (encodeState refuses them).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHROMIUM, CHROMIUM_ARGS, WEBGPU_ARGS, serve } from "../js/serve.mjs";
import { defaultState, encodeState, LIMITS, P_FIELDS } from "../../www/src/state.js";
import { DIST, ROOT, requireBuiltPage, stateWith } from "./common.mjs";
import { mulberry32 } from "../../www/src/rng.js";

const SHOTS = join(ROOT, "test-results", "reliability");
const TIMEOUT = 240_000;
const ARGS = CHROMIUM_ARGS;
const DONE = ["COMPLETED", "FAILED", "INVALID"];

let browser;
let site;
const problems = [];

before(async () => {
  requireBuiltPage();
  mkdirSync(SHOTS, { recursive: true });
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  site = await serve(DIST);
});

after(async () => {
  await browser?.close();
  await site?.close();
});

/** The URL hash of any object, valid or not: what a hand-made (hostile) link holds. */
function rawHash(obj) {
  return "s=" + Buffer.from(JSON.stringify(obj), "utf8").toString("base64url");
}

/** Page errors and console errors of `page` go to `problems` (checked by the last test). */
function watch(page, sink = problems) {
  page.on("pageerror", (e) => sink.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) sink.push(`console.error: ${m.text()}`);
  });
  return page;
}

async function newPage(context = null) {
  const ctx = context ?? (await browser.newContext({ viewport: { width: 1360, height: 1000 } }));
  return watch(await ctx.newPage());
}

/** Opens the page on `state` (or a raw hash string) and waits for the engine and the data. */
async function open(state, { context = null, hash = null } = {}) {
  const page = await newPage(context);
  const h = hash ?? (state ? encodeState(state) : "");
  await page.goto(`${site.origin}/${h ? "#" + h : ""}`);
  await ready(page, state);
  return page;
}

async function ready(page, state) {
  const csv = state && state.data && state.data.source === "csv";
  await page.waitForFunction((csv) => window.tunelabPage && (csv ? /ready/.test(document.querySelector("#engine-status").textContent) : window.tunelabPage.info), csv, { timeout: 60000 });
}

async function waitDone(page, n, timeout = TIMEOUT) {
  await page.waitForFunction(
    ([n, done]) => {
      const p = window.tunelabPage;
      return !p.running && p.trials.filter((t) => done.includes(t.status)).length >= n;
    },
    [n, DONE],
    { timeout, polling: 100 },
  );
}

const trialsOf = (page) => page.evaluate(() => window.tunelabPage.trials);

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** What a finished trial is, for comparing two runs exactly (the page keeps engine doubles). */
function essence(t) {
  return { id: t.id, status: t.status, hps: t.hps, score: t.score, bestEpoch: t.bestEpoch, metrics: t.metrics, curves: t.curves, message: t.message };
}

/** The rows of the results table as {trial id: {column label: cell text}}. */
async function tableRows(page) {
  return page.evaluate(() => {
    const heads = [...document.querySelectorAll("#trials thead th")].map((th) => th.textContent.replace(/ [▲▼]$/, ""));
    const out = {};
    for (const tr of document.querySelectorAll("#trials tbody tr")) {
      const cells = [...tr.children].map((td) => td.textContent);
      out[tr.dataset.trial] = Object.fromEntries(heads.map((h, i) => [h, cells[i]]));
    }
    return out;
  });
}

/** The main thread answers a task within `ms` (it is not frozen). */
async function responsive(page, ms = 500) {
  const t0 = Date.now();
  await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
  const dt = Date.now() - t0;
  assert.ok(dt < ms, `the page took ${dt} ms to answer`);
}

// ---------------------------------------------------------------------------------------------
// 1. Kill and resume

// Spiral, 10 trials of 500 epochs (the page's most). An epoch takes a few milliseconds, so a
// trial lasts seconds; a reload costs the search about a second (the old page trains on until
// the new one commits, and the shown progress trails the stored one a little), so the search
// must last well over 10 seconds for 10 reloads to land inside it. (With 7 trials a fresh-clone
// CI run once saw the search end before the 9th reload.)
const RESUME_MODEL = {
  hidden: [{ type: "dense", units: { hp: "Int", min: 32, max: 96, step: 32 }, activation: { hp: "Choice", values: ["tanh", "relu"] } }],
  repeat: null,
  regularizer: "none",
  regRate: { value: 0.001 },
  optimizer: { value: "adam" },
  learningRate: { hp: "Float", min: 0.003, max: 0.1, sampling: "log" },
  batchSize: { value: 16 },
  epochs: { value: 500 },
};

test("kill and resume: 10 reloads at seeded random moments give exactly the trials of an uninterrupted run", { timeout: 2 * TIMEOUT }, async () => {
  // Two trial workers: the engine runs trials in batches of two side by side, so a reload cuts
  // two trials at once, and after it the batches are made up differently (a requeued trial
  // pairs with a new one): the results must not depend on that, nor on which worker trains what.
  const s = stateWith({ data: { source: "spiral", noise: 10, seed: 4 }, model: RESUME_MODEL, tuner: { kind: "random", maxTrials: 10, seed: 13, workers: 2, device: "cpu", objective: "val_accuracy" } });
  const N = 10;
  const EPOCHS = 500;

  // The reference: the same state, uninterrupted, in a fresh browser context (its own IndexedDB).
  let page = await open(s);
  await page.click("#btn-start");
  await waitDone(page, N);
  const reference = (await trialsOf(page)).map(essence);
  await page.context().close();
  assert.equal(reference.length, N);
  for (const t of reference) {
    assert.equal(t.status, "COMPLETED", `reference trial ${t.id}: ${t.status} ${t.message ?? ""}`);
    assert.equal(t.curves.val_loss.length, EPOCHS);
  }

  // The same search, reloaded 10 times at seeded random moments while it runs.
  page = await open(s);
  await page.click("#btn-start");
  // The moments: after each start or resume, a seeded random 1..25 more epochs of progress
  // (epochs shown, all trials together), then a seeded random 0..30 ms so the reload falls
  // anywhere inside an epoch. Each reload costs about 100-300 epochs of progress (the old page
  // trains on until the new one commits; more since the page's table updates in place), at
  // times more: 10 x 500 epochs leave room for all 10.
  const rnd = mulberry32(20240609);
  const progress = () => page.evaluate(() => window.tunelabPage.trials.reduce((n, t) => n + (t.curves?.val_loss?.length ?? 0), 0));
  let midTrial = 0; // reloads that cut a trial after some of its epochs and before its last
  let from = 0;
  for (let i = 0; i < 10; i++) {
    const point = from + 1 + Math.floor(rnd() * 25);
    await page
      .waitForFunction(
        (point) => {
          const p = window.tunelabPage;
          const shown = p.trials.reduce((n, t) => n + (t.curves?.val_loss?.length ?? 0), 0);
          return p.running && p.trials.some((t) => t.status === "RUNNING") && shown >= point;
        },
        point,
        { timeout: 60000, polling: 10 },
      )
      .catch(async (e) => {
        console.log(`reload ${i} at ${point} epochs:`, JSON.stringify(await page.evaluate(() => [window.tunelabPage.running, window.tunelabPage.trials.map((t) => [t.id, t.status, t.curves?.val_loss?.length]), document.querySelector("#search-error").textContent])));
        throw e;
      });
    await page.waitForTimeout(Math.floor(rnd() * 30));
    const before = await trialsOf(page);
    assert.ok(before.some((t) => t.status === "RUNNING"), `reload ${i}: the search ended before the reload (make the trials longer)`);
    await page.reload();
    // The page carries on by itself: the stored search is resumed without a click.
    await page.waitForFunction(
      ([n, done]) => {
        const p = window.tunelabPage;
        return p && p.info && (p.running || p.trials.filter((t) => done.includes(t.status)).length >= n);
      },
      [N, DONE],
      { timeout: 60000, polling: 20 },
    );
    const afterReload = await trialsOf(page);
    from = await progress();
    const ids = afterReload.map((t) => t.id);
    assert.equal(new Set(ids).size, ids.length, `reload ${i}: duplicate trial ids ${ids}`);
    assert.deepEqual(ids.map(Number), ids.map((_, k) => k), `reload ${i}: trial ids are 0..n-1 (numbering continues): ${ids}`);
    assert.ok(afterReload.length >= before.length, `reload ${i}: ${before.length} trials before, ${afterReload.length} after`);
    let cut = false;
    for (const b of before) {
      const a = afterReload.find((t) => t.id === b.id);
      assert.ok(a, `reload ${i}: trial ${b.id} is gone`);
      assert.deepEqual(a.hps, b.hps, `reload ${i}: trial ${b.id} changed its hyperparameters`);
      if (b.status === "COMPLETED") {
        assert.equal(a.status, "COMPLETED", `reload ${i}: finished trial ${b.id} is ${a.status} after the reload`);
        assert.equal(a.score, b.score, `reload ${i}: finished trial ${b.id} changed its score`);
      } else {
        // The interrupted trial keeps every epoch the page had shown (each is stored before it
        // is shown), with the same values: it continues from its last completed epoch.
        const shown = b.curves.val_loss ?? [];
        const kept = a.curves.val_loss ?? [];
        assert.ok(kept.length >= shown.length, `reload ${i}: trial ${b.id} showed ${shown.length} epochs, ${kept.length} after the reload`);
        assert.deepEqual(kept.slice(0, shown.length), shown, `reload ${i}: trial ${b.id}'s stored epochs differ from the shown ones`);
        if (shown.length >= 1 && shown.length < EPOCHS) cut = true;
      }
    }
    if (cut) midTrial++;
  }
  assert.ok(midTrial >= 5, `only ${midTrial} reloads landed inside a trial`);
  await shot(page, "01-resumed-after-10-reloads");
  await waitDone(page, N);
  const resumed = (await trialsOf(page)).map(essence);
  // Epochs continue where they stopped: each curve is epochs 0..499 once each (a restart from 0
  // would repeat epochs; a lost epoch would leave a gap).
  for (const t of resumed) {
    assert.deepEqual(t.curves.val_loss.map((p) => p[0]), [...Array(EPOCHS).keys()], `trial ${t.id}'s epochs`);
  }
  // And the search is the uninterrupted one: ids, hyperparameters, scores, metrics and curves.
  assert.deepEqual(resumed, reference);
  await page.context().close();
});

// ---------------------------------------------------------------------------------------------
// 2. Storage full

test("storage full: a real QuotaExceededError mid-search is shown plainly, nothing stored is lost, and the search resumes", { timeout: TIMEOUT }, async () => {
  const model = { ...RESUME_MODEL, hidden: [{ type: "dense", units: { hp: "Int", min: 16, max: 48, step: 16 }, activation: { hp: "Choice", values: ["tanh", "relu"] } }], epochs: { value: 30 } };
  // One trial worker: trials end one by one, and the quota runs out between two or inside one.
  const s = stateWith({ data: { source: "xor", noise: 5, seed: 2 }, model, tuner: { kind: "random", maxTrials: 8, seed: 5, workers: 1, device: "cpu", objective: "val_accuracy" } });
  const N = 8;
  let page = await open(s);
  await page.click("#btn-start");
  await waitDone(page, N);
  const reference = (await trialsOf(page)).map(essence);
  await page.context().close();

  const own = [];
  page = await open(s);
  watch(page, own);
  const cdp = await page.context().newCDPSession(page);
  // The origin may hold 40 kB more than it does now: a few trials (about 10 kB each: a trial's
  // record, its resume point with weights and optimizer state, its best weights) fit, then
  // IndexedDB aborts a commit with a real QuotaExceededError, partway through the search.
  // (The quota is set before Start: a page busy drawing answers a test's polls late, so
  // setting it "after 2 trials" would be timing luck.)
  const { usage } = await page.evaluate(() => navigator.storage.estimate());
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: site.origin, quotaSize: usage + 40_000 });
  await page.click("#btn-start");
  // The page says so, and stops (no hang: the search is not running, nothing spins).
  await page.waitForFunction(() => !document.querySelector("#search-error").hidden && !window.tunelabPage.running, null, { timeout: 60000, polling: 50 });
  const message = await page.textContent("#search-error");
  assert.match(message, /storage is full/i);
  assert.match(message, /quota/i);
  assert.match(message, /press Resume/);
  assert.doesNotMatch(message, /undefined|\[object /);
  await responsive(page);
  await shot(page, "02-storage-full");
  const shown = await trialsOf(page);
  const saved = shown.filter((t) => t.status === "COMPLETED");
  assert.ok(saved.length >= 1 && saved.length < N, `${saved.length} trials finished before the quota ran out`);
  assert.ok(!shown.some((t) => t.status === "RUNNING"), "no trial is shown running after the search stopped");
  assert.match(message, new RegExp(`The ${saved.length} finished trials? (is|are) saved`));

  // Space again; a reload finds every trial the page showed as finished, and Resume finishes.
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: site.origin });
  await page.reload();
  await page.waitForFunction((n) => window.tunelabPage && window.tunelabPage.info && window.tunelabPage.trials.filter((t) => t.status === "COMPLETED").length >= n, saved.length, { timeout: 60000 });
  const kept = await trialsOf(page);
  for (const t of saved) {
    const k = kept.find((x) => x.id === t.id);
    assert.ok(k && k.status === "COMPLETED", `trial ${t.id} was lost`);
    assert.deepEqual(essence(k), essence(t), `trial ${t.id} changed`);
  }
  assert.ok(!(await page.isDisabled("#btn-resume")), "Resume is offered");
  await page.click("#btn-resume");
  await waitDone(page, N);
  // The search, stopped by a full disk and resumed, is the uninterrupted one.
  assert.deepEqual((await trialsOf(page)).map(essence), reference);
  assert.deepEqual(own, [], "no uncaught error in the page");
  await page.context().close();
});

// ---------------------------------------------------------------------------------------------
// 3. Failures inside trials

/** A hand-written model spec (the "Spec JSON" box), as the state's text. */
const specText = (layers, compile, fit = { batch_size: 16, epochs: 3 }) => JSON.stringify({ layers, compile, fit });

test("trials whose loss turns NaN fail in the table with KerasTuner's reason, and the search goes on", { timeout: TIMEOUT }, async () => {
  // Plain SGD with a learning rate of a million diverges in the first batches: the validation
  // loss is NaN, the score is NaN, the trial is INVALID and (the page allows no retries, as
  // KerasTuner's default max_retries_per_trial = 0) FAILED. Grid search: the four combinations
  // in order, the diverging ones every other trial.
  const spec = specText(
    [{ class_name: "Dense", config: { units: { hp: "Choice", name: "units", values: [8, 16] }, activation: "relu" } }, { class_name: "Dense", config: { units: 1 } }],
    { optimizer: { class_name: "sgd", config: { learning_rate: { hp: "Choice", name: "learning_rate", values: [0.01, 1000000.5] } } }, loss: "mse", metrics: ["mae"] },
  );
  const page = await open(stateWith({ data: { source: "reg-plane", noise: 5, seed: 2 }, spec, tuner: { kind: "grid", maxTrials: 4, workers: 1, device: "cpu", objective: "val_loss" } }));
  await page.click("#btn-start");
  await waitDone(page, 4, 60000);
  const list = await trialsOf(page);
  assert.deepEqual(list.map((t) => [t.id, t.status, t.hps.learning_rate]), [
    ["0", "COMPLETED", 0.01],
    ["1", "FAILED", 1000000.5],
    ["2", "COMPLETED", 0.01],
    ["3", "FAILED", 1000000.5],
  ]);
  const rows = await tableRows(page);
  for (const id of ["1", "3"]) {
    assert.equal(rows[id].status, "FAILED");
    assert.match(rows[id].note, /^the objective val_loss is (NaN|inf|-inf) \(not a finite number\)$/, `trial ${id}'s note`);
    assert.equal(rows[id]["score (val_loss)"], "");
  }
  for (const id of ["0", "2"]) assert.ok(Number.isFinite(Number(rows[id]["score (val_loss)"])) && rows[id].note === "", `trial ${id}: ${JSON.stringify(rows[id])}`);
  assert.equal(await page.isHidden("#search-error"), true, "two failures apart are no search error");
  assert.match(await page.textContent("#search-progress-text"), /^4 of 4 trials · finished$/);
  // The best trial is a completed one.
  assert.match(await page.textContent("#best-score"), /^Trial (0|2):/);
  await shot(page, "03-nan-trials");
  await page.context().close();
});

test("a hypermodel that cannot be built for some values fails those trials with the engine's message; the others complete", { timeout: TIMEOUT }, async () => {
  const spec = specText(
    [{ class_name: "Dense", config: { units: { hp: "Choice", name: "units", values: [8, 16] }, activation: { hp: "Choice", name: "act", values: ["relu", "no_such_activation"] } } }, { class_name: "Dense", config: { units: 1, activation: "sigmoid" } }],
    { optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"] },
  );
  const page = await open(stateWith({ data: { source: "spiral", seed: 2 }, spec, tuner: { kind: "grid", maxTrials: 4, workers: 2, device: "cpu", objective: "val_accuracy" } }));
  await page.click("#btn-start");
  await waitDone(page, 4, 60000);
  const list = await trialsOf(page);
  assert.equal(list.length, 4);
  for (const t of list) {
    if (t.hps.act === "relu") {
      assert.equal(t.status, "COMPLETED", `trial ${t.id}: ${t.message}`);
      assert.ok(Number.isFinite(t.score));
    } else {
      assert.equal(t.status, "FAILED", `trial ${t.id}`);
      assert.match(t.message, /^unknown activation `no_such_activation`; valid activation names are: linear, relu/);
    }
  }
  assert.equal(list.filter((t) => t.status === "FAILED").length, 2);
  const rows = await tableRows(page);
  for (const t of list.filter((x) => x.status === "FAILED")) {
    assert.equal(rows[t.id].status, "FAILED");
    assert.equal(rows[t.id].act, "no_such_activation");
    assert.equal(rows[t.id].note, t.message);
  }
  assert.equal(await page.isHidden("#search-error"), true);
  await shot(page, "04-build-failures");
  await page.context().close();
});

test("when every trial fails the search stops with KerasTuner's message after 3 in a row, and the page stays usable", { timeout: TIMEOUT }, async () => {
  const spec = specText(
    [{ class_name: "Dense", config: { units: { hp: "Int", name: "units", min_value: 4, max_value: 64, step: 4 }, activation: "no_such_activation" } }, { class_name: "Dense", config: { units: 1, activation: "sigmoid" } }],
    { optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"] },
  );
  const page = await open(stateWith({ data: { source: "circle", seed: 2 }, spec, tuner: { kind: "random", maxTrials: 10, workers: 1, device: "cpu", objective: "val_accuracy" } }));
  await page.click("#btn-start");
  await page.waitForFunction(() => !window.tunelabPage.running && !document.querySelector("#search-error").hidden, null, { timeout: 60000, polling: 50 });
  const error = await page.textContent("#search-error");
  assert.match(error, /^Number of consecutive failures exceeded the limit of 3\./);
  assert.match(error, /unknown activation `no_such_activation`/, "the last failure's reason comes with it");
  const list = await trialsOf(page);
  // (KerasTuner pads trial ids to the digits of max_trials: 10 trials number 00..09.)
  assert.deepEqual(list.map((t) => [t.id, t.status]), [["00", "FAILED"], ["01", "FAILED"], ["02", "FAILED"]]);
  const rows = await tableRows(page);
  for (const id of ["00", "01", "02"]) {
    assert.equal(rows[id].status, "FAILED");
    assert.match(rows[id].note, /^unknown activation `no_such_activation`/);
  }
  assert.match(await page.textContent("#search-progress-text"), /^3 of 10 trials · stopped by an error/);
  // Not a hang: the controls are back, the page answers, and a reload does not start it again.
  assert.equal(await page.isDisabled("#btn-start"), false);
  await responsive(page);
  await shot(page, "05-all-failed");
  await page.reload();
  await ready(page, null);
  await page.waitForFunction(() => window.tunelabPage.trials.length === 3);
  assert.equal(await page.evaluate(() => window.tunelabPage.running), false);
  await page.context().close();
});

test("a GPU device lost in the middle of a trial fails that trial with its message, and the search goes on", { timeout: TIMEOUT }, async () => {
  // WebGPU on Chromium's software adapter, one trial worker. While trial 0 trains, the engine
  // in the trial worker is told its device was lost (tl._testGpuLoss(): the next check reports
  // it, as after a driver reset); that trial fails with the engine's message, and the trials
  // after it train on WebGPU again.
  const gpuBrowser = await (await import("playwright-core")).chromium.launch({
    executablePath: CHROMIUM,
    args: [...ARGS, ...WEBGPU_ARGS],
  });
  try {
    const context = await gpuBrowser.newContext({ viewport: { width: 1360, height: 1000 } });
    const workers = [];
    context.on("page", (p) => p.on("worker", (w) => workers.push(w)));
    const model = { ...RESUME_MODEL, hidden: [{ type: "dense", units: { value: 8 }, activation: { value: "tanh" } }], learningRate: { hp: "Float", min: 0.003, max: 0.1, sampling: "log" }, epochs: { value: 40 } };
    const state = stateWith({ data: { source: "spiral", noise: 0, seed: 3 }, model, tuner: { kind: "random", maxTrials: 3, workers: 1, device: "webgpu", seed: 5, objective: "val_loss" } });
    const page = await open(state, { context });
    await page.click("#btn-start");
    // Trial 0 has trained a few epochs on the GPU.
    await page.waitForFunction(() => {
      const t = window.tunelabPage.trials.find((x) => x.id === "0");
      return t && t.status === "RUNNING" && (t.epoch ?? 0) >= 2;
    }, null, { timeout: 120000, polling: 50 });
    const trialWorker = workers.find((w) => /trial-worker/.test(w.url()));
    assert.ok(trialWorker, `a trial worker runs (${workers.map((w) => w.url()).join(", ")})`);
    const lost = await trialWorker.evaluate(async () => (await import(new URL("./lib/tunelab.js", self.location.href).href))._testGpuLoss());
    assert.equal(lost, true, "the trial worker had a GPU open");
    await waitDone(page, 3, 180000);
    const list = await trialsOf(page);
    assert.deepEqual(list.map((t) => [t.id, t.status]), [["0", "FAILED"], ["1", "COMPLETED"], ["2", "COMPLETED"]]);
    assert.match(list[0].message, /GPU device was lost/);
    const rows = await tableRows(page);
    assert.equal(rows["0"].status, "FAILED");
    assert.match(rows["0"].note, /GPU device was lost/);
    assert.match(await page.textContent("#device-status"), /webgpu/i, "the trials after the loss trained on WebGPU");
    assert.ok(list.slice(1).every((t) => /webgpu/i.test(String(t.device))), JSON.stringify(list.map((t) => t.device)));
    await shot(page, "06-gpu-lost");
    await context.close();
  } finally {
    await gpuBrowser.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 4. Untrusted input

/** The JS heap the page uses, in bytes (Chromium's performance.memory). */
const heap = (page) => page.evaluate(() => performance.memory.usedJSHeapSize);

test("a 1 GiB CSV file is refused with its size and the limit before anything reads it", { timeout: TIMEOUT }, async () => {
  // A sparse file: 1 GiB long, no disk used. Playwright hands the browser its path.
  const dir = mkdtempSync(join(tmpdir(), "tunelab-big-"));
  const big = join(dir, "huge.csv");
  writeFileSync(big, "");
  truncateSync(big, 2 ** 30);
  try {
    const page = await open(stateWith({ data: { source: "csv" } }));
    const heap0 = await heap(page);
    const t0 = Date.now();
    await page.setInputFiles("#csv-file", big);
    await page.waitForFunction(() => !document.querySelector("#data-error").hidden, null, { timeout: 30000 });
    const ms = Date.now() - t0;
    const message = await page.textContent("#data-error");
    assert.match(message, /huge\.csv is 1024 MB/, "names the file and its size");
    assert.match(message, /up to 50 MB/, "names the limit");
    // Nothing was read: no gigabyte in the heap, no header from the worker, and the answer
    // came at once (reading 1 GiB takes seconds).
    const grown = (await heap(page)) - heap0;
    assert.ok(grown < 32 * 2 ** 20, `the heap grew by ${grown} bytes`);
    assert.ok(ms < 5000, `the refusal took ${ms} ms`);
    assert.equal(await page.isHidden("#csv-columns"), true);
    await responsive(page);
    // And the page is still usable: a small file is taken.
    await page.setInputFiles("#csv-file", { name: "small.csv", mimeType: "text/csv", buffer: Buffer.from("a,b,label\n0,1,0\n1,0,1\n1,1,0\n0,0,1\n") });
    await page.waitForFunction(() => !document.querySelector("#csv-columns").hidden);
    assert.equal(await page.isHidden("#data-error"), true, "the old message is gone");
    await page.waitForFunction(() => window.tunelabPage.info && window.tunelabPage.info.rows === 4);
    await page.context().close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a shared link asking for 10,000 layers or a billion units is refused, naming the field, before anything is built", { timeout: TIMEOUT }, async () => {
  const base = defaultState();
  const dense = { type: "dense", units: { value: 8 }, activation: { value: "relu" } };
  const spec = (layers) => JSON.stringify({ layers, compile: { optimizer: "adam", loss: "binary_crossentropy" } });
  const out = { class_name: "Dense", config: { units: 1, activation: "sigmoid" } };
  const cases = [
    // 10,000 hidden layers: the count is checked before any layer is looked at.
    [{ ...base, model: { ...base.model, hidden: Array.from({ length: 10000 }, () => ({})) } }, /model\.hidden: 10000 entries is too many \(at most 32\)/],
    // ... and written out in full, the link itself is over the length limit.
    [{ ...base, model: { ...base.model, hidden: Array.from({ length: 10000 }, () => dense) } }, new RegExp(`the link is too long \\(\\d+ characters; at most ${LIMITS.hashChars}\\)`)],
    // One block repeated 10,000 times.
    [{ ...base, model: { ...base.model, hidden: [dense], repeat: { min: 1, max: 10000 } } }, /model\.repeat\.max: 10000 is too large \(1\.\.32\)/],
    [{ ...base, spec: spec([{ repeat: 10000, layers: [{ class_name: "Dense", config: { units: 8 } }] }, out]) }, /spec\.layers\[0\]\.repeat: 10000 repeats too often/],
    // A billion units, fixed or as the top of a range, in the form or in a hand-written spec.
    [{ ...base, model: { ...base.model, hidden: [{ ...dense, units: { value: 1e9 } }] } }, new RegExp(`model\\.hidden\\[0\\]\\.units\\.value: 1000000000 is too large \\(1\\.\\.${P_FIELDS.units.max}\\)`)],
    [{ ...base, model: { ...base.model, hidden: [{ ...dense, units: { hp: "Int", min: 1, max: 1e9, step: 1 } }] } }, /model\.hidden\[0\]\.units\.max: 1000000000 is too large/],
    [{ ...base, spec: spec([{ class_name: "Dense", config: { units: 1e9 } }, out]) }, /spec\.layers\[0\]\.config\.units: 1000000000 asks for too many units/],
    [{ ...base, spec: spec([{ class_name: "Dense", config: { units: { hp: "Int", name: "u", min_value: 1, max_value: 1e9 } } }, out]) }, /spec\.layers\[0\]\.config\.units: .* asks for too many units/],
  ];
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  for (const [i, [state, field]] of cases.entries()) {
    const page = await newPage(ctx);
    await page.goto(`${site.origin}/#${rawHash(state)}`);
    await page.waitForFunction(() => window.tunelabPage && window.tunelabPage.info && document.querySelector("#banner"), null, { timeout: 60000 });
    const banner = await page.textContent("#banner");
    assert.match(banner, /^The link's settings could not be used \(/, `case ${i}`);
    assert.match(banner, field, `case ${i}: ${banner}`);
    assert.match(banner, /the defaults are shown instead/);
    // The page runs the defaults: nothing of the link's model reached the engine.
    const shown = await page.evaluate(() => window.tunelabPage.state);
    assert.deepEqual(shown.model, base.model, `case ${i}: the model is the default one`);
    assert.equal(shown.spec, null);
    assert.equal(await page.evaluate(() => window.tunelabPage.trials.length), 0);
    assert.ok((await heap(page)) < 256 * 2 ** 20, `case ${i}: the heap is ${await heap(page)} bytes`);
    await responsive(page);
    if (i === 0) await shot(page, "06-hostile-link");
    if (i === cases.length - 1) {
      // A good link opened next in the same tab is used, and the old message goes away.
      const good = stateWith({ data: { source: "xor", seed: 3 } });
      await page.evaluate((h) => (location.hash = h), encodeState(good));
      await page.waitForFunction(() => window.tunelabPage.state.data.source === "xor" && !document.querySelector("#banner"));
      assert.deepEqual(await page.evaluate(() => window.tunelabPage.state), good);
      // ... and a bad one after it says what is wrong with it.
      await page.evaluate((h) => (location.hash = h), rawHash(cases[0][0]));
      await page.waitForFunction(() => /model\.hidden: 10000 entries/.test(document.querySelector("#banner")?.textContent ?? ""));
      assert.equal(await page.evaluate(() => window.tunelabPage.state.data.source), defaultState().data.source, "the defaults, not the last good link");
    }
    await page.close();
  }
  await ctx.close();
});

test("names carrying HTML or script in a link or a CSV file show as text and never run", { timeout: TIMEOUT }, async () => {
  const IMG = `<img src=x onerror="window.__pwned=1">`;
  const SCRIPT = `<script>window.__pwned=2</script>`;
  const SVG = `<svg onload="window.__pwned=3"></svg>`;
  const FILE = `<img src=y onerror="window.__pwned=4">.csv`;
  // The link: a CSV state naming the label and the input columns with markup, and a
  // hand-written spec whose hp names (the table's columns) and a Choice's name are markup too.
  const spec = JSON.stringify({
    layers: [
      { class_name: "Dense", config: { units: { hp: "Choice", name: IMG, values: [4, 8] }, activation: { hp: "Choice", name: SCRIPT, values: ["relu", "tanh"] } } },
      { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
    ],
    compile: { optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"] },
    fit: { batch_size: 16, epochs: 2 },
  });
  const state = stateWith({ data: { source: "csv", csv: { name: FILE, label: SCRIPT, columns: [IMG, SVG], task: "classification" } }, spec, tuner: { kind: "random", maxTrials: 2, workers: 1, device: "cpu", objective: "val_accuracy" } });
  const page = await open(state);
  const markup = () =>
    page.evaluate(() => ({
      pwned: window.__pwned,
      img: document.querySelectorAll("img").length,
      script: document.querySelectorAll("script").length,
      svg: document.querySelectorAll("svg").length,
      handlers: document.querySelectorAll("[onerror], [onload]").length,
    }));
  const clean = await markup();
  assert.equal(clean.pwned, undefined);
  assert.equal(clean.handlers, 0);
  // The CSV: its file name and column names are markup; the label column is the link's.
  const q = (x) => `"${x.replace(/"/g, '""')}"`;
  let rows = `${q(IMG)},${q(SVG)},${q(SCRIPT)}\n`;
  for (let i = 0; i < 80; i++) {
    const a = (i % 9) / 4 - 1;
    const b = Math.floor(i / 9) / 4 - 1;
    rows += `${a},${b},${a * b > 0 ? 1 : 0}\n`;
  }
  await page.setInputFiles("#csv-file", { name: FILE, mimeType: "text/csv", buffer: Buffer.from(rows) });
  await page.waitForFunction(() => window.tunelabPage.info && window.tunelabPage.info.inputDim === 2, null, { timeout: 30000 });
  assert.equal(await page.inputValue("#csv-label"), SCRIPT, "the link's label was picked by its name");
  assert.ok((await page.textContent("#csv-inputs")).includes(IMG));
  assert.ok((await page.textContent("#csv-inputs")).includes(SVG));
  assert.ok((await page.textContent("#data-info")).includes(FILE), "the file name shows as text");
  await page.click("#btn-start");
  await waitDone(page, 2, 60000);
  const list = await trialsOf(page);
  assert.ok(list.every((t) => t.status === "COMPLETED"), JSON.stringify(list.map((t) => [t.status, t.message])));
  // The hp names are the table's column heads and the best trial's rows, as text.
  const head = await page.textContent("#trials thead");
  assert.ok(head.includes(IMG) && head.includes(SCRIPT), head);
  await page.waitForFunction(() => !document.querySelector("#results").hidden);
  const best = await page.textContent("#best-hps");
  assert.ok(best.includes(IMG) && best.includes(SCRIPT), best);
  // The charts' tooltips are HTML with the hp names in: hover a dot of the objective chart
  // (found by its colour on the canvas).
  await page.locator("#chart-objective").scrollIntoViewIfNeeded();
  // ECharts draws (and fades the dots in) after the results show: poll until they are there.
  const findDots = () => {
    const c = document.querySelector("#chart-objective canvas");
    if (!c) return [];
    const r = c.getBoundingClientRect();
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const out = [];
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const i = 4 * (y * c.width + x);
        // The dots' blue (#0877bd, opacity 0.8).
        if (Math.abs(d[i] - 8) < 12 && Math.abs(d[i + 1] - 119) < 12 && Math.abs(d[i + 2] - 189) < 12 && d[i + 3] > 150) out.push([r.left + ((x + 0.5) * r.width) / c.width, r.top + ((y + 0.5) * r.height) / c.height]);
      }
    }
    return out;
  };
  await page.waitForFunction(`(${findDots})().length > 0`, null, { timeout: 10_000 }).catch(() => {});
  const dots = await page.evaluate(`(${findDots})()`);
  assert.ok(dots.length > 0, "the objective chart shows the trials' dots");
  let tipped = false;
  // The middle of the dot pixels found first (one dot's).
  const [cx, cy] = dots.slice(0, 12).reduce(([a, b], [x, y]) => [a + x / Math.min(12, dots.length), b + y / Math.min(12, dots.length)], [0, 0]);
  for (const [x, y] of [[cx, cy], ...dots.slice(0, 20)]) {
    await page.mouse.move(x - 3, y);
    await page.mouse.move(x, y, { steps: 2 });
    tipped = await page
      .waitForFunction((img) => [...document.querySelectorAll("#chart-objective div")].some((d) => d.style.display !== "none" && d.textContent.includes(img)), IMG, { timeout: 500 })
      .then(() => true, () => false);
    if (tipped) break;
  }
  assert.ok(tipped, "a tooltip showed a trial's hp names as text");
  // A CSV whose bad cell is markup: the message quotes it as text.
  await page.setInputFiles("#csv-file", { name: FILE, mimeType: "text/csv", buffer: Buffer.from(`${q(IMG)},${q(SCRIPT)}\n1,0\n${q(SVG)},1\n`) });
  await page.waitForFunction(() => !document.querySelector("#data-error").hidden);
  // (the engine quotes the column and the cell, its inner quotes escaped)
  assert.match(await page.textContent("#data-error"), /line 3, column "<img src=x onerror=\\"window\.__pwned=1\\">": "<svg onload=\\"window\.__pwned=3\\"><\/svg>" is not a number/);
  await shot(page, "07-markup-as-text");
  const end = await markup();
  assert.equal(end.pwned, undefined, "no injected handler or script ran");
  assert.deepEqual(end, clean, "no element was injected");
  await page.context().close();
});

test("no page errors", () => {
  assert.deepEqual(problems, []);
});

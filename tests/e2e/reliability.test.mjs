// Reliability of the playground page (issue 9), end to end in Debian's Chromium driven by
// playwright-core, on the Trunk build in dist/:
//
//   PATH=$PWD/node_modules/.bin:$PATH trunk build --release     # dist/ (or: node www/build.mjs dist)
//   node --test --test-concurrency=1 tests/e2e/reliability.test.mjs
//
// What a learner's browser does to a search: a reload (or a killed tab) at any moment, a full
// storage quota, trials that blow up or cannot be built, and hostile input (a huge file, a
// shared link asking for a giant network, names carrying HTML). Screenshots go to
// test-results/reliability/. States are written into the URL hash with www/src/state.js, as in
// tests/e2e/playground.test.mjs; hostile links are encoded by hand (encodeState refuses them).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "../js/serve.mjs";
import { defaultState, encodeState, LIMITS, P_FIELDS } from "../../www/src/state.js";
import { mulberry32 } from "../../www/src/rng.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
const DIST = join(ROOT, "dist");
const SHOTS = join(ROOT, "test-results", "reliability");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 240_000;
const ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--disable-dev-shm-usage",
];
const DONE = ["COMPLETED", "FAILED", "INVALID"];

let browser;
let site;
const problems = [];

before(async () => {
  if (!existsSync(join(DIST, "index.html")) || !existsSync(join(DIST, "lib", "wasm", "tunelab_bg.wasm"))) {
    throw new Error("dist/ has no page: run `trunk build --release` first (scripts/test.sh does)");
  }
  mkdirSync(SHOTS, { recursive: true });
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  site = await serve(DIST);
});

after(async () => {
  await browser?.close();
  await site?.close();
});

/** A state for the URL: the defaults with `patch` applied section by section. */
function stateWith(patch = {}) {
  const s = defaultState();
  for (const k of Object.keys(patch)) s[k] = Array.isArray(patch[k]) || typeof patch[k] !== "object" || patch[k] === null ? patch[k] : { ...s[k], ...patch[k] };
  return s;
}

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

// Spiral, 7 trials of 300 epochs. An epoch takes a few milliseconds, so a trial lasts seconds;
// a reload costs the search about a second (the old page trains on until the new one commits,
// and the shown progress trails the stored one a little), so the search must last well over
// 10 seconds for 10 reloads to land inside it.
const RESUME_MODEL = {
  hidden: [{ type: "dense", units: { hp: "Int", min: 32, max: 96, step: 32 }, activation: { hp: "Choice", values: ["tanh", "relu"] } }],
  repeat: null,
  regularizer: "none",
  regRate: { value: 0.001 },
  optimizer: { value: "adam" },
  learningRate: { hp: "Float", min: 0.003, max: 0.1, sampling: "log" },
  batchSize: { value: 16 },
  epochs: { value: 300 },
};

test("kill and resume: 10 reloads at seeded random moments give exactly the trials of an uninterrupted run", { timeout: TIMEOUT }, async () => {
  // Two trial workers: the engine runs trials in batches of two side by side, so a reload cuts
  // two trials at once, and after it the batches are made up differently (a requeued trial
  // pairs with a new one): the results must not depend on that, nor on which worker trains what.
  const s = stateWith({ data: { source: "spiral", noise: 10, seed: 4 }, model: RESUME_MODEL, tuner: { kind: "random", maxTrials: 7, seed: 13, workers: 2, device: "cpu", objective: "val_accuracy" } });
  const N = 7;
  const EPOCHS = 300;

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
  // anywhere inside an epoch. Each reload costs about 100 epochs of progress (measured: 60 to
  // 270): 7 x 300 epochs leave room for all 10.
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
        if (shown.length >= 1 && shown.length < EPOCHS) midTrial++;
      }
    }
  }
  assert.ok(midTrial >= 5, `only ${midTrial} reloads landed inside a trial`);
  await shot(page, "01-resumed-after-10-reloads");
  await waitDone(page, N);
  const resumed = (await trialsOf(page)).map(essence);
  // Epochs continue where they stopped: each curve is epochs 0..299 once each (a restart from 0
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
  // A moment later it is still stopped: nothing goes on in the background.
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.tunelabPage.running), false);
  assert.equal((await trialsOf(page)).filter((t) => t.status === "COMPLETED").length, saved.length);

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

test("no page errors", () => {
  assert.deepEqual(problems, []);
});

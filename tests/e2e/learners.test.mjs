// End-to-end tests of the playground for learners and teachers (issue 21), in Debian's
// Chromium driven by playwright-core, on the Trunk build in dist/, at 1366x768:
//
//   PATH=$PWD/node_modules/.bin:$PATH trunk build --release     # dist/
//   node --test tests/e2e/learners.test.mjs
//
// The first screen and a running search (the live views beside the controls, inside the
// viewport, updating), every lesson's link (its state, and its search or race run to the end),
// the race's equal budgets, and no console error or warning anywhere. Screenshots go to
// test-results/learners/.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CHROMIUM, CHROMIUM_ARGS, serve } from "../js/serve.mjs";
import { LESSONS, lessonLink, lessonState } from "../../www/src/lessons.js";
import { raceOf } from "../../www/src/race.js";
import { encodeState } from "../../www/src/state.js";
import { DIST, ROOT, requireBuiltPage, stateWith } from "./common.mjs";

const SHOTS = join(ROOT, "test-results", "learners");
const TIMEOUT = 240_000;
const VIEWPORT = { width: 1366, height: 768 };

let browser;
let site;
// Every console error or warning, page error and failed request of every page of this file.
const problems = [];

before(async () => {
  requireBuiltPage();
  mkdirSync(SHOTS, { recursive: true });
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  site = await serve(DIST);
});

after(async () => {
  await browser?.close();
  await site?.close();
});

/** Watches `page` for anything the console or the network reports as wrong. */
function watch(page, sink) {
  page.on("pageerror", (e) => sink.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") sink.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on("requestfailed", (r) => sink.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  page.on("response", (r) => {
    if (r.status() >= 400) sink.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return page;
}

async function open(hash = "", { sink = problems, viewport = VIEWPORT, csv = false } = {}) {
  const ctx = await browser.newContext({ viewport });
  const page = watch(await ctx.newPage(), sink);
  await page.goto(`${site.origin}/${hash}`);
  // A CSV state has no data until a file is chosen: then the engine being ready is enough.
  await page.waitForFunction((csv) => window.tunelabPage && (csv ? /ready/.test(document.querySelector("#engine-status").textContent) : window.tunelabPage.info), csv, { timeout: 60000 });
  return page;
}

async function waitDone(page, timeout = TIMEOUT) {
  await page.waitForFunction(() => window.tunelabPage.searchesEnded > 0 && !window.tunelabPage.running, null, { timeout, polling: 200 });
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** A digest of a chart's canvas pixels: changes when the chart is redrawn differently. */
async function canvasDigest(page, id) {
  return page.evaluate((id) => {
    const c = document.querySelector(`#${id} canvas`);
    // Read from a copy made for reading (reading the chart's own canvas makes Chromium warn).
    const copy = Object.assign(document.createElement("canvas"), { width: c.width, height: c.height });
    const g = copy.getContext("2d", { willReadFrequently: true });
    g.drawImage(c, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 7) h = (Math.imul(h, 31) + d[i]) | 0;
    return h;
  }, id);
}

/** Pixels of a canvas close to `rgb` (a series' colour), below the legend (the top 34 CSS px). */
async function pixelsOf(page, id, rgb) {
  return page.evaluate(
    ([id, rgb]) => {
      const c = document.querySelector(`#${id} canvas`);
      const top = Math.ceil(34 * (c.width / c.clientWidth));
      const copy = Object.assign(document.createElement("canvas"), { width: c.width, height: c.height });
      const g = copy.getContext("2d", { willReadFrequently: true });
      g.drawImage(c, 0, 0);
      const d = g.getImageData(0, top, c.width, c.height - top).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (Math.abs(d[i] - rgb[0]) < 30 && Math.abs(d[i + 1] - rgb[1]) < 30 && Math.abs(d[i + 2] - rgb[2]) < 30 && d[i + 3] > 200) n++;
      }
      return n;
    },
    [id, rgb],
  );
}

/** Is the element wholly inside the viewport, with the page not scrolled? */
async function inView(page, selector) {
  return page.evaluate((sel) => {
    const r = document.querySelector(sel).getBoundingClientRect();
    return { ok: window.scrollY === 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth && r.height > 20, rect: [r.left, r.top, r.right, r.bottom], scrollY: window.scrollY };
  }, selector);
}

test("the first screen at 1366x768: after Start the boundary and the objective chart are in view without scrolling and update during the search; no console error or warning", { timeout: TIMEOUT }, async () => {
  const seen = [];
  const page = await open("", { sink: seen });
  // The state is the default one (the page adds only its worker count for this machine).
  const s = await page.evaluate(() => window.tunelabPage.state);
  assert.equal(s.data.source, "circle");
  assert.equal(s.tuner.pace, "watch");
  await page.waitForTimeout(300);
  await shot(page, "01-first-screen");
  for (const sel of ["#btn-start", "#chart-boundary", "#chart-objective", "#chart-curves"]) {
    const v = await inView(page, sel);
    assert.ok(v.ok, `${sel} is not inside the first screen: ${JSON.stringify(v)}`);
  }
  await page.click("#btn-start");
  // During the search: the boundary is redrawn as epochs arrive, the objective chart as trials end.
  await page.waitForFunction(() => window.tunelabPage.trials.some((t) => t.status === "RUNNING" && (t.epoch ?? 0) >= 2), null, { timeout: 60000 });
  const b1 = await canvasDigest(page, "chart-boundary");
  const o1 = await canvasDigest(page, "chart-objective");
  await page.waitForFunction(() => window.tunelabPage.trials.filter((t) => t.status === "COMPLETED").length >= 2 && window.tunelabPage.running, null, { timeout: 60000, polling: 100 });
  await page.waitForTimeout(400);
  assert.equal(await page.evaluate(() => window.tunelabPage.running), true, "the search still runs (watch pace)");
  for (const sel of ["#chart-boundary", "#chart-objective"]) {
    const v = await inView(page, sel);
    assert.ok(v.ok, `${sel} left the viewport during the search: ${JSON.stringify(v)}`);
  }
  assert.notEqual(await canvasDigest(page, "chart-boundary"), b1, "the boundary did not change during the search");
  assert.notEqual(await canvasDigest(page, "chart-objective"), o1, "the objective chart did not change during the search");
  await shot(page, "02-running-search");
  await waitDone(page);
  const trials = await page.evaluate(() => window.tunelabPage.trials);
  assert.equal(trials.length, 10);
  const best = Math.max(...trials.map((t) => t.score));
  assert.ok(best >= 0.95, `the default search's best val_accuracy is ${best}`);
  await page.waitForTimeout(300);
  await shot(page, "03-search-done");
  await page.context().close();
  assert.deepEqual(seen, [], "console errors or warnings during load and a search");
  problems.push(...seen);
});

test("the 8x8 digits at 1366x768: the confusion view and the objective chart are in view during the search and follow the trials", { timeout: TIMEOUT }, async () => {
  const st = stateWith({ data: { source: "digits", trainPct: 80 }, model: { hidden: [{ type: "dense", units: { hp: "Int", min: 16, max: 64, step: 16 }, activation: { value: "relu" } }], learningRate: { value: 0.01 }, batchSize: { value: 32 }, epochs: { value: 8 } }, tuner: { maxTrials: 4, workers: 2, device: "cpu", pace: "watch" } });
  const page = await open("#" + encodeState(st));
  assert.equal(await page.textContent("#boundary-kind"), "Confusion");
  await page.click("#btn-start");
  await page.waitForFunction(() => /trial .* test rows right/.test(document.querySelector("#chart-boundary").getAttribute("aria-label") ?? ""), null, { timeout: 60000 });
  const first = await page.getAttribute("#chart-boundary", "aria-label");
  const d1 = await canvasDigest(page, "chart-boundary");
  await page.waitForFunction(() => window.tunelabPage.trials.some((t) => t.status === "COMPLETED") && window.tunelabPage.running, null, { timeout: 60000, polling: 100 });
  await page.waitForTimeout(300);
  for (const sel of ["#chart-boundary", "#chart-objective"]) {
    const v = await inView(page, sel);
    assert.ok(v.ok, `${sel} is not in view during the search: ${JSON.stringify(v)}`);
  }
  assert.notEqual(await canvasDigest(page, "chart-boundary"), d1, `the confusion view did not change (${first})`);
  await shot(page, "07-digits-confusion");
  await waitDone(page);
  // The best trial's confusion: all of the digits' test rows (fewer than the probe's 500) are drawn.
  const rows = await page.evaluate(() => window.tunelabPage.info.test);
  await page.waitForFunction((n) => new RegExp(`of ${n} test rows right`).test(document.querySelector("#chart-boundary").getAttribute("aria-label")), rows);
  const right = Number(new RegExp(`: (\\d+) of ${rows}`).exec(await page.getAttribute("#chart-boundary", "aria-label"))[1]);
  const best = Math.max(...(await page.evaluate(() => window.tunelabPage.trials.map((t) => t.score))));
  // The view counts the best trial's stored (best-epoch) predictions: its val_accuracy.
  assert.ok(Math.abs(right / rows - best) < 0.003, `${right} of ${rows} right, best val_accuracy ${best}`);
  await page.context().close();
});

test("Hyperband at the watch pace: its brackets fill beside the learning curves, in view", { timeout: TIMEOUT }, async () => {
  const st = stateWith({ data: { source: "spiral", features: ["x1", "x2", "sin(x1)", "sin(x2)"] }, tuner: { kind: "hyperband", maxEpochs: 9, factor: 3, workers: 2, device: "cpu", pace: "watch" } });
  const page = await open("#" + encodeState(st));
  const v = await inView(page, "#chart-brackets");
  assert.ok(v.ok, `the brackets are not in the first screen: ${JSON.stringify(v)}`);
  await page.click("#btn-start");
  const before = await canvasDigest(page, "chart-brackets");
  await page.waitForFunction(() => window.tunelabPage.trials.filter((t) => t.status === "COMPLETED").length >= 6, null, { timeout: 60000, polling: 100 });
  await page.waitForTimeout(300);
  assert.notEqual(await canvasDigest(page, "chart-brackets"), before, "the brackets did not fill");
  await shot(page, "08-hyperband-watch");
  await waitDone(page);
  await page.context().close();
});

test("the pace: 'watch' holds each epoch on screen, 'as fast as possible' does not; the trials are the same", { timeout: TIMEOUT }, async () => {
  const base = lessonState(LESSONS.find((l) => l.id === "lr-too-low"));
  const run = async (pace) => {
    const { encodeState } = await import("../../www/src/state.js");
    const st = { ...base, lesson: null, tuner: { ...base.tuner, pace, maxTrials: 2, workers: 1, device: "cpu" }, model: { ...base.model, epochs: { value: 10 } } };
    const page = await open("#" + encodeState(st));
    const t0 = Date.now();
    await page.click("#btn-start");
    await waitDone(page);
    const ms = Date.now() - t0;
    const trials = await page.evaluate(() => window.tunelabPage.trials.map((t) => ({ id: t.id, hps: t.hps, score: t.score })));
    await page.context().close();
    return { ms, trials };
  };
  const watched = await run("watch");
  const fast = await run("fast");
  // 2 trials x 10 epochs, one after another, each epoch shown for at least 120 ms.
  assert.ok(watched.ms >= 20 * 120, `watch took ${watched.ms} ms`);
  assert.ok(fast.ms < watched.ms, `fast ${fast.ms} ms, watch ${watched.ms} ms`);
  assert.deepEqual(watched.trials, fast.trials);
});

for (const lesson of LESSONS) {
  test(`lesson ${lesson.id}: its link opens its state and notes, and its ${lesson.patch.race ? "race" : "search"} runs to the end`, { timeout: TIMEOUT }, async () => {
    const want = lessonState(lesson);
    const page = await open(lessonLink(lesson));
    assert.deepEqual(await page.evaluate(() => window.tunelabPage.state), want);
    assert.equal(await page.isVisible("#lesson-notes"), true);
    assert.equal(await page.textContent("#lesson-question"), lesson.question);
    // Tests run at full speed (the pace is the learner's choice, not part of what is searched).
    await page.selectOption("#tuner-pace", "fast");
    if (lesson.patch.race) {
      const plan = raceOf(want);
      assert.equal(await page.isVisible("#lesson-race"), true);
      await page.click("#lesson-race");
      await page.waitForFunction(() => window.tunelabPage.race?.finished, null, { timeout: TIMEOUT, polling: 250 });
      const r = await page.evaluate(() => window.tunelabPage.race);
      assert.deepEqual(r.sides.map((x) => x.kind), [want.race.a, want.race.b]);
      for (const side of r.sides) {
        assert.equal(side.error, null, side.error);
        assert.equal(side.spent, plan.budget, `${side.label} spent ${side.spent} epochs, the budget is ${plan.budget}`);
        assert.ok(side.points.length >= 1 && Number.isFinite(side.best), JSON.stringify(side));
      }
      assert.equal(r.sides[0].spent, r.sides[1].spent, "both tuners spent the same epochs");
      // Both curves are on the chart (blue A, orange B).
      await page.locator("#sec-race").scrollIntoViewIfNeeded();
      await page.waitForTimeout(400);
      assert.ok((await pixelsOf(page, "chart-race", [8, 119, 189])) > 50, "tuner A's curve is not drawn");
      assert.ok((await pixelsOf(page, "chart-race", [245, 147, 34])) > 50, "tuner B's curve is not drawn");
      if (lesson.id === "hyperband-race") await shot(page, "05-race");
    } else {
      await page.click("#btn-start");
      await waitDone(page);
      const trials = await page.evaluate(() => window.tunelabPage.trials);
      assert.ok(trials.length >= 1);
      assert.ok(trials.every((t) => ["COMPLETED", "FAILED", "INVALID"].includes(t.status)), JSON.stringify(trials.map((t) => t.status)));
      assert.ok(trials.some((t) => t.status === "COMPLETED"));
      if (lesson.id === "depth-spiral") {
        await page.waitForTimeout(400);
        await shot(page, "04-lesson");
      }
    }
    await page.context().close();
  });
}

test("the lesson gallery: a link per lesson, each opening that lesson", { timeout: TIMEOUT }, async () => {
  const page = await open("");
  const hrefs = await page.$$eval("#lesson-list a", (as) => as.map((a) => a.getAttribute("href")));
  assert.deepEqual(hrefs, LESSONS.map(lessonLink));
  assert.ok(LESSONS.length >= 8);
  // The default page races random search and Hyperband evenly; opening a lesson ends that race.
  assert.match(await page.textContent("#race-plan"), /^Each tuner spends 120 epochs: random search 12 trials × 10 epochs; Hyperband its brackets \(max epochs 10, factor 3\)\.$/);
  await page.click("#race-start");
  await page.waitForFunction(() => window.tunelabPage.race?.sides.some((s) => s.trials > 0));
  assert.equal(await page.evaluate(() => window.tunelabPage.race.finished), false, "the race (at the watch pace) is still running");
  await page.click(`#lesson-list a[data-lesson="spiral-features"]`);
  await page.waitForFunction(() => window.tunelabPage.state.lesson === "spiral-features");
  assert.equal(await page.textContent("#lesson-title"), "Lesson: Input features vs hidden units");
  assert.equal(await page.evaluate(() => window.tunelabPage.race), null, "the race of the page before the lesson ended");
  assert.equal(await page.locator("#race-sides .side").count(), 0);
  assert.equal(await page.isEnabled("#race-start"), true);
  const v = await inView(page, "#lesson-notes");
  assert.ok(v.ok, `the lesson's notes are not beside the views: ${JSON.stringify(v)}`);
  await page.click("#lesson-leave");
  assert.equal(await page.isVisible("#lesson-notes"), false);
  await page.context().close();
});

test("1280x720: the run bar, the boundary, the objective chart and the curves sit beside the controls, inside the first screen", { timeout: TIMEOUT }, async () => {
  const page = await open("", { viewport: { width: 1280, height: 720 } });
  for (const sel of ["#btn-start", "#tuner-pace", "#chart-boundary", "#chart-objective", "#chart-curves"]) {
    const v = await inView(page, sel);
    assert.ok(v.ok, `${sel} is not inside the first screen at 1280x720: ${JSON.stringify(v)}`);
  }
  const [controls, live] = await page.evaluate(() => [".controls", "#live"].map((s) => document.querySelector(s).getBoundingClientRect().toJSON()));
  assert.ok(live.left >= controls.right, "the live views are beside the controls");
  // Scrolled down to the tuner's settings, the views are still there (sticky).
  await page.locator("#sec-tuner").scrollIntoViewIfNeeded();
  const r = await page.evaluate(() => document.querySelector("#chart-objective").getBoundingClientRect().toJSON());
  assert.ok(r.top >= 0 && r.bottom <= 720, `the objective chart left the screen when scrolling: ${JSON.stringify(r)}`);
  await page.context().close();
});

test("phone width: one column, the live views under the controls", { timeout: TIMEOUT }, async () => {
  const page = await open("", { viewport: { width: 390, height: 844 } });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than the phone`);
  const [controls, live] = await page.evaluate(() => [".controls", "#live"].map((s) => document.querySelector(s).getBoundingClientRect().toJSON()));
  assert.ok(live.top >= controls.bottom - 1, "the live views are not under the controls");
  await page.context().close();
});

test("a CSV upload with columns of very different scales: the Normalization step (on by default, in the editor, the spec and the Keras code) trains it to a high accuracy; switched off, clearly lower", { timeout: TIMEOUT }, async () => {
  // tests/data/scaled-3class.csv: 600 rows, 3 classes, 6 columns from about 0.05 to 5,000 (like scikit-learn's wine data).
  const csv = readFileSync(join(ROOT, "tests", "data", "scaled-3class.csv"));
  const st = stateWith({ data: { source: "csv", trainPct: 70 }, tuner: { maxTrials: 4, device: "cpu", pace: "fast" } });
  const page = await open("#" + encodeState(st), { csv: true });
  await page.setInputFiles("#csv-file", { name: "scaled-3class.csv", mimeType: "text/csv", buffer: csv });
  await page.waitForFunction(() => window.tunelabPage.info?.inputDim === 6);
  const info = await page.evaluate(() => window.tunelabPage.info);
  assert.equal(info.task.classes, 3);
  // The step is in the network editor, on, and in the spec the engine gets.
  assert.equal(await page.isChecked("#normalize"), true);
  const spec = JSON.parse(await page.inputValue("#spec-json"));
  assert.deepEqual(spec.layers[0], { class_name: "Normalization", config: { axis: -1 } });
  const best = async () => {
    await page.click("#btn-start");
    await page.waitForFunction((n) => window.tunelabPage.searchesEnded > n && !window.tunelabPage.running, await page.evaluate(() => window.tunelabPage.searchesEnded), { timeout: TIMEOUT, polling: 250 });
    const trials = await page.evaluate(() => window.tunelabPage.trials);
    assert.equal(trials.length, 4);
    return Math.max(...trials.map((t) => (t.status === "COMPLETED" ? t.score : 0)));
  };
  const on = await best();
  await page.waitForFunction(() => /adapt\(x_train\)/.test(document.querySelector("#python-code").textContent), null, { timeout: 30000 });
  assert.match(await page.textContent("#python-code"), /keras\.layers\.Normalization\(axis=-1\)/);
  await page.locator("#sec-editor").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, "06-csv-normalization.png") });
  await page.uncheck("#normalize");
  assert.equal(await page.evaluate(() => window.tunelabPage.state.model.normalize), false);
  assert.ok(!(await page.inputValue("#spec-json")).includes("Normalization"));
  const off = await best();
  console.log(`scaled-3class.csv, best val_accuracy of 4 trials: ${on} with the Normalization step, ${off} without`);
  assert.ok(on >= 0.9, `with the Normalization step: best val_accuracy ${on}`);
  assert.ok(off <= on - 0.15, `without it: ${off}, with it: ${on}`);
  await page.context().close();
});

test("no console error or warning, page error or failed request on any page of this file", () => {
  assert.deepEqual(problems, []);
});

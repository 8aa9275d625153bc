// One engine behind every surface (issue 18): the same search run by the playground page (in
// Debian's Chromium, results read from its JSON export) and by `tunelab tune --json` gives the
// same trial ids, hyperparameters and scores (within 1e-4), also when the page is reloaded in
// the middle of a trial and when the CLI is killed (SIGKILL) and started again. The npm package
// is held to the CLI by tests/js/node.test.mjs ("one engine").
//
//   cargo build --release --bin tunelab                              # the CLI
//   PATH=$PWD/node_modules/.bin:$PATH trunk build --release           # dist/
//   node --test tests/e2e/one-engine.test.mjs
//
// The page splits its data with the engine's split (`splitIndices`); the CLI splits the same
// way with --train-percent and --data-seed. Both build the model from the page's spec text.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHROMIUM, CHROMIUM_ARGS, serve } from "../js/serve.mjs";
import { encodeState, taskOf } from "../../www/src/state.js";
import { cliCommand, specText } from "../../www/src/spec.js";
import { ROOT, requireBuiltPage, stateWith } from "./common.mjs";

const TIMEOUT = 240_000;
const CLI = join(ROOT, "target", "release", "tunelab");
const DONE = ["COMPLETED", "FAILED", "INVALID"];

let browser;
let site;
let dir;
const problems = [];

before(async () => {
  requireBuiltPage();
  assert.ok(existsSync(CLI), `${CLI} is missing: cargo build --release --bin tunelab (scripts/test.sh builds it)`);
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  site = await serve(join(ROOT, "dist"));
  dir = mkdtempSync(join(tmpdir(), "tunelab-one-engine-"));
});

after(async () => {
  await browser?.close();
  await site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const model = (hidden, learningRate, batchSize, epochs) => ({
  hidden,
  repeat: null,
  regularizer: "none",
  regRate: { value: 0.001 },
  optimizer: { value: "adam" },
  learningRate,
  batchSize: { value: batchSize },
  epochs: { value: epochs },
});
const dense = (min, max, step, activations) => ({ type: "dense", units: { hp: "Int", min, max, step }, activation: { hp: "Choice", values: activations } });

const SPIRAL = stateWith({
  data: { source: "spiral", noise: 10, seed: 4, trainPct: 60, features: ["x1", "x2", "sin(x1)"] },
  model: model([dense(4, 16, 4, ["tanh", "relu"])], { hp: "Float", min: 0.003, max: 0.1, sampling: "log" }, 16, 60),
  tuner: { kind: "random", objective: "val_loss", maxTrials: 4, executionsPerTrial: 2, seed: 3, workers: 2, device: "cpu" },
});

// Trials of about a second on the page, so a reload lands inside one.
const DIGITS_RANDOM = stateWith({
  data: { source: "digits", noise: 0, seed: 6, trainPct: 70, features: ["x1", "x2"] },
  model: model([dense(64, 256, 64, ["relu", "tanh"])], { hp: "Float", min: 0.0003, max: 0.01, sampling: "log" }, 16, 25),
  tuner: { kind: "random", objective: "val_loss", maxTrials: 3, executionsPerTrial: 2, seed: 8, workers: 2, device: "cpu" },
});

const DIGITS_HYPERBAND = stateWith({
  data: { source: "digits", noise: 0, seed: 2, trainPct: 80, features: ["x1", "x2"] },
  model: model([dense(16, 64, 16, ["relu", "tanh"])], { hp: "Float", min: 0.001, max: 0.03, sampling: "log" }, 32, 4),
  tuner: { kind: "hyperband", objective: "val_accuracy", maxEpochs: 4, factor: 3, hyperbandIterations: 1, executionsPerTrial: 2, seed: 5, workers: 2, device: "cpu" },
});

async function open(state) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
  });
  await page.goto(`${site.origin}/#${encodeState(state)}`);
  await page.waitForFunction(() => window.tunelabPage && window.tunelabPage.info, null, { timeout: 60000 });
  return page;
}

async function waitDone(page, timeout = TIMEOUT) {
  await page.waitForFunction(
    (done) => {
      const p = window.tunelabPage;
      return p.searchesEnded > 0 && !p.running && p.trials.length > 0 && p.trials.every((t) => done.includes(t.status));
    },
    DONE,
    { timeout, polling: 250 },
  );
}

/** The page's JSON export, as a user downloads it. */
async function exported(page) {
  const [d] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
  const json = JSON.parse(readFileSync(await d.path(), "utf8"));
  return Array.isArray(json) ? { trials: json } : json;
}

/** `tunelab tune` for the state (the page's own command line for it), in `project`. */
function cliArgs(state, project, specPath) {
  writeFileSync(specPath, specText(state, taskOf(state)));
  const args = cliCommand(state, "spec.json").slice(1); // "tunelab" apart
  args[args.indexOf("spec.json")] = specPath;
  return [...args, "--json", "--directory", dir, "--project-name", project];
}

function trialsOfCli(stdout) {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]).trials;
}

/** Trial id -> {hyperparameters without tuner/ keys, status, score}. */
function essence(trials) {
  const out = {};
  for (const t of trials) {
    const hps = Object.fromEntries(Object.entries(t.hyperparameters).filter(([k]) => !k.startsWith("tuner/")));
    out[t.trial_id] = { hps, status: t.status, score: t.score };
  }
  return out;
}

function assertSame(a, b, what) {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${what}: trial ids`);
  for (const id of Object.keys(a)) {
    assert.deepEqual(a[id].hps, b[id].hps, `${what}: trial ${id}'s hyperparameters`);
    assert.equal(a[id].status, b[id].status, `${what}: trial ${id}'s status`);
    assert.ok(Math.abs(a[id].score - b[id].score) <= 1e-4, `${what}: trial ${id}'s score ${a[id].score} against ${b[id].score}`);
  }
}

/** Runs the state's search on the command line (its own project), returning its trials. */
function runCli(state, project, extra = []) {
  const r = spawnSync(CLI, [...cliArgs(state, project, join(dir, `${project}.json`)), ...extra], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return essence(trialsOfCli(r.stdout));
}

/** Runs the state's search on the page to its end (`reload`: once, inside a trial) and reads its JSON export. */
async function runPage(state, { reload = false } = {}) {
  const page = await open(state);
  await page.click("#btn-start");
  if (reload) {
    // Once a trial has shown some of its epochs, and well before its last.
    const epochs = state.model.epochs.value;
    const cut = await page.waitForFunction(
      (epochs) => {
        const running = window.tunelabPage.trials.filter((t) => t.status === "RUNNING" && (t.curves?.val_loss?.length ?? 0) >= 2 && t.curves.val_loss.length < epochs - 5);
        return running.length ? running.map((t) => [t.id, t.curves.val_loss.length]) : null;
      },
      epochs,
      { timeout: 60000, polling: 10 },
    );
    assert.ok((await cut.jsonValue()).length >= 1);
    await page.reload();
    // The page resumes the stored search by itself.
    await page.waitForFunction(() => window.tunelabPage && window.tunelabPage.info, null, { timeout: 60000 });
  }
  await waitDone(page);
  const json = await exported(page);
  await page.context().close();
  return essence(json.trials);
}

test("random search on spiral: the page and the CLI give the same trials (2 executions per trial)", { timeout: TIMEOUT }, async () => {
  const fromCli = runCli(SPIRAL, "spiral", ["--overwrite"]);
  assert.equal(Object.keys(fromCli).length, 4);
  assertSame(await runPage(SPIRAL), fromCli, "page against CLI");
});

test("random search on digits: the page reloaded inside a trial, the CLI killed (SIGKILL) and started again, and the CLI uninterrupted give the same trials", { timeout: 2 * TIMEOUT }, async () => {
  const fromCli = runCli(DIGITS_RANDOM, "digits-whole", ["--overwrite"]);
  assert.equal(Object.keys(fromCli).length, 3);

  // Killed once the second trial has stored a resume point (an epoch of its first execution),
  // then run again on the same directory (no --overwrite): it resumes.
  const args = cliArgs(DIGITS_RANDOM, "digits-killed", join(dir, "digits-killed.json"));
  const resume = join(dir, "digits-killed", "trial_1", "resume_0.bin");
  const child = spawn(CLI, [...args, "--overwrite"], { stdio: "ignore" });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const started = Date.now();
  while (!existsSync(resume) && Date.now() - started < 60000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
  const killedEarly = child.exitCode === null;
  child.kill("SIGKILL");
  await exited;
  assert.ok(killedEarly, "the CLI finished before it could be killed (make the search longer)");
  const again = spawnSync(CLI, args, { encoding: "utf8" });
  assert.equal(again.status, 0, again.stderr);
  assertSame(essence(trialsOfCli(again.stdout)), fromCli, "CLI killed and resumed against CLI");

  assertSame(await runPage(DIGITS_RANDOM, { reload: true }), fromCli, "page reloaded against CLI");
});

test("Hyperband on digits: the page and the CLI give the same brackets and trials (2 executions per trial)", { timeout: TIMEOUT }, async () => {
  const fromCli = runCli(DIGITS_HYPERBAND, "hyperband", ["--overwrite"]);
  assert.ok(Object.keys(fromCli).length >= 10, `Hyperband ran ${Object.keys(fromCli).length} trials`);
  assertSame(await runPage(DIGITS_HYPERBAND), fromCli, "page against CLI");
});

test("no page errors", () => {
  assert.deepEqual(problems, []);
});

// The npm package as users receive it (issue 19): `npm pack` of the built pkg/, installed with
// `npm install <tarball>` into new projects in a temp folder, as a user installs it:
//  - `npm publish --dry-run` lists exactly the intended files; the metadata is complete;
//  - a Node project imports it and trains (and its TypeScript resolves the package's types);
//  - a Vite project with no vite.config at all works under `vite dev` (the dev server
//    pre-bundles the package away from its .wasm) and under `vite build`, in headless Chromium;
//  - a plain HTML page loads it from node_modules with a <script type="module">.
// Vite is the repository's own (node_modules/vite, Vite 7, a root devDependency), run in the
// new project as `npx vite` would; the tarball has no dependencies, so nothing is downloaded.
// The tarball's sizes go to test-results/npm-tarball.json (the README quotes them).
//
//   npm ci && bash scripts/build-npm.sh && node --test tests/js/tarball.test.mjs

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CHROMIUM, CHROMIUM_ARGS, serve } from "./serve.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
const PKG = join(ROOT, "pkg");
const VITE = join(ROOT, "node_modules", "vite", "bin", "vite.js");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const TIMEOUT = 120_000;
const run = promisify(execFile);

// What the package holds, and nothing else.
const INTENDED_FILES = [
  "LICENSE",
  "README.md",
  "embed.html",
  "package.json",
  "tunelab.d.ts",
  "tunelab.js",
  "wasm/tunelab_wasm.d.ts",
  "wasm/tunelab_wasm.js",
  "wasm/tunelab_wasm_bg.wasm",
  "widget.d.ts",
  "widget-worker.js",
  "widget.js",
].sort();

let work;
let tarball;
let packed;
let browser;

// Offline: the tarball has no dependencies, so nothing here needs the registry (and without
// --offline, `npm publish --dry-run` waits a minute for an unreachable one).
async function npm(args, cwd) {
  try {
    return await run("npm", [...args, "--offline", "--no-audit", "--no-fund", "--no-update-notifier"], { cwd, maxBuffer: 1 << 26 });
  } catch (e) {
    throw new Error(`npm ${args.join(" ")} (in ${cwd}) failed:\n${e.stdout}${e.stderr}`);
  }
}

/** A new project in the temp folder with `files`, and the tarball installed as a user would. */
async function project(name, files) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }, null, 2));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  await npm(["install", tarball], dir);
  const pj = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  assert.match(pj.dependencies?.tunelab ?? "", /^file:.*tunelab-.*\.tgz$/, "npm install recorded the tarball");
  return dir;
}

// The app every browser project runs: a model trained on XOR, then a two-trial random search.
// body[data-state] ends "done" (with the numbers in #out) or "error: ...".
const APP = (from) => `import init, * as tl from ${JSON.stringify(from)};
const out = document.getElementById("out");
try {
  await init();
  const { x, y } = tl.dataset("xor", { noise: 0, seed: 1 });
  const model = tl.sequential();
  model.add(tl.layers.dense({ units: 8, activation: "tanh", inputShape: [2] }));
  model.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
  model.compile({ optimizer: tl.optimizers.adam({ learningRate: 0.05 }), loss: "binary_crossentropy", metrics: ["accuracy"] });
  model.setSeed(1);
  const history = await model.fit(x, y, { epochs: 5, batchSize: 32 });
  const tuner = new tl.RandomSearch({
    hypermodel: (hp) => {
      const m = tl.sequential();
      m.add(tl.layers.dense({ units: hp.Int("units", 4, 16, 4), activation: "relu", inputShape: [2] }));
      m.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
      m.compile({ optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"] });
      return m;
    },
    objective: "val_accuracy", maxTrials: 2, seed: 1, overwrite: true, storage: "memory",
  });
  await tuner.search(x, y, { epochs: 2, validationSplit: 0.2 });
  out.textContent = JSON.stringify({ version: tl.version(), loss: history.history.loss, trials: tuner.trials.map((t) => t.score) });
  document.body.dataset.state = "done";
} catch (e) {
  document.body.dataset.state = "error: " + e.message;
}
`;
// The notebook widget's live view (tunelab/widget), its search in the package's Web Worker.
const WIDGET_APP = `import { mount } from "tunelab/widget";
const spec = {
  layers: [
    { class_name: "Dense", config: { units: { hp: "Int", name: "units", min_value: 4, max_value: 8, step: 4 }, activation: "tanh" } },
    { class_name: "Dense", config: { units: 1, activation: "sigmoid" } },
  ],
  compile: { optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"] },
};
const config = { spec, dataset: "xor", tuner: "random", options: { maxTrials: 2, objective: "val_accuracy", seed: 1 }, fit: { epochs: 2, validationSplit: 0.2 }, device: "cpu" };
mount(document.getElementById("w"), config, {
  onStatus: (s) => {
    if (!["done", "stopped", "error"].includes(s.state)) return;
    document.getElementById("out").textContent = JSON.stringify({ state: s.state, error: s.error, trials: s.trials.map((t) => t.status) });
    document.body.dataset.state = s.state;
  },
});
`;

const WIDGET_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>tunelab widget</title></head>
<body><div id="w"></div><pre id="out"></pre><script type="module" src="/widget-main.js"></script></body></html>
`;

/** What a page does wrong (errors, failed fetches) and every response it gets. */
function watch(page) {
  const problems = [];
  const responses = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push(`console.error: ${m.text()}`));
  page.on("response", (r) => {
    responses.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] ?? "" });
    if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  return { problems, responses };
}

/** Opens the widget page at `url` and returns its final status and every fetch. */
async function runWidget(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { problems, responses } = watch(page);
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.body?.dataset.state, null, { timeout: 90_000 }).catch(() => assert.fail(`the widget in ${url} did not end:\n${problems.join("\n")}`));
    const result = JSON.parse(await page.textContent("#out"));
    assert.equal(result.state, "done", `the widget in ${url} ended: ${JSON.stringify(result)}\n${problems.join("\n")}`);
    assert.deepEqual(result.trials, ["COMPLETED", "COMPLETED"]);
    assert.deepEqual(problems, [], "no page errors");
    return { worker: responses.map((r) => r.url).filter((u) => /widget-worker[^/]*\.js(\?|$)/.test(u)) };
  } finally {
    await context.close();
  }
}

const HTML = (script) => `<!doctype html>
<html><head><meta charset="utf-8"><title>tunelab app</title></head>
<body><pre id="out"></pre><script type="module" src="${script}"></script></body></html>
`;

/** Opens `url` in Chromium, waits for the app, and returns what it found and every fetch. */
async function runApp(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { problems, responses } = watch(page);
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.body?.dataset.state, null, { timeout: 90_000 });
    const state = await page.evaluate(() => document.body.dataset.state);
    assert.equal(state, "done", `the app in ${url} ended: ${state}\n${problems.join("\n")}`);
    const result = JSON.parse(await page.textContent("#out"));
    assert.deepEqual(problems, [], "no page errors");
    assert.equal(result.loss.length, 5);
    assert.ok(result.loss[4] < result.loss[0], `training lowered the loss: ${result.loss}`);
    assert.equal(result.trials.length, 2);
    assert.ok(result.trials.every((s) => s >= 0 && s <= 1), `two trials scored: ${result.trials}`);
    const wasm = responses.filter((r) => /\.wasm(\?|$)/.test(r.url));
    assert.equal(wasm.length, 1, `one .wasm fetched: ${JSON.stringify(responses, null, 1)}`);
    assert.equal(wasm[0].status, 200);
    assert.match(wasm[0].type, /^application\/wasm/, `the .wasm came as application/wasm: ${JSON.stringify(wasm[0])}`);
    return { result, wasm: wasm[0] };
  } finally {
    await context.close();
  }
}

async function freePort() {
  const s = createServer();
  await new Promise((ok) => s.listen(0, "127.0.0.1", ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}

before(async () => {
  if (!existsSync(join(PKG, "tunelab.js")) || !existsSync(join(PKG, "wasm", "tunelab_wasm_bg.wasm"))) {
    throw new Error("pkg/ has no built package: run `bash scripts/build-npm.sh` first");
  }
  if (!existsSync(VITE) || !existsSync(TSC)) throw new Error("vite or typescript is missing: run `npm ci` at the repository root");
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  work = mkdtempSync(join(tmpdir(), "tunelab-tarball-"));
  const { stdout } = await npm(["pack", PKG, "--pack-destination", work, "--json"], work);
  [packed] = JSON.parse(stdout);
  tarball = join(work, packed.filename);
  assert.ok(existsSync(tarball), `npm pack wrote ${tarball}`);
  const sizes = { filename: packed.filename, packedBytes: packed.size, unpackedBytes: packed.unpackedSize, files: packed.entryCount };
  mkdirSync(join(ROOT, "test-results"), { recursive: true });
  writeFileSync(join(ROOT, "test-results", "npm-tarball.json"), JSON.stringify(sizes, null, 2) + "\n");
  console.log(`# npm tarball ${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} bytes unpacked, ${packed.entryCount} files`);
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("npm publish --dry-run lists exactly the intended files, and the metadata is complete", async () => {
  const { stdout, stderr } = await npm(["publish", "--dry-run", "--json"], PKG);
  const dry = JSON.parse(stdout);
  const info = dry.tunelab ?? dry;
  const files = info.files.map((f) => f.path).sort();
  assert.deepEqual(files, INTENDED_FILES, "npm publish --dry-run's files");
  assert.deepEqual(packed.files.map((f) => f.path).sort(), INTENDED_FILES, "npm pack's files");
  assert.doesNotMatch(stderr, /auto-corrected|invalid|errors? in your package\.json/i, `npm found nothing to fix in package.json:\n${stderr}`);
  const pj = JSON.parse(readFileSync(join(PKG, "package.json"), "utf8"));
  assert.equal(pj.license, "MIT");
  assert.match(readFileSync(join(PKG, "LICENSE"), "utf8"), /^MIT License\n\nCopyright \(c\) \d{4} tunelab contributors\n/);
  assert.match(pj.repository?.url ?? "", /^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/);
  assert.match(pj.homepage ?? "", /^https:\/\//);
  assert.match(pj.engines?.node ?? "", /^>=\d+/);
  assert.ok(Array.isArray(pj.keywords) && pj.keywords.length >= 5, "keywords");
  assert.ok(pj.description && pj.types && pj.exports?.["."]?.types, "description, types, exports");
  const versions = await run(process.execPath, [join(ROOT, "scripts", "version.mjs")], { cwd: ROOT }).catch((e) => assert.fail(e.stderr));
  assert.match(versions.stdout, new RegExp(`^tunelab version ${pj.version.replace(/\./g, "\\.")}: .*pkg/package\\.json`));
});

test("a new Node project imports the installed package, trains, and its TypeScript finds the types", { timeout: TIMEOUT }, async () => {
  const dir = await project("node-app", {
    "main.mjs": `import init, * as tl from "tunelab";
import pkg from "tunelab/package.json" with { type: "json" };
await init();
const { x, y } = tl.dataset("circle", { noise: 0, seed: 1 });
const model = tl.sequential();
model.add(tl.layers.dense({ units: 8, activation: "tanh", inputShape: [2] }));
model.add(tl.layers.dense({ units: 1, activation: "sigmoid" }));
model.compile({ optimizer: tl.optimizers.adam({ learningRate: 0.05 }), loss: "binary_crossentropy", metrics: ["accuracy"] });
model.setSeed(1);
const history = await model.fit(x, y, { epochs: 5, batchSize: 32 });
const tuner = new tl.Hyperband({
  runTrial: (trial) => (trial.hyperparameters.Float("a", -1, 1) - 0.25) ** 2,
  maxEpochs: 3, factor: 3, seed: 1,
});
await tuner.search();
console.log(JSON.stringify({ version: tl.version(), pkg: pkg.version, loss: history.history.loss, trials: tuner.trials.length, best: tuner.getBestHyperparameters()[0].values }));
`,
    "main.ts": `import init, * as tl from "tunelab";
import { normalizeConfig } from "tunelab/widget";
await init();
const tuner = new tl.RandomSearch({ runTrial: (trial, target: number) => (trial.hyperparameters.Float("x", 0, 1) - target) ** 2, maxTrials: 2 });
await tuner.search(0.5);
normalizeConfig({ tuner: "random", options: { maxTrials: 2 } });
// @ts-expect-error: a wrong option name, as an app's own type check must report it
new tl.RandomSearch({ hypermodel: (hp) => tl.sequential(), maxTrial: 2 });
`,
    "tsconfig.json": JSON.stringify({
      compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext", lib: ["es2022", "dom"], types: [], strict: true, noEmit: true },
      files: ["main.ts"],
    }),
  });
  const { stdout } = await run(process.execPath, ["main.mjs"], { cwd: dir }).catch((e) => assert.fail(`node main.mjs failed:\n${e.stderr}`));
  const r = JSON.parse(stdout);
  assert.equal(r.version, r.pkg, "the engine's version is the package's");
  assert.equal(r.loss.length, 5);
  assert.ok(r.loss[4] < r.loss[0], `training lowered the loss: ${r.loss}`);
  assert.ok(r.trials >= 3, `Hyperband ran its bracket: ${r.trials} trials`);
  assert.equal(typeof r.best.a, "number");
  // The project's tsc (node's own module resolution) type-checks against the installed .d.ts.
  const tsc = await run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: dir }).then(
    () => ({ code: 0, out: "" }),
    (e) => ({ code: e.code, out: `${e.stdout}${e.stderr}` }),
  );
  assert.equal(tsc.code, 0, `tsc in the Node project:\n${tsc.out}`);
});

test("a new Vite project with no config runs under `vite dev` and `vite build`", { timeout: 2 * TIMEOUT }, async () => {
  const dir = await project("vite-app", { "index.html": HTML("/main.js"), "main.js": APP("tunelab"), "widget.html": WIDGET_HTML, "widget-main.js": WIDGET_APP });
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith("vite.config")), [], "no vite.config");

  // vite dev: the dev server pre-bundles tunelab.js into node_modules/.vite/deps/.
  const port = await freePort();
  // NO_COLOR: Vite colours its output when CI is set (picocolors), which splits the URL below
  const dev = spawn(process.execPath, [VITE, "--host", "127.0.0.1", "--port", String(port), "--strictPort"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let log = "";
  try {
    await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`vite dev did not start in 60 s:\n${log}`)), 60_000);
      const onData = (d) => {
        log += d;
        // eslint-disable-next-line no-control-regex
        if (log.replace(/\x1b\[[0-9;]*m/g, "").includes(`http://127.0.0.1:${port}/`)) {
          clearTimeout(timer);
          ok();
        }
      };
      dev.stdout.on("data", onData);
      dev.stderr.on("data", onData);
      dev.on("exit", (code) => fail(new Error(`vite dev exited ${code}:\n${log}`)));
    });
    const { wasm } = await runApp(`http://127.0.0.1:${port}/`);
    assert.match(wasm.url, /\/node_modules\/tunelab\/wasm\/tunelab_wasm_bg\.wasm$/, "under vite dev the .wasm comes from the installed package");
    assert.ok(existsSync(join(dir, "node_modules", ".vite", "deps", "tunelab.js")), "vite dev pre-bundled tunelab (the case the package handles)");
    // The widget: its worker comes from the installed package too.
    const { worker } = await runWidget(`http://127.0.0.1:${port}/widget.html`);
    assert.ok(worker.some((u) => /\/node_modules\/tunelab\/widget-worker\.js$/.test(u.replace(/\?.*$/, ""))), `under vite dev the widget's worker comes from the installed package: ${worker}`);
  } finally {
    dev.kill();
  }

  // vite build: the .wasm is emitted as an asset next to the bundle.
  const built = await run(process.execPath, [VITE, "build"], { cwd: dir }).catch((e) => assert.fail(`vite build failed:\n${e.stdout}${e.stderr}`));
  const assets = readdirSync(join(dir, "dist", "assets"));
  assert.ok(assets.some((f) => /^tunelab_wasm_bg-.*\.wasm$/.test(f)), `vite build emitted the .wasm: ${assets}\n${built.stdout}`);
  assert.doesNotMatch(built.stdout + built.stderr, /doesn't exist at build time/, "every new URL(..., import.meta.url) resolved");
  const site = await serve(join(dir, "dist"));
  try {
    const { wasm } = await runApp(site.origin + "/");
    assert.match(wasm.url, /\/assets\/tunelab_wasm_bg-[^/]+\.wasm$/);
  } finally {
    await site.close();
  }
});

test("a plain HTML page loads the installed package with <script type=module>", { timeout: TIMEOUT }, async () => {
  const dir = await project("plain-app", { "index.html": HTML("./main.js"), "main.js": APP("./node_modules/tunelab/tunelab.js") });
  const site = await serve(dir);
  try {
    const { wasm } = await runApp(site.origin + "/");
    assert.equal(new URL(wasm.url).pathname, "/node_modules/tunelab/wasm/tunelab_wasm_bg.wasm");
  } finally {
    await site.close();
  }
});

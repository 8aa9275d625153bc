// One benchmark cell in its own Deno process (what a fresh page is in the Chromium harness):
//
//   deno run --allow-read --allow-env benches/deno/cell.js '{"library":"tfjs","device":"webgpu","model":"2-8-8-1"}'
//   deno run --allow-read --allow-env benches/deno/cell.js environment
//
// Loads TensorFlow.js as index.html does (benches/deno/tfjs.js sets globalThis.tf) and then
// benches/browser/bench.js itself, runs bench.runCell(arg) (or bench.environment()), and prints
// the result as one line `CELL <json>` on stdout. Messages logged with console.error while it
// ran come back in `problems` (run.js reports them as the Chromium harness reports a page's).

import { fetched, loadTfjs } from "./tfjs.js";

const problems = [];
const consoleError = console.error.bind(console);
console.error = (...args) => {
  problems.push(`console.error: ${args.map((a) => (a && a.message ? a.message : String(a))).join(" ")}`);
  consoleError(...args);
};
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  problems.push(`unhandled rejection: ${e.reason && e.reason.message ? e.reason.message : e.reason}`);
});

const arg = Deno.args[0];
let out;
try {
  await loadTfjs();
  const bench = await import("../browser/bench.js");
  if (arg === "environment") {
    const env = await bench.environment();
    env.deno = Deno.version;
    out = { value: env, problems };
  } else {
    const value = await bench.runCell(JSON.parse(arg));
    value.wasmFiles = fetched.filter((u) => u.endsWith(".wasm")).map((u) => u.slice(u.lastIndexOf("/") + 1));
    out = { value, problems };
  }
} catch (e) {
  out = { error: String(e && e.message ? e.message : e).split("\n")[0], stack: e && e.stack, problems };
}
console.log(`CELL ${JSON.stringify(out)}`);
// Do not wait for whatever the libraries left scheduled (GPU devices, ports).
Deno.exit(0);

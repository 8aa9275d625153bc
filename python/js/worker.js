// The Python package's search worker (a classic worker made from a Blob URL: anywidget ships
// one ES module and nothing beside it). The engine's .wasm is inside, gzipped, as bytes
// (esbuild's binary loader); it is unzipped and compiled here, off the page's main thread, then
// the npm package's widget-worker.js runs the searches.
import wasmGz from "tunelab-stage/wasm/tunelab_wasm_bg.wasm.gz";
import init from "tunelab-stage/tunelab.js";
import "tunelab-stage/widget-worker.js";

const wasm = new Response(new Blob([wasmGz]).stream().pipeThrough(new DecompressionStream("gzip")), {
  headers: { "content-type": "application/wasm" },
});
// Before any message arrives: widget-worker.js's own init() then reuses this engine.
init(wasm).catch(() => {
  /* widget-worker.js's init() reports the failure with the search's error */
});

// The Python package's front end (anywidget's ESM): the npm package's widget (js/widget.js),
// its search in a worker made from a Blob URL of the worker bundle (worker.js, the engine
// inlined), the status in the model's `_status` trait, and the Keras snippet of the page
// (www/src/python.js kerasSnippet) added to the final status for `Search.keras_code()`.
import { createRender } from "tunelab-stage/widget.js";
import { kerasSnippet } from "../../www/src/python.js";
import workerSource from "tunelab:worker-source";

let url = null;
function worker() {
  url ??= URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
  return new Worker(url, { name: "tunelab search" });
}

function finalize(status) {
  const m = status.bestModel;
  if (!m || m.error || !m.spec) return;
  const epochs = typeof m.bestStep === "number" ? m.bestStep + 1 : m.fit?.epochs;
  status.kerasCode = kerasSnippet(m.spec, {
    inputDim: m.inputDim,
    batchSize: m.fit?.batch_size,
    epochs,
    hps: m.hps,
    dataset: m.dataset,
  });
}

export const render = createRender({ worker, finalize, statusTrait: "_status" });
export default { render };

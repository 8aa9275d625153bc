// A trial worker: trains the tuner's execution jobs for the search worker with the engine's
// runExecution. The tuner (in the search worker) owns every rule of a trial: seeds, resume
// points, best epochs, Hyperband's warm starts, averaging; this worker only trains the job it is
// given and hands each epoch's report back, with the logs and, for 2-D data, the model's output
// on the decision-boundary grid for the page to draw.
//
// Messages in:  {type: "data", x, y, vx, vy, grid}   (once per search)
//               {type: "train", job, bytes}           (bytes: the tuner's job)
// Messages out: {type: "epoch", job, report, epoch, logs, grid}
//               {type: "done", job}
//               {type: "failed", job, message}

import init, * as tl from "./lib/tunelab.js";

let data = null;

self.onmessage = async (e) => {
  const m = e.data;
  try {
    await init();
    if (m.type === "data") {
      data?.free();
      data = tl.executionData({ x: m.x, y: m.y, xVal: m.vx, yVal: m.vy, probe: m.grid });
      self.postMessage({ type: "data-ready" });
    } else if (m.type === "train") {
      if (!data) throw new Error("the trial worker has no data yet");
      await tl.runExecution(m.bytes, data, (report, epoch, logs, grid) => {
        self.postMessage({ type: "epoch", job: m.job, report, epoch, logs, grid });
        return true;
      });
      self.postMessage({ type: "done", job: m.job });
    }
  } catch (err) {
    self.postMessage({ type: "failed", job: m.job, message: err && err.message ? err.message : String(err) });
  }
};

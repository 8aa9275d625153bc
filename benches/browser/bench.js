// Browser benchmark: the same MLPs on the same random data, trained with tunelab (wasm CPU path
// and WebGPU path) and with TensorFlow.js 4.22 (wasm backend, single-threaded SIMD; webgpu
// backend). Served from the repository root; benches/browser/run.mjs drives it headless and
// prints the table, or open /benches/browser/index.html in a browser and press "Run".
//
// One cell = one library on one device for one model: build the model, fit one warm-up epoch,
// then time a second one-epoch fit on the same model with performance.now(). An epoch shorter
// than `minMs` (200 ms; the tiny 2-8-8-1 model on the CPU takes about a millisecond, and
// performance.now() is coarsened to 0.1 ms in a page that is not cross-origin isolated) is
// repeated, one-epoch fits back to back, until they add up to `minMs`: the rate is all their
// samples over all their time, and `fits` says how many there were. Both libraries
// shuffle (shuffle: true), Adam(1e-3), categorical crossentropy (binary for the 2-8-8-1 model),
// no metrics, no validation.
//
// TensorFlow.js comes from the UMD bundles that index.html loads with <script> (global `tf`,
// `tf.wasm`); tunelab from /pkg/tunelab.js. Paths are relative to this file, so that the same
// module also runs from disk outside a page (benches/deno/, where the runner sets `tf` itself).

import init, * as tl from "../../pkg/tunelab.js";

const TFJS_WASM_DIR = new URL("./node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url).href;
// Loaded from disk (Deno): Emscripten's own loader does not fetch file: URLs, so the wasm backend
// is told to fetch its .wasm through TF.js's platform fetch instead. In a page this is false.
const TFJS_WASM_PLATFORM_FETCH = new URL(import.meta.url).protocol === "file:";

// ---------------------------------------------------------------------------------------------
// The models

export const MODELS = {
  "64-128-64-10": {
    inputs: 64,
    layers: [
      [128, "relu"],
      [64, "relu"],
      [10, "softmax"],
    ],
    batchSize: 32,
    samples: 8192,
    data: "teacher",
  },
  "784-256-128-10": {
    inputs: 784,
    layers: [
      [256, "relu"],
      [128, "relu"],
      [10, "softmax"],
    ],
    batchSize: 128,
    samples: 8192,
    data: "teacher",
  },
  "2-8-8-1": {
    inputs: 2,
    layers: [
      [8, "tanh"],
      [8, "tanh"],
      [1, "sigmoid"],
    ],
    batchSize: 10,
    samples: 500,
    data: "spiral",
  },
};

// ---------------------------------------------------------------------------------------------
// Data: a fixed-seed PRNG, the same arrays for both libraries

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Features uniform in [-1, 1); the label of a row is the argmax of a fixed random linear map of
// it (a "teacher"), one-hot, so that the loss has something to learn.
function teacherData(n, d, k, seed) {
  const rand = mulberry32(seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = rand() * 2 - 1;
  const w = new Float32Array(d * k);
  for (let i = 0; i < w.length; i++) w[i] = rand() * 2 - 1;
  const y = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    let best = 0;
    let bestV = -Infinity;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[r * d + j] * w[j * k + c];
      if (s > bestV) {
        bestV = s;
        best = c;
      }
    }
    y[r * k + best] = 1;
  }
  return { x, y };
}

// TensorFlow Playground's two-arm spiral (classes 0 and 1, radius up to 5, a little noise).
function spiralData(n, seed) {
  const rand = mulberry32(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  const half = Math.floor(n / 2);
  let row = 0;
  for (const [label, deltaT] of [
    [1, 0],
    [0, Math.PI],
  ]) {
    const count = label === 1 ? half : n - half;
    for (let i = 0; i < count; i++, row++) {
      const r = (i / count) * 5;
      const t = ((1.75 * i) / count) * 2 * Math.PI + deltaT;
      x[row * 2] = r * Math.sin(t) + (rand() * 2 - 1) * 0.25;
      x[row * 2 + 1] = r * Math.cos(t) + (rand() * 2 - 1) * 0.25;
      y[row] = label;
    }
  }
  return { x, y };
}

const dataCache = new Map();

// A fresh task (a MessageChannel message), so that the timer nesting level is back to 0:
// tunelab's fit yields once per epoch with setTimeout(0), and browsers clamp a setTimeout
// nested 5 deep in timer tasks to 4 ms, which back-to-back fits would otherwise hit.
function freshTask() {
  return new Promise((resolve) => {
    const c = new MessageChannel();
    c.port1.onmessage = () => {
      c.port1.close();
      resolve();
    };
    c.port2.postMessage(0);
  });
}

/**
 * Times `fitOnce` (a one-epoch fit), each run started in a fresh task and timed on its own,
 * until the runs add up to `minMs` (at most `maxFits` runs).
 */
async function timeFits(fitOnce, minMs = 200, maxFits = 500) {
  let fits = 0;
  let ms = 0;
  let last;
  do {
    await freshTask();
    const t0 = performance.now();
    last = await fitOnce();
    ms += performance.now() - t0;
    fits++;
  } while (ms < minMs && fits < maxFits);
  return { fits, ms, last };
}

/** The model's data set, its first `samples` rows (all of them by default). */
export function dataFor(name, samples) {
  const m = MODELS[name];
  if (!dataCache.has(name)) {
    const k = m.layers[m.layers.length - 1][0];
    dataCache.set(name, m.data === "spiral" ? spiralData(m.samples, 42) : teacherData(m.samples, m.inputs, k, 42));
  }
  const full = dataCache.get(name);
  const n = Math.min(samples ?? m.samples, m.samples);
  const k = m.layers[m.layers.length - 1][0];
  return { n, d: m.inputs, k, x: full.x.subarray(0, n * m.inputs), y: full.y.subarray(0, n * k) };
}

function lossOf(name) {
  const m = MODELS[name];
  return m.layers[m.layers.length - 1][0] === 1 ? "binary" : "categorical";
}

// ---------------------------------------------------------------------------------------------
// tunelab

let tlReady = null;
async function tunelab() {
  if (!tlReady) tlReady = init();
  await tlReady;
  return tl;
}

async function runTunelab(name, device, { samples, minMs } = {}) {
  await tunelab();
  let gpuLabel = null;
  if (device === "webgpu") gpuLabel = await tl.initGpu();
  const m = MODELS[name];
  const { n, d, k, x, y } = dataFor(name, samples);
  const model = tl.sequential();
  m.layers.forEach(([units, activation], i) => model.add(tl.layers.dense({ units, activation, ...(i === 0 ? { inputShape: [d] } : {}) })));
  model.compile({
    optimizer: tl.optimizers.adam({ learningRate: 1e-3 }),
    loss: lossOf(name) === "binary" ? "binary_crossentropy" : "categorical_crossentropy",
  });
  model.setDevice(device);
  const xs = tl.tensor(x, [n, d]);
  const ys = tl.tensor(y, [n, k]);
  const opts = { epochs: 1, batchSize: m.batchSize, verbose: 0, shuffle: true };
  await freshTask();
  const w0 = performance.now();
  await model.fit(xs, ys, opts);
  const warmupMs = performance.now() - w0;
  const { fits, ms, last: h } = await timeFits(() => model.fit(xs, ys, opts), minMs);
  const where = model.device;
  return {
    library: "tunelab",
    device,
    model: name,
    samples: n,
    batchSize: m.batchSize,
    fits,
    ms,
    warmupMs,
    samplesPerSec: (n * fits) / (ms / 1000),
    loss: h.history.loss[0],
    ranOn: where.device,
    note: where.note,
    gpuLabel,
    version: tl.version(),
  };
}

// ---------------------------------------------------------------------------------------------
// TensorFlow.js

async function tfjsBackend(backend) {
  const tf = globalThis.tf;
  if (!tf) throw new Error("TensorFlow.js did not load (index.html's <script> tags)");
  if (backend === "wasm") {
    // Single-threaded SIMD: the page is not cross-origin isolated (no SharedArrayBuffer), and
    // the flag says so explicitly.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    tf.wasm.setWasmPaths(TFJS_WASM_DIR, TFJS_WASM_PLATFORM_FETCH);
  }
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`tf.setBackend("${backend}") failed`);
  }
  await tf.ready();
  const info = { backend: tf.getBackend(), version: tf.version.tfjs };
  if (backend === "wasm") {
    info.simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    info.threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  }
  if (backend === "webgpu") {
    const a = tf.backend().adapterInfo;
    if (a) info.adapter = { vendor: a.vendor, architecture: a.architecture };
  }
  return { tf, info };
}

async function runTfjs(name, backend, { samples, minMs, yieldEvery = "never" } = {}) {
  const { tf, info } = await tfjsBackend(backend);
  const m = MODELS[name];
  const { n, d, k, x, y } = dataFor(name, samples);
  const model = tf.sequential();
  m.layers.forEach(([units, activation], i) => model.add(tf.layers.dense({ units, activation, ...(i === 0 ? { inputShape: [d] } : {}) })));
  model.compile({
    optimizer: tf.train.adam(1e-3),
    loss: lossOf(name) === "binary" ? "binaryCrossentropy" : "categoricalCrossentropy",
  });
  const xs = tf.tensor2d(x, [n, d]);
  const ys = tf.tensor2d(y, [n, k]);
  // yieldEvery "never" by default: TF.js yields with tf.nextFrame(), which is
  // requestAnimationFrame in a page, up to 16.7 ms per yield ("epoch": once per epoch;
  // "auto", TF.js's default: every 125 ms). tunelab's one setTimeout(0) per epoch costs next
  // to nothing (see freshTask), so "never" is the like-for-like setting.
  const opts = { epochs: 1, batchSize: m.batchSize, verbose: 0, shuffle: true, yieldEvery };
  try {
    await freshTask();
    const w0 = performance.now();
    await model.fit(xs, ys, opts);
    const warmupMs = performance.now() - w0;
    const { fits, ms, last: h } = await timeFits(() => model.fit(xs, ys, opts), minMs);
    return {
      library: "tfjs",
      device: backend,
      model: name,
      samples: n,
      batchSize: m.batchSize,
      fits,
      ms,
      warmupMs,
      samplesPerSec: (n * fits) / (ms / 1000),
      loss: h.history.loss[0],
      ranOn: tf.getBackend(),
      backendInfo: info,
      version: tf.version.tfjs,
    };
  } finally {
    xs.dispose();
    ys.dispose();
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Environment

export async function environment() {
  const env = {
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer !== "undefined",
    hardwareConcurrency: navigator.hardwareConcurrency,
    webgpu: null,
  };
  if (navigator.gpu) {
    try {
      const a = await navigator.gpu.requestAdapter();
      if (a) {
        const i = a.info ?? (a.requestAdapterInfo ? await a.requestAdapterInfo() : {});
        env.webgpu = {
          vendor: i.vendor,
          architecture: i.architecture,
          device: i.device,
          description: i.description,
          isFallbackAdapter: a.isFallbackAdapter ?? i.isFallbackAdapter ?? null,
        };
      } else env.webgpu = { error: "navigator.gpu.requestAdapter() returned null" };
    } catch (e) {
      env.webgpu = { error: String(e && e.message ? e.message : e) };
    }
  } else env.webgpu = { error: "navigator.gpu is undefined" };
  return env;
}

/**
 * One cell: `{library: "tunelab" | "tfjs", device: "cpu" | "wasm" | "webgpu", model, samples?,
 * minMs?, yieldEvery?}` (tunelab's devices are cpu and webgpu, TF.js's wasm and webgpu).
 */
export async function runCell({ library, device, model, samples, minMs, yieldEvery }) {
  if (!MODELS[model]) throw new Error(`unknown model ${model}`);
  if (library === "tunelab") return runTunelab(model, device, { samples, minMs });
  if (library === "tfjs") return runTfjs(model, device, { samples, minMs, yieldEvery });
  throw new Error(`unknown library ${library}`);
}

export const CELLS = [
  ["tunelab", "cpu"],
  ["tfjs", "wasm"],
  ["tunelab", "webgpu"],
  ["tfjs", "webgpu"],
];

globalThis.bench = { MODELS, CELLS, runCell, environment, dataFor };

// TensorFlow.js 4.22 in Deno, the way index.html loads it in a page: the same three UMD bundles
// (benches/browser/node_modules/@tensorflow/*/dist/*.es2017.min.js), evaluated as classic
// scripts, which set the global `tf` that bench.js uses.
//
// Two things differ from a page, and are handled here:
// - Deno 2 defines `process` (with process.versions.node), so TF.js would take itself for
//   Node: tfjs-core would pick its Node platform (`require("util")`, which fails here) and the
//   wasm backend's Emscripten glue its Node paths (`require("fs")`). Each bundle is evaluated in a
//   function whose parameters shadow `process`, `require`, `module`, `exports`, `define` and
//   `global` with undefined, so the bundles see what they see in a page (as a UMD bundle, with no
//   CommonJS or AMD loader it attaches itself to globalThis.tf).
// - Deno has neither `window.document` nor `WorkerGlobalScope` on its main thread, so TF.js's
//   IS_BROWSER is false and it registers no platform at all (its `fetch`, `now`, text codecs).
//   After loading, tf.setPlatform("deno", ...) gives it one with the same behaviour as its
//   browser platform; `fetch` is Deno's, which reads file: URLs (the wasm backend's .wasm).
// The webgpu backend registers itself as in a page: its check is `globalThis.navigator.gpu`.

const NM = new URL("../browser/node_modules/@tensorflow/", import.meta.url);

export const TFJS_FILES = [
  "tfjs/dist/tf.es2017.min.js",
  "tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js",
  "tfjs-backend-webgpu/dist/tf-backend-webgpu.es2017.min.js",
];

/** URLs that TF.js fetched through the platform (the wasm backend's .wasm file). */
export const fetched = [];

export async function loadTfjs() {
  if (globalThis.tf) return globalThis.tf;
  for (const f of TFJS_FILES) {
    const url = new URL(f, NM);
    let src;
    try {
      src = await Deno.readTextFile(url);
    } catch (e) {
      throw new Error(`cannot read ${url.pathname} (npm install --prefix benches/browser, or benches/deno/pack.sh's folder): ${e.message}`);
    }
    // A classic script with the CommonJS/Node names hidden; `this` is the global object, as for a
    // top-level <script>.
    const fn = new Function("process", "require", "module", "exports", "define", "global", `${src}\n//# sourceURL=${url.href}`);
    fn.call(globalThis, undefined, undefined, undefined, undefined, undefined, undefined);
  }
  const tf = globalThis.tf;
  if (!tf || !tf.setPlatform) throw new Error("TensorFlow.js did not set globalThis.tf");
  if (!tf.env().platform) {
    const encoder = new TextEncoder();
    tf.setPlatform("deno", {
      fetch(path, init) {
        fetched.push(String(path));
        return fetch(path, init);
      },
      now: () => performance.now(),
      encode(text, encoding) {
        if (encoding !== "utf-8" && encoding !== "utf8") throw new Error(`Browser's encoder only supports utf-8, but got ${encoding}`);
        return encoder.encode(text);
      },
      decode: (bytes, encoding) => new TextDecoder(encoding).decode(bytes),
      isTypedArray: (a) => a instanceof Float32Array || a instanceof Int32Array || a instanceof Uint8Array || a instanceof Uint8ClampedArray,
      setTimeoutCustom: (f, delay) => setTimeout(f, delay),
    });
  }
  return tf;
}

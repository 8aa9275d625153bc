// A static file server on 127.0.0.1 (node:http) with the MIME types browsers insist on
// (application/wasm for .wasm), for the browser tests and the browser benchmark. No COOP/COEP
// headers: pages are not cross-origin isolated (TF.js's wasm backend then runs one thread).

import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".ts": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
};

/** Serves the files under `root`; resolves to `{origin, close()}`. */
export async function serve(root) {
  const server = createServer(async (req, res) => {
    try {
      const { pathname } = new URL(req.url, "http://localhost");
      let file = resolve(root, "." + decodeURIComponent(pathname));
      if (file !== root && !file.startsWith(root + sep)) {
        res.writeHead(403).end("forbidden");
        return;
      }
      if ((await stat(file).catch(() => null))?.isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": MIME[extname(file)] ?? "application/octet-stream",
        "content-length": body.length,
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (e) {
      res.writeHead(e.code === "ENOENT" || e.code === "EISDIR" ? 404 : 500, { "content-type": "text/plain" }).end(String(e.message));
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, close: () => new Promise((ok) => server.close(ok)) };
}

/** The browser the tests and benchmarks drive: Debian's Chromium unless CHROMIUM names another. */
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/**
 * Chromium's flags for these runs: no sandbox (root in CI), and nothing that reaches for the
 * network (the machine's closed network refuses it, many times a start) or /dev/shm.
 */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--disable-dev-shm-usage",
];

/** Added for WebGPU: Chromium's software adapter (SwiftShader) where there is no GPU. */
export const WEBGPU_ARGS = ["--enable-unsafe-webgpu", "--enable-features=Vulkan"];

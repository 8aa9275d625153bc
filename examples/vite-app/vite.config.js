import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// After `npm install` here, "tunelab" is node_modules/tunelab (a link to ../../pkg). Without it,
// "tunelab" resolves straight to the package built in this repository (bash scripts/build-npm.sh).
// An app that installs tunelab from npm needs no config at all (tests/js/tarball.test.mjs): under
// `vite dev` the package finds its .wasm in node_modules/tunelab/ itself.
const installed = existsSync(new URL("./node_modules/tunelab/package.json", import.meta.url));
const repoPkg = fileURLToPath(new URL("../../pkg/", import.meta.url));

export default defineConfig({
  resolve: installed ? {} : { alias: [{ find: /^tunelab$/, replacement: `${repoPkg}tunelab.js` }] },
  server: { fs: { allow: [fileURLToPath(new URL(".", import.meta.url)), repoPkg] } },
});

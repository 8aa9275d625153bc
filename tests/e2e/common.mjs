// What both end-to-end files of the playground page share: where the built page is, the check
// that it was built, and how a test writes a state for the URL.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultState } from "../../www/src/state.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
export const DIST = join(ROOT, "dist");

/** Throws unless dist/ holds a built page (its HTML and the engine's wasm). */
export function requireBuiltPage() {
  if (!existsSync(join(DIST, "index.html")) || !existsSync(join(DIST, "lib", "wasm", "tunelab_bg.wasm"))) {
    throw new Error("dist/ has no page: run `trunk build --release` first (scripts/test.sh does)");
  }
}

/**
 * A state for the URL: the defaults with `patch` applied section by section. The pace is "fast"
 * unless the patch sets it (the default "watch" holds each epoch for a learner to see; the tests
 * of other features run at full speed; tests/e2e/learners.test.mjs tests the pace).
 */
export function stateWith(patch = {}) {
  const s = defaultState();
  s.tuner.pace = "fast";
  for (const k of Object.keys(patch)) s[k] = Array.isArray(patch[k]) || typeof patch[k] !== "object" || patch[k] === null ? patch[k] : { ...s[k], ...patch[k] };
  return s;
}

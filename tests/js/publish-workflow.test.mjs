// .github/workflows/publish.yml cannot run here (issue 19): this holds it to the test command.
// Every script it calls exists, the test command itself runs before anything is published, and
// each package is built by a command that scripts/test.sh runs too.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
const workflow = readFileSync(join(ROOT, ".github", "workflows", "publish.yml"), "utf8");
const testSh = readFileSync(join(ROOT, "scripts", "test.sh"), "utf8");
// The commands of the workflow's `run:` steps (one-line and block forms), without comments.
const commands = [...workflow.matchAll(/^( *)run: (?:\|\n((?:\1  .*\n| *\n)+)|(.*)\n)/gm)]
  .flatMap((m) => (m[2] ?? m[3]).split("\n"))
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

test("the publish workflow's scripts exist", () => {
  const scripts = commands.flatMap((c) => [...c.matchAll(/(?:bash|node) (scripts\/[\w.-]+)/g)].map((m) => m[1]));
  assert.ok(scripts.length >= 4, `scripts called: ${scripts}`);
  for (const s of scripts) assert.ok(existsSync(join(ROOT, s)), `${s} (called by publish.yml) exists`);
});

test("it runs the test command, and builds each package with a command of scripts/test.sh", () => {
  const first = (re) => commands.findIndex((c) => re.test(c));
  const tests = first(/^bash scripts\/test\.sh$/);
  assert.ok(tests >= 0, "publish.yml runs bash scripts/test.sh");
  for (const [what, re] of [
    ["the npm tarball", /^mkdir -p release && npm pack \.\/pkg /],
    ["the wheel", /^bash scripts\/build-wheel\.sh --pkg pkg$/],
    ["the page", /^trunk build --release --public-url \.\/$/],
  ]) {
    const at = first(re);
    assert.ok(at > tests, `${what} is built after the test command`);
  }
  // pkg/ is what scripts/test.sh built and tested; the page is its trunk build (relative URLs
  // for GitHub Pages' /<repository>/ path).
  assert.match(testSh, /^bash scripts\/build-npm\.sh/m);
  assert.match(testSh, /^trunk build --release$/m);
  assert.match(testSh, /^node --test tests\/js\/tarball\.test\.mjs$/m, "the tarball npm publishes is tested");
  assert.match(workflow, /npm publish release\/tunelab-\*\.tgz --provenance/);
  assert.match(workflow, /pypa\/gh-action-pypi-publish@release\/v1/);
  assert.match(workflow, /actions\/deploy-pages@v4/);
  assert.match(workflow, /tags: \["v\*"\]/);
});

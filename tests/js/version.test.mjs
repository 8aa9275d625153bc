// scripts/version.mjs (issue 19): Cargo.toml's version is the one source; the npm and Python
// packages must agree, and `set` writes a release's version everywhere. Run on copies of this
// repository's files in a temp folder (node --test tests/js/version.test.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
const SCRIPT = join(ROOT, "scripts", "version.mjs");

function version(root, ...args) {
  const r = spawnSync(process.execPath, [SCRIPT, ...args, "--root", root], { encoding: "utf8" });
  return { code: r.status, out: r.stdout + r.stderr };
}

function checkout() {
  const dir = mkdtempSync(join(tmpdir(), "tunelab-version-"));
  for (const f of ["Cargo.toml", "Cargo.lock", "js/package.json"]) cpSync(join(ROOT, f), join(dir, f));
  return dir;
}

test("this repository's versions agree", () => {
  const r = version(ROOT);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^tunelab version \d+\.\d+\.\d+\S*: Cargo\.toml, Cargo\.lock, js\/package\.json/);
});

test("a version that differs is named, with the command that fixes it", () => {
  const dir = checkout();
  try {
    const want = /^version = "([^"]*)"/m.exec(readFileSync(join(dir, "Cargo.toml"), "utf8"))[1];
    const pj = join(dir, "js/package.json");
    writeFileSync(pj, readFileSync(pj, "utf8").replace(/"version": "[^"]*"/, '"version": "9.9.9"'));
    let r = version(dir);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`the version is ${want.replace(/\./g, "\\.")} \\(Cargo\\.toml, the one source\\), but js/package\\.json says 9\\.9\\.9; run \`node scripts/version\\.mjs set`));

    // python/ is checked once it exists: a literal version, or one read from Cargo.toml.
    r = version(dir, "set", want);
    assert.equal(r.code, 0, r.out);
    mkdirSync(join(dir, "python"));
    const py = join(dir, "python/pyproject.toml");
    writeFileSync(py, `[project]\nname = "tunelab"\nversion = "0.0.1"\n\n[build-system]\nrequires = ["hatchling"]\n`);
    r = version(dir);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /python\/pyproject\.toml says 0\.0\.1/);
    writeFileSync(py, `[project]\nname = "tunelab"\ndynamic = ["version"]\n`);
    r = version(dir);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /python\/pyproject\.toml has no version/);
    writeFileSync(py, `[project]\nname = "tunelab"\ndynamic = ["version"]\n\n[tool.hatch.version]\npath = "../Cargo.toml"\npattern = 'version = "(?P<version>[^"]+)"'\n`);
    r = version(dir);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /python\/pyproject\.toml \(read from Cargo\.toml at build time\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("`set` writes a release's version into Cargo.toml, Cargo.lock, js/package.json and python/pyproject.toml", () => {
  const dir = checkout();
  try {
    mkdirSync(join(dir, "python"));
    writeFileSync(join(dir, "python/pyproject.toml"), `[project]\nname = "tunelab"\nversion = "0.1.0"\ndependencies = ["anywidget"]\n\n[tool.other]\nversion = "7"\n`);
    const r = version(dir, "set", "1.2.3-rc.1");
    assert.equal(r.code, 0, r.out);
    assert.match(version(dir).out, /^tunelab version 1\.2\.3-rc\.1: Cargo\.toml, Cargo\.lock, js\/package\.json, python\/pyproject\.toml agree/);
    assert.equal(JSON.parse(readFileSync(join(dir, "js/package.json"), "utf8")).version, "1.2.3-rc.1");
    assert.match(readFileSync(join(dir, "Cargo.lock"), "utf8"), /name = "tunelab"\nversion = "1\.2\.3-rc\.1"/);
    assert.match(readFileSync(join(dir, "python/pyproject.toml"), "utf8"), /\[tool\.other\]\nversion = "7"/, "only [project]'s version changes");
    assert.equal(version(dir, "set", "1.2").code, 2, "not a semantic version");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

#!/usr/bin/env node
// tunelab's one version: [package] version in Cargo.toml. The npm package (js/package.json, and
// pkg/package.json once built), Cargo.lock's entry and the Python package (python/pyproject.toml,
// when python/ exists) must say the same; scripts/test.sh runs the check.
//
//   node scripts/version.mjs              # check: prints the version, or names each file that differs (exit 1)
//   node scripts/version.mjs set 0.2.0    # a release: writes the version into every one of them
//
// `--root DIR` works on another checkout (tests/js/version.test.mjs). The Python package may
// also take its version from Cargo.toml itself (maturin, or hatch's [tool.hatch.version] path).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
let root = fileURLToPath(new URL("..", import.meta.url));
const r = args.indexOf("--root");
if (r >= 0) {
  root = args[r + 1];
  args.splice(r, 2);
}
const file = (p) => join(root, p);
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** The [section] of a TOML text: [start, end) offsets of its body, or null. */
function section(text, name) {
  const head = new RegExp(`^\\[${name.replace(/\./g, "\\.")}\\][ \\t]*$`, "m").exec(text);
  if (!head) return null;
  const start = head.index + head[0].length;
  const next = /^\[/m.exec(text.slice(start));
  return [start, next ? start + next.index : text.length];
}

/** `key = "value"` inside a TOML [section]: {value, at: [start, end) of the value}, or null. */
function tomlString(text, name, key) {
  const s = section(text, name);
  if (!s) return null;
  const m = new RegExp(`^${key}[ \\t]*=[ \\t]*"([^"]*)"`, "m").exec(text.slice(s[0], s[1]));
  if (!m) return null;
  const at = s[0] + m.index + m[0].length - m[1].length - 1;
  return { value: m[1], at: [at, at + m[1].length] };
}

/** Cargo.lock's `[[package]] name = "tunelab"` entry's version. */
function lockVersion(text) {
  const m = /\[\[package\]\]\nname = "tunelab"\nversion = "([^"]*)"/.exec(text);
  return m ? { value: m[1], at: [m.index + m[0].length - m[1].length - 1, m.index + m[0].length - 1] } : null;
}

function replaceAt(text, at, value) {
  return text.slice(0, at[0]) + value + text.slice(at[1]);
}

// Each place: where, how to read it (null when it does not apply), how to write it.
const places = [
  {
    path: "Cargo.lock",
    optional: true,
    read: (t) => lockVersion(t),
  },
  ...["js/package.json", "pkg/package.json"].map((path) => ({
    path,
    optional: path.startsWith("pkg/"),
    read: (t) => {
      const v = JSON.parse(t).version;
      const m = /"version"\s*:\s*"([^"]*)"/.exec(t);
      return typeof v === "string" && m ? { value: v, at: [m.index + m[0].length - m[1].length - 1, m.index + m[0].length - 1] } : null;
    },
  })),
  {
    path: "python/pyproject.toml",
    optional: true,
    read: (t) => {
      const v = tomlString(t, "project", "version");
      if (v) return v;
      // A version the build reads from Cargo.toml itself is the same by construction.
      const dynamic = section(t, "project") && /^dynamic[ \t]*=[ \t]*\[[^\]]*"version"/m.test(t);
      const fromCargo = /^build-backend[ \t]*=[ \t]*"maturin"/m.test(t) || /Cargo\.toml/.test(tomlString(t, "tool.hatch.version", "path")?.value ?? "");
      if (dynamic && fromCargo) return { value: null, fromCargo: true };
      return { value: undefined };
    },
  },
];

const cargo = readFileSync(file("Cargo.toml"), "utf8");
const source = tomlString(cargo, "package", "version");
if (!source || !SEMVER.test(source.value)) {
  console.error(`tunelab: no [package] version = "X.Y.Z" in ${file("Cargo.toml")}`);
  process.exit(1);
}

if (args[0] === "set") {
  const to = args[1];
  if (!to || !SEMVER.test(to)) {
    console.error(`usage: node scripts/version.mjs set X.Y.Z (a semantic version), got ${JSON.stringify(to)}`);
    process.exit(2);
  }
  writeFileSync(file("Cargo.toml"), replaceAt(cargo, source.at, to));
  const written = ["Cargo.toml"];
  for (const p of places) {
    if (!existsSync(file(p.path))) continue;
    const text = readFileSync(file(p.path), "utf8");
    const v = p.read(text);
    if (v?.at) {
      writeFileSync(file(p.path), replaceAt(text, v.at, to));
      written.push(p.path);
    }
  }
  console.log(`tunelab version ${source.value} -> ${to} in ${written.join(", ")}`);
  process.exit(0);
}
if (args.length) {
  console.error(`usage: node scripts/version.mjs [set X.Y.Z] [--root DIR]; unknown argument ${JSON.stringify(args[0])}`);
  process.exit(2);
}

const want = source.value;
const agree = ["Cargo.toml"];
const wrong = [];
for (const p of places) {
  if (!existsSync(file(p.path))) {
    if (!p.optional) wrong.push(`${p.path} is missing`);
    continue;
  }
  const v = p.read(readFileSync(file(p.path), "utf8"));
  if (v?.fromCargo) agree.push(`${p.path} (read from Cargo.toml at build time)`);
  else if (!v || v.value === undefined) wrong.push(`${p.path} has no version (want "${want}", or a version read from Cargo.toml)`);
  else if (v.value !== want) wrong.push(`${p.path} says ${v.value}`);
  else agree.push(p.path);
}
if (wrong.length) {
  console.error(`tunelab: the version is ${want} (Cargo.toml, the one source), but ${wrong.join("; ")}; run \`node scripts/version.mjs set ${want}\` (or set the release's version)`);
  process.exit(1);
}
console.log(`tunelab version ${want}: ${agree.join(", ")} agree`);

//! The layering of docs/architecture.md, checked against the code: every `crate::` path under
//! src/ (outside comments) must name a module of a lower layer than the file's own module, or
//! that module itself; every top-level module of src/lib.rs must have a layer.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `layer N: a b c` lines of docs/architecture.md: module name -> layer.
fn layer_table(doc: &str) -> HashMap<String, usize> {
    let mut table = HashMap::new();
    for line in doc.lines() {
        let Some(rest) = line.trim().strip_prefix("layer ") else {
            continue;
        };
        let Some((n, names)) = rest.split_once(':') else {
            continue;
        };
        let Ok(n) = n.trim().parse::<usize>() else {
            continue;
        };
        for name in names.split_whitespace() {
            assert!(
                table.insert(name.to_string(), n).is_none(),
                "docs/architecture.md places `{name}` twice"
            );
        }
    }
    table
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under src/ belongs to (`None` for lib.rs and the binaries).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    if first == "lib.rs" || first == "bin" {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_string())
}

/// The top-level modules named by `crate::` paths in one line of code, including the members
/// of a `crate::{a, b::c}` group.
fn crate_refs(code: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut refs = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        // `tunelab::crate::` cannot occur; skip identifiers that merely end in "crate"
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // the members at depth 0, up to the group's own closing brace
            let mut depth = 0;
            let mut start = 0;
            let mut end = group.len();
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        end = j;
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        refs.push(ident(group[start..j].trim()));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
            refs.push(ident(group[start..end].trim()));
        } else {
            refs.push(ident(rest));
        }
    }
    refs.retain(|r| !r.is_empty());
    refs
}

/// Names in the crate root that are re-exports of a module's items, not modules themselves.
const ROOT_ITEMS: &[&str] = &["Error", "Result", "Tensor"];

fn violations(src: &Path, table: &HashMap<String, usize>) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let Some(own) = module_of(src, &file) else {
            continue;
        };
        let Some(&own_layer) = table.get(&own) else {
            out.push(format!(
                "{}: module `{own}` has no layer in docs/architecture.md",
                file.display()
            ));
            continue;
        };
        let text = fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut n = 0;
        while n < lines.len() {
            // a `crate::{` group that rustfmt wrapped is read up to its closing line
            let mut code = lines[n].split("//").next().unwrap_or("").to_string();
            let first = n;
            while code.contains("crate::{")
                && code.matches('{').count() > code.matches('}').count()
                && n + 1 < lines.len()
            {
                n += 1;
                code.push(' ');
                code.push_str(lines[n].split("//").next().unwrap_or(""));
            }
            n += 1;
            let line = lines[first];
            for target in crate_refs(&code) {
                if target == own || ROOT_ITEMS.contains(&target.as_str()) {
                    continue;
                }
                match table.get(&target) {
                    None => out.push(format!(
                        "{}:{}: `crate::{target}` is not a module of the layer table",
                        file.display(),
                        first + 1
                    )),
                    Some(&layer) if layer >= own_layer => out.push(format!(
                        "{}:{}: `{own}` (layer {own_layer}) imports `{target}` (layer {layer}): {}",
                        file.display(),
                        first + 1,
                        line.trim()
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    out
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let doc = fs::read_to_string(Path::new(ROOT).join("docs/architecture.md")).unwrap();
    let table = layer_table(&doc);
    assert!(
        table.len() >= 10,
        "the layer table of docs/architecture.md was not found"
    );
    let src = Path::new(ROOT).join("src");
    let bad = violations(&src, &table);
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}

#[test]
fn every_module_of_lib_rs_has_a_layer() {
    let doc = fs::read_to_string(Path::new(ROOT).join("docs/architecture.md")).unwrap();
    let table = layer_table(&doc);
    let lib = fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(name) = line.trim().strip_prefix("pub mod ") {
            let name = name.trim_end_matches(';');
            assert!(
                table.contains_key(name),
                "src/lib.rs declares `{name}`, which docs/architecture.md gives no layer"
            );
        }
    }
}

/// The checker itself: an upward import, a sideways one and an unplaced module are reported;
/// comments and a module's own paths are not.
#[test]
fn the_checker_finds_upward_imports() {
    let dir = std::env::temp_dir().join(format!("tunelab-layers-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("low")).unwrap();
    fs::write(
        dir.join("low/mod.rs"),
        "use crate::low::x;\n// see crate::high\nuse crate::{error::Error, high::Thing};\nuse crate::{\n    error,\n    high,\n};\n",
    )
    .unwrap();
    fs::write(dir.join("side.rs"), "use crate::low2::y;\n").unwrap();
    fs::write(dir.join("odd.rs"), "fn f() {}\n").unwrap();
    let table = layer_table("layer 0: error\nlayer 1: low low2 side\nlayer 2: high\n");
    let bad = violations(&dir, &table);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(bad.len(), 4, "{bad:#?}");
    for expected in [
        "module `odd` has no layer",
        "low/mod.rs:3: `low` (layer 1) imports `high` (layer 2)",
        "low/mod.rs:4: `low` (layer 1) imports `high` (layer 2)",
        "`side` (layer 1) imports `low2` (layer 1)",
    ] {
        assert!(
            bad.iter().any(|b| b.contains(expected)),
            "{expected}: {bad:#?}"
        );
    }
    assert_eq!(
        crate_refs("use crate::{a::{b, c}, d};"),
        vec!["a".to_string(), "d".to_string()]
    );
}

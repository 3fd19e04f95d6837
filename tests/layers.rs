//! The layers point one way, and this test keeps them so: design ← data ← engine ← (cli, app),
//! and ui ← app. It reads every `crate::…` path under src/ (imports and inline paths, outside
//! comments) and fails on one that reaches a layer its file may not depend on.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each top-level module may name, besides itself.
fn allowed(layer: &str) -> Option<&'static [&'static str]> {
    Some(match layer {
        // The pure core and the leaf helpers depend on nothing of ours.
        "design" | "units" | "fsio" => &[],
        // The bundled designs, and the test that they are laid out as Auto layout would.
        "examples" => &["design"],
        "data" => &["design", "units", "fsio"],
        // A design file's set-up names its data by a data spec, whose paths it rebases.
        "document" => &["design", "data", "fsio"],
        "engine" => &["data", "design", "units", "fsio"],
        // Widgets read the design, data and run histories; they never reach up into the app.
        "ui" => &["design", "data", "engine", "units"],
        "cli" => &[
            "design", "data", "engine", "document", "units", "examples", "fsio",
        ],
        "app" => &[
            "design", "data", "engine", "document", "units", "examples", "ui", "fsio",
        ],
        _ => return None,
    })
}

/// The top-level module a file under src/ belongs to (None for lib.rs and main.rs).
fn layer_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without `//` comments (doc comments included), so that prose never counts.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every top-level module named by a `crate::` path, with `crate::{a, b::c}` groups opened.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: those at brace depth 0 after a '{' or ','.
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start && depth == 0 => {
                        out.insert(ident(&group[j..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.remove("");
    out
}

fn back_imports(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for file in files {
        let Some(layer) = layer_of(src, &file) else {
            continue;
        };
        let Some(ok) = allowed(&layer) else {
            bad.push(format!(
                "{}: the module \"{layer}\" has no place in the layer table of tests/layers.rs",
                file.display()
            ));
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for named in named_modules(&code) {
            if named != layer && !ok.contains(&named.as_str()) {
                bad.push(format!(
                    "{}: {layer} imports crate::{named}, against the layers",
                    file.display()
                ));
            }
        }
    }
    bad
}

#[test]
fn imports_point_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = back_imports(&src);
    assert!(
        bad.is_empty(),
        "imports against the layers:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scanner_sees_grouped_and_inline_paths_but_not_comments() {
    let code = code_of(
        "use crate::{design::Op, engine::{Trainer, Event}};\n// crate::app in prose\nlet x = crate::ui::theme::OK;",
    );
    let names: Vec<String> = named_modules(&code).into_iter().collect();
    assert_eq!(names, ["design", "engine", "ui"]);
}

//! The layers point one way, and this test keeps them so: design ← data ← engine ← (cli, app),
//! and ui ← app. It reads every `crate::…` path under src/ (imports and inline paths, outside
//! comments) and fails on one that reaches a layer its file may not depend on.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may name, besides itself.
fn allowed(layer: &str) -> Option<&'static [&'static str]> {
    Some(match layer {
        // The pure core and the leaf helpers depend on nothing of ours.
        "design" | "units" | "fsio" | "jobs" | "onnx_proto" => &[],
        // PyTorch's pickled state dicts, read without the engine (it has its own fuzz target).
        "pth" => &[],
        // The bundled designs, and the test that they are laid out as Auto layout would.
        "examples" => &["design"],
        "data" => &["design", "units", "fsio", "jobs"],
        // A design file's set-up names its data by a data spec, whose paths it rebases.
        "document" => &["design", "data", "fsio"],
        "engine" => &["data", "design", "units", "fsio", "pth", "jobs"],
        // PyTorch code, ONNX and TorchScript: a layer above the engine (which never uses it).
        "export" => &["engine", "data", "design", "units", "fsio", "onnx_proto"],
        // ONNX in: a design and its weights (written through the engine).
        "import" => &["engine", "design", "units", "fsio", "onnx_proto"],
        // Widgets read the design, data and run histories; they never reach up into the app.
        "ui" => &["design", "data", "engine", "units"],
        "cli" => &[
            "design", "data", "engine", "export", "import", "document", "units", "examples",
            "fsio", "jobs",
        ],
        "app" => &[
            "design", "data", "engine", "export", "import", "document", "units", "examples", "ui",
            "fsio", "jobs",
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
    names_after(code, "crate::")
}

/// Every name that follows `prefix` (`crate::`, `super::super::`, …), groups opened.
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices(prefix) {
        // `super::super::x` holds `super::x`: only whole prefixes count.
        let rest = &code[i + prefix.len()..];
        if prefix.starts_with("super")
            && (code[..i].ends_with("super::") || rest.starts_with("super::"))
        {
            continue;
        }
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

/// The modules directly under `src/<top>/`, each with the siblings its files name (through
/// `crate::<top>::x` or as many `super::` as lead back to `<top>`).
fn sibling_imports(src: &Path, top: &str) -> BTreeMap<String, BTreeSet<String>> {
    let base = src.join(top);
    let module_of = |file: &Path| -> Option<(String, usize)> {
        let rel = file.strip_prefix(&base).ok()?;
        let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
        let first = parts.first()?.trim_end_matches(".rs").to_owned();
        if first == "mod" {
            return None;
        }
        // How deep the file's module is below `top`: x.rs and x/mod.rs are 1, x/y.rs is 2.
        let depth = if parts.last() == Some(&"mod.rs") {
            parts.len() - 1
        } else {
            parts.len()
        };
        Some((first, depth))
    };
    let mut files = Vec::new();
    rust_files(&base, &mut files);
    let mut siblings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        if let Some((m, _)) = module_of(file) {
            siblings.entry(m).or_default();
        }
    }
    let names: BTreeSet<String> = siblings.keys().cloned().collect();
    for file in &files {
        let Some((m, depth)) = module_of(file) else {
            continue;
        };
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let mut named = names_after(&code, &format!("crate::{top}::"));
        named.extend(names_after(&code, &"super::".repeat(depth)));
        let uses = siblings.get_mut(&m).unwrap();
        uses.extend(named.into_iter().filter(|n| *n != m && names.contains(n)));
    }
    siblings
}

/// Every circle in `imports`, each as "a → b → a", from its alphabetically first module.
fn circles(imports: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn path_back(
        imports: &BTreeMap<String, BTreeSet<String>>,
        at: &str,
        home: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in imports.get(at).into_iter().flatten() {
            if next == home {
                return true;
            }
            // Only circles through modules after `home`, so each is found once.
            if next.as_str() > home && seen.insert(next.clone()) {
                path.push(next.clone());
                if path_back(imports, next, home, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut out = Vec::new();
    for home in imports.keys() {
        let mut path = vec![home.clone()];
        if path_back(imports, home, home, &mut path, &mut BTreeSet::new()) {
            path.push(home.clone());
            out.push(path.join(" → "));
        }
    }
    out
}

#[test]
fn no_circles_between_the_engine_s_or_the_app_s_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for top in ["engine", "app"] {
        let imports = sibling_imports(&src, top);
        assert!(imports.len() > 5, "{top}: too few modules read");
        found.extend(circles(&imports).into_iter().map(|c| format!("{top}: {c}")));
    }
    assert!(
        found.is_empty(),
        "modules that import each other (put what both need in a module below them, or make one a child of the other):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_circle_finder_finds_a_circle_and_nothing_else() {
    let imports = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, BTreeSet<String>> {
        pairs
            .iter()
            .map(|(m, uses)| (m.to_string(), uses.iter().map(|u| u.to_string()).collect()))
            .collect()
    };
    let chain = imports(&[("a", &["b"]), ("b", &["c"]), ("c", &[]), ("d", &["a", "c"])]);
    assert!(circles(&chain).is_empty());
    let circle = imports(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]);
    assert_eq!(circles(&circle), ["a → b → c → a"]);
    // `super::super::x` in a file two deep names `x`, and is not read as `super::x`.
    let names = names_after(
        "use super::super::run_dir::State;\nuse super::Session;",
        "super::super::",
    );
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["run_dir"]);
    let names = names_after(
        "use super::super::run_dir::State;\nuse super::Session;",
        "super::",
    );
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["Session"]);
}

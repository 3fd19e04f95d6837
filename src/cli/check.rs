//! `netloom check DESIGN.json [--json]`: the design's table of shapes and costs, then its problems.

use crate::design::{self, Analysis, Design};
use crate::document::load_design;
use crate::units::{bytes, thousands};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `netloom check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The design file.
    #[arg(value_name = "DESIGN.json")]
    pub design: PathBuf,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: &CheckArgs) -> ExitCode {
    let design = match load_design(&args.design) {
        Ok(d) => d,
        Err(msg) => {
            eprintln!("netloom: {msg}");
            return ExitCode::from(super::EXIT_UNREADABLE);
        }
    };
    let analysis = design::analyse(&design);
    let text = if args.json {
        json_report(&analysis)
    } else {
        table(&design, &analysis)
    };
    // A closed pipe (e.g. `| head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(text.as_bytes());
    ExitCode::from(if analysis.is_valid() { 0 } else { 1 })
}

/// The human-readable report: one row per node in execution order, totals, problems.
pub fn table(design: &Design, analysis: &Analysis) -> String {
    let mut rows: Vec<[String; 5]> = vec![[
        "name".into(),
        "kind".into(),
        "output".into(),
        "params".into(),
        "MACs".into(),
    ]];
    for r in analysis.in_execution_order() {
        let shape = r
            .output
            .as_ref()
            .map_or_else(|| "?".to_owned(), ToString::to_string);
        rows.push([
            r.name.clone(),
            r.kind.into(),
            shape,
            thousands(r.params),
            thousands(r.macs),
        ]);
    }
    let t = analysis.totals;
    rows.push([
        "total".into(),
        String::new(),
        String::new(),
        thousands(t.params),
        thousands(t.macs),
    ]);
    let mut widths = [0usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i + 1 == rows.len() {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 8));
            out.push('\n');
        }
        let [a, b, c, d, e] = row;
        let [wa, wb, wc, wd, we] = widths;
        // Padded by hand: format!'s width takes at most u16::MAX, and a name's length is the
        // file's to choose (a 65,536-character name once panicked here).
        let line = [
            pad(a, wa, false),
            pad(b, wb, false),
            pad(c, wc, false),
            pad(d, wd, true),
            pad(e, we, true),
        ]
        .join("  ");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "{} nodes, {} parameters, {} MACs per sample, {} of activations per sample\n",
        design.nodes.len(),
        thousands(t.params),
        thousands(t.macs),
        bytes(t.activation_bytes)
    ));
    if analysis.problems.is_empty() {
        out.push_str("no problems: the design is valid\n");
    } else {
        let k = analysis.problems.len();
        out.push_str(&format!(
            "\n{k} problem{}:\n",
            if k == 1 { "" } else { "s" }
        ));
        for p in &analysis.problems {
            out.push_str(&format!("  - {p}\n"));
        }
    }
    out
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: u64,
    name: &'a str,
    kind: &'a str,
    output: Option<&'a [u64]>,
    params: u64,
    macs: u64,
    activation_bytes: u64,
}

#[derive(Serialize)]
struct JsonProblem<'a> {
    node: Option<&'a str>,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    valid: bool,
    nodes: Vec<JsonNode<'a>>,
    totals: JsonTotals,
    problems: Vec<JsonProblem<'a>>,
}

#[derive(Serialize)]
struct JsonTotals {
    params: u64,
    macs: u64,
    activation_bytes: u64,
}

/// The same report as JSON, nodes in execution order then the rest.
pub fn json_report(analysis: &Analysis) -> String {
    let nodes = analysis
        .in_execution_order()
        .into_iter()
        .map(|r| JsonNode {
            id: r.id.0,
            name: &r.name,
            kind: r.kind,
            output: r.output.as_ref().map(|s| s.dims()),
            params: r.params,
            macs: r.macs,
            activation_bytes: r.activation_bytes,
        })
        .collect();
    let name_of = |id| analysis.report(id).map(|r| r.name.as_str());
    let report = JsonReport {
        valid: analysis.is_valid(),
        nodes,
        totals: JsonTotals {
            params: analysis.totals.params,
            macs: analysis.totals.macs,
            activation_bytes: analysis.totals.activation_bytes,
        },
        problems: analysis
            .problems
            .iter()
            .map(|p| JsonProblem {
                node: p.node.and_then(name_of),
                message: &p.message,
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

/// `cell` padded with spaces to `width` characters, on the left when `right` aligns it right.
fn pad(cell: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(cell.chars().count()));
    if right {
        format!("{fill}{cell}")
    } else {
        format!("{cell}{fill}")
    }
}

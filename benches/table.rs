//! Loading a table (issue 31): a 1,000,000-row × 50-column numeric CSV (49 features, an
//! integer class), netloom's `csv:` loader (read, split, standardise on the training rows)
//! against pandas.read_csv plus the same standardisation (benches/table_pandas.py), each in
//! its own process so that each side's peak memory is its own. The sides take turns.
//!
//! Run with `cargo bench --bench table` (scripts/test.sh's environment: PYTHONPATH has
//! pandas). NETLOOM_BENCH_ROWS changes the row count.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a bench prints its results
#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const ROUNDS: usize = 3;
const COLUMNS: usize = 50;

/// This process's peak resident memory, bytes (Linux's VmHWM).
fn peak_memory() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Writes the table once: standard-normal features with five decimals, a class 0–9.
fn table(rows: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("netloom-bench-table-{rows}.csv"));
    if path.exists() {
        return path;
    }
    let mut rng = netloom::data::rng::Rng::new(1);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let names: Vec<String> = (0..COLUMNS - 1).map(|i| format!("f{i}")).collect();
    writeln!(out, "{},y", names.join(",")).unwrap();
    for _ in 0..rows {
        for _ in 0..COLUMNS - 1 {
            write!(out, "{:.5},", rng.normal()).unwrap();
        }
        writeln!(out, "{}", rng.below(10)).unwrap();
    }
    out.flush().unwrap();
    path
}

/// The netloom side, in a child process: seconds and peak bytes.
fn netloom_side(path: &Path) {
    let spec = format!("csv:{}", path.display());
    let start = Instant::now();
    let data = netloom::data::DataSpec::parse(&spec)
        .unwrap()
        .load_for(None)
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{seconds} {} {}",
        peak_memory(),
        data.train.len() + data.val.len()
    );
}

fn run(mut cmd: Command) -> (f64, f64) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<f64> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (v[0], v[1] / 1e6)
}

fn main() {
    if let Ok(path) = std::env::var("NETLOOM_BENCH_TABLE_SIDE") {
        netloom_side(Path::new(&path));
        return;
    }
    let rows: usize = std::env::var("NETLOOM_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let path = table(rows);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "table: {rows} rows × {COLUMNS} columns, {:.0} MB",
        size as f64 / 1e6
    );
    let me = std::env::current_exe().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/table_pandas.py");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut n = Command::new(&me);
        n.env("NETLOOM_BENCH_TABLE_SIDE", &path);
        let mut p = Command::new("python3");
        p.arg(script).arg(&path);
        // The order alternates, so neither side always reads a file the other just cached.
        if round % 2 == 0 {
            ours.push(run(n));
            theirs.push(run(p));
        } else {
            theirs.push(run(p));
            ours.push(run(n));
        }
        let (o, t) = (ours[round], theirs[round]);
        println!(
            "round {}: netloom {:.2} s, {:.0} MB peak; pandas {:.2} s, {:.0} MB peak",
            round + 1,
            o.0,
            o.1,
            t.0,
            t.1
        );
    }
    let median = |v: &[(f64, f64)], i: usize| {
        let mut x: Vec<f64> = v.iter().map(|p| if i == 0 { p.0 } else { p.1 }).collect();
        x.sort_by(f64::total_cmp);
        x[x.len() / 2]
    };
    let (ot, tt) = (median(&ours, 0), median(&theirs, 0));
    println!(
        "median: netloom {ot:.2} s, pandas {tt:.2} s: netloom takes {:.2}× pandas' time; peak memory netloom {:.0} MB, pandas {:.0} MB",
        ot / tt,
        median(&ours, 1),
        median(&theirs, 1)
    );
}

//! Fork cost (criterion): the guest's `forkbench SIZE_MIB CASE FORKS` under the eager-fork
//! kernel (xv6's copying `uvmcopy`), the lab-style COW kernel (`kernel.img`) and the
//! on-demand-fork kernel (`kernel-odf.img`: COW that also shares last-level page tables), for
//! processes of 1 MiB to 1 GiB, the child exiting at once / calling exec / writing every page.
//!
//! Run: `cargo bench --bench fork`. Environment:
//! - `RVCOW_FORK_SIZES` — process sizes in MiB, comma-separated (default `1,32,64,256,1024`;
//!   at most 2047: sbrk takes an int);
//! - `RVCOW_FORK_COUNT` — forks per case (default 3 up to 64 MiB, 1 above: an eager fork of
//!   1 GiB is ~10⁹ guest instructions);
//! - `RVCOW_FORK_CRITERION_MIB` — sizes up to this also get criterion groups (default 32);
//! - `RVCOW_BENCH_TIME=cpu` — host CPU time instead of wall time.
//!
//! Every (kernel, size, case) runs in its own boot on one hart (so `rdcycle` is one counter:
//! on one hart cycles = retired instructions), with RAM for a parent and a full copy
//! (2 × size + 192 MiB). Guest cycles per fork (`fork_cycles`: the parent inside fork();
//! `reap_cycles`: fork() to the child reaped) come from forkbench's own lines; host time per
//! fork is measured from one line of forkbench to the next (one fork, the child's work, the
//! reap, one printf). All of it goes to stderr as a table, to
//! `target/criterion/fork/table.md`, and as a log–log plot of cycles per fork against
//! process size to `target/criterion/fork/cycles-per-fork.svg` (beside criterion's report).
//! Criterion itself measures host time per fork-to-reap for the small sizes.

mod common;

use common::{Guest, Stopwatch};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

const CASES: [&str; 3] = ["exit", "exec", "write"];
const KERNELS: [(&str, &[u8]); 3] = [
    ("eager", images::KERNEL_EAGER_IMG),
    ("cow", images::KERNEL_IMG),
    ("odf", images::KERNEL_ODF_IMG),
];

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn sizes() -> Vec<u64> {
    let spec = std::env::var("RVCOW_FORK_SIZES").unwrap_or_else(|_| "1,32,64,256,1024".into());
    let v: Vec<u64> = spec
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter(|&m| (1..=2047).contains(&m))
        .collect();
    assert!(
        !v.is_empty(),
        "RVCOW_FORK_SIZES={spec:?}: give MiB sizes 1..=2047, e.g. 1,32,64"
    );
    v
}

fn forks_for(mib: u64) -> u64 {
    env_u64("RVCOW_FORK_COUNT").unwrap_or(if mib <= 64 { 3 } else { 1 })
}

/// RAM for a `mib` MiB parent plus a full copy of it, page tables and the kernel.
fn ram_for(mib: u64) -> u64 {
    (2 * mib + 192).max(128) << 20
}

/// A booted guest running `forkbench mib case forks`, past its `ready` line.
fn start(kernel: &[u8], mib: u64, case: &str, forks: u64) -> Guest {
    let mut g = Guest::new_with_ram(kernel, 1, ram_for(mib));
    g.wait_for("$ ", |_, _| {});
    g.console
        .push_input(format!("forkbench {mib} {case} {forks}\n").as_bytes());
    let out = g.wait_for(" ready\n", |_, _| {});
    assert!(!out.contains("forkbench:"), "forkbench failed:\n{out}");
    g
}

/// Waits for forkbench's next measurement line; returns (fork_cycles, reap_cycles).
fn next_line(g: &mut Guest) -> (u64, u64) {
    let head = g.wait_for("reap_cycles=", |_, _| {});
    let tail = g.wait_for("\n", |_, _| {});
    let line = format!("{head}{tail}");
    let field = |name: &str| -> Option<u64> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.parse().ok())
    };
    match (field("fork_cycles="), field("reap_cycles=")) {
        (Some(f), Some(r)) => (f, r),
        _ => panic!("not a forkbench line: {line:?}"),
    }
}

/// One (kernel, size, case): mean guest cycles per fork and fork-to-reap, mean host time.
struct Row {
    kernel: &'static str,
    mib: u64,
    case: &'static str,
    fork_cycles: u64,
    reap_cycles: u64,
    host: Duration,
}

fn measure(kernel: &'static str, image: &[u8], mib: u64, case: &'static str) -> Row {
    let forks = forks_for(mib);
    let mut g = start(image, mib, case, forks);
    let (mut fsum, mut rsum, mut host) = (0, 0, Duration::ZERO);
    for _ in 0..forks {
        let t = Stopwatch::start();
        let (f, r) = next_line(&mut g);
        host += t.elapsed();
        fsum += f;
        rsum += r;
    }
    Row {
        kernel,
        mib,
        case,
        fork_cycles: fsum / forks,
        reap_cycles: rsum / forks,
        host: host / forks as u32,
    }
}

fn out_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    target.join("criterion").join("fork")
}

/// Log–log plot of fork cycles (exit case) against process size, one line per kernel.
fn plot(rows: &[Row], path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let pts = |k: &str| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|r| r.kernel == k && r.case == "exit")
            .map(|r| (r.mib as f64, r.fork_cycles.max(1) as f64))
            .collect()
    };
    let all: Vec<(f64, f64)> = KERNELS.iter().flat_map(|(k, _)| pts(k)).collect();
    let (xmin, xmax) = all
        .iter()
        .fold((f64::MAX, 0f64), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (ymin, ymax) = all
        .iter()
        .fold((f64::MAX, 0f64), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let root = SVGBackend::new(path, (800, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "fork(): guest cycles per fork vs process size (1 hart)",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (xmin / 1.5..xmax * 1.5).log_scale(),
            (ymin / 3.0..ymax * 3.0).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("process size (MiB)")
        .y_desc("guest cycles per fork")
        .y_label_formatter(&|y| format!("{y:.0e}"))
        .draw()?;
    for ((name, _), color) in KERNELS.iter().zip([RED, BLUE, GREEN]) {
        let label = match *name {
            "eager" => "eager fork (kernel-eager.img)",
            "cow" => "lab COW fork (kernel.img)",
            _ => "on-demand fork (kernel-odf.img)",
        };
        let p = pts(name);
        chart
            .draw_series(LineSeries::new(p.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(p.into_iter().map(|q| Circle::new(q, 4, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn report(rows: &[Row]) {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| kernel | MiB | child | fork cycles | fork-to-reap cycles | host ms per fork |"
    );
    let _ = writeln!(t, "|---|---:|---|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {:.2} |",
            r.kernel,
            r.mib,
            r.case,
            r.fork_cycles,
            r.reap_cycles,
            r.host.as_secs_f64() * 1e3
        );
    }
    let get = |k: &str, mib: u64, case: &str| {
        rows.iter()
            .find(|r| r.kernel == k && r.mib == mib && r.case == case)
    };
    let _ = writeln!(t);
    for mib in sizes() {
        if let (Some(e), Some(c), Some(o)) = (
            get("eager", mib, "exit"),
            get("cow", mib, "exit"),
            get("odf", mib, "exit"),
        ) {
            let _ = write!(
                t,
                "{mib} MiB: fork cycles cow/odf {:.0}×, eager/odf {:.0}×",
                c.fork_cycles as f64 / o.fork_cycles.max(1) as f64,
                e.fork_cycles as f64 / o.fork_cycles.max(1) as f64,
            );
            if let (Some(cw), Some(ow)) = (get("cow", mib, "write"), get("odf", mib, "write")) {
                let _ = write!(
                    t,
                    "; child writes every page: odf/cow fork-to-reap {:+.1} %",
                    (ow.reap_cycles as f64 / cw.reap_cycles.max(1) as f64 - 1.0) * 100.0
                );
            }
            let _ = writeln!(t);
        }
    }
    eprintln!("\nforkbench, 1 hart, means over RVCOW_FORK_COUNT forks per case\n{t}");
    let dir = out_dir();
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("fork bench: {}: {e}", dir.display());
        return;
    }
    let _ = std::fs::write(dir.join("table.md"), &t);
    let svg = dir.join("cycles-per-fork.svg");
    match plot(rows, &svg) {
        Ok(()) => eprintln!("plot: {}", svg.display()),
        Err(e) => eprintln!("fork bench: plotting {}: {e}", svg.display()),
    }
}

fn fork(c: &mut Criterion) {
    let mut rows = Vec::new();
    for mib in sizes() {
        for (kernel, image) in KERNELS {
            for case in CASES {
                rows.push(measure(kernel, image, mib, case));
            }
        }
    }
    report(&rows);
    let crit_max = env_u64("RVCOW_FORK_CRITERION_MIB").unwrap_or(32);
    for mib in sizes().into_iter().filter(|&m| m <= crit_max) {
        for (kernel, image) in KERNELS {
            let mut group = c.benchmark_group(format!("fork/{kernel}/{mib}MiB"));
            group.sampling_mode(SamplingMode::Flat);
            for case in CASES {
                // One guest forks on for as long as criterion asks.
                let mut g = start(image, mib, case, 1_000_000);
                group.bench_function(BenchmarkId::from_parameter(case), |b| {
                    b.iter_custom(|iters| {
                        let t = Stopwatch::start();
                        for _ in 0..iters {
                            next_line(&mut g);
                        }
                        t.elapsed()
                    })
                });
            }
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = fork
}
criterion_main!(benches);

//! Fork cost (criterion): the guest's `forkbench N M` under the copy-on-write kernel and the
//! `eager-fork` kernel (xv6's copying `uvmcopy`), for a small and a large process, the child
//! exiting at once / writing every page / calling exec.
//!
//! Run: `cargo bench --bench fork` (large size: `RVCOW_FORK_MIB`, default 32;
//! `RVCOW_BENCH_TIME=cpu` measures host CPU time, not wall time).
//!
//! Each kernel boots once on one hart (so the guest's `rdcycle` readings come from one counter)
//! and the booted machine serves every iteration. Criterion reports host time per fork, from
//! fork to the child's reaping by `wait`, from console timestamps: forkbench prints one line per
//! mode when that mode's M forks are done. The first mode (`exit`) follows forkbench's set-up
//! (growing the process, probing the counters), so its host time is the time to its line scaled
//! by the share of guest instructions the exit loop took (its `rdcycle` sum; on one hart
//! `cycle` = `instret`). Guest cycles per fork, parsed from forkbench's own output, are
//! printed as a table on stderr at the end. Expected shape: COW fork cost grows with the
//! page-table size only, eager fork with the bytes; a child writing every page costs about the
//! same under both.
//!
//! Why not 64 MiB: the kernel's RAM ends at PHYSTOP (128 MiB), so a 64 MiB parent cannot have a
//! 64 MiB copy (eager fork, or a COW child writing every page): forkbench stops with "fork
//! failed" or "out of memory on COW fault".

mod common;

use common::{instret, Guest, Stopwatch};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use std::time::Duration;

const MODES: [&str; 3] = ["exit", "touch", "exec"];

/// One `forkbench N M` run: host time of each mode's phase (the first includes the set-up) and
/// forkbench's output.
struct ForkRun {
    phase: [Duration; 3],
    output: String,
}

fn forkbench(g: &mut Guest, mib: u64, forks: u64) -> ForkRun {
    let cmd = format!("forkbench {mib} {forks}");
    g.console.push_input(cmd.as_bytes());
    g.console.push_input(b"\n");
    let start = Stopwatch::start();
    let insns_at_start = instret(&g.machine);
    let mut seen: [Option<Duration>; 3] = [None; 3];
    let mut insns_at_exit_line = 0;
    let output = g.wait_for("\n$ ", |out, m| {
        for (k, mode) in MODES.iter().enumerate() {
            if seen[k].is_none() && common::find(out, format!("mode={mode} ").as_bytes()).is_some()
            {
                seen[k] = Some(start.elapsed());
                if k == 0 {
                    insns_at_exit_line = instret(m);
                }
            }
        }
    });
    assert!(
        !output.contains("forkbench:") && seen.iter().all(Option::is_some),
        "`{cmd}` failed:\n{output}"
    );
    let t = seen.map(Option::unwrap);
    // The exit phase follows the set-up: keep the share of it that the guest spent in the exit
    // loop (its rdcycle sum; cycle = instret on one hart) of all instructions since the send.
    let exit_loop = cycle_sums(&output, "exit").map_or(0, |(_, total)| total);
    let share = exit_loop as f64 / (insns_at_exit_line - insns_at_start).max(1) as f64;
    ForkRun {
        phase: [t[0].mul_f64(share.min(1.0)), t[1] - t[0], t[2] - t[1]],
        output,
    }
}

/// `(fork_sum, total_sum)` cycles of `mode` from forkbench's `counter=cycle` line.
fn cycle_sums(output: &str, mode: &str) -> Option<(u64, u64)> {
    let line = output
        .lines()
        .find(|l| l.contains(&format!("mode={mode} ")) && l.contains("counter=cycle"))?;
    let field = |name: &str| -> Option<u64> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.parse().ok())
    };
    Some((field("fork_sum=")?, field("total_sum=")?))
}

/// `(fork, total)` cycles per fork of `mode` from forkbench's `counter=cycle` line.
fn guest_cycles(output: &str, mode: &str) -> Option<(u64, u64)> {
    let line = output
        .lines()
        .find(|l| l.contains(&format!("mode={mode} ")) && l.contains("counter=cycle"))?;
    let field = |name: &str| -> Option<u64> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.parse().ok())
    };
    Some((field("fork=")?, field("total=")?))
}

fn fork(c: &mut Criterion) {
    let big: u64 = std::env::var("RVCOW_FORK_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let mut table = Vec::new();
    for (kernel_name, kernel) in [
        ("cow", images::KERNEL_IMG),
        ("eager", images::KERNEL_EAGER_IMG),
    ] {
        let mut g = Guest::boot(kernel, 1);
        for mib in [1, big] {
            // Guest cycles (and a first host timing) from one run of 8 forks per mode.
            let run = forkbench(&mut g, mib, 8);
            for (k, mode) in MODES.iter().enumerate() {
                let cycles = guest_cycles(&run.output, mode);
                let host = run.phase[k] / 8;
                table.push((kernel_name, mib, *mode, cycles, host));
            }
            let mut group = c.benchmark_group(format!("fork/{kernel_name}/{mib}MiB"));
            group.sampling_mode(SamplingMode::Flat);
            group.throughput(Throughput::Elements(1));
            for (k, mode) in MODES.iter().enumerate() {
                group.bench_function(BenchmarkId::from_parameter(mode), |b| {
                    b.iter_custom(|iters| forkbench(&mut g, mib, iters).phase[k])
                });
            }
            group.finish();
        }
    }
    eprintln!();
    eprintln!("forkbench, guest cycles per fork (1 hart; guest `fork` = parent inside fork(), `total` = fork to reaped child) and host time per fork (8 forks)");
    eprintln!(
        "{:<7} {:>5} {:<6} {:>14} {:>14} {:>12}",
        "kernel", "MiB", "child", "fork cycles", "total cycles", "host µs"
    );
    for (kernel, mib, mode, cycles, host) in table {
        let (f, t) = cycles.map_or(("n/a".into(), "n/a".into()), |(f, t)| {
            (f.to_string(), t.to_string())
        });
        eprintln!(
            "{kernel:<7} {mib:>5} {mode:<6} {f:>14} {t:>14} {:>12.0}",
            host.as_secs_f64() * 1e6
        );
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

//! Whole-machine emulator speed (criterion): guest MIPS on the integer and load/store loops of
//! `mkloop.py` (a raw M-mode image run from reset to test-finisher power-off on a fresh
//! one-hart machine), and the boot of the bundled kernel to the shell's first `$ ` prompt.
//!
//! Kernel workloads (`emu/kernel`): the bundled kernel booted and `cowtest` run to the next
//! prompt, on 1 and 3 harts; with `RVCOW_BENCH_USERTESTS=1` also `usertests -q` (4.6·10⁹
//! instructions a run: minutes per sample). Each prints one line with instructions, host time
//! and MIPS before criterion samples it; criterion's "Melem/s" is MIPS there too.
//!
//! Run: `cargo bench --bench emu` (`RVCOW_BENCH_TIME=cpu` measures host CPU time, not wall time). The MIPS benches report throughput in elements/s, one element
//! per retired guest instruction ("Melem/s" = MIPS). The hart-only MIPS (no machine around the
//! hart, load/store loop under Sv39) is `cargo bench -p emu-core --bench hart`.

mod common;

use common::{
    cpu_time_mode, instret, loop_image, run_loop_image, time_boots_to_prompt, time_loop_runs,
    Guest, LoopKind, Stopwatch, LOOP_OVERHEAD_INSNS,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::{Duration, Instant};

/// Loop iterations per measured run: about 2·10⁸ instructions.
const ITERATIONS: u64 = 40_000_000;

/// If the reference generator is here, check our port writes the same bytes.
fn check_against_mkloop() {
    let script = std::path::Path::new("/work/shared/tools/mkloop.py");
    if !script.exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for kind in [LoopKind::Alu, LoopKind::Mem] {
        let out = dir.path().join("loop.bin");
        let ok = std::process::Command::new("python3")
            .arg(script)
            .arg(&out)
            .arg(ITERATIONS.to_string())
            .arg(kind.name())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            let theirs = std::fs::read(&out).unwrap();
            assert_eq!(
                theirs,
                loop_image(ITERATIONS, kind),
                "mkloop.py {}",
                kind.name()
            );
        }
    }
}

fn mips(c: &mut Criterion) {
    check_against_mkloop();
    let mut group = c.benchmark_group("emu/mips");
    for kind in [LoopKind::Alu, LoopKind::Mem] {
        let image = loop_image(ITERATIONS, kind);
        let insns = ITERATIONS * kind.insns_per_iteration() + LOOP_OVERHEAD_INSNS;
        // The machine's reset ROM runs a few instructions before jumping to the image.
        let retired = run_loop_image(&image);
        assert!(
            (insns..insns + 16).contains(&retired),
            "{} loop retired {retired}, expected {insns}",
            kind.name()
        );
        group.throughput(Throughput::Elements(insns));
        group.bench_function(kind.name(), |b| {
            b.iter_custom(|iters| time_loop_runs(&image, iters))
        });
    }
    group.finish();
}

fn boot(c: &mut Criterion) {
    let mut group = c.benchmark_group("emu/boot");
    // One boot outside criterion to state the instruction count.
    let t = Instant::now();
    let g = Guest::boot(images::KERNEL_IMG, 3);
    let wall = t.elapsed();
    let n = instret(&g.machine);
    eprintln!(
        "emu/boot: bundled kernel, 3 harts, to the first `$ `: {n} instructions, {:.3} s ({:.0} MIPS)",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64() / 1e6
    );
    group.bench_function("to_prompt_3_harts", |b| b.iter_custom(time_boots_to_prompt));
    group.finish();
}

/// Boot the bundled kernel on `harts` harts, type `command` at the first prompt and run to the
/// next one; the output must contain `expect`. Returns the instructions retired by all harts
/// and the host time (wall, or the thread's CPU time under `RVCOW_BENCH_TIME=cpu`) from power-on
/// to that prompt; building the machine is not timed.
fn boot_and_run(harts: usize, command: &str, expect: &str) -> (u64, Duration) {
    let mut g = Guest::new(images::KERNEL_IMG, harts);
    let t = Stopwatch::start();
    g.wait_for("$ ", |_, _| {});
    let out = g.run_command(command);
    let elapsed = t.elapsed();
    assert!(out.contains(expect), "{command}:\n{out}");
    (instret(&g.machine), elapsed)
}

fn kernel(c: &mut Criterion) {
    let mut group = c.benchmark_group("emu/kernel");
    let mut workloads = vec![("cowtest", "ALL COW TESTS PASSED")];
    if std::env::var("RVCOW_BENCH_USERTESTS").is_ok_and(|v| v == "1") {
        workloads.push(("usertests -q", "ALL TESTS PASSED"));
    }
    let clock = if cpu_time_mode() { "CPU" } else { "wall" };
    for (command, expect) in workloads {
        for harts in [1, 3] {
            let (insns, t) = boot_and_run(harts, command, expect);
            eprintln!(
                "emu/kernel: boot + `{command}`, {harts} hart(s): {insns} instructions, {:.3} s {clock} ({:.0} MIPS)",
                t.as_secs_f64(),
                insns as f64 / t.as_secs_f64() / 1e6
            );
            group.throughput(Throughput::Elements(insns));
            let name = format!(
                "{}_{harts}_hart",
                command.split(' ').next().unwrap_or(command)
            );
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| boot_and_run(harts, command, expect).1)
                        .sum()
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = mips, boot, kernel
}
criterion_main!(benches);

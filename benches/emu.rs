//! Whole-machine emulator speed (criterion): guest MIPS on the integer and load/store loops of
//! `mkloop.py` (a raw M-mode image run from reset to test-finisher power-off on a fresh
//! one-hart machine), and the boot of the bundled kernel to the shell's first `$ ` prompt.
//!
//! Run: `cargo bench --bench emu` (`RVCOW_BENCH_TIME=cpu` measures host CPU time, not wall time). The MIPS benches report throughput in elements/s, one element
//! per retired guest instruction ("Melem/s" = MIPS). The hart-only MIPS (no machine around the
//! hart, load/store loop under Sv39) is `cargo bench -p emu-core --bench hart`.

mod common;

use common::{
    instret, loop_image, run_loop_image, time_boots_to_prompt, time_loop_runs, Guest, LoopKind,
    LOOP_OVERHEAD_INSNS,
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

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = mips, boot
}
criterion_main!(benches);

//! rvcow beside QEMU (criterion), in the same run so the ratio is measured under the same
//! machine load: the mkloop integer and load/store loops (raw images, `-bios none -kernel`),
//! the bundled kernel's boot to the first `$ ` prompt, and `cowtest` at that prompt.
//!
//! Run: `cargo bench --bench peer` (`RVCOW_BENCH_TIME=cpu` measures host CPU time — rvcow's
//! machine thread, all of QEMU's threads — rather than wall time: steadier on a shared machine). Needs `qemu-system-riscv64` on PATH for the QEMU half; when
//! it is absent the bench says so and measures rvcow only.
//!
//! QEMU runs as `qemu-system-riscv64 -machine virt -bios none -m 128M -smp 3 -nographic -global
//! virtio-mmio.force-legacy=false -drive file=<copy of fs.img>,if=none,format=raw,id=x0 -device
//! virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0 -kernel kernel.img`, its console on pipes;
//! rvcow as `Machine` with 3 harts, 128 MiB and the same images. Loop runs are whole processes
//! for QEMU, so its loop times include QEMU's start-up; the start-up (a 1-iteration image) and
//! the MIPS without it are printed on stderr. QEMU runs a longer loop than rvcow (it is a JIT),
//! so compare the Melem/s (MIPS) figures.

mod common;

use common::{
    cpu_time_mode, loop_image, qemu_available, qemu_run_raw, time_boots_to_prompt, time_loop_runs,
    Guest, LoopKind, QemuGuest, Stopwatch, LOOP_OVERHEAD_INSNS,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::{Duration, Instant};

/// Loop iterations per rvcow run (about 2·10⁸ instructions) and per QEMU run.
const OUR_ITERATIONS: u64 = 40_000_000;
const QEMU_ITERATIONS: u64 = 500_000_000;

fn qemu_or_say() -> bool {
    let ok = qemu_available();
    if !ok {
        eprintln!("peer: qemu-system-riscv64 not found on PATH; measuring rvcow only");
    }
    ok
}

fn loops(c: &mut Criterion) {
    let qemu = qemu_or_say();
    let dir = tempfile::tempdir().unwrap();
    let startup = qemu.then(|| {
        let p = dir.path().join("one.bin");
        std::fs::write(&p, loop_image(1, LoopKind::Alu)).unwrap();
        let d = (0..3).map(|_| qemu_run_raw(&p)).min().unwrap();
        eprintln!(
            "peer: QEMU start-up to power-off of a 1-iteration loop: {:.1} ms",
            d.as_secs_f64() * 1e3
        );
        d
    });
    for kind in [LoopKind::Alu, LoopKind::Mem] {
        let mut group = c.benchmark_group(format!("peer/mips_{}", kind.name()));
        let image = loop_image(OUR_ITERATIONS, kind);
        group.throughput(Throughput::Elements(
            OUR_ITERATIONS * kind.insns_per_iteration() + LOOP_OVERHEAD_INSNS,
        ));
        group.bench_function("rvcow", |b| {
            b.iter_custom(|iters| time_loop_runs(&image, iters))
        });
        if let Some(startup) = startup {
            let path = dir.path().join(format!("{}.bin", kind.name()));
            std::fs::write(&path, loop_image(QEMU_ITERATIONS, kind)).unwrap();
            let insns = QEMU_ITERATIONS * kind.insns_per_iteration() + LOOP_OVERHEAD_INSNS;
            let once = qemu_run_raw(&path);
            eprintln!(
                "peer: QEMU {} loop: {:.0} MIPS with start-up, {:.0} MIPS without (one run)",
                kind.name(),
                insns as f64 / once.as_secs_f64() / 1e6,
                insns as f64 / once.saturating_sub(startup).as_secs_f64() / 1e6
            );
            group.throughput(Throughput::Elements(insns));
            group.bench_function("qemu", |b| {
                b.iter_custom(|iters| (0..iters).map(|_| qemu_run_raw(&path)).sum())
            });
        }
        group.finish();
    }
}

fn boot(c: &mut Criterion) {
    let qemu = qemu_available();
    let mut group = c.benchmark_group("peer/boot_to_prompt");
    group.bench_function("rvcow", |b| b.iter_custom(time_boots_to_prompt));
    if qemu {
        group.bench_function("qemu", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let q = QemuGuest::boot(images::kernel_path());
                    total += match cpu_time_mode() {
                        true => q.cpu_time(),
                        false => t.elapsed(),
                    };
                    drop(q);
                }
                total
            })
        });
    }
    group.finish();
}

fn cowtest(c: &mut Criterion) {
    let qemu = qemu_available();
    let mut group = c.benchmark_group("peer/cowtest");
    let check = |out: &str, who: &str| {
        assert!(
            out.contains("ALL COW TESTS PASSED"),
            "{who} cowtest:\n{out}"
        );
    };
    let mut g = Guest::boot(images::KERNEL_IMG, 3);
    group.bench_function("rvcow", |b| {
        b.iter_custom(|iters| {
            let t = Stopwatch::start();
            for _ in 0..iters {
                check(&g.run_command("cowtest"), "rvcow");
            }
            t.elapsed()
        })
    });
    if qemu {
        let mut q = QemuGuest::boot(images::kernel_path());
        group.bench_function("qemu", |b| {
            b.iter_custom(|iters| {
                let (t, cpu) = (Instant::now(), q.cpu_time());
                for _ in 0..iters {
                    check(&q.run_command("cowtest"), "qemu");
                }
                match cpu_time_mode() {
                    true => q.cpu_time().saturating_sub(cpu),
                    false => t.elapsed(),
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = loops, boot, cowtest
}
criterion_main!(benches);

//! Guest MIPS of the hart interpreter (criterion): (a) a tight integer loop in M-mode and (b) a
//! load/store loop in S-mode under Sv39 translation.
//!
//! Run: `cargo bench -p emu-core --bench hart`. Throughput is reported in elements/s, one
//! element per retired guest instruction (so "Melem/s" = MIPS).
//!
//! Also: `RVCOW_RAW_IMAGE=/tmp/loop.bin cargo bench -p emu-core --bench hart` first runs that raw
//! image (e.g. from `python3 /work/shared/tools/mkloop.py /tmp/loop.bin 100000000 alu`) at
//! 0x8000_0000 to power-off and prints its MIPS.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use emu_core::bus::{Bus, RAM_BASE};
use emu_core::hart::{Hart, Privilege};
use std::time::Instant;

fn i(op: u32, rd: u32, f3: u32, rs1: u32, imm: i32) -> u32 {
    op | rd << 7 | f3 << 12 | rs1 << 15 | ((imm as u32) & 0xfff) << 20
}
fn r(rd: u32, f3: u32, rs1: u32, rs2: u32) -> u32 {
    0x33 | rd << 7 | f3 << 12 | rs1 << 15 | rs2 << 20
}
fn s(f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    0x23 | (imm & 0x1f) << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | ((imm >> 5) & 0x7f) << 25
}
fn bne_back(rs1: u32, insns_back: i32) -> u32 {
    let o = (-4 * insns_back) as u32;
    0x63 | ((o >> 11) & 1) << 7
        | ((o >> 1) & 0xf) << 8
        | 1 << 12
        | rs1 << 15
        | ((o >> 5) & 0x3f) << 25
        | ((o >> 12) & 1) << 31
}

const T0: u32 = 5;
const T1: u32 = 6;
const A0: u32 = 10;
const A1: u32 = 11;

/// The loop body shared by both benches (t0 counts down from a huge value).
fn alu_body() -> Vec<u32> {
    vec![
        i(0x13, A0, 0, A0, 3),
        r(A0, 4, A0, T0),
        r(A0, 0, A0, T0),
        i(0x13, T0, 0, T0, -1),
    ]
}

fn load(bus: &mut Bus, pa: u64, code: &[u32]) {
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    bus.ram.write_bytes(pa, &bytes).unwrap();
}

/// (a) 5 instructions per iteration, M-mode, no translation.
fn alu_machine() -> (Bus, Hart) {
    let mut bus = Bus::new(16 << 20);
    let mut code = alu_body();
    code.push(bne_back(T0, 4));
    load(&mut bus, RAM_BASE, &code);
    let mut hart = Hart::new(0);
    hart.pc = RAM_BASE;
    hart.x[T0 as usize] = u64::MAX / 2;
    (bus, hart)
}

/// (b) 7 instructions per iteration (ld, addi, sd + the ALU body), S-mode under Sv39: code at
/// VA 0x4000_0000 and data at VA 0x4000_1000, mapped by 4 KiB pages of a three-level table.
fn mem_machine() -> (Bus, Hart) {
    let mut bus = Bus::new(16 << 20);
    let mut code = vec![
        i(0x03, T1, 3, A1, 0),
        i(0x13, T1, 0, T1, 1),
        s(3, A1, T1, 0),
    ];
    code.extend(alu_body());
    code.push(bne_back(T0, 7));
    load(&mut bus, RAM_BASE, &code);
    // Page tables at RAM + 1 MiB: root, level 1, level 0.
    let (root, l1, l0) = (
        RAM_BASE + 0x10_0000,
        RAM_BASE + 0x10_1000,
        RAM_BASE + 0x10_2000,
    );
    let va: u64 = 0x4000_0000;
    let table = |pa: u64| (pa >> 12) << 10 | 1;
    let leaf = |pa: u64| (pa >> 12) << 10 | 0xcf; // V R W X A D
    bus.ram
        .write(root + 8 * ((va >> 30) & 0x1ff), 8, table(l1))
        .unwrap();
    bus.ram
        .write(l1 + 8 * ((va >> 21) & 0x1ff), 8, table(l0))
        .unwrap();
    bus.ram
        .write(l0 + 8 * ((va >> 12) & 0x1ff), 8, leaf(RAM_BASE))
        .unwrap();
    bus.ram
        .write(
            l0 + 8 * (((va >> 12) + 1) & 0x1ff),
            8,
            leaf(RAM_BASE + 0x1000),
        )
        .unwrap();
    let mut hart = Hart::new(0);
    hart.csr.satp = 8 << 60 | root >> 12;
    hart.privilege = Privilege::Supervisor;
    hart.pc = va;
    hart.x[T0 as usize] = u64::MAX / 2;
    hart.x[A1 as usize] = va + 0x1000;
    (bus, hart)
}

const STEPS: u64 = 10_000_000;

fn bench_hart(c: &mut Criterion) {
    if let Ok(path) = std::env::var("RVCOW_RAW_IMAGE") {
        run_raw_image(&path);
    }
    let mut g = c.benchmark_group("hart");
    g.throughput(Throughput::Elements(STEPS));
    g.sample_size(10);
    let (mut bus, mut hart) = alu_machine();
    g.bench_function("alu_loop_mips", |b| {
        b.iter(|| {
            let (_, n) = hart.run(&mut bus, STEPS);
            assert_eq!(n, STEPS);
        })
    });
    let (mut bus, mut hart) = mem_machine();
    g.bench_function("sv39_load_store_loop_mips", |b| {
        b.iter(|| {
            let (_, n) = hart.run(&mut bus, STEPS);
            assert_eq!(n, STEPS);
        })
    });
    // The same loops with the JIT tier on (the machine's default).
    for (name, (mut bus, mut hart)) in [
        ("jit_alu_loop_mips", alu_machine()),
        ("jit_sv39_load_store_loop_mips", mem_machine()),
    ] {
        hart.set_jit(true);
        g.bench_function(name, |b| {
            b.iter(|| {
                let (_, n) = hart.run(&mut bus, STEPS);
                assert_eq!(n, STEPS);
            })
        });
    }
    g.finish();
}

/// Run a raw image at 0x8000_0000 to power-off through the test finisher; print MIPS.
fn run_raw_image(path: &str) {
    let image = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut bus = Bus::new(64 << 20);
    bus.ram.write_bytes(RAM_BASE, &image).unwrap();
    let mut hart = Hart::new(0);
    hart.pc = RAM_BASE;
    let start = Instant::now();
    let mut total = 0u64;
    while bus.test_finisher.request.is_none() {
        let (_, n) = hart.run(&mut bus, 1 << 24);
        total += n;
        bus.event = false;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{path}: {total} instructions in {secs:.3} s = {:.0} MIPS ({:?})",
        total as f64 / secs / 1e6,
        bus.test_finisher.request
    );
}

criterion_group!(benches, bench_hart);
criterion_main!(benches);

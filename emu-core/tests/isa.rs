//! Guest-level ISA suite: small self-checking RV64GC programs (tests/isa/*.s), assembled at test
//! time, loaded into a bus, run on one hart; each reports through the SiFive test finisher.

mod support;

use emu_core::bus::Bus;
use emu_core::dev::test_finisher::FinisherRequest;
use emu_core::hart::{Hart, HartExit};

const PRELUDE: &str = include_str!("isa/prelude.s");

/// Run program `name` (prelude + source) to power-off; returns the finisher code (0 = pass).
fn run_program(name: &str, body: &str) -> u32 {
    let elf = support::assemble(name, &format!("{PRELUDE}\n{body}"));
    let mut bus = Bus::new(8 << 20);
    let mut hart = Hart::new(0);
    hart.pc = support::load_elf(&mut bus, &elf);
    for _ in 0..1000 {
        let (exit, _) = hart.run(&mut bus, 100_000);
        if let Some(FinisherRequest::PowerOff { code }) = bus.test_finisher.request.take() {
            return code;
        }
        bus.event = false;
        assert_ne!(
            exit,
            HartExit::Wfi,
            "{name}: hart waits in wfi at pc {:#x}",
            hart.pc
        );
    }
    panic!("{name}: no power-off after 100M steps, pc {:#x}", hart.pc);
}

macro_rules! isa_test {
    ($name:ident) => {
        #[test]
        fn $name() {
            let src = include_str!(concat!("isa/", stringify!($name), ".s"));
            let code = run_program(stringify!($name), src);
            assert_eq!(code, 0, "{} failed test case {}", stringify!($name), code);
        }
    };
}

isa_test!(integer);
isa_test!(atomic);
isa_test!(csr);
isa_test!(trap);
isa_test!(sv39);
isa_test!(sv39_roots);
isa_test!(fp);
isa_test!(smc);
isa_test!(loops);

/// `hart/loops.rs` runs loop iterations in batches: the same program run with budgets of
/// varying size (batches cut by budget ends) and one step at a time (a budget of 1 never
/// batches) must agree on the whole state at every stop: pc, registers, `minstret` and RAM;
/// and the program must pass its own checks.
fn loops_lockstep(name: &str, source: &str) {
    let elf = support::assemble(name, source);
    let ram = 2 << 20;
    let (mut bus_a, mut bus_b) = (Bus::new(ram), Bus::new(ram));
    let (mut a, mut b) = (Hart::new(0), Hart::new(0));
    a.pc = support::load_elf(&mut bus_a, &elf);
    b.pc = support::load_elf(&mut bus_b, &elf);
    let (mut mem_a, mut mem_b) = (vec![0u8; ram], vec![0u8; ram]);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut stops = 0;
    while bus_a.test_finisher.request.is_none() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        a.run(&mut bus_a, 1 + seed % 3000);
        bus_a.event = false;
        while b.instret() < a.instret() {
            b.run(&mut bus_b, 1);
            bus_b.event = false;
        }
        stops += 1;
        assert_eq!(
            (b.pc, b.x, b.instret()),
            (a.pc, a.x, a.instret()),
            "stop {stops}"
        );
        bus_a.ram.read_bytes(bus_a.ram.base(), &mut mem_a).unwrap();
        bus_b.ram.read_bytes(bus_b.ram.base(), &mut mem_b).unwrap();
        assert!(
            mem_a == mem_b,
            "RAM differs at stop {stops}, pc {:#x}",
            a.pc
        );
        assert!(stops < 100_000, "no power-off");
    }
    assert_eq!(
        bus_a.test_finisher.request.take(),
        Some(FinisherRequest::PowerOff { code: 0 })
    );
}

#[test]
fn loops_batched_and_stepped_agree() {
    let src = include_str!("isa/loops.s");
    loops_lockstep("loops_lockstep", &format!("{PRELUDE}\n{src}"));
}

/// The same in S-mode under Sv39 (gigapages, A and D left to the walker): batches start only
/// on a TLB hit, and every 4 KiB page of a stream needs its own.
#[test]
fn loops_batched_and_stepped_agree_under_sv39() {
    let setup = "
main:
    la t0, root
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    li t0, 0x1800
    csrc mstatus, t0
    li t0, 0x800            # MPP = S
    csrs mstatus, t0
    la t0, main_s
    csrw mepc, t0
    mret
    .align 12
root:
    .dword 0xcf             # VA 0 .. 1 GiB -> PA 0 (the finisher): V R W X A D
    .dword 0
    .dword 0x2000000f       # VA 2 GiB .. 3 GiB -> PA 2 GiB (RAM): V R W X
    .zero 4096 - 24
";
    let src = include_str!("isa/loops.s").replacen("main:", "main_s:", 1);
    loops_lockstep("loops_lockstep_sv39", &format!("{PRELUDE}\n{setup}\n{src}"));
}

//! A hart that keeps taking traps without retiring an instruction stops the run with
//! `ExitReason::Wedged`, naming the first trap and the one that repeats (issue 10); a guest
//! that takes many traps but handles them is not stopped.

mod support;

use std::time::{Duration, Instant};

use emu_core::hart::trap::cause;
use emu_core::hart::Privilege;
use emu_core::{ExitReason, Machine, MachineConfig, MemoryConsole, RunLimits};

const COMMON: &str = include_str!("guest/common.inc");

fn run(mode: u64) -> (ExitReason, Machine, Duration) {
    let src = format!(
        ".equ MODE, {mode}\n{COMMON}{}",
        include_str!("guest/wedge.s").replace(".include \"common.inc\"", "")
    );
    let elf = support::assemble(&format!("wedge{mode}"), &src);
    let mut m = Machine::new(MachineConfig {
        ram_size: 16 << 20,
        ..Default::default()
    })
    .unwrap();
    m.load_kernel(&elf, "wedge.elf").unwrap();
    m.set_console(Box::new(MemoryConsole::new()));
    let limits = RunLimits {
        max_insns: None,
        timeout: Some(Duration::from_secs(10)),
    };
    let start = Instant::now();
    let r = m.run_until(&limits, &mut |_| false);
    (r, m, start.elapsed())
}

#[test]
fn trap_vector_at_zero_stops_with_the_diagnostic() {
    let (r, _m, took) = run(0);
    let ExitReason::Wedged(w) = r else {
        panic!("expected a wedge, got {r:?}");
    };
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(w.hart, 0);
    assert_eq!(w.first.cause, cause::LOAD_ACCESS_FAULT);
    assert_eq!(w.first.tval, 0x1_0000_0000);
    assert_eq!(w.first.from, Privilege::Supervisor);
    assert_eq!(w.first.target, 0);
    assert_eq!(w.repeat.cause, cause::INSN_ACCESS_FAULT);
    assert_eq!((w.repeat.epc, w.repeat.tval), (0, 0));
    assert_eq!(w.repeat.to, Privilege::Supervisor);
    assert!(w.traps >= emu_core::machine::WEDGE_TRAPS);
    let text = w.to_string();
    for want in [
        "hart 0 wedged in S-mode",
        "load access fault at epc 0x8",
        "(tval 0x100000000)",
        "instruction access fault at 0x0",
        "stvec is 0",
    ] {
        assert!(text.contains(want), "{want:?} missing from: {text}");
    }
}

#[test]
fn handler_that_is_not_code_stops_with_the_diagnostic() {
    let (r, _m, took) = run(1);
    let ExitReason::Wedged(w) = r else {
        panic!("expected a wedge, got {r:?}");
    };
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(w.first.cause, cause::ECALL_FROM_M);
    assert_eq!(w.repeat.cause, cause::ILLEGAL_INSN);
    assert_eq!(
        w.repeat.epc, w.first.target,
        "the trap repeats at the handler"
    );
    let text = w.to_string();
    assert!(text.contains("hart 0 wedged in M-mode"), "{text}");
    assert!(text.contains("environment call from M-mode"), "{text}");
    assert!(text.contains("is not code"), "{text}");
}

#[test]
fn many_handled_traps_are_not_a_wedge() {
    let (r, m, _) = run(2);
    assert_eq!(r, ExitReason::PowerOff { code: 0 });
    assert!(m.hart(0).trap_log.chain <= 1);
}

//! The machine's debugger API (what emu-cli's gdb stub drives): breakpoints kept by the machine,
//! steps of one instruction, entering a trap handler as a step, watchpoints that stop before
//! the access, registers including CSRs, memory at virtual addresses, and the fast path once
//! the debugger detaches.

mod support;

use emu_core::hart::csr::num;
use emu_core::{
    DebugReg, DebugStop, ExitReason, HartAction, Machine, MachineConfig, RunLimits, WatchKind,
};

/// `_start` stores 5 at `var`, loads it back, then takes an ecall into `handler` and spins.
const PROGRAM: &str = "
.globl _start
_start:
    la t0, handler
    csrw mtvec, t0
    li a0, 5
    la a1, var
store:
    sw a0, 0(a1)
load:
    lw a2, 0(a1)
trap:
    ecall
spin:
    j spin
.align 2
handler:
    addi a3, a3, 1
    j handler
.data
.align 3
var: .word 0
";

fn machine() -> (Machine, goblin_syms::Syms) {
    let elf = support::assemble("debug", PROGRAM);
    let syms = goblin_syms::Syms::of(&elf);
    let mut m = Machine::new(MachineConfig {
        ram_size: 8 << 20,
        ..Default::default()
    })
    .unwrap();
    m.load_kernel(&elf, "debug.elf").unwrap();
    (m, syms)
}

fn run(m: &mut Machine, max: u64) -> ExitReason {
    let limits = RunLimits {
        max_insns: Some(max),
        timeout: None,
    };
    m.run_until(&limits, &mut |_| false)
}

/// Symbol addresses of the test program.
mod goblin_syms {
    pub struct Syms(Vec<(String, u64)>);
    impl Syms {
        pub fn of(elf: &[u8]) -> Syms {
            let e = goblin::elf::Elf::parse(elf).unwrap();
            Syms(
                e.syms
                    .iter()
                    .filter_map(|s| Some((e.strtab.get_at(s.st_name)?.to_string(), s.st_value)))
                    .collect(),
            )
        }
        pub fn get(&self, name: &str) -> u64 {
            self.0
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("no symbol {name}"))
                .1
        }
    }
}

#[test]
fn breakpoint_stops_before_the_instruction_and_step_runs_one() {
    let (mut m, s) = machine();
    m.add_breakpoint(s.get("store"), false);
    assert_eq!(
        run(&mut m, 1000),
        ExitReason::Debug(DebugStop::Breakpoint {
            hart: 0,
            hardware: false
        })
    );
    assert_eq!(m.read_register(0, DebugReg::Pc), Some(s.get("store")));
    let mut word = [0u8; 4];
    assert_eq!(m.read_virtual(0, s.get("var"), &mut word), 4);
    assert_eq!(u32::from_le_bytes(word), 0, "the store has not run");
    // Still at the breakpoint: running again stops at once.
    assert!(matches!(
        run(&mut m, 1000),
        ExitReason::Debug(DebugStop::Breakpoint { .. })
    ));
    // One step executes the store and nothing else.
    let before = m.read_register(0, DebugReg::Csr(num::MINSTRET)).unwrap();
    m.set_hart_actions(&[HartAction::Step]);
    assert_eq!(
        run(&mut m, 1000),
        ExitReason::Debug(DebugStop::Stepped { hart: 0 })
    );
    assert_eq!(m.read_register(0, DebugReg::Pc), Some(s.get("load")));
    assert_eq!(
        m.read_register(0, DebugReg::Csr(num::MINSTRET)),
        Some(before + 1)
    );
    m.read_virtual(0, s.get("var"), &mut word);
    assert_eq!(u32::from_le_bytes(word), 5);
}

#[test]
fn stepping_into_a_trap_stops_at_the_handlers_first_instruction() {
    let (mut m, s) = machine();
    m.add_breakpoint(s.get("trap"), true);
    assert_eq!(
        run(&mut m, 1000),
        ExitReason::Debug(DebugStop::Breakpoint {
            hart: 0,
            hardware: true
        })
    );
    assert!(m.remove_breakpoint(s.get("trap"), true));
    assert!(!m.remove_breakpoint(s.get("trap"), true));
    m.set_hart_actions(&[HartAction::Step]);
    assert_eq!(
        run(&mut m, 1000),
        ExitReason::Debug(DebugStop::Stepped { hart: 0 })
    );
    assert_eq!(m.read_register(0, DebugReg::Pc), Some(s.get("handler")));
    assert_eq!(m.read_register(0, DebugReg::Csr(num::MCAUSE)), Some(11));
    assert_eq!(
        m.read_register(0, DebugReg::X(13)),
        Some(0),
        "handler not run yet"
    );
    assert_eq!(m.read_register(0, DebugReg::Priv), Some(3));
}

#[test]
fn watchpoints_stop_before_the_matching_access() {
    let (mut m, s) = machine();
    let var = s.get("var");
    m.add_watchpoint(var, 4, WatchKind::Read);
    assert_eq!(
        run(&mut m, 1000),
        ExitReason::Debug(DebugStop::Watchpoint {
            hart: 0,
            kind: WatchKind::Read,
            addr: var
        }),
        "the store does not trigger a read watchpoint"
    );
    assert_eq!(m.read_register(0, DebugReg::Pc), Some(s.get("load")));

    let (mut m, s) = machine();
    m.add_watchpoint(var + 2, 1, WatchKind::Write);
    assert_eq!(
        run(&mut m, 1000),
        ExitReason::Debug(DebugStop::Watchpoint {
            hart: 0,
            kind: WatchKind::Write,
            addr: var + 2
        })
    );
    assert_eq!(m.read_register(0, DebugReg::Pc), Some(s.get("store")));
    assert!(m.remove_watchpoint(var + 2, 1, WatchKind::Write));
    assert!(m.add_watchpoint(var, 8, WatchKind::Access));
    assert!(!m.add_watchpoint(var, 0, WatchKind::Access));
    assert!(matches!(
        run(&mut m, 1000),
        ExitReason::Debug(DebugStop::Watchpoint {
            kind: WatchKind::Access,
            ..
        })
    ));
}

#[test]
fn registers_and_memory_are_written_as_a_debugger_asks() {
    let (mut m, s) = machine();
    m.add_breakpoint(s.get("store"), false);
    run(&mut m, 1000);
    assert!(m.write_register(0, DebugReg::X(10), 42));
    assert!(
        m.write_register(0, DebugReg::X(0), 42),
        "x0 writes are ignored"
    );
    assert_eq!(m.read_register(0, DebugReg::X(0)), Some(0));
    assert!(m.write_register(0, DebugReg::Csr(num::MSCRATCH), 0x1234));
    assert_eq!(
        m.read_register(0, DebugReg::Csr(num::MSCRATCH)),
        Some(0x1234)
    );
    assert!(m.write_register(0, DebugReg::Csr(num::FCSR), 0xff));
    assert_eq!(m.read_register(0, DebugReg::Csr(num::FFLAGS)), Some(0x1f));
    assert_eq!(m.read_register(0, DebugReg::Csr(0x7ff)), None);
    assert!(
        !m.write_register(0, DebugReg::Csr(num::MHARTID), 1),
        "read-only"
    );
    assert!(
        !m.write_register(0, DebugReg::Priv, 2),
        "reserved privilege"
    );
    assert_eq!(m.read_register(5, DebugReg::Pc), None, "no hart 5");
    // A write into code is seen by the next fetch: `lw a2` becomes `addi a2, zero, 7`.
    assert!(m.write_virtual(0, s.get("load"), &0x0070_0613u32.to_le_bytes()));
    m.remove_breakpoint(s.get("store"), false);
    m.add_breakpoint(s.get("trap"), false);
    run(&mut m, 1000);
    assert_eq!(m.read_register(0, DebugReg::X(12)), Some(7));
    let mut buf = [0u8; 4];
    assert_eq!(m.read_virtual(0, s.get("var"), &mut buf), 4);
    assert_eq!(u32::from_le_bytes(buf), 42);
    // Outside RAM and ROM: nothing is read, nothing written.
    assert_eq!(m.read_virtual(0, 0x1000_0000, &mut buf), 0);
    assert!(!m.write_virtual(0, 0x4000_0000, &buf));
    // The reset ROM reads.
    assert_eq!(m.read_virtual(0, 0x1000, &mut buf), 4);
}

#[test]
fn stopped_harts_stay_put_and_detach_restores_full_speed() {
    let (mut m, s) = machine();
    m.set_hart_actions(&[HartAction::Stop]);
    // The only hart is held: the run ends at the limit of wall time, not instructions.
    let limits = RunLimits {
        max_insns: None,
        timeout: Some(std::time::Duration::from_millis(50)),
    };
    assert_eq!(m.run_until(&limits, &mut |_| false), ExitReason::Timeout);
    assert_eq!(m.read_register(0, DebugReg::Pc), Some(0x1000));
    m.add_breakpoint(s.get("spin"), false);
    m.debug_detach();
    assert_eq!(run(&mut m, 10_000), ExitReason::InstructionLimit);
}

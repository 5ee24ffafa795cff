//! The JIT tier on a whole machine: the bundled kernel boots and runs `cowtest` on 2 harts with
//! a fixed seed, JIT off and on; the console bytes and the instructions retired per hart must be
//! the same (same seed, same bytes), and compiled code must have run.
mod common;
use common::{Guest, COMMAND_BUDGET};
use emu_core::MachineConfig;

fn boot_cowtest(jit: bool) -> (Vec<u8>, Vec<u64>, u64) {
    let mut g = Guest::boot_config(
        images::KERNEL_IMG,
        MachineConfig {
            harts: 2,
            seed: Some(7),
            jit,
            ..Default::default()
        },
    );
    let out = g.run_command("cowtest", COMMAND_BUDGET);
    assert!(
        out.contains("ALL COW TESTS PASSED"),
        "cowtest with jit {jit}:\n{out}"
    );
    let stats = g.machine.stats();
    let jit_insns = stats.jit.map_or(0, |j| j.insns);
    (g.console.output(), stats.instret, jit_insns)
}

#[test]
fn boot_and_cowtest_same_with_jit_on_and_off() {
    let (out_off, instret_off, _) = boot_cowtest(false);
    let (out_on, instret_on, jit_insns) = boot_cowtest(true);
    assert_eq!(
        String::from_utf8_lossy(&out_off),
        String::from_utf8_lossy(&out_on),
        "console output differs"
    );
    assert_eq!(instret_off, instret_on, "instructions per hart differ");
    let total: u64 = instret_on.iter().sum();
    assert!(
        jit_insns > total / 4,
        "compiled code ran {jit_insns} of {total} instructions"
    );
}

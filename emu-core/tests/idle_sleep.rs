//! `Machine::set_idle_sleep` (QEMU's `-icount sleep=on`): with it, a guest that waits in `wfi`
//! for a timer 0.3 s of guest time ahead takes at least 0.3 s of wall time (the machine sleeps
//! instead of skipping); without it the same wait is skipped. Guest time and instructions are
//! the same either way.

mod support;

use emu_core::{ExitReason, Machine, MachineConfig, MemoryConsole, RunLimits};
use std::time::{Duration, Instant};

/// Hart 0 arms mtimecmp 3,000,000 ticks (0.3 s) ahead, waits in wfi with interrupts masked
/// globally (wfi still wakes), checks mtime reached the deadline, prints `W` and powers off.
const WAIT_GUEST: &str = r#"
    .include "common.inc"
    .globl _start
_start:
    bnez a0, park
    li s1, CLINT_MTIMECMP
    li s2, CLINT_MTIME
    ld s3, 0(s2)
    li t1, 3000000
    add s3, s3, t1
    sd s3, 0(s1)
    li t0, 1 << 7
    csrs mie, t0
1:  wfi
    ld t0, 0(s2)
    bltu t0, s3, 1b
    li t0, 'W'
    PUTC t0
    PASS
park:
    wfi
    j park
"#;

fn run(sleep: bool) -> (Duration, Machine, MemoryConsole) {
    let src = WAIT_GUEST.replace(".include \"common.inc\"", include_str!("guest/common.inc"));
    let elf = support::assemble("idle-wait", &src);
    let mut m = Machine::new(MachineConfig {
        harts: 2,
        ram_size: 16 << 20,
        ..Default::default()
    })
    .unwrap();
    m.load_kernel(&elf, "idle-wait.elf").unwrap();
    let con = MemoryConsole::new();
    m.set_console(Box::new(con.clone()));
    m.set_idle_sleep(sleep);
    let limits = RunLimits {
        max_insns: Some(1_000_000),
        timeout: Some(Duration::from_secs(60)),
    };
    let start = Instant::now();
    let r = m.run_until(&limits, &mut |_| false);
    let took = start.elapsed();
    assert_eq!(
        r,
        ExitReason::PowerOff { code: 0 },
        "{}",
        con.output_string()
    );
    (took, m, con)
}

#[test]
fn idle_sleep_makes_a_timer_wait_take_its_wall_time() {
    let (slept, m_sleep, con_sleep) = run(true);
    let (skipped, m_skip, con_skip) = run(false);
    assert_eq!(con_sleep.output_string(), "W");
    assert_eq!(con_skip.output_string(), "W");
    assert!(
        slept >= Duration::from_millis(295),
        "the 0.3 s wait was slept: {slept:?}"
    );
    for m in [&m_sleep, &m_skip] {
        let s = m.stats();
        assert!(s.guest_ticks >= 3_000_000, "{}", s.guest_ticks);
        assert!(
            s.instret[0] < 1_000,
            "waiting costs no instructions: {:?}",
            s.instret
        );
    }
    eprintln!("0.3 s guest timer wait: {slept:?} with idle sleep, {skipped:?} skipped");
}

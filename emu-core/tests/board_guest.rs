//! Guest-level board tests: small assembly programs (tests/guest/*.s) run on the whole machine
//! — reset ROM, UART polling and interrupts through the PLIC, CLINT and Sstc timers in M and
//! S mode, virtio-blk on a temporary image through both transports, several harts, the idle
//! clock skip, and determinism.

mod support;

use emu_core::{Disk, DiskMode, ExitReason, Machine, MachineConfig, MemoryConsole, RunLimits};
use std::time::Duration;

const COMMON: &str = include_str!("guest/common.inc");

/// Assemble guest program `name` with `defs` (`.equ` lines) and the common definitions.
fn program(name: &str, source: &str, defs: &[(&str, u64)]) -> Vec<u8> {
    let mut src = String::new();
    for (k, v) in defs {
        src += &format!(".equ {k}, {v}\n");
    }
    src += COMMON;
    src += &source.replace(".include \"common.inc\"", "");
    let tag: String = defs.iter().map(|(k, v)| format!("-{k}{v}")).collect();
    support::assemble(&format!("{name}{tag}"), &src)
}

fn machine(elf: &[u8], config: MachineConfig) -> (Machine, MemoryConsole) {
    let mut m = Machine::new(config).unwrap();
    m.load_kernel(elf, "guest.elf").unwrap();
    let con = MemoryConsole::new();
    m.set_console(Box::new(con.clone()));
    (m, con)
}

fn limits() -> RunLimits {
    RunLimits {
        max_insns: Some(50_000_000),
        timeout: Some(Duration::from_secs(60)),
    }
}

fn small(harts: usize) -> MachineConfig {
    MachineConfig {
        harts,
        ram_size: 16 << 20,
        ..Default::default()
    }
}

#[test]
fn hello_on_one_and_several_harts() {
    for harts in [1usize, 3, 8] {
        let elf = program(
            "hello",
            include_str!("guest/hello.s"),
            &[("HARTS", harts as u64)],
        );
        let (mut m, con) = machine(&elf, small(harts));
        let r = m.run_until(&limits(), &mut |_| false);
        assert_eq!(
            r,
            ExitReason::PowerOff { code: 0 },
            "{}",
            con.output_string()
        );
        assert_eq!(
            con.output_string(),
            format!("hello from the board, harts: {harts}")
        );
        let stats = m.stats();
        assert_eq!(stats.instret.len(), harts);
        assert!(stats.instret.iter().all(|&n| n > 0));
    }
}

#[test]
fn uart_rx_and_tx_interrupts_through_the_plic() {
    let elf = program("uart_irq", include_str!("guest/uart_irq.s"), &[]);
    let (mut m, con) = machine(&elf, small(1));
    // Input typed before the guest set up the UART would be dropped by its FIFO reset.
    let r = m.run_until(&limits(), &mut |_| con.output_string() == "ready\n");
    assert_eq!(r, ExitReason::Stopped);
    con.push_input(b"HAL");
    let r = m.run_until(&limits(), &mut |_| con.output_string().ends_with("IBM"));
    assert_eq!(r, ExitReason::Stopped);
    assert_eq!(con.output_string(), "ready\nIBM");
    // The guest now sleeps in wfi; input arriving later wakes it.
    con.push_input(b"Ur");
    let r = m.run_until(&limits(), &mut |_| con.output_string().ends_with("Vs"));
    assert_eq!(r, ExitReason::Stopped);
    con.push_input(b"q");
    let r = m.run_until(&limits(), &mut |_| false);
    assert_eq!(r, ExitReason::PowerOff { code: 0 });
    assert_eq!(con.output_string(), "ready\nIBMVs");
}

#[test]
fn clint_timer_in_m_mode_with_idle_skip() {
    let elf = program("timer_m", include_str!("guest/timer_m.s"), &[]);
    let (mut m, con) = machine(&elf, small(1));
    let r = m.run_until(&limits(), &mut |_| false);
    assert_eq!(
        r,
        ExitReason::PowerOff { code: 0 },
        "{}",
        con.output_string()
    );
    assert_eq!(con.output_string(), "TTT\n");
    let s = m.stats();
    assert!(s.guest_ticks >= 30_000);
    // Waiting cost no instructions: time jumped to each deadline.
    assert!(s.instret[0] < 3_000, "retired {}", s.instret[0]);
}

#[test]
fn supervisor_timer_via_sstc_and_via_clint_forwarding() {
    for sstc in [1, 0] {
        let elf = program(
            "timer_s",
            include_str!("guest/timer_s.s"),
            &[("SSTC", sstc)],
        );
        let (mut m, con) = machine(&elf, small(1));
        let r = m.run_until(&limits(), &mut |_| false);
        assert_eq!(
            r,
            ExitReason::PowerOff { code: 0 },
            "sstc={sstc}: {}",
            con.output_string()
        );
        assert_eq!(con.output_string(), "SSS\n");
        assert!(m.stats().guest_ticks >= 30_000);
    }
}

#[test]
fn virtio_blk_round_trip_both_transports() {
    for legacy in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("guest.img");
        let mut image = vec![0u8; 16 * 512];
        image[..8].copy_from_slice(b"DISKSIG!");
        std::fs::write(&path, &image).unwrap();
        let elf = program(
            "virtio_blk",
            include_str!("guest/virtio_blk.s"),
            &[("LEGACY", legacy as u64)],
        );
        let (mut m, con) = machine(
            &elf,
            MachineConfig {
                virtio_legacy: legacy,
                ..small(1)
            },
        );
        m.attach_disk(Disk::open(&path, DiskMode::WriteThrough).unwrap());
        let r = m.run_until(&limits(), &mut |_| false);
        assert_eq!(
            r,
            ExitReason::PowerOff { code: 0 },
            "legacy={legacy}: {}",
            con.output_string()
        );
        assert_eq!(con.output_string(), "DISKSIG!rvcow-virtio-blk\n");
        let after = std::fs::read(&path).unwrap();
        let expect: Vec<u8> = (0..512u32).map(|i| (i * 3) as u8).collect();
        assert_eq!(
            &after[2 * 512..3 * 512],
            &expect[..],
            "written through to the file"
        );
    }
}

#[test]
fn same_seed_same_output_and_limits() {
    let run = |seed: Option<u64>| {
        let elf = program("hello", include_str!("guest/hello.s"), &[("HARTS", 4)]);
        let (mut m, con) = machine(&elf, MachineConfig { seed, ..small(4) });
        let r = m.run_until(&limits(), &mut |_| false);
        (r, con.output(), m.stats().instret, m.stats().guest_ticks)
    };
    let a = run(Some(7));
    assert_eq!(a, run(Some(7)));
    assert_eq!(a.0, ExitReason::PowerOff { code: 0 });
    assert_eq!(run(None), run(None));

    // An instruction limit ends a guest that never finishes.
    let elf = program("spin", ".globl _start\n_start: j _start\n", &[]);
    let (mut m, _) = machine(&elf, small(2));
    let r = m.run_until(
        &RunLimits {
            max_insns: Some(100_000),
            timeout: None,
        },
        &mut |_| false,
    );
    assert_eq!(r, ExitReason::InstructionLimit);
    assert_eq!(m.stats().instret.iter().sum::<u64>(), 100_000);
    let r = m.run_until(
        &RunLimits {
            max_insns: None,
            timeout: Some(Duration::from_millis(50)),
        },
        &mut |_| false,
    );
    assert_eq!(r, ExitReason::Timeout);
}

#[test]
fn reset_request_reboots_to_power_on_state() {
    // Counts boots in RAM outside the image: a reset zeroes RAM (as QEMU's), so every boot
    // prints 1 and asks for a reset again; were RAM kept, the second boot would print 2 and
    // pass. Hart 1 waits in wfi and must be back at the reset ROM after each reboot.
    let src = "
.globl _start
_start:
    bnez a0, 2f
    li t0, 0x80200000
    ld t1, 0(t0)
    addi t1, t1, 1
    sd t1, 0(t0)
    addi t2, t1, '0'
    PUTC t2
    li t3, 2
    bge t1, t3, 1f
    li t0, FINISHER
    li t1, 0x7777
    sw t1, 0(t0)
1:  PASS
2:  wfi
    j 2b
";
    let elf = program("reset", src, &[]);
    // --no-reboot: the request ends the run; Machine::reset reboots by hand.
    let (mut m, con) = machine(
        &elf,
        MachineConfig {
            no_reboot: true,
            ..small(2)
        },
    );
    assert_eq!(m.run_until(&limits(), &mut |_| false), ExitReason::Reset);
    let before = m.stats();
    m.reset().unwrap();
    // The cache statistics span the reboot (the harts' own counters restart).
    let after = m.stats();
    assert!(before.decode_cache_hit_rate.is_some_and(|r| r < 1.0));
    assert_eq!(after.decode_cache_hit_rate, before.decode_cache_hit_rate);
    assert_eq!(after.tlb_hit_rate, before.tlb_hit_rate);
    assert_eq!(m.hart(0).pc, 0x1000);
    assert_eq!(m.hart(1).pc, 0x1000);
    assert_eq!(m.run_until(&limits(), &mut |_| false), ExitReason::Reset);
    assert_eq!(con.output_string(), "11");
    assert_eq!(m.reboots(), 0);
    // Default: the machine reboots by itself and runs on.
    let (mut m, con) = machine(&elf, small(2));
    let r = m.run_until(&limits(), &mut |_| con.output_string().len() >= 4);
    assert_eq!(r, ExitReason::Stopped);
    assert_eq!(con.output_string(), "1111");
    assert!(m.reboots() >= 3, "{}", m.reboots());
}

#[test]
fn host_clock_follows_wall_time() {
    let elf = program("timer_m", include_str!("guest/timer_m.s"), &[]);
    let (mut m, con) = machine(
        &elf,
        MachineConfig {
            clock: emu_core::ClockMode::Host,
            ..small(1)
        },
    );
    let r = m.run_until(&limits(), &mut |_| false);
    assert_eq!(r, ExitReason::PowerOff { code: 0 });
    assert_eq!(con.output_string(), "TTT\n");
    // Three 10000-tick (1 ms) timer periods of wall time passed.
    let s = m.stats();
    assert!(s.guest_ticks >= 30_000);
    assert!(s.host_seconds >= 0.003, "{}", s.host_seconds);
}

#[test]
fn supervisor_external_interrupt_on_hart1_context3() {
    let elf = program("plic_s_hart1", include_str!("guest/plic_s_hart1.s"), &[]);
    let (mut m, con) = machine(&elf, small(2));
    let r = m.run_until(&limits(), &mut |_| con.output_string() == "R");
    assert_eq!(r, ExitReason::Stopped);
    // Hart 1 enabled only its S context: the M contexts and hart 0's see nothing.
    con.push_input(b"x");
    let r = m.run_until(&limits(), &mut |_| false);
    assert_eq!(
        r,
        ExitReason::PowerOff { code: 0 },
        "{}",
        con.output_string()
    );
    assert_eq!(con.output_string(), "RX");
    assert!(m.is_waiting(0));
}

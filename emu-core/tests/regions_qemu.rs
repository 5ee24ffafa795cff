//! The memory map against QEMU: tests/guest/regions.s reads (and where safe writes) every
//! region of the `virt` map at 1, 2, 4 and 8 bytes and prints each value or trap (mcause,
//! mtval) over the UART. It runs on `qemu-system-riscv64 -machine virt -bios none` (QEMU 7.2)
//! and on our machine, with the legacy virtio-mmio transport (QEMU's default) and with the
//! modern one (`-global virtio-mmio.force-legacy=false`); the outputs must be identical byte
//! for byte.
//!
//! The RTC runs from the same fixed epoch on both (`-rtc base=2024-01-01T00:00:00` for QEMU,
//! our virtual-clock epoch), and the guest prints only the bits of moving clocks that stay
//! put during a run. Needs `qemu-system-riscv64` (Debian package qemu-system-misc, installed
//! by `.ci/run`; the test is skipped with a message when it is missing) and the RISC-V binutils.

mod support;

use support::qemu::{qemu_present, run_qemu};

use std::time::Duration;

use emu_core::{ExitReason, Machine, MachineConfig, MemoryConsole, RunLimits};

const COMMON: &str = include_str!("guest/common.inc");
const REGIONS: &str = include_str!("guest/regions.s");

fn run_ours(elf: &[u8], legacy: bool) -> String {
    let mut m = Machine::new(MachineConfig {
        virtio_legacy: legacy,
        ..MachineConfig::default()
    })
    .unwrap();
    m.load_kernel(elf, "regions.elf").unwrap();
    let con = MemoryConsole::new();
    m.set_console(Box::new(con.clone()));
    let limits = RunLimits {
        max_insns: Some(100_000_000),
        timeout: Some(Duration::from_secs(30)),
    };
    let r = m.run_until(&limits, &mut |_| false);
    let text = con.output_string();
    assert_eq!(r, ExitReason::PowerOff { code: 0 }, "output:\n{text}");
    text
}

/// The first differing line of the two outputs, with context, for the failure message.
fn first_difference(qemu: &str, ours: &str) -> String {
    let (q, o): (Vec<&str>, Vec<&str>) = (qemu.lines().collect(), ours.lines().collect());
    let i = (0..q.len().max(o.len()))
        .find(|&i| q.get(i) != o.get(i))
        .unwrap_or(0);
    let mut msg = format!("first difference at line {}:\n", i + 1);
    msg += &format!(
        "  qemu: {}\n  ours: {}\n",
        q.get(i).unwrap_or(&"<end>"),
        o.get(i).unwrap_or(&"<end>")
    );
    let diffs = (0..q.len().max(o.len()))
        .filter(|&i| q.get(i) != o.get(i))
        .count();
    msg += &format!("{diffs} lines differ in all");
    msg
}

#[test]
fn memory_map_matches_qemu_byte_for_byte() {
    if !qemu_present() {
        eprintln!(
            "SKIPPED memory_map_matches_qemu_byte_for_byte: qemu-system-riscv64 not found \
             (apt-get install qemu-system-misc; .ci/run installs it)"
        );
        return;
    }
    let src = format!("{COMMON}{}", REGIONS.replace(".include \"common.inc\"", ""));
    let elf = support::assemble("regions", &src);
    for legacy in [true, false] {
        let extra: &[&str] = if legacy {
            &["-rtc", "base=2024-01-01T00:00:00"]
        } else {
            &[
                "-rtc",
                "base=2024-01-01T00:00:00",
                "-global",
                "virtio-mmio.force-legacy=false",
            ]
        };
        let qemu = run_qemu("regions", &elf, extra);
        let ours = run_ours(&elf, legacy);
        assert!(qemu.ends_with("done\n"), "QEMU output incomplete:\n{qemu}");
        assert!(
            qemu == ours,
            "virtio legacy={legacy}: {}\n--- ours:\n{ours}",
            first_difference(&qemu, &ours)
        );
    }
}

//! Real firmware on the board, as users bring it to QEMU's `virt`: Debian's OpenSBI
//! (`opensbi`: fw_jump and fw_dynamic, ELF and raw) entering Debian's S-mode U-Boot
//! (`u-boot-qemu`: qemu-riscv64_smode/u-boot.bin) loaded as the kernel — OpenSBI's banner,
//! U-Boot's `=>` prompt on 1 and 3 harts, `poweroff` ending the run with code 0 (through the
//! SiFive test device the device tree announces), and `reset` rebooting the whole machine
//! into a second banner. `.ci/run` installs both packages.

use std::path::Path;
use std::time::Duration;

use emu_core::{
    BootFile, BootImages, ExitReason, Machine, MachineConfig, MemoryConsole, RunLimits,
};

const OPENSBI: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic";
const UBOOT: &str = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin";
/// Instructions one wait may take (U-Boot reaches its prompt in about 10⁸ on one hart).
const BUDGET: u64 = 3_000_000_000;

fn file(path: &str) -> BootFile {
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        panic!("{path}: {e}; install Debian's opensbi and u-boot-qemu packages (see .ci/run)")
    });
    BootFile::new(path, bytes)
}

struct Board {
    m: Machine,
    con: MemoryConsole,
    seen: usize,
}

impl Board {
    fn new(bios: &str, harts: usize) -> Board {
        let mut m = Machine::new(MachineConfig {
            harts,
            ..Default::default()
        })
        .unwrap();
        m.boot(BootImages {
            bios: Some(file(&format!("{OPENSBI}/{bios}"))),
            kernel: Some(file(UBOOT)),
            ..Default::default()
        })
        .unwrap();
        let con = MemoryConsole::new();
        m.set_console(Box::new(con.clone()));
        Board { m, con, seen: 0 }
    }

    /// Run until `pattern` appears in the output after what was seen; returns how the run
    /// stopped and the new output.
    fn wait_for(&mut self, pattern: &str) -> (ExitReason, String) {
        let start = self.seen;
        let already: u64 = self.m.stats().instret.iter().sum();
        let limits = RunLimits {
            max_insns: Some(already + BUDGET),
            timeout: Some(Duration::from_secs(300)),
        };
        let con = self.con.clone();
        let r = self.m.run_until(&limits, &mut |_| {
            con.output_string()
                .get(start..)
                .is_some_and(|s| s.contains(pattern))
        });
        let out = self.con.output_string();
        let fresh = out[start..].to_string();
        self.seen = match fresh.find(pattern) {
            Some(i) => start + i + pattern.len(),
            None => out.len(),
        };
        (r, fresh)
    }

    /// Wait for U-Boot's autoboot countdown, stop it with a key, and wait for the prompt.
    fn stop_autoboot(&mut self) -> String {
        let (r, mut out) = self.wait_for("Hit any key to stop autoboot");
        assert_eq!(r, ExitReason::Stopped, "no autoboot countdown:\n{out}");
        self.con.push_input(b"\n");
        let (r, more) = self.wait_for("=> ");
        out += &more;
        assert_eq!(r, ExitReason::Stopped, "no U-Boot prompt:\n{out}");
        out
    }
}

#[test]
fn uboot_prompt_after_opensbi_on_one_and_three_harts() {
    assert!(
        Path::new(OPENSBI).is_dir(),
        "install Debian's opensbi (see .ci/run)"
    );
    for (bios, harts) in [
        ("fw_jump.elf", 1),
        ("fw_dynamic.elf", 3),
        ("fw_jump.bin", 3),
        ("fw_dynamic.bin", 1),
    ] {
        let mut b = Board::new(bios, harts);
        let out = b.stop_autoboot();
        let ctx = format!("{bios} on {harts} hart(s):\n{out}");
        assert!(out.contains("OpenSBI v"), "{ctx}");
        assert!(
            out.contains("Domain0 Next Address      : 0x0000000080200000"),
            "{ctx}"
        );
        assert!(out.contains("Domain0 Next Mode         : S-mode"), "{ctx}");
        let harts_line = (0..harts)
            .map(|h| format!("{h}*"))
            .collect::<Vec<_>>()
            .join(",");
        let line = out.lines().find(|l| l.starts_with("Domain0 HARTs"));
        assert_eq!(
            line.map(|l| l.trim_end().rsplit(' ').next().unwrap_or("")),
            Some(harts_line.as_str()),
            "{ctx}"
        );
        assert!(out.contains("U-Boot 20"), "{ctx}");
        assert!(out.contains("Model: riscv-virtio,qemu"), "{ctx}");
        assert!(out.contains("DRAM:  128 MiB"), "{ctx}");
        // U-Boot runs commands at the prompt.
        b.con.push_input(b"printenv fdtcontroladdr\n");
        let (r, out) = b.wait_for("fdtcontroladdr=");
        assert_eq!(r, ExitReason::Stopped, "{out}");
    }
}

#[test]
fn uboot_poweroff_ends_the_run_with_code_zero() {
    let mut b = Board::new("fw_dynamic.elf", 3);
    b.stop_autoboot();
    b.con.push_input(b"poweroff\n");
    let (r, out) = b.wait_for("never printed");
    assert_eq!(r, ExitReason::PowerOff { code: 0 }, "{out}");
    assert!(out.contains("poweroff"), "{out}");
}

#[test]
fn uboot_reset_reboots_into_a_second_banner() {
    let mut b = Board::new("fw_jump.elf", 2);
    let first = b.stop_autoboot();
    assert_eq!(first.matches("OpenSBI v").count(), 1);
    // Leave a mark in RAM that a power-on reset must clear.
    b.con.push_input(b"mw.l 0x84000000 0x12345678\n");
    b.wait_for("=> ");
    b.con.push_input(b"reset\n");
    let (r, out) = b.wait_for("OpenSBI v");
    assert_eq!(r, ExitReason::Stopped, "no second banner:\n{out}");
    assert_eq!(b.m.reboots(), 1);
    let out = b.stop_autoboot();
    assert!(out.contains("U-Boot 20"), "{out}");
    b.con.push_input(b"md.l 0x84000000 1\n");
    let (_, out) = b.wait_for("=> ");
    assert!(
        out.contains("84000000: 00000000"),
        "RAM kept across reset:\n{out}"
    );
    // With no_reboot the same request ends the run.
    let mut m = Machine::new(MachineConfig {
        no_reboot: true,
        ..Default::default()
    })
    .unwrap();
    m.boot(BootImages {
        bios: Some(file(&format!("{OPENSBI}/fw_jump.elf"))),
        kernel: Some(file(UBOOT)),
        ..Default::default()
    })
    .unwrap();
    let con = MemoryConsole::new();
    m.set_console(Box::new(con.clone()));
    let mut b = Board { m, con, seen: 0 };
    b.stop_autoboot();
    b.con.push_input(b"reset\n");
    let (r, out) = b.wait_for("never printed");
    assert_eq!(r, ExitReason::Reset, "{out}");
}

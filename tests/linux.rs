//! Opt-in (the kernel is not fetched by `cargo test`): a riscv64 Linux `Image` with a busybox
//! initramfs, behind Debian's OpenSBI, boots to its shell on 3 harts, runs a command, reboots
//! through SBI system reset into a second boot, and powers off with code 0. The README's
//! "Booting Linux" says how to get the two files; then
//!
//! ```text
//! RVCOW_LINUX_IMAGE=vmlinux-6.12.117+deb13-riscv64 RVCOW_LINUX_INITRD=initramfs.cpio.gz \
//!     cargo test --test linux -- --ignored --nocapture
//! ```

use std::time::Duration;

use emu_core::{
    BootFile, BootImages, ExitReason, Machine, MachineConfig, MemoryConsole, RunLimits,
};

const FW_JUMP: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";

fn file(var: &str) -> BootFile {
    let path = std::env::var(var)
        .unwrap_or_else(|_| panic!("set {var} (see the README's \"Booting Linux\")"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    BootFile::new(path, bytes)
}

#[test]
#[ignore = "needs a riscv64 Linux Image and initramfs: RVCOW_LINUX_IMAGE, RVCOW_LINUX_INITRD"]
fn linux_boots_to_its_shell_reboots_and_powers_off() {
    let mut m = Machine::new(MachineConfig {
        harts: 3,
        ram_size: 256 << 20,
        ..Default::default()
    })
    .unwrap();
    let fw = std::fs::read(FW_JUMP).expect("install Debian's opensbi");
    m.boot(BootImages {
        bios: Some(BootFile::new(FW_JUMP, fw)),
        kernel: Some(file("RVCOW_LINUX_IMAGE")),
        initrd: Some(file("RVCOW_LINUX_INITRD")),
        append: Some("console=ttyS0".into()),
    })
    .unwrap();
    let con = MemoryConsole::new();
    m.set_console(Box::new(con.clone()));
    let mut seen = 0;
    let mut wait_for = |m: &mut Machine, pattern: &str| {
        let limits = RunLimits {
            max_insns: Some(m.stats().instret.iter().sum::<u64>() + 20_000_000_000),
            timeout: Some(Duration::from_secs(600)),
        };
        let c = con.clone();
        let start = seen;
        let r = m.run_until(&limits, &mut |_| {
            c.output_string()
                .get(start..)
                .is_some_and(|s| s.contains(pattern))
        });
        let out = con.output_string();
        seen = out.len();
        (r, out[start..].to_string())
    };
    let (r, out) = wait_for(&mut m, "~ # ");
    assert_eq!(r, ExitReason::Stopped, "no shell:\n{out}");
    assert!(
        out.contains("Linux version") && out.contains("smp: Brought up 1 node, 3 CPUs"),
        "{out}"
    );
    assert!(out.contains("Run /init as init process"), "{out}");
    con.push_input(b"cat /proc/cmdline; grep -c ^processor /proc/cpuinfo\n");
    let (_, out) = wait_for(&mut m, "~ # ");
    assert!(
        out.contains("console=ttyS0") && out.contains("\n3\r\n"),
        "{out:?}"
    );
    con.push_input(b"reboot -f\n");
    let (r, out) = wait_for(&mut m, "~ # ");
    assert_eq!(r, ExitReason::Stopped, "no second boot:\n{out}");
    assert_eq!(m.reboots(), 1);
    assert!(
        out.contains("OpenSBI v") && out.contains("Linux version"),
        "{out}"
    );
    con.push_input(b"poweroff -f\n");
    let (r, out) = wait_for(&mut m, "never printed");
    assert_eq!(r, ExitReason::PowerOff { code: 0 }, "{out}");
}

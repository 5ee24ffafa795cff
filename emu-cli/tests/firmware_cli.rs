//! `emu-cli boot` with firmware, as QEMU's `-bios`/`-kernel`/`-initrd`/`-append`/`-no-reboot`:
//! Debian's OpenSBI entering Debian's S-mode U-Boot (both installed by .ci/run), `poweroff`
//! ending the run with status 0, `--no-reboot`, and the one-line errors for images that cannot
//! boot (overlapping images, an initrd that does not fit, a Linux Image without firmware).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::CommandCargoExt;

const FW_DYNAMIC: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf";
const FW_JUMP: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const UBOOT: &str = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin";

fn emu_cli(args: &[&str]) -> Output {
    for f in [FW_DYNAMIC, UBOOT] {
        assert!(
            Path::new(f).exists(),
            "{f} missing: install Debian's opensbi and u-boot-qemu (see .ci/run)"
        );
    }
    Command::cargo_bin("emu-cli")
        .unwrap()
        .stdin(Stdio::null())
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// An error run: status 1, one line on stderr naming `file` and containing `fix`.
fn assert_error(args: &[&str], file: &str, fix: &str) {
    let o = emu_cli(args);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(file) && err.contains(fix), "{err}");
}

#[test]
fn opensbi_then_uboot_powers_off_with_status_0() {
    // The first key stops U-Boot's autoboot countdown; the second text is typed at its prompt.
    let o = emu_cli(&[
        "boot",
        UBOOT,
        "--bios",
        FW_DYNAMIC,
        "--smp",
        "3",
        "--send",
        "\\n",
        "--send",
        "poweroff\\n",
        "--timeout",
        "120",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("OpenSBI v") && out.contains("U-Boot 20"),
        "{out}"
    );
    assert!(out.contains("=> poweroff"), "{out}");
    assert!(err.contains("guest powered off (pass)"), "{err}");
}

#[test]
fn no_reboot_turns_a_reset_into_an_exit() {
    let o = emu_cli(&[
        "boot",
        UBOOT,
        "--bios",
        FW_JUMP,
        "--smp",
        "1",
        "--no-reboot",
        "--send",
        "\\n",
        "--send",
        "reset\\n",
        "--timeout",
        "120",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert_eq!(out.matches("OpenSBI v").count(), 1, "{out}");
    assert!(err.contains("reset (--no-reboot"), "{err}");
}

#[test]
fn images_that_cannot_boot_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    // The bundled kernel is an M-mode ELF at 0x8000_0000: under firmware it overlaps it.
    let xv6 = path("kernel.img");
    std::fs::write(&xv6, images::KERNEL_IMG).unwrap();
    assert_error(
        &["boot", &xv6, "--bios", FW_JUMP],
        "kernel.img",
        "without --bios",
    );
    // A Linux Image for S-mode without firmware.
    let mut image = vec![0u8; 4096];
    image[8..16].copy_from_slice(&0x20_0000u64.to_le_bytes());
    image[0x38..0x3c].copy_from_slice(b"RSC\x05");
    let linux = path("Image");
    std::fs::write(&linux, &image).unwrap();
    assert_error(&["boot", &linux], "Image", "--bios");
    // An initrd that does not fit above the kernel in 16 MiB.
    let rd = path("big.cpio");
    std::fs::write(&rd, vec![0u8; 12 << 20]).unwrap();
    assert_error(
        &[
            "boot", UBOOT, "--bios", FW_JUMP, "--initrd", &rd, "--mem", "16M",
        ],
        "big.cpio",
        "--mem",
    );
    // Missing firmware and initrd files.
    assert_error(
        &["boot", UBOOT, "--bios", "/nonexistent/fw.elf"],
        "/nonexistent/fw.elf",
        "no such file",
    );
    assert_error(
        &[
            "boot",
            UBOOT,
            "--bios",
            FW_JUMP,
            "--initrd",
            "/nonexistent/rd",
        ],
        "/nonexistent/rd",
        "no such file",
    );
}

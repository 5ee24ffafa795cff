//! `emu-cli qemu`: xv6's qemu-system-riscv64 command line boots the bundled kernel to the shell
//! (through the shipped wrapper script, as `make qemu QEMU=…` runs it), `-help` and `-version`
//! answer as Makefiles expect, unsupported options are refused naming them.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wrapper() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("qemu-system-riscv64")
}

fn qemu(args: &[&str]) -> Command {
    let mut c = Command::new(wrapper());
    c.env("RVCOW_EMU_CLI", env!("CARGO_BIN_EXE_emu-cli"))
        .args(args)
        .stdin(Stdio::null());
    c
}

#[test]
fn xv6_command_line_boots_to_the_shell_through_the_wrapper() {
    let dir = tempfile::tempdir().unwrap();
    let fs = dir.path().join("fs.img");
    std::fs::write(&fs, images::FS_IMG).unwrap();
    let kernel = images::kernel_path().display().to_string();
    let drive = format!("file={},if=none,format=raw,id=x0", fs.display());
    let mut child = qemu(&[
        "-machine",
        "virt",
        "-bios",
        "none",
        "-kernel",
        &kernel,
        "-m",
        "128M",
        "-smp",
        "3",
        "-nographic",
        "-global",
        "virtio-mmio.force-legacy=false",
        "-drive",
        &drive,
        "-device",
        "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let start = Instant::now();
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("$ ") {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no prompt: {}",
            String::from_utf8_lossy(&seen)
        );
        if let Ok(bytes) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.extend(bytes);
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("hart 2 starting"), "-smp 3: {text}");
    assert!(text.contains("init: starting sh"), "{text}");
}

#[test]
fn help_lists_gdb_for_xv6s_makefile_and_version_answers() {
    // xv6's Makefile: `$(QEMU) -help | grep -q '^-gdb'` decides between -gdb and -s -p.
    let o = qemu(&["-help"]).output().unwrap();
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.lines().any(|l| l.starts_with("-gdb")), "{help}");
    let o = qemu(&["-version"]).output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("QEMU emulator version"));
    let o = Command::new(env!("CARGO_BIN_EXE_emu-cli"))
        .args(["qemu", "--print-wrapper"])
        .output()
        .unwrap();
    let script = String::from_utf8_lossy(&o.stdout);
    assert!(script.starts_with("#!/bin/sh"), "{script}");
    assert!(script.contains(env!("CARGO_BIN_EXE_emu-cli")), "{script}");
}

#[test]
fn unsupported_options_are_refused_with_one_line() {
    let o = qemu(&[
        "-machine",
        "virt",
        "-bios",
        "none",
        "-kernel",
        "k",
        "-netdev",
        "user,id=n0",
    ])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("-netdev"), "{err}");
    // A missing kernel file is boot's one-line error, naming the file.
    let o = qemu(&[
        "-machine",
        "virt",
        "-bios",
        "none",
        "-kernel",
        "/nonexistent/kernel",
    ])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/kernel"));
}

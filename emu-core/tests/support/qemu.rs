//! Running a bare-metal guest on `qemu-system-riscv64 -machine virt -bios none -m 128M` (QEMU
//! 7.2; Debian package qemu-system-misc, installed by `.ci/run`) and collecting what it prints
//! on the UART — the referee side of the differential tests.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `qemu-system-riscv64` can be run here.
pub fn qemu_present() -> bool {
    Command::new("qemu-system-riscv64")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run the ELF `elf` (named `name` in messages) as QEMU's `-kernel` with `extra` arguments
/// added, wait up to 30 s of host time for the guest to power off, and return its console
/// output. Panics (a test failure) when QEMU cannot be started, fails, or does not finish.
pub fn run_qemu(name: &str, elf: &[u8], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.elf"));
    std::fs::write(&path, elf).unwrap();
    let mut child = Command::new("qemu-system-riscv64")
        .args([
            "-machine",
            "virt",
            "-bios",
            "none",
            "-m",
            "128M",
            "-nographic",
        ])
        .args(extra)
        .arg("-kernel")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run qemu-system-riscv64: {e}. Install it: apt-get install qemu-system-misc"
            )
        });
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("QEMU did not finish {name} within 30 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = reader.join().unwrap();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert!(status.success(), "QEMU failed on {name}: {status}\n{err}");
    String::from_utf8_lossy(&out).into_owned()
}

//! emu-cli's diagnostics on a guest that goes wrong the way a student kernel does (issue 10): it
//! prints "hi" (no newline), touches the empty PCIe MMIO window, clears `mtvec` and loads from
//! an unclaimed address. The load access fault goes to `mtvec` = 0, whose fetch faults, and so
//! on: the run stops with exit status 126 and a one-line diagnostic; `--trace traps` and
//! `--trace unimp` show the traps and the accesses.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

mod support;

use support::assemble;

const WEDGE_GUEST: &str = r#"
    .globl _start
_start:
    csrr t0, mhartid
    bnez t0, park
    li s0, 0x10000000
    li t1, 'h'
    sb t1, 0(s0)
    li t1, 'i'
    sb t1, 0(s0)
    li t0, 0x7fe48c40          # PCIe MMIO window: reads all ones, writes dropped
    ld t1, 0(t0)
    addi t1, t1, 1
    sd t1, 0(t0)
    csrw mtvec, zero
    li t0, 0x100000000         # nothing there: load access fault
    ld t1, 0(t0)
park:
    wfi
    j park
"#;

fn guest() -> &'static PathBuf {
    static GUEST: OnceLock<PathBuf> = OnceLock::new();
    GUEST.get_or_init(|| assemble("wedge", WEDGE_GUEST))
}

fn boot(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let o = Command::cargo_bin("emu-cli")
        .unwrap()
        .arg("boot")
        .arg(guest())
        .args(["--smp", "1", "--timeout", "60"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (o, start.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn wedged_hart_stops_with_126_and_the_diagnostic() {
    let (o, took) = boot(&[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(126), "stderr: {err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hi");
    for want in [
        "hart 0 wedged in M-mode",
        "load access fault at epc 0x8",
        "(tval 0x100000000)",
        "instruction access fault at 0x0",
        "mtvec is 0",
    ] {
        assert!(err.contains(want), "{want:?} missing from: {err}");
    }
    // Shown even with --quiet, like a host error.
    let (o, _) = boot(&["--quiet"]);
    assert_eq!(o.status.code(), Some(126));
    assert!(stderr(&o).contains("wedged"), "{}", stderr(&o));
}

#[test]
fn trace_traps_and_unimp_print_to_stderr() {
    let (o, _) = boot(&["--trace", "traps,unimp"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(126), "stderr: {err}");
    let traps: Vec<&str> = err.lines().filter(|l| l.starts_with("trap: ")).collect();
    assert!(
        traps[0].starts_with("trap: hart 0: exception 0x5 (load access fault) epc 0x8")
            && traps[0].ends_with("tval 0x100000000, M -> M at 0x0"),
        "{err}"
    );
    assert!(
        traps[1].starts_with("trap: hart 0: exception 0x1 (instruction access fault) epc 0x0"),
        "{}",
        traps[1]
    );
    for want in [
        "unimp: read of 8 bytes at 0x7fe48c40: pcie-mmio +0x3fe48c40: no device in the window",
        "unimp: write of 0x0 (8 bytes) at 0x7fe48c40: pcie-mmio",
        "unimp: read of 8 bytes at 0x100000000: unclaimed address: access fault",
    ] {
        assert!(err.contains(want), "{want:?} missing from: {err}");
    }
    // Without --trace, none of it.
    let (o, _) = boot(&[]);
    assert!(!stderr(&o).contains("trap: ") && !stderr(&o).contains("unimp: "));
}

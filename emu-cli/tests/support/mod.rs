//! Shared by emu-cli's tests: tiny guest programs assembled with the bare-metal RISC-V binutils
//! (`riscv64-unknown-elf-as`/`-ld`, Debian package binutils-riscv64-unknown-elf, installed by
//! `.ci/run`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `p` as a `&str` (tests' paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs a binutils `tool` with `args`; panics (a test failure) with its message when it fails,
/// and with an install hint when it is missing.
pub fn run_tool(tool: &str, args: &[&str]) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool}: {e} (install binutils-riscv64-unknown-elf; .ci/run does)")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Assembles `source` (RV64IMAC + Zicsr) into `NAME.o` in a directory of its own under cargo's
/// per-target temporary directory and links it with `.text` at 0x8000_0000 into `NAME.elf`.
/// Returns the ELF's path; the object file lies beside it (`NAME.o`) for further links.
pub fn assemble(name: &str, source: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-guest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join(format!("{name}.s"));
    let obj = dir.join(format!("{name}.o"));
    let elf = dir.join(format!("{name}.elf"));
    std::fs::write(&src, source).unwrap();
    run_tool(
        "riscv64-unknown-elf-as",
        &["-march=rv64imac_zicsr", "-o", s(&obj), s(&src)],
    );
    link(&obj, 0x8000_0000, &elf);
    elf
}

/// Links the object `obj` with `.text` at `text` into the ELF `elf` (one writable, executable
/// segment, as the guests write their own data).
pub fn link(obj: &Path, text: u64, elf: &Path) {
    run_tool(
        "riscv64-unknown-elf-ld",
        &[
            "-N",
            &format!("-Ttext={text:#x}"),
            "--no-warn-rwx-segments",
            "-o",
            s(elf),
            s(obj),
        ],
    );
}

//! Test support: assemble small guest programs with the bare-metal RISC-V binutils
//! (`riscv64-unknown-elf-as`/`-ld`, Debian package binutils-riscv64-unknown-elf, installed by
//! `.ci/run`) into ELF files linked at 0x8000_0000.
#![allow(dead_code)]

use std::process::Command;

pub mod qemu;

/// Load the PT_LOAD segments of the ELF file `elf` into `bus`'s RAM; returns the entry point.
/// Panics (a test failure) when the ELF does not parse or a segment does not fit in RAM.
pub fn load_elf(bus: &mut emu_core::bus::Bus, elf: &[u8]) -> u64 {
    let e = goblin::elf::Elf::parse(elf).expect("test ELF parses");
    for ph in e
        .program_headers
        .iter()
        .filter(|p| p.p_type == goblin::elf::program_header::PT_LOAD)
    {
        // The linker may put the ELF headers in the first segment, below RAM: skip that part.
        let skip = bus.ram.base().saturating_sub(ph.p_paddr).min(ph.p_filesz);
        let data = &elf[(ph.p_offset + skip) as usize..(ph.p_offset + ph.p_filesz) as usize];
        bus.ram
            .write_bytes(ph.p_paddr + skip, data)
            .expect("segment fits in RAM");
    }
    e.entry
}

/// Assemble `source` (GNU as syntax, RV64GC) and link it with `_start` at 0x8000_0000.
/// Returns the ELF bytes. Panics with the assembler's message (a test failure) on error, and
/// with an install hint when the toolchain is missing.
pub fn assemble(name: &str, source: &str) -> Vec<u8> {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("rvcow-asm-{name}-"))
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let src = dir.join(format!("{name}.s"));
    let obj = dir.join(format!("{name}.o"));
    let elf = dir.join(format!("{name}.elf"));
    std::fs::write(&src, source).unwrap();
    run(Command::new("riscv64-unknown-elf-as")
        .args(["-march=rv64gc", "-mabi=lp64d", "-o"])
        .arg(&obj)
        .arg(&src));
    run(Command::new("riscv64-unknown-elf-ld")
        .args(["-Ttext=0x80000000", "-e", "_start", "-o"])
        .arg(&elf)
        .arg(&obj));
    std::fs::read(&elf).unwrap()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {:?}: {e}. Install the RISC-V binutils: apt-get install binutils-riscv64-unknown-elf",
            cmd.get_program()
        )
    });
    assert!(
        out.status.success(),
        "{:?} failed:\n{}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
}

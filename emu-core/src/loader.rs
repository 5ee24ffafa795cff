//! Loading kernels: ELF64 RISC-V executables (via `goblin`: PT_LOAD segments at their physical
//! addresses, entry point, and the HTIF symbols `tohost`/`fromhost`), or raw images copied to
//! the start of RAM (0x8000_0000) and entered there, as QEMU `-bios none -kernel` does.

use goblin::elf::{header, program_header::PT_LOAD, Elf};

use crate::bus::Ram;
use crate::error::EmuError;

/// What loading put where.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoadedImage {
    /// Physical address the reset ROM jumps to.
    pub entry: u64,
    /// Address of the ELF symbol `tohost` (HTIF), if present.
    pub tohost: Option<u64>,
    /// Address of the ELF symbol `fromhost` (HTIF), if present.
    pub fromhost: Option<u64>,
    /// Lowest and one-past-highest physical address written.
    pub extent: (u64, u64),
}

/// Load `bytes` into `ram`: an ELF if it starts with the ELF magic, else a raw image at the
/// start of RAM. `name` (the file path) appears in every error.
pub fn load(ram: &mut Ram, bytes: &[u8], name: &str) -> Result<LoadedImage, EmuError> {
    if bytes.starts_with(b"\x7fELF") {
        load_elf(ram, bytes, name)
    } else {
        load_raw(ram, bytes, name)
    }
}

/// Copy a raw image to the start of RAM; the entry is the RAM base.
pub fn load_raw(ram: &mut Ram, bytes: &[u8], name: &str) -> Result<LoadedImage, EmuError> {
    if bytes.is_empty() {
        return Err(EmuError::Kernel {
            name: name.into(),
            problem: "the file is empty; give a RISC-V ELF kernel or a raw binary".into(),
        });
    }
    let base = ram.base();
    ram.write_bytes(base, bytes).map_err(|_| EmuError::Kernel {
        name: name.into(),
        problem: format!(
            "the raw image ({} bytes) does not fit in {} bytes of RAM; give more memory",
            bytes.len(),
            ram.size()
        ),
    })?;
    Ok(LoadedImage {
        entry: base,
        tohost: None,
        fromhost: None,
        extent: (base, base + bytes.len() as u64),
    })
}

/// Load the PT_LOAD segments of a 64-bit RISC-V ELF at their physical addresses (`p_paddr`),
/// zero-filling `p_memsz` beyond `p_filesz`.
pub fn load_elf(ram: &mut Ram, bytes: &[u8], name: &str) -> Result<LoadedImage, EmuError> {
    let err = |problem: String| EmuError::Kernel {
        name: name.into(),
        problem,
    };
    let elf = Elf::parse(bytes).map_err(|e| {
        err(format!(
            "not a valid ELF file ({e}); the file may be truncated or corrupt"
        ))
    })?;
    if elf.header.e_machine != header::EM_RISCV {
        return Err(err(format!(
            "an ELF for {} , not RISC-V; build the kernel for riscv64",
            header::machine_to_str(elf.header.e_machine)
        )));
    }
    if !elf.is_64 {
        return Err(err(
            "a 32-bit RISC-V ELF; this machine runs RV64 kernels".into()
        ));
    }
    if !elf.little_endian {
        return Err(err("a big-endian ELF; RISC-V is little-endian".into()));
    }
    // Linkers often put the ELF and program headers at the start of the first PT_LOAD
    // segment, a page below the first section (0x7fff_f000 for text at 0x8000_0000). Those
    // leading bytes, before any allocated section's file offset, are not loaded.
    let first_section = elf
        .section_headers
        .iter()
        .filter(|sh| sh.sh_flags & u64::from(goblin::elf::section_header::SHF_ALLOC) != 0)
        .filter(|sh| sh.sh_size > 0 && sh.sh_type != goblin::elf::section_header::SHT_NOBITS)
        .map(|sh| sh.sh_offset)
        .min();
    let mut extent = (u64::MAX, 0);
    let mut any = false;
    for ph in elf.program_headers.iter().filter(|ph| ph.p_type == PT_LOAD) {
        if ph.p_memsz == 0 {
            continue;
        }
        any = true;
        let mut ph = ph.clone();
        if let Some(first) = first_section {
            let skip = first
                .saturating_sub(ph.p_offset)
                .min(ph.p_filesz)
                .min(ram.base().saturating_sub(ph.p_paddr));
            ph.p_offset += skip;
            ph.p_paddr += skip;
            ph.p_filesz -= skip;
            ph.p_memsz -= skip;
        }
        let file_range = ph.file_range();
        let data = bytes.get(file_range.clone()).ok_or_else(|| {
            err(format!(
                "segment at {:#x} needs file bytes {:#x}..{:#x} but the file has {:#x}: \
                 it is truncated",
                ph.p_paddr,
                file_range.start,
                file_range.end,
                bytes.len()
            ))
        })?;
        if ph.p_filesz > ph.p_memsz || !ram.contains(ph.p_paddr, ph.p_memsz) {
            return Err(err(format!(
                "segment {:#x}..{:#x} lies outside RAM {:#x}..{:#x}; link the kernel at \
                 0x80000000 or give more memory",
                ph.p_paddr,
                ph.p_paddr.saturating_add(ph.p_memsz),
                ram.base(),
                ram.base() + ram.size()
            )));
        }
        // In range by the check above.
        ram.write_bytes(ph.p_paddr, data)
            .map_err(|_| err("segment outside RAM".into()))?;
        let zeros = vec![0u8; (ph.p_memsz - ph.p_filesz) as usize];
        ram.write_bytes(ph.p_paddr + ph.p_filesz, &zeros)
            .map_err(|_| err("segment outside RAM".into()))?;
        extent.0 = extent.0.min(ph.p_paddr);
        extent.1 = extent.1.max(ph.p_paddr + ph.p_memsz);
    }
    if !any {
        return Err(err("an ELF with no loadable segments".into()));
    }
    let symbol = |wanted: &str| {
        elf.syms.iter().find_map(|sym| {
            (elf.strtab.get_at(sym.st_name) == Some(wanted)).then_some(sym.st_value)
        })
    };
    Ok(LoadedImage {
        entry: elf.entry,
        tohost: symbol("tohost"),
        fromhost: symbol("fromhost"),
        extent,
    })
}

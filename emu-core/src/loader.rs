//! Reading boot images: ELF64 RISC-V executables (via `goblin`: PT_LOAD segments at their
//! physical addresses, entry point, and the HTIF symbols `tohost`/`fromhost`), RISC-V Linux
//! `Image` files (the 64-byte header of Documentation/riscv/boot-image-header.rst), and raw
//! binaries. An image is first *placed* ([`Placed`]: where each byte goes, nothing written),
//! so that [`crate::boot`] can check overlaps and RAM bounds before anything is written; then
//! [`Placed::write`] copies it into RAM.

use std::ops::Range;

use goblin::elf::{header, program_header::PT_LOAD, Elf};

use crate::bus::Ram;
use crate::error::EmuError;

/// What an image is for; names the file in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The M-mode firmware (`--bios`, QEMU `-bios`).
    Firmware,
    /// The kernel (QEMU `-kernel`).
    Kernel,
    /// The initial RAM disk (QEMU `-initrd`).
    Initrd,
}

impl Role {
    /// The error for file `name` in this role: `problem` says what is wrong and what to do.
    pub fn error(self, name: &str, problem: String) -> EmuError {
        match self {
            Role::Kernel => EmuError::Kernel {
                name: name.into(),
                problem,
            },
            Role::Firmware => EmuError::Image {
                role: "firmware",
                name: name.into(),
                problem,
            },
            Role::Initrd => EmuError::Image {
                role: "initrd",
                name: name.into(),
                problem,
            },
        }
    }

    /// "kernel", "firmware" or "initrd".
    pub fn noun(self) -> &'static str {
        match self {
            Role::Firmware => "firmware",
            Role::Kernel => "kernel",
            Role::Initrd => "initrd",
        }
    }
}

/// What loading put where.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoadedImage {
    /// Physical address execution enters the image at.
    pub entry: u64,
    /// Address of the ELF symbol `tohost` (HTIF), if present.
    pub tohost: Option<u64>,
    /// Address of the ELF symbol `fromhost` (HTIF), if present.
    pub fromhost: Option<u64>,
    /// Lowest and one-past-highest physical address the image occupies.
    pub extent: (u64, u64),
}

/// One piece of an image: the file bytes `file` go to physical `addr`, followed by zeros up to
/// `mem_size` bytes in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Physical address of the first byte.
    pub addr: u64,
    /// The bytes of the file that go there.
    pub file: Range<usize>,
    /// Bytes occupied in memory (at least `file.len()`; the rest is zero-filled).
    pub mem_size: u64,
}

/// An image placed in physical memory but not yet written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// Where execution enters (the ELF entry, or the load address).
    pub entry: u64,
    /// The pieces, in file order.
    pub segments: Vec<Segment>,
    /// Address of the ELF symbol `tohost`, if any.
    pub tohost: Option<u64>,
    /// Address of the ELF symbol `fromhost`, if any.
    pub fromhost: Option<u64>,
}

impl Placed {
    /// Lowest and one-past-highest physical address occupied.
    pub fn extent(&self) -> (u64, u64) {
        let lo = self.segments.iter().map(|s| s.addr).min().unwrap_or(0);
        let hi = self
            .segments
            .iter()
            .map(|s| s.addr + s.mem_size)
            .max()
            .unwrap_or(0);
        (lo, hi)
    }

    /// Entry, symbols and extent.
    pub fn info(&self) -> LoadedImage {
        LoadedImage {
            entry: self.entry,
            tohost: self.tohost,
            fromhost: self.fromhost,
            extent: self.extent(),
        }
    }

    /// Copy the image (`bytes` is the file it was placed from) into `ram`, zero-filling each
    /// segment's tail. Errors (as `role` of `name`) if a segment lies outside RAM.
    pub fn write(
        &self,
        ram: &mut Ram,
        bytes: &[u8],
        role: Role,
        name: &str,
    ) -> Result<(), EmuError> {
        for seg in &self.segments {
            check_in_ram(ram, seg.addr, seg.mem_size, role, name)?;
            let data = &bytes[seg.file.clone()];
            let outside = |_| role.error(name, "a segment lies outside RAM".into());
            ram.write_bytes(seg.addr, data).map_err(outside)?;
            let tail = seg.mem_size - data.len() as u64;
            if tail > 0 {
                let zeros = vec![0u8; tail as usize];
                ram.write_bytes(seg.addr + data.len() as u64, &zeros)
                    .map_err(outside)?;
            }
        }
        Ok(())
    }
}

/// Error unless `[addr, addr + len)` lies in RAM; the message says how big the image is and
/// how to fix it.
pub fn check_in_ram(
    ram: &Ram,
    addr: u64,
    len: u64,
    role: Role,
    name: &str,
) -> Result<(), EmuError> {
    if ram.contains(addr, len) {
        return Ok(());
    }
    let (base, end) = (ram.base(), ram.base() + ram.size());
    let range = format!("{:#x}..{:#x}", addr, addr.saturating_add(len));
    let problem = if addr >= base && addr < end {
        format!(
            "{range} ({len} bytes) does not fit in RAM {base:#x}..{end:#x}; give more memory \
             (--mem)"
        )
    } else {
        let fix = match role {
            Role::Kernel => "link the kernel at 0x80000000 or above, inside RAM",
            _ => "link it inside RAM (0x80000000 and above)",
        };
        format!("{range} lies outside RAM {base:#x}..{end:#x}; {fix}")
    };
    Err(role.error(name, problem))
}

/// The RISC-V Linux `Image` header (Linux Documentation/riscv/boot-image-header.rst): `magic2`
/// "RSC\x05" at offset 0x38 (or the deprecated "RISCV\0\0\0" at 0x30). Returns
/// `(text_offset, image_size)`: where the image goes relative to the start of RAM (0x20_0000
/// for an RV64 S-mode kernel, 0 for an M-mode one) and the bytes it occupies with its bss.
pub fn linux_image_header(bytes: &[u8]) -> Option<(u64, u64)> {
    let magic2 = bytes.get(0x38..0x3c) == Some(b"RSC\x05");
    let magic = bytes.get(0x30..0x38) == Some(b"RISCV\0\0\0");
    if !(magic || magic2) {
        return None;
    }
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
    Some((word(0x08), word(0x10)))
}

/// Place a raw image of `len` bytes (occupying `mem_size >= len` bytes) at `addr`, entered there.
pub fn place_raw(len: usize, mem_size: u64, addr: u64) -> Placed {
    Placed {
        entry: addr,
        segments: vec![Segment {
            addr,
            file: 0..len,
            mem_size: mem_size.max(len as u64),
        }],
        tohost: None,
        fromhost: None,
    }
}

/// Load `bytes` into `ram` as a kernel without firmware (QEMU `-bios none -kernel`): an ELF if
/// it starts with the ELF magic, else a raw image at the start of RAM. `name` (the file path)
/// appears in every error.
pub fn load(ram: &mut Ram, bytes: &[u8], name: &str) -> Result<LoadedImage, EmuError> {
    let placed = if bytes.starts_with(b"\x7fELF") {
        place_elf(bytes, name, Role::Kernel, ram.base())?
    } else {
        if bytes.is_empty() {
            return Err(Role::Kernel.error(
                name,
                "the file is empty; give a RISC-V ELF kernel or a raw binary".into(),
            ));
        }
        place_raw(bytes.len(), 0, ram.base())
    };
    placed.write(ram, bytes, Role::Kernel, name)?;
    Ok(placed.info())
}

/// Place the PT_LOAD segments of a 64-bit RISC-V ELF at their physical addresses (`p_paddr`),
/// zero-filling `p_memsz` beyond `p_filesz`. `ram_base` is where RAM starts: header bytes a
/// linker put below it in the first segment are not loaded. Errors name the file as `role`:
/// not an ELF for RV64, truncated, no loadable segment, or linked at address 0 (an OpenSBI
/// ≥ 1.5 `fw_*.elf` built without `FW_TEXT_START`).
pub fn place_elf(bytes: &[u8], name: &str, role: Role, ram_base: u64) -> Result<Placed, EmuError> {
    let err = |problem: String| role.error(name, problem);
    let elf = Elf::parse(bytes).map_err(|e| {
        err(format!(
            "not a valid ELF file ({e}); the file may be truncated or corrupt"
        ))
    })?;
    if elf.header.e_machine != header::EM_RISCV {
        return Err(err(format!(
            "an ELF for {}, not RISC-V; build it for riscv64",
            header::machine_to_str(elf.header.e_machine)
        )));
    }
    if !elf.is_64 {
        return Err(err("a 32-bit RISC-V ELF; this machine runs RV64".into()));
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
    let mut segments = Vec::new();
    for ph in elf.program_headers.iter().filter(|ph| ph.p_type == PT_LOAD) {
        if ph.p_memsz == 0 {
            continue;
        }
        if ph.p_paddr == 0 {
            let fix = match role {
                Role::Firmware => {
                    "an OpenSBI >= 1.5 fw_*.elf built without FW_TEXT_START: give the matching \
                     fw_*.bin instead, or rebuild with FW_TEXT_START=0x80000000"
                }
                _ => "link it at 0x80000000 or above (RAM starts there on virt)",
            };
            return Err(err(format!("the ELF is linked at address 0; {fix}")));
        }
        let mut ph = ph.clone();
        if let Some(first) = first_section {
            let skip = first
                .saturating_sub(ph.p_offset)
                .min(ph.p_filesz)
                .min(ram_base.saturating_sub(ph.p_paddr));
            ph.p_offset += skip;
            ph.p_paddr += skip;
            ph.p_filesz -= skip;
            ph.p_memsz -= skip;
        }
        let file_range = ph.file_range();
        if bytes.get(file_range.clone()).is_none() {
            return Err(err(format!(
                "segment at {:#x} needs file bytes {:#x}..{:#x} but the file has {:#x}: \
                 it is truncated",
                ph.p_paddr,
                file_range.start,
                file_range.end,
                bytes.len()
            )));
        }
        if ph.p_filesz > ph.p_memsz {
            return Err(err(format!(
                "segment at {:#x} has more file bytes than memory bytes; the ELF is corrupt",
                ph.p_paddr
            )));
        }
        segments.push(Segment {
            addr: ph.p_paddr,
            file: file_range,
            mem_size: ph.p_memsz,
        });
    }
    if segments.is_empty() {
        return Err(err("an ELF with no loadable segments".into()));
    }
    let symbol = |wanted: &str| {
        elf.syms.iter().find_map(|sym| {
            (elf.strtab.get_at(sym.st_name) == Some(wanted)).then_some(sym.st_value)
        })
    };
    Ok(Placed {
        entry: elf.entry,
        segments,
        tohost: symbol("tohost"),
        fromhost: symbol("fromhost"),
    })
}

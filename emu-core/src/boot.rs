//! What the board loads at power-on and after every reset, and where — QEMU `virt`'s `-bios`,
//! `-kernel`, `-initrd` and `-append` (QEMU 7.2 hw/riscv/boot.c and virt.c):
//!
//! - **Without firmware** (`-bios none`, the default here): the kernel runs in M-mode from the
//!   reset ROM. An ELF goes by its segments and is entered at its entry; a raw image goes to
//!   the start of RAM (0x8000_0000). A Linux `Image` for S-mode (text offset ≠ 0) is refused:
//!   it needs SBI firmware.
//! - **With firmware** (`--bios`): the firmware (ELF by its segments, raw at 0x8000_0000) is
//!   entered from the reset ROM; the kernel goes where QEMU puts it: an ELF by its segments, a
//!   Linux `Image` at the start of RAM plus its header's text offset (0x8020_0000 for RV64), a
//!   raw image at the end of the firmware rounded up to 2 MiB (0x8020_0000 for OpenSBI). The
//!   ROM passes `fw_dynamic_info` with the kernel's address as `next_addr` (S-mode).
//! - **initrd**: at the kernel's entry plus half of RAM or 128 MiB, whichever is less, and
//!   announced in `/chosen` as `linux,initrd-start`/`-end`; `--append` becomes `bootargs`.
//! - **Device tree**: at the top of RAM, 2 MiB-aligned ([`dtb_address`]).
//!
//! Every image is placed before anything is written, so overlapping images, images outside
//! RAM and an initrd that does not fit are one-line errors naming the file and the fix.

use std::sync::Arc;

use crate::bus::Ram;
use crate::dev::fdt::{build_fdt_with, dtb_address, Chosen};
use crate::error::EmuError;
use crate::loader::{self, check_in_ram, LoadedImage, Placed, Role};

/// Kernel alignment after firmware on RV64 (QEMU `riscv_calc_kernel_start_addr`): 2 MiB.
pub const KERNEL_ALIGN: u64 = 2 << 20;
/// Most the initrd is placed above the kernel entry (QEMU `riscv_load_initrd`): 128 MiB.
pub const INITRD_MAX_OFFSET: u64 = 128 << 20;

/// One file given to the board: its bytes and the name errors show (the path as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootFile {
    /// The path or name, as shown in errors.
    pub name: String,
    /// The file's contents (shared: the machine keeps them to reload on reset).
    pub bytes: Arc<Vec<u8>>,
}

impl BootFile {
    /// A file named `name` with contents `bytes`.
    pub fn new(name: impl Into<String>, bytes: Vec<u8>) -> BootFile {
        BootFile {
            name: name.into(),
            bytes: Arc::new(bytes),
        }
    }
}

/// The images a boot loads: QEMU's `-bios`, `-kernel`, `-initrd`, `-append`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootImages {
    /// M-mode firmware (OpenSBI `fw_jump`/`fw_dynamic`, …); None is QEMU's `-bios none`.
    pub bios: Option<BootFile>,
    /// The kernel (ELF, Linux `Image` or raw binary).
    pub kernel: Option<BootFile>,
    /// The initial RAM disk (needs a kernel).
    pub initrd: Option<BootFile>,
    /// The kernel command line (`/chosen/bootargs`).
    pub append: Option<String>,
}

/// Where a boot put things.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootLayout {
    /// Address the reset ROM jumps to: the firmware's entry, or the kernel's without one.
    pub start: u64,
    /// The kernel's entry (the firmware's `next_addr`); 0 without a kernel.
    pub kernel_entry: u64,
    /// The image entered at `start` (its HTIF symbols are the ones watched).
    pub started: LoadedImage,
    /// The kernel as loaded, if any.
    pub kernel: Option<LoadedImage>,
    /// `[start, end)` of the initrd, if any.
    pub initrd: Option<(u64, u64)>,
    /// Physical address of the device tree (`a1`).
    pub dtb_addr: u64,
    /// The device tree's bytes.
    pub dtb: Vec<u8>,
}

struct Item<'a> {
    role: Role,
    file: &'a BootFile,
    placed: Placed,
}

fn align_up(x: u64, align: u64) -> u64 {
    x.div_ceil(align) * align
}

/// Place the firmware: ELF by segments, raw at the start of RAM.
fn place_firmware(fw: &BootFile, ram: &Ram) -> Result<Placed, EmuError> {
    if fw.bytes.starts_with(b"\x7fELF") {
        return loader::place_elf(&fw.bytes, &fw.name, Role::Firmware, ram.base());
    }
    if fw.bytes.is_empty() {
        return Err(Role::Firmware.error(
            &fw.name,
            "the file is empty; give an M-mode firmware ELF or raw binary, e.g. OpenSBI's \
             fw_jump.elf"
                .into(),
        ));
    }
    Ok(loader::place_raw(fw.bytes.len(), 0, ram.base()))
}

/// Place the kernel; `after_fw` is the end of the firmware, if there is one.
fn place_kernel(k: &BootFile, ram: &Ram, after_fw: Option<u64>) -> Result<Placed, EmuError> {
    let bytes = &k.bytes;
    if bytes.starts_with(b"\x7fELF") {
        return loader::place_elf(bytes, &k.name, Role::Kernel, ram.base());
    }
    if bytes.is_empty() {
        return Err(Role::Kernel.error(
            &k.name,
            "the file is empty; give a RISC-V ELF kernel, a Linux Image or a raw binary".into(),
        ));
    }
    if let Some((text_offset, image_size)) = loader::linux_image_header(bytes) {
        if after_fw.is_none() && text_offset != 0 {
            return Err(Role::Kernel.error(
                &k.name,
                "a Linux Image for S-mode needs SBI firmware; add --bios with OpenSBI, e.g. \
                 --bios /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
                    .into(),
            ));
        }
        let addr = ram.base().saturating_add(text_offset);
        return Ok(loader::place_raw(bytes.len(), image_size, addr));
    }
    let addr = match after_fw {
        Some(end) => align_up(end, KERNEL_ALIGN),
        None => ram.base(),
    };
    Ok(loader::place_raw(bytes.len(), 0, addr))
}

fn range_text(item: &Item) -> String {
    let (lo, hi) = item.placed.extent();
    format!("{lo:#x}..{hi:#x}")
}

/// Error if two placed images share a byte.
fn check_overlaps(items: &[Item]) -> Result<(), EmuError> {
    for (i, a) in items.iter().enumerate() {
        for b in &items[..i] {
            let (alo, ahi) = a.placed.extent();
            let (blo, bhi) = b.placed.extent();
            if alo < bhi && blo < ahi {
                let fix = match (a.role, b.role) {
                    (Role::Kernel, Role::Firmware) => {
                        "an M-mode kernel such as xv6 boots without --bios; an S-mode kernel \
                         must be linked above the firmware (e.g. at 0x80200000)"
                    }
                    (Role::Initrd, _) => "give more memory (--mem) or a smaller kernel",
                    _ => "link the images at different addresses",
                };
                return Err(a.role.error(
                    &a.file.name,
                    format!(
                        "it occupies {}, which overlaps the {} {} at {}; {fix}",
                        range_text(a),
                        b.role.noun(),
                        b.file.name,
                        range_text(b)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Place and load `images` into `ram` (which the caller has cleared), build the device tree
/// for `harts` harts with `/chosen` from the command line and initrd, and write it at the top
/// of RAM. Errors (nothing written on most): images overlapping one another or the device
/// tree, outside RAM, an initrd without a kernel or not fitting in RAM, an S-mode Linux
/// `Image` without firmware, bad ELF files, no image at all.
pub fn load_boot(ram: &mut Ram, harts: usize, images: &BootImages) -> Result<BootLayout, EmuError> {
    let mut items: Vec<Item> = Vec::new();
    if let Some(fw) = &images.bios {
        let placed = place_firmware(fw, ram)?;
        items.push(Item {
            role: Role::Firmware,
            file: fw,
            placed,
        });
    }
    let fw_end = items.first().map(|fw| fw.placed.extent().1);
    let mut kernel_entry = 0;
    if let Some(k) = &images.kernel {
        let placed = place_kernel(k, ram, fw_end)?;
        kernel_entry = placed.entry;
        items.push(Item {
            role: Role::Kernel,
            file: k,
            placed,
        });
    }
    if items.is_empty() {
        return Err(EmuError::Config(
            "nothing to boot; give a kernel or firmware (--bios)".into(),
        ));
    }
    let mut initrd = None;
    if let Some(rd) = &images.initrd {
        if images.kernel.is_none() {
            return Err(Role::Initrd.error(
                &rd.name,
                "an initrd needs a kernel to hand it to; give KERNEL too".into(),
            ));
        }
        let start = kernel_entry + (ram.size() / 2).min(INITRD_MAX_OFFSET);
        let len = rd.bytes.len() as u64;
        if !ram.contains(start, len) {
            return Err(Role::Initrd.error(
                &rd.name,
                format!(
                    "{len} bytes at {start:#x} (the kernel entry plus half of RAM or 128 MiB) \
                     go past the end of RAM at {:#x}; give more memory (--mem)",
                    ram.base() + ram.size()
                ),
            ));
        }
        initrd = Some((start, start + len));
        items.push(Item {
            role: Role::Initrd,
            file: rd,
            placed: loader::place_raw(rd.bytes.len(), 0, start),
        });
    }
    for item in &items {
        let (lo, hi) = item.placed.extent();
        check_in_ram(ram, lo, hi - lo, item.role, &item.file.name)?;
    }
    check_overlaps(&items)?;

    let chosen = Chosen {
        bootargs: images.append.clone(),
        initrd,
    };
    let dtb = build_fdt_with(harts, ram.base(), ram.size(), &chosen)
        .map_err(|e| EmuError::Fdt(e.to_string()))?;
    let dtb_addr = dtb_address(ram.base(), ram.size(), dtb.len() as u64);
    let dtb_end = dtb_addr + dtb.len() as u64;
    for item in &items {
        let (lo, hi) = item.placed.extent();
        if lo < dtb_end && dtb_addr < hi {
            return Err(item.role.error(
                &item.file.name,
                format!(
                    "it reaches {hi:#x}, over the device tree at {dtb_addr:#x} (top of RAM); \
                     give more memory (--mem)"
                ),
            ));
        }
    }
    for item in &items {
        item.placed
            .write(ram, &item.file.bytes, item.role, &item.file.name)?;
    }
    ram.write_bytes(dtb_addr, &dtb)
        .map_err(|_| EmuError::Fdt("the device tree does not fit in RAM".into()))?;

    let started = items[0].placed.info();
    let kernel = items
        .iter()
        .find(|i| i.role == Role::Kernel)
        .map(|i| i.placed.info());
    Ok(BootLayout {
        start: started.entry,
        kernel_entry,
        started,
        kernel,
        initrd,
        dtb_addr,
        dtb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ram() -> Ram {
        Ram::new(0x8000_0000, 128 << 20)
    }

    fn linux_image(text_offset: u64, size: usize) -> Vec<u8> {
        let mut b = vec![0u8; size];
        b[8..16].copy_from_slice(&text_offset.to_le_bytes());
        b[16..24].copy_from_slice(&(size as u64 * 2).to_le_bytes());
        b[0x38..0x3c].copy_from_slice(b"RSC\x05");
        b
    }

    #[test]
    fn raw_firmware_raw_kernel_and_initrd_go_where_qemu_puts_them() {
        let mut r = ram();
        let images = BootImages {
            bios: Some(BootFile::new("fw.bin", vec![0x13; 0x1_2345])),
            kernel: Some(BootFile::new("u-boot.bin", vec![0x6f; 4096])),
            initrd: Some(BootFile::new("rd.cpio", vec![7; 100])),
            append: Some("console=ttyS0".into()),
        };
        let l = load_boot(&mut r, 1, &images).unwrap();
        assert_eq!((l.start, l.kernel_entry), (0x8000_0000, 0x8020_0000));
        // Kernel entry + min(64 MiB, 128 MiB) for 128 MiB of RAM.
        assert_eq!(l.initrd, Some((0x8420_0000, 0x8420_0064)));
        assert_eq!(r.read(0x8020_0000, 1).unwrap(), 0x6f);
        assert_eq!(r.read(0x8420_0063, 1).unwrap(), 7);
        assert_eq!(l.dtb_addr, 0x8000_0000 + (126 << 20));
        assert_eq!(r.read(l.dtb_addr, 4).unwrap(), 0xedfe_0dd0);
        assert!(String::from_utf8_lossy(&l.dtb).contains("console=ttyS0"));
    }

    #[test]
    fn linux_image_goes_at_its_text_offset_and_needs_firmware() {
        let mut r = ram();
        let images = BootImages {
            bios: Some(BootFile::new("fw.bin", vec![0x13; 64])),
            kernel: Some(BootFile::new("Image", linux_image(0x20_0000, 4096))),
            ..Default::default()
        };
        let l = load_boot(&mut r, 1, &images).unwrap();
        assert_eq!(l.kernel_entry, 0x8020_0000);
        assert_eq!(l.kernel.unwrap().extent, (0x8020_0000, 0x8020_2000));
        let e = load_boot(
            &mut r,
            1,
            &BootImages {
                bios: None,
                ..images.clone()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("Image") && e.contains("--bios"), "{e}");
        // An M-mode Linux (text offset 0) runs without firmware, at the start of RAM.
        let m = BootImages {
            kernel: Some(BootFile::new("Image", linux_image(0, 4096))),
            ..Default::default()
        };
        assert_eq!(load_boot(&mut r, 1, &m).unwrap().start, 0x8000_0000);
    }

    #[test]
    fn errors_name_the_file_and_the_fix() {
        let mut r = ram();
        let one_line = |e: EmuError, file: &str, fix: &str| {
            let s = e.to_string();
            assert!(
                s.contains(file) && s.contains(fix) && !s.contains('\n'),
                "{s}"
            );
        };
        // Raw kernel over a firmware that reaches past 0x8020_0000: the kernel is placed
        // after it; an initrd too big for RAM is refused.
        let big = BootImages {
            bios: Some(BootFile::new("fw.bin", vec![0x13; 64])),
            kernel: Some(BootFile::new("k.bin", vec![1; 64])),
            initrd: Some(BootFile::new("huge.cpio", vec![0; 70 << 20])),
            append: None,
        };
        one_line(
            load_boot(&mut r, 1, &big).unwrap_err(),
            "huge.cpio",
            "--mem",
        );
        let no_kernel = BootImages {
            kernel: None,
            ..big.clone()
        };
        one_line(
            load_boot(&mut r, 1, &no_kernel).unwrap_err(),
            "huge.cpio",
            "needs a kernel",
        );
        one_line(
            load_boot(&mut r, 1, &BootImages::default()).unwrap_err(),
            "nothing to boot",
            "--bios",
        );
        // A raw kernel larger than RAM.
        let k = BootImages {
            kernel: Some(BootFile::new("k.bin", vec![1; 129 << 20])),
            ..Default::default()
        };
        one_line(load_boot(&mut r, 1, &k).unwrap_err(), "k.bin", "--mem");
        // A kernel over the device tree.
        let k = BootImages {
            kernel: Some(BootFile::new("k.bin", vec![1; 127 << 20])),
            ..Default::default()
        };
        one_line(
            load_boot(&mut r, 1, &k).unwrap_err(),
            "k.bin",
            "device tree",
        );
    }
}

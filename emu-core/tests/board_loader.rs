//! Loading kernels and building machines: ELF segments and symbols, raw images, the device
//! tree where `a1` points, the reset ROM checked against binutils, and the errors users see.

mod support;

use emu_core::dev::rom::{RESET_CODE, ROM_BASE};
use emu_core::{EmuError, ExitReason, Machine, MachineConfig, RunLimits};

fn small() -> MachineConfig {
    MachineConfig {
        ram_size: 8 << 20,
        ..Default::default()
    }
}

#[test]
fn reset_rom_matches_binutils() {
    let elf = support::assemble(
        "rom",
        ".option norvc\n.globl _start\n_start:\n auipc t0, 0\n addi a2, t0, 40\n csrr a0, mhartid\n ld a1, 32(t0)\n ld t0, 24(t0)\n jr t0\n",
    );
    let parsed = goblin::elf::Elf::parse(&elf).unwrap();
    let text = parsed
        .section_headers
        .iter()
        .find(|s| parsed.shdr_strtab.get_at(s.sh_name) == Some(".text"))
        .unwrap();
    let bytes = &elf[text.sh_offset as usize..(text.sh_offset + text.sh_size) as usize];
    let ours: Vec<u8> = RESET_CODE.iter().flat_map(|i| i.to_le_bytes()).collect();
    assert_eq!(bytes, &ours[..]);
}

#[test]
fn elf_segments_symbols_and_rom_words() {
    let elf = support::assemble(
        "load",
        ".globl _start\n_start:\n li a0, 1\n j _start\n.data\n.globl tohost\n.align 6\ntohost: .dword 0\n.globl fromhost\nfromhost: .dword 0\n.bss\nbig: .zero 4096\n",
    );
    let mut m = Machine::new(small()).unwrap();
    m.bus_mut().ram.write(0x8000_2000, 8, u64::MAX).unwrap();
    m.load_kernel(&elf, "load.elf").unwrap();
    let img = m.loaded_image().unwrap().clone();
    assert_eq!(img.entry, 0x8000_0000);
    let tohost = img.tohost.expect("tohost symbol");
    assert_eq!(img.fromhost, Some(tohost + 8));
    // li a0, 1 = addi a0, zero, 1 (compressed: c.li a0, 1 = 0x4505).
    assert_eq!(m.bus().ram.read(0x8000_0000, 2).unwrap(), 0x4505);
    // The ROM jumps to the entry with a1 = the DTB, which is in RAM.
    let mut rom = m.bus().rom.clone();
    use emu_core::bus::Device;
    assert_eq!(rom.read(24, 8).unwrap(), 0x8000_0000);
    let dtb = rom.read(32, 8).unwrap();
    assert_eq!(dtb, m.dtb_address());
    assert_eq!(
        m.bus().ram.read(dtb, 4).unwrap(),
        0xedfe0dd0,
        "FDT magic, big-endian"
    );
    assert_eq!(m.hart(0).pc, ROM_BASE);
}

#[test]
fn raw_images_load_at_ram_base() {
    let mut m = Machine::new(small()).unwrap();
    m.load_kernel(&[0x13, 0, 0, 0, 0x6f, 0, 0, 0], "raw.bin")
        .unwrap();
    assert_eq!(m.loaded_image().unwrap().entry, 0x8000_0000);
    assert_eq!(m.bus().ram.read(0x8000_0004, 4).unwrap(), 0x6f);
}

fn kernel_error(bytes: &[u8]) -> String {
    let mut m = Machine::new(small()).unwrap();
    let e = m.load_kernel(bytes, "/tmp/k.elf").unwrap_err();
    assert!(matches!(e, EmuError::Kernel { .. }));
    let s = e.to_string();
    assert!(s.contains("/tmp/k.elf"), "{s}");
    assert!(!s.contains('\n'), "one line: {s}");
    s
}

#[test]
fn bad_kernels_are_clear_errors() {
    let elf = support::assemble("bad", ".globl _start\n_start:\n j _start\n");
    // Truncated.
    kernel_error(&elf[..40]);
    kernel_error(&elf[..elf.len() / 2]);
    // Another architecture: patch e_machine to x86-64.
    let mut x86 = elf.clone();
    x86[18] = 62;
    x86[19] = 0;
    assert!(kernel_error(&x86).contains("RISC-V"));
    // Empty raw image.
    assert!(kernel_error(&[]).contains("empty"));
    // Raw image larger than RAM.
    assert!(kernel_error(&vec![1u8; 9 << 20]).contains("RAM"));
    // A segment outside RAM.
    let mut low = elf.clone();
    let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
    let phentsize = u16::from_le_bytes(elf[54..56].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(elf[56..58].try_into().unwrap()) as usize;
    for i in 0..phnum {
        let paddr = phoff + i * phentsize + 24;
        low[paddr..paddr + 8].copy_from_slice(&0x4000_0000u64.to_le_bytes());
    }
    assert!(kernel_error(&low).contains("outside RAM"));
}

#[test]
fn config_errors_and_unloaded_machine() {
    for harts in [0, 9] {
        let e = Machine::new(MachineConfig { harts, ..small() })
            .err()
            .unwrap();
        assert!(e.to_string().contains("harts"), "{e}");
    }
    assert!(Machine::new(MachineConfig {
        ram_size: 4096,
        ..small()
    })
    .is_err());
    let mut m = Machine::new(small()).unwrap();
    let r = m.run_until(&RunLimits::default(), &mut |_| false);
    assert!(matches!(r, ExitReason::HostError(_)));
}

#[test]
fn firmware_then_kernel_placement_and_fw_dynamic_info() {
    use emu_core::dev::rom::{FW_DYNAMIC_INFO_MAGIC, FW_DYNAMIC_INFO_OFFSET};
    use emu_core::{BootFile, BootImages};
    let fw = support::assemble("fw", ".globl _start\n_start:\n j _start\n");
    let mut m = Machine::new(MachineConfig {
        ram_size: 64 << 20,
        ..Default::default()
    })
    .unwrap();
    m.boot(BootImages {
        bios: Some(BootFile::new("fw.elf", fw.clone())),
        kernel: Some(BootFile::new("k.bin", vec![0x13, 0, 0, 0])),
        initrd: Some(BootFile::new("rd", vec![0xab; 10])),
        append: Some("console=ttyS0".into()),
    })
    .unwrap();
    let l = m.boot_layout().unwrap().clone();
    assert_eq!((l.start, l.kernel_entry), (0x8000_0000, 0x8020_0000));
    assert_eq!(l.initrd, Some((0x8220_0000, 0x8220_000a)));
    let mut rom = m.bus().rom.clone();
    use emu_core::bus::Device;
    assert_eq!(rom.read(24, 8).unwrap(), 0x8000_0000, "start: the firmware");
    assert_eq!(rom.read(32, 8).unwrap(), l.dtb_addr);
    assert_eq!(
        rom.read(FW_DYNAMIC_INFO_OFFSET, 8).unwrap(),
        FW_DYNAMIC_INFO_MAGIC
    );
    assert_eq!(
        rom.read(FW_DYNAMIC_INFO_OFFSET + 16, 8).unwrap(),
        0x8020_0000
    );
    // The reset ROM hands over a0 = hartid, a1 = DTB, a2 = fw_dynamic_info.
    let r = m.run_until(
        &RunLimits {
            max_insns: Some(20),
            timeout: None,
        },
        &mut |_| false,
    );
    assert_eq!(r, ExitReason::InstructionLimit);
    let h = m.hart(0);
    assert_eq!(h.pc, 0x8000_0000);
    assert_eq!(h.x[10], 0);
    assert_eq!(h.x[11], l.dtb_addr);
    assert_eq!(h.x[12], ROM_BASE + FW_DYNAMIC_INFO_OFFSET);

    // An ELF linked at 0 (OpenSBI >= 1.5 without FW_TEXT_START) is refused with the fix.
    let mut at0 = fw.clone();
    let phoff = u64::from_le_bytes(fw[32..40].try_into().unwrap()) as usize;
    let phentsize = u16::from_le_bytes(fw[54..56].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(fw[56..58].try_into().unwrap()) as usize;
    for i in 0..phnum {
        for field in [16, 24] {
            let at = phoff + i * phentsize + field;
            at0[at..at + 8].copy_from_slice(&0u64.to_le_bytes());
        }
    }
    let e = m
        .boot(BootImages {
            bios: Some(BootFile::new("fw_jump.elf", at0)),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("fw_jump.elf") && e.contains("FW_TEXT_START"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
}

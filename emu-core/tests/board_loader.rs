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
        ".option norvc\n.globl _start\n_start:\n auipc t0, 0\n csrr a0, mhartid\n ld a1, 32(t0)\n ld t0, 24(t0)\n jr t0\n nop\n",
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

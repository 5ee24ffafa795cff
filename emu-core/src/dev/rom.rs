//! The reset ROM at 0x1000 (QEMU `virt`'s "mrom"): every hart starts here in M-mode. It loads
//! `a0 = mhartid`, `a1 =` the device-tree address and `a2 =` the address of a
//! `fw_dynamic_info` structure in the ROM, and jumps to the start address (the firmware's
//! entry, or the kernel's without firmware) — the boot protocol of RISC-V Linux, xv6 ("-bios
//! none") and OpenSBI's `fw_dynamic`, as QEMU's `riscv_setup_rom_reset_vec` lays it out.
//!
//! Code (RV64I, assembled by hand; checked against binutils in tests/board_loader.rs):
//! ```text
//! 0x00  auipc t0, 0          # t0 = 0x1000
//! 0x04  addi  a2, t0, 40     # fw_dynamic_info
//! 0x08  csrr  a0, mhartid
//! 0x0c  ld    a1, 32(t0)     # device-tree address
//! 0x10  ld    t0, 24(t0)     # start address
//! 0x14  jr    t0
//! 0x18  .dword start
//! 0x20  .dword dtb
//! 0x28  fw_dynamic_info: .dword magic "OSBI", version 2, next_addr, next_mode, options 0,
//!       boot_hart 0   (OpenSBI include/sbi/fw_dynamic.h)
//! ```

use crate::dev::{BusFault, Device, Size};

/// Physical base of the reset ROM.
pub const ROM_BASE: u64 = 0x1000;
/// Size of the reset ROM window in bytes (QEMU `virt`'s mrom: 0x1000..0x1_0000).
pub const ROM_SIZE: u64 = 0xf000;
/// Offset of the `fw_dynamic_info` structure in the ROM (passed in `a2`).
pub const FW_DYNAMIC_INFO_OFFSET: u64 = 0x28;
/// `fw_dynamic_info.magic`: "OSBI" little-endian.
pub const FW_DYNAMIC_INFO_MAGIC: u64 = 0x4942_534f;
/// `fw_dynamic_info.version` QEMU passes (has `boot_hart`).
pub const FW_DYNAMIC_INFO_VERSION: u64 = 2;
/// `fw_dynamic_info.next_mode` for S-mode.
pub const NEXT_MODE_S: u64 = 1;

/// The instructions of the reset ROM, before its data words.
pub const RESET_CODE: [u32; 6] = [
    0x0000_0297, // auipc t0, 0
    0x0282_8613, // addi a2, t0, 40
    0xf140_2573, // csrrs a0, mhartid, zero
    0x0202_b583, // ld a1, 32(t0)
    0x0182_b283, // ld t0, 24(t0)
    0x0002_8067, // jalr zero, 0(t0)
];

/// The read-only reset ROM. Writes are ignored.
#[derive(Debug, Clone)]
pub struct ResetRom {
    bytes: Vec<u8>,
}

impl ResetRom {
    /// A ROM that jumps to `start` with `a1 = dtb`, telling `fw_dynamic` firmware to enter
    /// `next_addr` (the kernel, 0 without one) in S-mode on boot hart 0.
    pub fn new(start: u64, dtb: u64, next_addr: u64) -> ResetRom {
        let mut bytes = Vec::with_capacity(ROM_SIZE as usize);
        for insn in RESET_CODE {
            bytes.extend_from_slice(&insn.to_le_bytes());
        }
        let info = [
            start,
            dtb,
            FW_DYNAMIC_INFO_MAGIC,
            FW_DYNAMIC_INFO_VERSION,
            next_addr,
            NEXT_MODE_S,
            0, // options
            0, // boot_hart
        ];
        for word in info {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        bytes.resize(ROM_SIZE as usize, 0);
        ResetRom { bytes }
    }

    /// The ROM's contents.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Device for ResetRom {
    fn read(&mut self, offset: u64, size: Size) -> Result<u64, BusFault> {
        let mut b = [0u8; 8];
        for (i, byte) in b.iter_mut().take(size as usize).enumerate() {
            *byte = self.bytes.get(offset as usize + i).copied().unwrap_or(0);
        }
        Ok(u64::from_le_bytes(b))
    }
    fn write(&mut self, _offset: u64, _size: Size, _value: u64) -> Result<(), BusFault> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_words_follow_the_code() {
        let mut rom = ResetRom::new(0x8000_0000, 0x87e0_0000, 0x8020_0000);
        assert_eq!(rom.read(0, 4).unwrap(), 0x297);
        assert_eq!(rom.read(24, 8).unwrap(), 0x8000_0000);
        assert_eq!(rom.read(32, 8).unwrap(), 0x87e0_0000);
        let info = FW_DYNAMIC_INFO_OFFSET;
        assert_eq!(rom.read(info, 8).unwrap(), FW_DYNAMIC_INFO_MAGIC);
        assert_eq!(rom.read(info + 8, 8).unwrap(), 2);
        assert_eq!(rom.read(info + 16, 8).unwrap(), 0x8020_0000);
        assert_eq!(rom.read(info + 24, 8).unwrap(), NEXT_MODE_S);
        assert_eq!(rom.read(info + 40, 8).unwrap(), 0, "boot hart 0");
        rom.write(24, 8, 0).unwrap();
        assert_eq!(rom.read(24, 8).unwrap(), 0x8000_0000);
        assert_eq!(rom.read(ROM_SIZE - 2, 4).unwrap(), 0);
    }
}

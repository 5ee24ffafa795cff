//! The reset ROM at 0x1000 (QEMU `virt`'s "mrom"): every hart starts here in M-mode. It loads
//! `a0 = mhartid` and `a1 =` the device-tree address and jumps to the kernel entry — the
//! boot protocol of RISC-V Linux and xv6 ("-bios none").
//!
//! Code (RV64I, assembled by hand; checked against binutils in tests/board_rom.rs):
//! ```text
//! 0x00  auipc t0, 0          # t0 = 0x1000
//! 0x04  csrr  a0, mhartid
//! 0x08  ld    a1, 32(t0)     # device-tree address
//! 0x0c  ld    t0, 24(t0)     # kernel entry
//! 0x10  jr    t0
//! 0x14  nop
//! 0x18  .dword entry
//! 0x20  .dword dtb
//! ```

use crate::dev::{BusFault, Device, Size};

/// Physical base of the reset ROM.
pub const ROM_BASE: u64 = 0x1000;
/// Size of the reset ROM window in bytes (QEMU `virt`'s mrom: 0x1000..0x1_0000).
pub const ROM_SIZE: u64 = 0xf000;

/// The instructions of the reset ROM, before its two data words.
pub const RESET_CODE: [u32; 6] = [
    0x0000_0297, // auipc t0, 0
    0xf140_2573, // csrrs a0, mhartid, zero
    0x0202_b583, // ld a1, 32(t0)
    0x0182_b283, // ld t0, 24(t0)
    0x0002_8067, // jalr zero, 0(t0)
    0x0000_0013, // addi zero, zero, 0
];

/// The read-only reset ROM. Writes are ignored.
#[derive(Debug, Clone)]
pub struct ResetRom {
    bytes: Vec<u8>,
}

impl ResetRom {
    /// A ROM that jumps to `entry` with `a1 = dtb`.
    pub fn new(entry: u64, dtb: u64) -> ResetRom {
        let mut bytes = Vec::with_capacity(ROM_SIZE as usize);
        for insn in RESET_CODE {
            bytes.extend_from_slice(&insn.to_le_bytes());
        }
        bytes.extend_from_slice(&entry.to_le_bytes());
        bytes.extend_from_slice(&dtb.to_le_bytes());
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
        let mut rom = ResetRom::new(0x8000_0000, 0x87e0_0000);
        assert_eq!(rom.read(0, 4).unwrap(), 0x297);
        assert_eq!(rom.read(24, 8).unwrap(), 0x8000_0000);
        assert_eq!(rom.read(32, 8).unwrap(), 0x87e0_0000);
        rom.write(24, 8, 0).unwrap();
        assert_eq!(rom.read(24, 8).unwrap(), 0x8000_0000);
        assert_eq!(rom.read(ROM_SIZE - 2, 4).unwrap(), 0);
    }
}

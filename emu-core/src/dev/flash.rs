//! The two CFI parallel flash banks of QEMU `virt` ("cfi-flash", QEMU hw/block/pflash_cfi01.c)
//! at 0x2000_0000, 32 MiB each, as QEMU has them with no `-drive if=pflash` file: every byte
//! reads 0 at any width (checked against QEMU 7.2 by tests/regions_qemu.rs).
//!
//! Not modelled: the CFI command set (writes are dropped; QEMU would enter command mode, e.g.
//! answer a CFI query after 0x98), and backing files.

use crate::dev::{BusFault, Device, Size};

/// Physical base of flash bank 0 (bank 1 follows it).
pub const FLASH_BASE: u64 = 0x2000_0000;
/// Size of one flash bank in bytes.
pub const FLASH_BANK_SIZE: u64 = 0x200_0000;
/// Number of flash banks.
pub const FLASH_BANKS: u64 = 2;

/// Both flash banks, erased-to-zero and without a file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flash;

impl Device for Flash {
    fn read(&mut self, _offset: u64, _size: Size) -> Result<u64, BusFault> {
        Ok(0)
    }
    fn write(&mut self, _offset: u64, _size: Size, _value: u64) -> Result<(), BusFault> {
        Ok(())
    }
}

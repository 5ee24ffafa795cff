//! The PCIe host bridge of QEMU `virt` ("pci-host-ecam-generic", QEMU hw/pci-host/gpex.c) with
//! nothing plugged into it: ECAM configuration space at 0x3000_0000 (0x1000_0000: 256 buses),
//! and the empty I/O (0x300_0000, 0x1_0000) and memory (0x4000_0000, 0x4000_0000; and the
//! 64-bit window above RAM) windows.
//!
//! As on QEMU 7.2 (checked by tests/regions_qemu.rs): function 00:00.0 is the host bridge
//! itself (vendor 0x1b36 Red Hat, device 0x0008 "QEMU PCIe Host bridge", class 0x060000,
//! subsystem 0x1af4:0x1100), with a conventional 256-byte header; its extended space and every
//! absent function read all ones, and writes to them are dropped. The windows read all ones
//! and drop writes (no device decodes them).

use crate::dev::{BusFault, Device, Size};

/// Physical base of the ECAM configuration space.
pub const ECAM_BASE: u64 = 0x3000_0000;
/// Size of the ECAM configuration space in bytes.
pub const ECAM_SIZE: u64 = 0x1000_0000;
/// Physical base of the PCIe I/O (PIO) window.
pub const PIO_BASE: u64 = 0x300_0000;
/// Size of the PCIe I/O window in bytes.
pub const PIO_SIZE: u64 = 0x1_0000;
/// Physical base of the 32-bit PCIe memory window.
pub const MMIO_BASE: u64 = 0x4000_0000;
/// Size of the 32-bit PCIe memory window in bytes.
pub const MMIO_SIZE: u64 = 0x4000_0000;
/// Size (and alignment) of the 64-bit PCIe memory window, placed after RAM (QEMU
/// `VIRT64_HIGH_PCIE_MMIO_SIZE`).
pub const HIGH_MMIO_SIZE: u64 = 0x4_0000_0000;

/// Base of the 64-bit PCIe memory window for RAM ending at `ram_end` (QEMU: RAM's end rounded
/// up to the window's size).
pub fn high_mmio_base(ram_end: u64) -> u64 {
    ram_end.div_ceil(HIGH_MMIO_SIZE) * HIGH_MMIO_SIZE
}

/// All ones in the low `size` bytes.
pub fn all_ones(size: Size) -> u64 {
    u64::MAX >> (64 - 8 * size as u32)
}

/// A window where nothing decodes: reads all ones, writes dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyWindow;

impl Device for EmptyWindow {
    fn read(&mut self, _offset: u64, size: Size) -> Result<u64, BusFault> {
        Ok(all_ones(size))
    }
    fn write(&mut self, _offset: u64, _size: Size, _value: u64) -> Result<(), BusFault> {
        Ok(())
    }
}

const HEADER: usize = 256;
const COMMAND: usize = 0x04;
/// Command register bits a guest may set: I/O, memory, bus master, parity, SERR, INTx disable.
const COMMAND_WMASK: u16 = 0x0547;
const CACHE_LINE: usize = 0x0c;
const INTERRUPT_LINE: usize = 0x3c;

/// ECAM configuration space: the host bridge at 00:00.0, nothing else.
#[derive(Debug, Clone)]
pub struct Ecam {
    bridge: [u8; HEADER],
}

impl Default for Ecam {
    fn default() -> Self {
        Ecam::new()
    }
}

impl Ecam {
    /// The host bridge's header at power-on.
    pub fn new() -> Ecam {
        let mut bridge = [0u8; HEADER];
        bridge[0x00..0x02].copy_from_slice(&0x1b36u16.to_le_bytes());
        bridge[0x02..0x04].copy_from_slice(&0x0008u16.to_le_bytes());
        bridge[0x0b] = 0x06; // class: bridge, subclass 0 (host), prog-if 0
        bridge[0x2c..0x2e].copy_from_slice(&0x1af4u16.to_le_bytes());
        bridge[0x2e..0x30].copy_from_slice(&0x1100u16.to_le_bytes());
        Ecam { bridge }
    }

    /// The header offset of `offset` when it addresses the host bridge's header.
    fn bridge_reg(offset: u64, size: Size) -> Option<usize> {
        (offset + size as u64 <= HEADER as u64).then_some(offset as usize)
    }
}

impl Device for Ecam {
    fn read(&mut self, offset: u64, size: Size) -> Result<u64, BusFault> {
        Ok(match Ecam::bridge_reg(offset, size) {
            Some(r) => {
                let mut b = [0u8; 8];
                b[..size as usize].copy_from_slice(&self.bridge[r..r + size as usize]);
                u64::from_le_bytes(b)
            }
            None => all_ones(size),
        })
    }
    fn write(&mut self, offset: u64, size: Size, value: u64) -> Result<(), BusFault> {
        let Some(r) = Ecam::bridge_reg(offset, size) else {
            return Ok(());
        };
        for (i, byte) in value.to_le_bytes()[..size as usize].iter().enumerate() {
            let at = r + i;
            let mask = match at {
                COMMAND => COMMAND_WMASK as u8,
                0x05 => (COMMAND_WMASK >> 8) as u8,
                CACHE_LINE | INTERRUPT_LINE => 0xff,
                _ => 0,
            };
            self.bridge[at] = (self.bridge[at] & !mask) | (byte & mask);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bridge_then_all_ones() {
        let mut e = Ecam::new();
        assert_eq!(e.read(0, 4).unwrap(), 0x0008_1b36);
        assert_eq!(e.read(8, 4).unwrap(), 0x0600_0000);
        assert_eq!(e.read(0x100, 4).unwrap(), 0xffff_ffff, "no extended space");
        assert_eq!(e.read(0x8000, 2).unwrap(), 0xffff, "device 1 absent");
        e.write(0x8000, 4, 0).unwrap();
        e.write(4, 2, 0xffff).unwrap();
        assert_eq!(e.read(4, 2).unwrap(), COMMAND_WMASK as u64);
        e.write(0, 4, 0).unwrap();
        assert_eq!(e.read(0, 2).unwrap(), 0x1b36, "vendor is read-only");
    }

    #[test]
    fn high_window_follows_ram() {
        assert_eq!(high_mmio_base(0x8800_0000), 0x4_0000_0000);
        assert_eq!(high_mmio_base(0x4_8000_0000), 0x8_0000_0000);
        assert_eq!(EmptyWindow.read(0, 8).unwrap(), u64::MAX);
        assert_eq!(EmptyWindow.read(0, 1).unwrap(), 0xff);
    }
}

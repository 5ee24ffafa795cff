//! SiFive CLINT ("sifive,clint0", "riscv,clint0") at 0x200_0000 on QEMU `virt`
//! (hw/intc/riscv_aclint.c layout): `msip` per hart at 4·hart, `mtimecmp` per hart at
//! 0x4000 + 8·hart, `mtime` at 0xBFF8. Drives each hart's MSIP and MTIP (RISC-V Privileged ISA
//! 20211203, §3.2.1 "Machine Timer Registers").
//!
//! As QEMU 7.2's ACLINT: the `msip` block (0x0..0x4000) takes 4-byte accesses only, the timer
//! block (0x4000..0xc000) 4- and 8-byte accesses; other widths and 0xc000..0x1_0000 are access
//! faults. `mtimecmp` reads 0 until the guest first writes it, and raises no interrupt before.
//!
//! The clock itself belongs to the machine: it stores the current `mtime` (10 MHz ticks of
//! guest time) here before each hart runs; a guest write to `mtime` moves it.

use crate::dev::{BusFault, Device, Size};

/// Size of the CLINT's register window in bytes.
pub const CLINT_SIZE: u64 = 0x1_0000;
/// Frequency of `mtime` in Hz (QEMU `virt`'s timebase, device-tree `timebase-frequency`).
pub const MTIME_HZ: u64 = 10_000_000;

const MSIP_BASE: u64 = 0x0000;
const MTIMECMP_BASE: u64 = 0x4000;
const MTIME: u64 = 0xbff8;

/// The core-local interruptor of up to 8 harts.
#[derive(Debug, Clone)]
pub struct Clint {
    /// `msip` bit 0 per hart (machine software interrupt).
    pub msip: Vec<bool>,
    /// `mtimecmp` per hart; MTIP is pending while `mtime >= mtimecmp`. Resets to all ones.
    pub mtimecmp: Vec<u64>,
    /// `mtime`: 10 MHz ticks since power-on (set by the machine's clock).
    pub mtime: u64,
    /// Set when a guest write moved `mtime` (the machine's clock re-bases on it).
    pub mtime_written: bool,
    /// Per hart: whether the guest has written `mtimecmp` (before that it reads 0 and never
    /// fires, as QEMU's; `mtimecmp` holds u64::MAX meanwhile).
    mtimecmp_written: Vec<bool>,
}

impl Clint {
    /// A CLINT for `harts` harts: no software interrupts, `mtimecmp` = u64::MAX, `mtime` = 0.
    pub fn new(harts: usize) -> Clint {
        Clint {
            msip: vec![false; harts],
            mtimecmp: vec![u64::MAX; harts],
            mtime: 0,
            mtime_written: false,
            mtimecmp_written: vec![false; harts],
        }
    }

    /// Whether MTIP is pending for `hart`.
    pub fn mtip(&self, hart: usize) -> bool {
        self.mtime >= self.mtimecmp[hart]
    }

    /// Whether MSIP is pending for `hart`.
    pub fn msip(&self, hart: usize) -> bool {
        self.msip[hart]
    }

    /// The earliest `mtimecmp` strictly after `mtime` (a future timer deadline), if any.
    pub fn next_deadline(&self) -> Option<u64> {
        self.mtimecmp
            .iter()
            .copied()
            .filter(|&c| c > self.mtime && c != u64::MAX)
            .min()
    }

    /// Whether `offset` is a register of an existing hart (for `--trace unimp`).
    pub fn implemented(&self, offset: u64) -> bool {
        if offset < MTIMECMP_BASE {
            return ((offset / 4) as usize) < self.msip.len();
        }
        offset & !7 == MTIME || (((offset - MTIMECMP_BASE) / 8) as usize) < self.mtimecmp.len()
    }

    /// Locate a 64-bit register for an access: (register value, byte shift of the access).
    fn reg64(&mut self, offset: u64) -> Option<(&mut u64, u32)> {
        let shift = ((offset & 7) * 8) as u32;
        if offset == MTIME || offset == MTIME + 4 {
            return Some((&mut self.mtime, shift));
        }
        if offset >= MTIMECMP_BASE {
            let hart = ((offset - MTIMECMP_BASE) / 8) as usize;
            if let Some(cmp) = self.mtimecmp.get_mut(hart) {
                return Some((cmp, shift));
            }
        }
        None
    }
}

fn size_mask(size: Size) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (size as u32 * 8)) - 1
    }
}

/// QEMU's ACLINT: 4-byte `msip` accesses, 4- or 8-byte timer accesses, nothing past 0xc000.
fn check_width(offset: u64, size: Size) -> Result<(), BusFault> {
    let ok = match offset {
        0..MTIMECMP_BASE => size == 4,
        MTIMECMP_BASE..0xc000 => size == 4 || size == 8,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(BusFault { addr: offset })
    }
}

impl Clint {
    /// The hart whose `mtimecmp` `offset` addresses.
    fn mtimecmp_hart(&self, offset: u64) -> Option<usize> {
        if !(MTIMECMP_BASE..MTIME).contains(&offset) {
            return None;
        }
        let hart = ((offset - MTIMECMP_BASE) / 8) as usize;
        (hart < self.mtimecmp.len()).then_some(hart)
    }
}

impl Device for Clint {
    fn read(&mut self, offset: u64, size: Size) -> Result<u64, BusFault> {
        check_width(offset, size)?;
        if let Some(hart) = self.mtimecmp_hart(offset) {
            if !self.mtimecmp_written[hart] {
                return Ok(0);
            }
        }
        if offset < MTIMECMP_BASE {
            let hart = ((offset - MSIP_BASE) / 4) as usize;
            return Ok(match self.msip.get(hart) {
                Some(&b) if offset & 3 == 0 => b as u64,
                _ => 0,
            });
        }
        Ok(match self.reg64(offset) {
            Some((reg, shift)) => (*reg >> shift) & size_mask(size),
            None => 0,
        })
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) -> Result<(), BusFault> {
        check_width(offset, size)?;
        if let Some(hart) = self.mtimecmp_hart(offset) {
            if !std::mem::replace(&mut self.mtimecmp_written[hart], true) {
                self.mtimecmp[hart] = 0;
            }
        }
        if offset < MTIMECMP_BASE {
            let hart = ((offset - MSIP_BASE) / 4) as usize;
            if offset & 3 == 0 {
                if let Some(b) = self.msip.get_mut(hart) {
                    *b = value & 1 != 0;
                }
            }
            return Ok(());
        }
        let is_mtime = offset & !7 == MTIME;
        if let Some((reg, shift)) = self.reg64(offset) {
            let mask = size_mask(size) << shift;
            *reg = (*reg & !mask) | ((value << shift) & mask);
            if is_mtime {
                self.mtime_written = true;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msip_and_mtimecmp_per_hart() {
        let mut c = Clint::new(3);
        c.write(8, 4, 1).unwrap();
        assert!(c.msip(2) && !c.msip(0) && !c.msip(1));
        assert_eq!(c.read(8, 4).unwrap(), 1);
        c.write(8, 4, 0).unwrap();
        assert!(!c.msip(2));

        assert!(!c.mtip(1));
        c.write(0x4008, 8, 500).unwrap();
        assert_eq!(c.read(0x4008, 8).unwrap(), 500);
        c.mtime = 499;
        assert!(!c.mtip(1));
        c.mtime = 500;
        assert!(c.mtip(1));
        assert!(!c.mtip(0));
    }

    #[test]
    fn split_32bit_accesses_and_mtime() {
        let mut c = Clint::new(1);
        // The RV32 idiom: high word to all ones, low, then high.
        c.write(0x4004, 4, 0xffff_ffff).unwrap();
        c.write(0x4000, 4, 0x89ab_cdef).unwrap();
        c.write(0x4004, 4, 0x0123_4567).unwrap();
        assert_eq!(c.mtimecmp[0], 0x0123_4567_89ab_cdef);
        assert_eq!(c.read(0x4004, 4).unwrap(), 0x0123_4567);
        c.mtime = 0x1_0000_0002;
        assert_eq!(c.read(0xbff8, 8).unwrap(), 0x1_0000_0002);
        assert_eq!(c.read(0xbffc, 4).unwrap(), 1);
        assert!(!c.mtime_written);
        c.write(0xbff8, 8, 77).unwrap();
        assert!(c.mtime_written);
        assert_eq!(c.mtime, 77);
        assert_eq!(c.next_deadline(), Some(0x0123_4567_89ab_cdef));
        // Out-of-range harts read as zero and ignore writes.
        c.write(0x4008, 8, 5).unwrap();
        assert_eq!(c.read(0x4008, 8).unwrap(), 0);
        assert_eq!(c.read(4, 4).unwrap(), 0);
    }
}

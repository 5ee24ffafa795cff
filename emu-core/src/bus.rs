//! The physical address map: RAM and the memory-mapped devices of the QEMU `virt` board.
//!
//! Layout (QEMU hw/riscv/virt.c): reset ROM 0x1000, test finisher 0x10_0000, CLINT 0x200_0000,
//! PLIC 0xc00_0000, UART 0x1000_0000, virtio-mmio 0x1000_1000 + 0x1000·n, RAM 0x8000_0000.

use crate::dev::test_finisher::{TestFinisher, TEST_FINISHER_SIZE};

/// Width of a bus access in bytes: 1, 2, 4 or 8.
pub type Size = u8;

/// A physical access that no RAM or device accepts (or that a device rejects): the hart turns it
/// into an access-fault exception (cause 1, 5 or 7; RISC-V Privileged ISA §3.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bus fault at physical address {addr:#x}")]
pub struct BusFault {
    /// The physical address of the failing access.
    pub addr: u64,
}

/// A memory-mapped device. Offsets are relative to the device's base; a device never sees
/// another's addresses. `size` is 1, 2, 4 or 8 bytes; values are little-endian, zero-extended.
pub trait Device {
    /// Read `size` bytes at `offset`. Returns `Err(BusFault)` for an offset or width the device
    /// does not implement as an access fault (most devices read 0 instead, as QEMU does).
    fn read(&mut self, offset: u64, size: Size) -> Result<u64, BusFault>;
    /// Write the low `size` bytes of `value` at `offset`.
    fn write(&mut self, offset: u64, size: Size, value: u64) -> Result<(), BusFault>;
}

/// Guest RAM: `size` bytes at physical `base` (0x8000_0000 on `virt`).
///
/// All writes into RAM — hart stores and device DMA alike — go through [`Ram::write`] or
/// [`Ram::write_bytes`], so that decoded-instruction caches can be invalidated when code changes.
pub struct Ram {
    base: u64,
    data: Vec<u8>,
}

impl Ram {
    /// `size` bytes of zeroed RAM at physical address `base`.
    pub fn new(base: u64, size: usize) -> Ram {
        Ram {
            base,
            data: vec![0; size],
        }
    }
    /// Physical base address.
    pub fn base(&self) -> u64 {
        self.base
    }
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }
    /// Whether `[paddr, paddr + len)` lies wholly in RAM.
    #[inline]
    pub fn contains(&self, paddr: u64, len: u64) -> bool {
        paddr >= self.base
            && paddr
                .checked_add(len)
                .is_some_and(|end| end - self.base <= self.data.len() as u64)
    }
    /// Copy RAM at `paddr` into `buf`. `Err` if any byte lies outside RAM (nothing is copied).
    pub fn read_bytes(&self, paddr: u64, buf: &mut [u8]) -> Result<(), BusFault> {
        if !self.contains(paddr, buf.len() as u64) {
            return Err(BusFault { addr: paddr });
        }
        let off = (paddr - self.base) as usize;
        buf.copy_from_slice(&self.data[off..off + buf.len()]);
        Ok(())
    }
    /// Copy `buf` into RAM at `paddr` (device DMA uses this). `Err` if any byte lies outside RAM
    /// (nothing is written).
    pub fn write_bytes(&mut self, paddr: u64, buf: &[u8]) -> Result<(), BusFault> {
        if !self.contains(paddr, buf.len() as u64) {
            return Err(BusFault { addr: paddr });
        }
        let off = (paddr - self.base) as usize;
        self.data[off..off + buf.len()].copy_from_slice(buf);
        Ok(())
    }
    /// Read a little-endian value of `size` bytes.
    pub fn read(&self, paddr: u64, size: Size) -> Result<u64, BusFault> {
        let mut b = [0u8; 8];
        self.read_bytes(paddr, &mut b[..size as usize])?;
        Ok(u64::from_le_bytes(b))
    }
    /// Write the low `size` bytes of `value`, little-endian.
    pub fn write(&mut self, paddr: u64, size: Size, value: u64) -> Result<(), BusFault> {
        self.write_bytes(paddr, &value.to_le_bytes()[..size as usize])
    }
}

/// The physical address space: RAM plus the board's devices.
///
/// The board (devices, routing) fills in the device fields; harts call [`Bus::read`] and
/// [`Bus::write`] for anything that is not a RAM hit.
pub struct Bus {
    /// Main memory at 0x8000_0000.
    pub ram: Ram,
    /// SiFive test finisher at 0x10_0000.
    pub test_finisher: TestFinisher,
    /// Set by an MMIO access after which the machine must look (power-off request, interrupt
    /// line change, queue notify…). A hart returns [`crate::hart::HartExit::Event`] when it
    /// sees it set after an MMIO access; the machine clears it.
    pub event: bool,
}

/// Physical base of the SiFive test finisher.
pub const TEST_FINISHER_BASE: u64 = 0x10_0000;
/// Physical base of RAM.
pub const RAM_BASE: u64 = 0x8000_0000;

impl Bus {
    /// A bus with `ram_size` bytes of RAM at [`RAM_BASE`] and the board's devices.
    pub fn new(ram_size: usize) -> Bus {
        Bus {
            ram: Ram::new(RAM_BASE, ram_size),
            test_finisher: TestFinisher::default(),
            event: false,
        }
    }
    /// Physical read of `size` bytes (RAM or MMIO). `Err` where nothing is mapped.
    pub fn read(&mut self, paddr: u64, size: Size) -> Result<u64, BusFault> {
        if paddr >= RAM_BASE {
            return self.ram.read(paddr, size);
        }
        if (TEST_FINISHER_BASE..TEST_FINISHER_BASE + TEST_FINISHER_SIZE).contains(&paddr) {
            return self.test_finisher.read(paddr - TEST_FINISHER_BASE, size);
        }
        Err(BusFault { addr: paddr })
    }
    /// Physical write of the low `size` bytes of `value` (RAM or MMIO). `Err` where nothing is
    /// mapped.
    pub fn write(&mut self, paddr: u64, size: Size, value: u64) -> Result<(), BusFault> {
        if paddr >= RAM_BASE {
            return self.ram.write(paddr, size, value);
        }
        if (TEST_FINISHER_BASE..TEST_FINISHER_BASE + TEST_FINISHER_SIZE).contains(&paddr) {
            self.test_finisher
                .write(paddr - TEST_FINISHER_BASE, size, value)?;
            self.event |= self.test_finisher.request.is_some();
            return Ok(());
        }
        Err(BusFault { addr: paddr })
    }
}

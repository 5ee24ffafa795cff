//! Devices of the QEMU `virt` board, and the [`Device`] trait the bus drives them through.
pub mod clint;
pub mod fdt;
pub mod flash;
pub mod fw_cfg;
pub mod htif;
pub mod pcie;
pub mod plic;
pub mod rom;
pub mod rtc;
pub mod test_finisher;
pub mod uart;
pub mod virtio;

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

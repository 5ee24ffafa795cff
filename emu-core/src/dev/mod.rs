//! Devices of the QEMU `virt` board.
pub mod clint;
pub mod fdt;
pub mod htif;
pub mod plic;
pub mod rom;
pub mod test_finisher;
pub mod uart;
pub mod virtio;

//! Devices of the QEMU `virt` board.
pub mod htif;
pub mod test_finisher;

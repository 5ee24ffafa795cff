//! Devices of the QEMU `virt` board.
pub mod test_finisher;

//! Devices of the QEMU `virt` board.

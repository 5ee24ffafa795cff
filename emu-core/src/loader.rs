//! Loading kernels: ELF64 RISC-V (goblin) or raw images at 0x8000_0000.

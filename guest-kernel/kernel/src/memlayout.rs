//! Physical and virtual memory layout of the QEMU `virt` board as this kernel uses it.
//!
//! Physical: test device 0x0010_0000, CLINT 0x0200_0000, PLIC 0x0c00_0000, UART0 0x1000_0000 (irq 10), virtio-mmio disk
//! 0x1000_1000 (irq 1), RAM from KERNBASE to PHYSTOP (128 MiB). Virtual (per process): user
//! memory from 0, then at the top the trampoline (MAXVA - PGSIZE) and the trapframe below it.
//! The kernel maps RAM and devices one-to-one, plus the trampoline and the kernel stacks.

use crate::riscv::{MAXVA, PGSIZE};

/// SiFive test device ("sifive,test0" on QEMU virt): a 32-bit write of 0x5555 powers off with
/// pass, of 0x3333 | code << 16 with failure `code`, of 0x7777 resets.
pub const TEST: usize = 0x0010_0000;
/// [`TEST`] command: power off with failure (the code goes in bits 31:16).
pub const TEST_FAIL: u32 = 0x3333;
pub const UART0: usize = 0x1000_0000;
pub const UART0_IRQ: u32 = 10;
pub const VIRTIO0: usize = 0x1000_1000;
pub const VIRTIO0_IRQ: u32 = 1;
pub const PLIC: usize = 0x0c00_0000;
pub const PLIC_SIZE: usize = 0x40_0000;

pub const KERNBASE: usize = 0x8000_0000;
/// End of RAM: 128 MiB after KERNBASE.
pub const PHYSTOP: usize = KERNBASE + 128 * 1024 * 1024;

/// The trampoline page, mapped at the same address in every page table.
pub const TRAMPOLINE: usize = MAXVA - PGSIZE;
/// The per-process trapframe page, just below the trampoline.
pub const TRAPFRAME: usize = TRAMPOLINE - PGSIZE;

/// Pages in each kernel stack (Rust frames are larger than C's, so more than xv6's one).
pub const KSTACK_PAGES: usize = 4;

/// Virtual address of process slot `p`'s kernel stack; an unmapped guard page lies below each.
pub const fn kstack(p: usize) -> usize {
    TRAMPOLINE - (p + 1) * (KSTACK_PAGES + 1) * PGSIZE
}

//! Physical and virtual memory layout of the QEMU `virt` board as this kernel uses it.
//!
//! Physical: test device 0x0010_0000, CLINT 0x0200_0000, PLIC 0x0c00_0000, UART0 0x1000_0000
//! (irq 10), virtio-mmio disk 0x1000_1000 (irq 1), RAM from KERNBASE to `phystop()` (read from
//! the device tree at boot, see [`raminit`]). Virtual (per process): user
//! memory from 0, then at the top the trampoline (MAXVA - PGSIZE) and the trapframe below it.
//! The kernel maps RAM and devices one-to-one, plus the trampoline and the kernel stacks.

use crate::riscv::{MAXVA, PGSIZE};
use core::sync::atomic::{AtomicUsize, Ordering};

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
/// RAM assumed when the boot loader passes no usable device tree: QEMU `virt`'s default.
pub const DEFAULT_RAM: usize = 128 * 1024 * 1024;
/// Most RAM the kernel manages (64 GiB): its direct map must stay below the kernel stacks at
/// the top of the Sv39 address space; more RAM is left unused.
pub const MAX_RAM: usize = 64 << 30;

/// End of RAM (exclusive), set once by [`raminit`] on hart 0 before any other use.
static PHYSTOP: AtomicUsize = AtomicUsize::new(KERNBASE + DEFAULT_RAM);

/// End of RAM: the first physical address after the RAM the kernel manages.
#[inline]
pub fn phystop() -> usize {
    PHYSTOP.load(Ordering::Relaxed)
}

/// Sets `phystop()` from the `/memory` node of the device tree at `dtb` (what the boot ROM
/// passed in `a1`): the end of the RAM region holding KERNBASE, at most KERNBASE + MAX_RAM,
/// page-aligned. Without a usable tree, or if its RAM does not hold the kernel, keeps
/// DEFAULT_RAM and says so. Returns the RAM size in bytes. Hart 0, once, before `kinit`: the
/// tree itself lies in RAM that `kinit` then hands out, so nothing may read it later.
pub fn raminit(dtb: usize) -> usize {
    let end = crate::fdt::Fdt::new(dtb)
        .and_then(|f| f.memory())
        .and_then(|(base, size)| {
            let base = usize::try_from(base).ok()?;
            let size = usize::try_from(size).ok()?;
            (base <= KERNBASE && base.checked_add(size)? > KERNBASE + (1 << 20))
                .then(|| (base + size).min(KERNBASE + MAX_RAM) & !(PGSIZE - 1))
        });
    match end {
        Some(end) => PHYSTOP.store(end, Ordering::Relaxed),
        None => crate::println!(
            "raminit: no /memory in a device tree at {:#x}: assuming {} MiB",
            dtb,
            DEFAULT_RAM >> 20
        ),
    }
    phystop() - KERNBASE
}

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

//! PLIC (platform-level interrupt controller) setup, claim and complete for the supervisor
//! context of each hart (RISC-V PLIC spec 1.0.0; QEMU virt: S-context of hart h is 2h+1).

use crate::memlayout::*;
use crate::proc::cpuid;
use core::ptr::{read_volatile, write_volatile};

/// PLIC register at byte offset `off`.
fn reg(off: usize) -> *mut u32 {
    (PLIC + off) as *mut u32
}

/// Offset of the S-mode interrupt-enable bits of `hart`'s context.
fn senable(hart: usize) -> usize {
    0x2080 + hart * 0x100
}
/// Offset of the S-mode priority threshold of `hart`'s context.
fn spriority(hart: usize) -> usize {
    0x20_1000 + hart * 0x2000
}
/// Offset of the S-mode claim/complete register of `hart`'s context.
fn sclaim(hart: usize) -> usize {
    0x20_1004 + hart * 0x2000
}

/// Gives the UART and virtio disk sources a non-zero priority (hart 0, once).
pub fn plicinit() {
    // SAFETY: PLIC registers, mapped one-to-one.
    unsafe {
        write_volatile(reg(UART0_IRQ as usize * 4), 1);
        write_volatile(reg(VIRTIO0_IRQ as usize * 4), 1);
    }
}

/// Enables the UART and disk sources for this hart's S-mode context, threshold 0.
pub fn plicinithart() {
    let hart = cpuid();
    // SAFETY: PLIC registers, mapped one-to-one.
    unsafe {
        write_volatile(reg(senable(hart)), (1 << UART0_IRQ) | (1 << VIRTIO0_IRQ));
        write_volatile(reg(spriority(hart)), 0);
    }
}

/// Asks the PLIC which interrupt to serve (0 = none).
pub fn plic_claim() -> u32 {
    // SAFETY: PLIC register.
    unsafe { read_volatile(reg(sclaim(cpuid()))) }
}

/// Tells the PLIC this hart has served `irq`.
pub fn plic_complete(irq: u32) {
    // SAFETY: PLIC register.
    unsafe { write_volatile(reg(sclaim(cpuid())), irq) }
}

//! Boot: `_entry` (at 0x8000_0000, every hart, M-mode) gives each hart a boot stack and calls
//! `start`, which configures M-mode — delegation to S-mode, PMP, the Sstc timer — and `mret`s
//! into `main` in S-mode. RISC-V Privileged ISA 20211203 §3.1.8 (delegation), §3.7 (PMP);
//! Sstc 1.0 (menvcfg.STCE, stimecmp).

use crate::riscv::*;
use crate::trap::TIMER_INTERVAL;
use abi::param::NCPU;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Boot stack bytes per hart (the scheduler runs on it).
pub const STACK0_SIZE: usize = 16384;

#[repr(C, align(16))]
pub struct Stack0([u8; STACK0_SIZE * NCPU]);

/// Boot stacks: hart h uses [h*STACK0_SIZE, (h+1)*STACK0_SIZE).
#[no_mangle]
pub static mut STACK0: Stack0 = Stack0([0; STACK0_SIZE * NCPU]);

core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".globl _entry",
    "_entry:",
    // a0 (hart id) and a1 (device-tree address) from the boot ROM are passed on to start.
    // Harts beyond NCPU have no stack: park them.
    "csrr t0, mhartid",
    "li t1, {ncpu}",
    "bgeu t0, t1, 2f",
    "la sp, STACK0",
    "li t1, {size}",
    "addi t0, t0, 1",
    "mul t1, t1, t0",
    "add sp, sp, t1",
    "call start",
    "2:",
    "wfi",
    "j 2b",
    ncpu = const NCPU,
    size = const STACK0_SIZE,
);

/// Physical address of the flattened device tree the boot ROM passed in `a1` (0 if none);
/// `kmain` reads the RAM size from it.
pub static DTB: AtomicUsize = AtomicUsize::new(0);

/// M-mode setup on each hart, then `mret` to `main` in S-mode with paging off. `dtb` is the
/// boot ROM's `a1` (QEMU `virt` and rvcow pass the device tree there; `a0` is the hart id).
#[no_mangle]
pub extern "C" fn start(_hartid: usize, dtb: usize) -> ! {
    if r_mhartid() == 0 {
        DTB.store(dtb, Ordering::Relaxed);
    }
    // mret goes to S-mode, at main.
    let mut x = r_mstatus();
    x &= !MSTATUS_MPP_MASK;
    x |= MSTATUS_MPP_S;
    w_mstatus(x);
    w_mepc(crate::kmain as *const () as usize);
    w_satp(0);
    // All exceptions and interrupts to S-mode.
    w_medeleg(0xffff);
    w_mideleg(0xffff);
    w_sie(r_sie() | SIE_SEIE | SIE_STIE);
    // PMP entry 0: TOR up to 2^56, R/W/X, so S-mode reaches all physical memory.
    w_pmpaddr0(0x3f_ffff_ffff_ffff);
    w_pmpcfg0(0xf);
    timerinit();
    // Keep the hart id in tp for cpuid().
    w_tp(r_mhartid());
    // SAFETY: mepc/mstatus are set up for the jump to kmain in S-mode.
    unsafe { core::arch::asm!("mret", options(noreturn)) }
}

/// Sstc timer: lets S-mode use stimecmp and read `time`, and asks for the first interrupt.
/// Also opens the cycle/time/instret counters to S and U mode.
fn timerinit() {
    w_mie(r_mie() | MIE_STIE);
    w_menvcfg(r_menvcfg() | (1 << 63));
    // S-mode may read time (Sstc needs it); S and U may read cycle, time and instret, so user
    // programs (forkbench) can time themselves with rdtime/rdcycle.
    w_mcounteren(r_mcounteren() | 7);
    w_scounteren(r_scounteren() | 7);
    w_stimecmp(r_time() + TIMER_INTERVAL);
}

//! rvcow's kernel: a Rust kernel in the style of MIT xv6-riscv with copy-on-write fork.
//! One module per xv6 subsystem, keeping xv6's function names. Boots on the QEMU `virt`
//! board (`-bios none`, entry 0x8000_0000) and on rvcow's emulator of it, with 1 to 8 harts.
//!
//! Reading order, as in the xv6 book: `start` (M-mode boot, Sstc timer) → `kmain` below →
//! `kalloc` (pages and their COW reference counts) → `vm` (Sv39 page tables, `uvmcopy`,
//! `cow_break`, `copyout`) → `proc`/`swtch` (processes, scheduler) → `trampoline`/`trap`
//! (user/kernel transitions, the COW store fault) → `syscall`/`sysproc`/`sysfile` → `file`,
//! `pipe`, `fs`, `log`, `bio`, `virtio_disk` → `exec`. Locks: `spinlock`, `sleeplock`.
//! Devices: `uart`, `console`, `plic`. Output: `printf`.
//!
//! Copy-on-write fork: `uvmcopy` shares every user page with the child; writable pages lose
//! PTE_W and gain PTE_COW (RSW bit 8) in both page tables, read-only pages stay read-only.
//! A store fault (scause 15) on a PTE_COW page, or a kernel `copyout` to one, runs
//! `vm::cow_break`: sole owner → writable again, otherwise copy. With feature `eager-fork`
//! `uvmcopy` copies as xv6 does. With feature `odf` fork also shares the last-level
//! page-table pages (on-demand fork, `odf`). SYS_COWSTAT (22) reports the counters
//! (abi::CowStat). RAM: from the device tree's `/memory` node (`memlayout::raminit`).
#![no_std]
#![no_main]
#![allow(static_mut_refs)]
// Kernel objects (processes, inodes, buffers, files, pipes) are handed around as raw pointers
// into static tables, as in xv6; their validity is a kernel invariant, not a caller's duty.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
// Internal fallible calls fail for one reason each (the syscall returns -1): `Result<_, ()>`.
#![allow(clippy::result_unit_err)]
// `const X_INIT` values only initialise the static tables.
#![allow(clippy::declare_interior_mutable_const)]
#[cfg(all(feature = "odf", feature = "eager-fork"))]
compile_error!("features `odf` and `eager-fork` exclude each other");

pub mod bio;
pub mod console;
pub mod exec;
pub mod fdt;
pub mod file;
pub mod fs;
pub mod kalloc;
pub mod kernelvec;
pub mod log;
pub mod memlayout;
#[cfg(feature = "odf")]
pub mod odf;
pub mod pipe;
pub mod plic;
pub mod printf;
pub mod proc;
pub mod riscv;
pub mod sleeplock;
pub mod spinlock;
pub mod start;
pub mod swtch;
pub mod syscall;
pub mod sysfile;
pub mod sysproc;
pub mod trampoline;
pub mod trap;
pub mod uart;
pub mod virtio_disk;
pub mod vm;

use core::sync::atomic::{AtomicBool, Ordering};

static STARTED: AtomicBool = AtomicBool::new(false);

/// S-mode entry on every hart (from `start`). Hart 0 initialises the kernel; the others wait
/// for it, then turn on paging, traps and interrupts for themselves. All then schedule.
#[no_mangle]
pub extern "C" fn kmain() -> ! {
    if proc::cpuid() == 0 {
        console::consoleinit();
        println!();
        println!("rvcow kernel is booting");
        println!();
        // The device tree lies in RAM that kinit hands out: read what we need first.
        memlayout::raminit(start::DTB.load(Ordering::Relaxed));
        kalloc::kinit();
        vm::kvminit();
        vm::kvminithart();
        proc::procinit();
        trap::trapinithart();
        plic::plicinit();
        plic::plicinithart();
        bio::binit();
        virtio_disk::virtio_disk_init();
        proc::userinit();
        STARTED.store(true, Ordering::Release);
    } else {
        while !STARTED.load(Ordering::Acquire) {
            core::hint::spin_loop();
        }
        println!("hart {} starting", proc::cpuid());
        vm::kvminithart();
        trap::trapinithart();
        plic::plicinithart();
    }
    proc::scheduler();
}

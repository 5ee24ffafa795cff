//! Traps: system calls, device interrupts and exceptions from user and kernel mode
//! (xv6 trap.c), and the copy-on-write store page fault.
//! scause values: RISC-V Privileged ISA 20211203, §4.1.9 Table 4.2.

use crate::memlayout::*;
use crate::plic::{plic_claim, plic_complete};
use crate::proc::{cpuid, exit, killed, myproc, setkilled, wakeup, yield_, Proc, ProcState};
use crate::riscv::*;
use crate::spinlock::{acquire, release, Spinlock};
use crate::vm::{cow_break, CowError};
use core::sync::atomic::{AtomicU32, Ordering};

pub static TICKSLOCK: Spinlock = Spinlock::new("time");
/// Timer ticks since boot (hart 0's timer, every TIMER_INTERVAL).
pub static mut TICKS: u32 = 0;
/// Timer interrupt interval in `time` units (10 MHz on QEMU virt: 0.1 s).
pub const TIMER_INTERVAL: usize = 1_000_000;

const SCAUSE_ECALL_U: usize = 8;
const SCAUSE_STORE_PAGE_FAULT: usize = 15;
const SCAUSE_INTR: usize = 1 << 63;

extern "C" {
    fn kernelvec();
    fn uservec();
    fn userret();
}

/// Points this hart's stvec at kernelvec.
pub fn trapinithart() {
    w_stvec(kernelvec as *const () as usize);
}

/// Address of TICKS, the channel sleep() waits on.
pub fn ticks_chan() -> usize {
    &raw const TICKS as usize
}

/// Handles a trap from user space (called from uservec in the trampoline): system calls,
/// device interrupts, COW store faults; anything else kills the process with xv6's
/// `usertrap(): unexpected scause` message. Returns to user space via usertrapret.
#[no_mangle]
pub extern "C" fn usertrap() -> ! {
    if r_sstatus() & SSTATUS_SPP != 0 {
        panic!("usertrap: not from user mode");
    }
    // Traps in the kernel now go to kerneltrap.
    w_stvec(kernelvec as *const () as usize);
    let p = myproc();
    // SAFETY: our own trapframe.
    let tf = unsafe { &mut *(*p).trapframe };
    tf.epc = r_sepc();
    let scause = r_scause();
    let stval = r_stval();
    let mut which_dev = 0;
    if scause == SCAUSE_ECALL_U {
        if killed(p) {
            exit(-1);
        }
        // Return to the instruction after ecall.
        tf.epc += 4;
        // sepc, scause and sstatus are saved: interrupts may come now.
        intr_on();
        crate::syscall::syscall();
    } else {
        which_dev = devintr();
        // On-demand fork: the first touch of a region whose leaf page-table page fork
        // shared (any kind of page fault) resolves it; the access is then retried.
        #[cfg(feature = "odf")]
        if which_dev == 0
            && matches!(scause, 12 | 13 | SCAUSE_STORE_PAGE_FAULT)
            && crate::odf::fault(unsafe { (*p).pagetable }, stval)
        {
            which_dev = 3;
        }
        if which_dev == 0 {
            if scause == SCAUSE_STORE_PAGE_FAULT {
                // SAFETY: our own page table.
                match cow_fault(p, stval) {
                    Ok(_) => {}
                    Err(CowError::OutOfMemory) => {
                        crate::println!(
                            "usertrap(): out of memory on COW fault pid={} stval={:#x}",
                            unsafe { (*p).pid },
                            stval
                        );
                    }
                    Err(CowError::NotCow) => unexpected(p, scause),
                }
            } else {
                unexpected(p, scause);
            }
        }
    }
    if killed(p) {
        exit(-1);
    }
    // Give up the hart on a timer interrupt.
    if which_dev == 2 {
        yield_();
    }
    usertrapret();
}

/// Most ticks a COW fault waits for memory that an out-of-memory victim is giving back.
const COW_OOM_WAIT_TICKS: u32 = 10;

/// Processes killed for want of memory that have not yet released it (exit frees user
/// memory at once, not at wait).
pub static OOM_PENDING: AtomicU32 = AtomicU32::new(0);

/// Resolves a store page fault at `va` by breaking copy-on-write. Out of memory: if another
/// process was already killed for want of memory and is about to give its pages back, waits
/// for them (a tick at a time, at most COW_OOM_WAIT_TICKS) and retries; otherwise, or when the
/// wait runs out, this process becomes the victim: it is marked killed and `OutOfMemory`
/// returned. So one victim dies per shortage, not every process that faults meanwhile.
fn cow_fault(p: *mut Proc, va: usize) -> Result<usize, CowError> {
    // SAFETY: our own page table.
    let pagetable = unsafe { (*p).pagetable };
    let mut waited = 0;
    loop {
        match cow_break(pagetable, va) {
            Err(CowError::OutOfMemory) => {
                if waited < COW_OOM_WAIT_TICKS
                    && OOM_PENDING.load(Ordering::Acquire) > 0
                    && !killed(p)
                {
                    waited += 1;
                    sleep_one_tick();
                    continue;
                }
                // SAFETY: p.lock guards killed and oom_victim.
                unsafe {
                    acquire(&(*p).lock);
                    if !(*p).oom_victim {
                        (*p).oom_victim = true;
                        OOM_PENDING.fetch_add(1, Ordering::AcqRel);
                    }
                    (*p).killed = true;
                    release(&(*p).lock);
                }
                return Err(CowError::OutOfMemory);
            }
            r => return r,
        }
    }
}

/// Sleeps until the next timer tick.
fn sleep_one_tick() {
    acquire(&TICKSLOCK);
    // SAFETY: TICKS under TICKSLOCK.
    let t0 = unsafe { TICKS };
    // SAFETY: as above.
    while unsafe { core::ptr::read_volatile(&raw const TICKS) } == t0 {
        crate::proc::sleep(ticks_chan(), &TICKSLOCK);
    }
    release(&TICKSLOCK);
}

/// Reports a trap that is not ours to fix and marks the process killed.
fn unexpected(p: *mut crate::proc::Proc, scause: usize) {
    // SAFETY: reads our own pid.
    let pid = unsafe { (*p).pid };
    crate::println!("usertrap(): unexpected scause {:#x} pid={}", scause, pid);
    crate::println!("            sepc={:#x} stval={:#x}", r_sepc(), r_stval());
    setkilled(p);
}

/// Returns to user space: sets up the trapframe's kernel fields and stvec for the next trap,
/// sstatus/sepc for sret, and jumps to userret in the trampoline with the user satp.
pub fn usertrapret() -> ! {
    let p = myproc();
    // No interrupts until we are back in user space (stvec is about to point at uservec).
    intr_off();
    let tramp = trampoline_base();
    w_stvec(TRAMPOLINE + (uservec as *const () as usize - tramp));
    // SAFETY: our own trapframe and page table.
    unsafe {
        let tf = &mut *(*p).trapframe;
        tf.kernel_satp = r_satp();
        tf.kernel_sp = (*p).kstack + KSTACK_PAGES * PGSIZE;
        tf.kernel_trap = usertrap as *const () as usize;
        tf.kernel_hartid = r_tp();
        let mut x = r_sstatus();
        x &= !SSTATUS_SPP; // user mode after sret
        x |= SSTATUS_SPIE; // interrupts on in user mode
        w_sstatus(x);
        w_sepc(tf.epc);
        let satp = make_satp((*p).pagetable);
        let f: extern "C" fn(usize) -> ! =
            core::mem::transmute(TRAMPOLINE + (userret as *const () as usize - tramp));
        f(satp)
    }
}

/// Physical (= kernel virtual) address of the trampoline page.
fn trampoline_base() -> usize {
    crate::vm::trampoline_addr()
}

/// Handles an interrupt or exception taken in supervisor mode (via kernelvec, on the current
/// kernel stack). Only device and timer interrupts are expected; anything else panics.
#[no_mangle]
pub extern "C" fn kerneltrap() {
    let sepc = r_sepc();
    let sstatus = r_sstatus();
    let scause = r_scause();
    if sstatus & SSTATUS_SPP == 0 {
        panic!("kerneltrap: not from supervisor mode");
    }
    if intr_get() {
        panic!("kerneltrap: interrupts enabled");
    }
    let which_dev = devintr();
    if which_dev == 0 {
        panic!(
            "kerneltrap: scause {:#x} sepc={:#x} stval={:#x}",
            scause,
            r_sepc(),
            r_stval()
        );
    }
    // Yield on a timer interrupt if a process is running.
    if which_dev == 2 {
        let p = myproc();
        // SAFETY: racy state read is what xv6 does; Running only changes on this hart.
        if !p.is_null() && unsafe { (*p).state } == ProcState::Running {
            yield_();
        }
    }
    // yield may have caused traps: restore what kernelvec's sret uses.
    w_sepc(sepc);
    w_sstatus(sstatus);
}

/// Timer interrupt: hart 0 counts a tick; every hart re-arms its Sstc timer.
fn clockintr() {
    if cpuid() == 0 {
        acquire(&TICKSLOCK);
        // SAFETY: guarded by TICKSLOCK.
        unsafe { TICKS = TICKS.wrapping_add(1) };
        wakeup(ticks_chan());
        release(&TICKSLOCK);
    }
    w_stimecmp(r_time() + TIMER_INTERVAL);
}

/// Identifies and handles a device interrupt. Returns 2 for a timer interrupt, 1 for another
/// device, 0 if scause is not an interrupt we know.
pub fn devintr() -> usize {
    let scause = r_scause();
    if scause == SCAUSE_INTR | 9 {
        // Supervisor external interrupt via the PLIC.
        let irq = plic_claim();
        if irq == UART0_IRQ {
            crate::uart::uartintr();
        } else if irq == VIRTIO0_IRQ {
            crate::virtio_disk::virtio_disk_intr();
        } else if irq != 0 {
            crate::println!("unexpected interrupt irq={}", irq);
        }
        if irq != 0 {
            plic_complete(irq);
        }
        1
    } else if scause == SCAUSE_INTR | 5 {
        // Supervisor timer interrupt (Sstc stimecmp).
        clockintr();
        2
    } else {
        0
    }
}

//! Processes, harts and the scheduler (xv6 proc.c): the process table (NPROC slots), fork,
//! exit, wait, kill, sleep/wakeup, and each hart's scheduler loop.
//!
//! Locking, as in xv6: `p.lock` guards state, chan, killed, xstate and pid; `WAIT_LOCK` guards
//! every `parent` field and must be taken before any `p.lock`. The other fields are private to
//! the process (or to whoever holds its slot while it is USED).

use crate::file::{fileclose, filedup, File};
use crate::fs::{idup, iput, namei, Inode};
use crate::kalloc::{kalloc, kfree};
use crate::log::{begin_op, end_op};
use crate::memlayout::*;
use crate::riscv::*;
use crate::spinlock::{acquire, holding, pop_off, push_off, release, Spinlock};
use crate::vm::*;
use abi::param::{NCPU, NOFILE, NPROC};
use core::ptr::{addr_of_mut, null_mut};

/// Callee-saved registers for kernel context switches (`swtch`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Context {
    pub ra: usize,
    pub sp: usize,
    pub s: [usize; 12],
}

impl Context {
    const fn zero() -> Self {
        Context {
            ra: 0,
            sp: 0,
            s: [0; 12],
        }
    }
}

/// Per-hart state.
pub struct Cpu {
    /// The process running on this hart, or null.
    pub proc: *mut Proc,
    /// swtch() here to enter scheduler().
    pub context: Context,
    /// Depth of push_off() nesting.
    pub noff: i32,
    /// Were interrupts enabled before push_off()?
    pub intena: bool,
}

/// User registers saved by the trampoline, plus what uservec needs to enter the kernel.
/// Layout (byte offsets) is fixed by trampoline.rs: kernel_satp 0, kernel_sp 8,
/// kernel_trap 16, epc 24, kernel_hartid 32, then ra..t6 from 40 to 280.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Trapframe {
    pub kernel_satp: usize,
    pub kernel_sp: usize,
    pub kernel_trap: usize,
    pub epc: usize,
    pub kernel_hartid: usize,
    pub ra: usize,
    pub sp: usize,
    pub gp: usize,
    pub tp: usize,
    pub t0: usize,
    pub t1: usize,
    pub t2: usize,
    pub s0: usize,
    pub s1: usize,
    pub a0: usize,
    pub a1: usize,
    pub a2: usize,
    pub a3: usize,
    pub a4: usize,
    pub a5: usize,
    pub a6: usize,
    pub a7: usize,
    pub s2: usize,
    pub s3: usize,
    pub s4: usize,
    pub s5: usize,
    pub s6: usize,
    pub s7: usize,
    pub s8: usize,
    pub s9: usize,
    pub s10: usize,
    pub s11: usize,
    pub t3: usize,
    pub t4: usize,
    pub t5: usize,
    pub t6: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProcState {
    Unused,
    Used,
    Sleeping,
    Runnable,
    Running,
    Zombie,
}

/// One process slot.
pub struct Proc {
    pub lock: Spinlock,
    // p.lock must be held for these:
    pub state: ProcState,
    pub chan: usize,
    pub killed: bool,
    /// Killed for want of memory, counted in trap::OOM_PENDING until exit frees its memory.
    pub oom_victim: bool,
    pub xstate: i32,
    pub pid: i32,
    // WAIT_LOCK must be held for this:
    pub parent: *mut Proc,
    // private to the process:
    pub kstack: usize,
    pub sz: usize,
    pub pagetable: PageTable,
    pub trapframe: *mut Trapframe,
    pub context: Context,
    pub ofile: [*mut File; NOFILE],
    pub cwd: *mut Inode,
    pub name: [u8; 16],
}

impl Proc {
    const fn new() -> Self {
        Proc {
            lock: Spinlock::new("proc"),
            state: ProcState::Unused,
            chan: 0,
            killed: false,
            oom_victim: false,
            xstate: 0,
            pid: 0,
            parent: null_mut(),
            kstack: 0,
            sz: 0,
            pagetable: 0,
            trapframe: null_mut(),
            context: Context::zero(),
            ofile: [null_mut(); NOFILE],
            cwd: null_mut(),
            name: [0; 16],
        }
    }
}

const CPU_INIT: Cpu = Cpu {
    proc: null_mut(),
    context: Context::zero(),
    noff: 0,
    intena: false,
};
static mut CPUS: [Cpu; NCPU] = [CPU_INIT; NCPU];
const PROC_INIT: Proc = Proc::new();
static mut PROCS: [Proc; NPROC] = [PROC_INIT; NPROC];
static mut INITPROC: *mut Proc = null_mut();
static mut NEXTPID: i32 = 1;
static PID_LOCK: Spinlock = Spinlock::new("nextpid");
/// Guards every `parent` field; taken before any p.lock.
static WAIT_LOCK: Spinlock = Spinlock::new("wait_lock");

extern "C" {
    fn swtch(old: *mut Context, new: *const Context);
}

/// Pointer to process slot `i`.
pub fn proc_slot(i: usize) -> *mut Proc {
    // SAFETY: only forms a pointer into the static table.
    unsafe { addr_of_mut!(PROCS[i]) }
}

/// Allocates and maps a kernel stack (KSTACK_PAGES pages) for every process slot.
pub fn proc_mapstacks(kpgtbl: PageTable) {
    for i in 0..NPROC {
        for j in 0..KSTACK_PAGES {
            let pa = kalloc().expect("proc_mapstacks: kalloc");
            kvmmap(kpgtbl, kstack(i) + j * PGSIZE, pa, PGSIZE, PTE_R | PTE_W);
        }
    }
}

/// Initialises the process table (hart 0, boot).
pub fn procinit() {
    for i in 0..NPROC {
        // SAFETY: boot, single hart.
        unsafe { (*proc_slot(i)).kstack = kstack(i) };
    }
}

/// This hart's id. Interrupts must be off (so the process cannot move to another hart).
#[inline(always)]
pub fn cpuid() -> usize {
    r_tp()
}

/// This hart's Cpu. Interrupts must be off.
pub fn mycpu() -> *mut Cpu {
    // SAFETY: tp < NCPU (start.rs); only forms a pointer.
    unsafe { addr_of_mut!(CPUS[cpuid()]) }
}

/// The process running on this hart, or null.
pub fn myproc() -> *mut Proc {
    push_off();
    // SAFETY: per-hart data, interrupts off.
    let p = unsafe { (*mycpu()).proc };
    pop_off();
    p
}

/// A fresh process id.
fn allocpid() -> i32 {
    acquire(&PID_LOCK);
    // SAFETY: guarded by PID_LOCK.
    let pid = unsafe {
        let pid = NEXTPID;
        NEXTPID += 1;
        pid
    };
    release(&PID_LOCK);
    pid
}

/// Finds an UNUSED slot, gives it a pid, a trapframe page and an empty user page table, and
/// arranges for it to start in forkret. Returns it with p.lock held, or null if no slot or
/// no memory.
fn allocproc() -> *mut Proc {
    for i in 0..NPROC {
        let p = proc_slot(i);
        // SAFETY: the slot's fields are guarded by its lock / owned once USED.
        unsafe {
            acquire(&(*p).lock);
            if (*p).state != ProcState::Unused {
                release(&(*p).lock);
                continue;
            }
            (*p).pid = allocpid();
            (*p).state = ProcState::Used;
            match kalloc() {
                Some(tf) => (*p).trapframe = tf as *mut Trapframe,
                None => {
                    freeproc(p);
                    release(&(*p).lock);
                    return null_mut();
                }
            }
            match proc_pagetable(p) {
                Some(pt) => (*p).pagetable = pt,
                None => {
                    freeproc(p);
                    release(&(*p).lock);
                    return null_mut();
                }
            }
            (*p).context = Context::zero();
            (*p).context.ra = forkret as *const () as usize;
            (*p).context.sp = (*p).kstack + KSTACK_PAGES * PGSIZE;
            return p;
        }
    }
    null_mut()
}

/// Releases a slot's trapframe, page table and user memory and marks it UNUSED.
/// p.lock must be held.
fn freeproc(p: *mut Proc) {
    // SAFETY: caller holds p.lock; the slot is not running.
    unsafe {
        if !(*p).trapframe.is_null() {
            kfree((*p).trapframe as usize);
        }
        (*p).trapframe = null_mut();
        if (*p).pagetable != 0 {
            proc_freepagetable((*p).pagetable, (*p).sz);
        }
        (*p).pagetable = 0;
        (*p).sz = 0;
        (*p).pid = 0;
        (*p).parent = null_mut();
        (*p).name[0] = 0;
        (*p).chan = 0;
        (*p).killed = false;
        (*p).oom_victim = false;
        (*p).xstate = 0;
        (*p).state = ProcState::Unused;
    }
}

/// A user page table with no user memory, only the trampoline and `p`'s trapframe; None if
/// out of memory.
pub fn proc_pagetable(p: *mut Proc) -> Option<PageTable> {
    let pt = uvmcreate()?;
    if mappages(pt, TRAMPOLINE, PGSIZE, trampoline_addr(), PTE_R | PTE_X).is_err() {
        uvmfree(pt, 0);
        return None;
    }
    // SAFETY: the caller owns p's slot.
    let tf = unsafe { (*p).trapframe as usize };
    if mappages(pt, TRAPFRAME, PGSIZE, tf, PTE_R | PTE_W).is_err() {
        uvmunmap(pt, TRAMPOLINE, 1, false);
        uvmfree(pt, 0);
        return None;
    }
    Some(pt)
}

/// Frees a process page table and the user memory [0, sz) it maps.
pub fn proc_freepagetable(pt: PageTable, sz: usize) {
    uvmunmap(pt, TRAMPOLINE, 1, false);
    uvmunmap(pt, TRAPFRAME, 1, false);
    uvmfree(pt, sz);
}

/// Copies `s` into a process name buffer, NUL-terminated and truncated.
pub fn set_name(dst: &mut [u8; 16], s: &[u8]) {
    let n = s.len().min(15);
    dst[..n].copy_from_slice(&s[..n]);
    dst[n] = 0;
}

/// Creates the first process; it execs /init from forkret once the file system is up.
pub fn userinit() {
    let p = allocproc();
    if p.is_null() {
        panic!("userinit: allocproc");
    }
    // SAFETY: we hold p.lock.
    unsafe {
        INITPROC = p;
        set_name(&mut (*p).name, b"initcode");
        (*p).cwd = namei(b"/");
        (*p).state = ProcState::Runnable;
        release(&(*p).lock);
    }
}

/// Grows (n > 0) or shrinks (n < 0) the current process's memory by n bytes.
/// Err if out of memory or the new size would be invalid.
pub fn growproc(n: isize) -> Result<(), ()> {
    let p = myproc();
    // SAFETY: the process's own fields.
    unsafe {
        let sz = (*p).sz;
        if n > 0 {
            let newsz = sz.checked_add(n as usize).ok_or(())?;
            let r = uvmalloc((*p).pagetable, sz, newsz, PTE_W);
            if r == 0 {
                return Err(());
            }
            (*p).sz = r;
        } else if n < 0 {
            let dec = n.unsigned_abs();
            let newsz = sz.checked_sub(dec).ok_or(())?;
            // On-demand fork: a shared leaf page-table page that keeps some mappings must be
            // copied before the rest go, and that needs memory: fail the sbrk, not later.
            #[cfg(feature = "odf")]
            if pgroundup(newsz) < pgroundup(sz) {
                crate::odf::unshare((*p).pagetable, pgroundup(newsz))?;
            }
            (*p).sz = uvmdealloc((*p).pagetable, sz, newsz);
        }
    }
    Ok(())
}

/// Creates a child process copying the current one (COW-sharing its memory unless built
/// with `eager-fork`). Returns the child's pid to the parent (the child sees 0), or -1 if no
/// slot or no memory.
pub fn fork() -> i32 {
    let p = myproc();
    let np = allocproc();
    if np.is_null() {
        return -1;
    }
    // SAFETY: we own np (locked) and p is us.
    unsafe {
        if uvmcopy((*p).pagetable, (*np).pagetable, (*p).sz).is_err() {
            freeproc(np);
            release(&(*np).lock);
            sfence_vma();
            return -1;
        }
        // The parent's PTEs may have lost PTE_W: flush its stale translations.
        sfence_vma();
        (*np).sz = (*p).sz;
        *(*np).trapframe = *(*p).trapframe;
        (*(*np).trapframe).a0 = 0;
        for i in 0..NOFILE {
            if !(*p).ofile[i].is_null() {
                (*np).ofile[i] = filedup((*p).ofile[i]);
            }
        }
        (*np).cwd = idup((*p).cwd);
        (*np).name = (*p).name;
        let pid = (*np).pid;
        release(&(*np).lock);

        acquire(&WAIT_LOCK);
        (*np).parent = p;
        release(&WAIT_LOCK);

        acquire(&(*np).lock);
        (*np).state = ProcState::Runnable;
        release(&(*np).lock);
        pid
    }
}

/// Gives p's children to init. WAIT_LOCK must be held.
fn reparent(p: *mut Proc) {
    for i in 0..NPROC {
        let pp = proc_slot(i);
        // SAFETY: parent fields are guarded by WAIT_LOCK, which we hold.
        unsafe {
            if (*pp).parent == p {
                (*pp).parent = INITPROC;
                wakeup(INITPROC as usize);
            }
        }
    }
}

/// Exits the current process with `status`: closes its files, releases its user memory,
/// becomes a ZOMBIE until the parent waits. Never returns. Panics if init exits.
pub fn exit(status: i32) -> ! {
    let p = myproc();
    // SAFETY: the process's own fields; shared ones under their locks.
    unsafe {
        if p == INITPROC {
            panic!("init exiting");
        }
        for fd in 0..NOFILE {
            if !(*p).ofile[fd].is_null() {
                fileclose((*p).ofile[fd]);
                (*p).ofile[fd] = null_mut();
            }
        }
        begin_op();
        iput((*p).cwd);
        end_op();
        (*p).cwd = null_mut();

        // Give user memory back now rather than when the parent waits: processes short of
        // memory (trap::cow_fault) may be waiting for exactly these pages. The page-table
        // pages and trapframe go in freeproc. This hart runs on the kernel page table.
        uvmdealloc((*p).pagetable, (*p).sz, 0);
        (*p).sz = 0;
        acquire(&(*p).lock);
        let was_victim = (*p).oom_victim;
        (*p).oom_victim = false;
        release(&(*p).lock);
        if was_victim {
            crate::trap::OOM_PENDING.fetch_sub(1, core::sync::atomic::Ordering::AcqRel);
        }

        acquire(&WAIT_LOCK);
        reparent(p);
        wakeup((*p).parent as usize);
        acquire(&(*p).lock);
        (*p).xstate = status;
        (*p).state = ProcState::Zombie;
        release(&WAIT_LOCK);
        sched();
    }
    panic!("zombie exit");
}

/// Waits for a child to exit; copies its status to user `addr` (if non-zero) and returns its
/// pid. -1 if no children, if killed, or if `addr` is bad.
pub fn wait(addr: usize) -> i32 {
    let p = myproc();
    acquire(&WAIT_LOCK);
    loop {
        let mut havekids = false;
        for i in 0..NPROC {
            let pp = proc_slot(i);
            // SAFETY: parent fields under WAIT_LOCK; the child's state under its lock.
            unsafe {
                if (*pp).parent != p {
                    continue;
                }
                acquire(&(*pp).lock);
                havekids = true;
                if (*pp).state == ProcState::Zombie {
                    let pid = (*pp).pid;
                    let xs = (*pp).xstate;
                    if addr != 0
                        && copyout((*p).pagetable, addr, &xs as *const i32 as *const u8, 4).is_err()
                    {
                        release(&(*pp).lock);
                        release(&WAIT_LOCK);
                        return -1;
                    }
                    freeproc(pp);
                    release(&(*pp).lock);
                    release(&WAIT_LOCK);
                    return pid;
                }
                release(&(*pp).lock);
            }
        }
        if !havekids || killed(p) {
            release(&WAIT_LOCK);
            return -1;
        }
        sleep(p as usize, &WAIT_LOCK);
    }
}

/// Each hart's scheduler loop, never returning: picks a RUNNABLE process, switches to it,
/// and gets control back when it calls sched(). Waits (wfi) when nothing is runnable.
pub fn scheduler() -> ! {
    let c = mycpu();
    // SAFETY: per-hart data; process fields under p.lock.
    unsafe {
        (*c).proc = null_mut();
        loop {
            // Let devices interrupt, avoiding deadlock if all processes wait for I/O.
            intr_on();
            intr_off();
            let mut found = false;
            for i in 0..NPROC {
                let p = proc_slot(i);
                acquire(&(*p).lock);
                if (*p).state == ProcState::Runnable {
                    (*p).state = ProcState::Running;
                    (*c).proc = p;
                    swtch(&raw mut (*c).context, &raw const (*p).context);
                    (*c).proc = null_mut();
                    found = true;
                }
                release(&(*p).lock);
            }
            if !found {
                intr_on();
                core::arch::asm!("wfi");
            }
        }
    }
}

/// Switches to the scheduler. The caller holds exactly p.lock and has changed p.state.
/// Saves and restores intena, a property of this kernel thread, not the hart.
pub fn sched() {
    let p = myproc();
    // SAFETY: per-hart data with interrupts off; p.lock held.
    unsafe {
        if !holding(&(*p).lock) {
            panic!("sched p->lock");
        }
        if (*mycpu()).noff != 1 {
            panic!("sched locks");
        }
        if (*p).state == ProcState::Running {
            panic!("sched running");
        }
        if intr_get() {
            panic!("sched interruptible");
        }
        let intena = (*mycpu()).intena;
        swtch(&raw mut (*p).context, &raw const (*mycpu()).context);
        (*mycpu()).intena = intena;
    }
}

/// Gives up the hart for one scheduling round.
pub fn yield_() {
    let p = myproc();
    // SAFETY: p.lock guards state.
    unsafe {
        acquire(&(*p).lock);
        (*p).state = ProcState::Runnable;
        sched();
        release(&(*p).lock);
    }
}

static FIRST: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// A new process's first kernel code (swtch lands here, holding p.lock). The very first
/// process also mounts the file system (which must sleep, so it needs a process) and execs
/// /init.
extern "C" fn forkret() -> ! {
    let p = myproc();
    // SAFETY: scheduler switched to us holding p.lock.
    unsafe { release(&(*p).lock) };
    if FIRST.swap(false, core::sync::atomic::Ordering::AcqRel) {
        crate::fs::fsinit(abi::param::ROOTDEV);
        let argv: [&[u8]; 1] = [b"/init"];
        let r = crate::exec::exec(b"/init", &argv);
        if r < 0 {
            panic!("init: exec /init failed");
        }
        // SAFETY: our own trapframe.
        unsafe { (*(*p).trapframe).a0 = r as usize };
    }
    crate::trap::usertrapret();
}

/// Atomically releases `lk` and sleeps on `chan`; re-acquires `lk` when woken.
pub fn sleep(chan: usize, lk: &Spinlock) {
    let p = myproc();
    // SAFETY: p.lock guards chan/state; holding it means no wakeup is missed.
    unsafe {
        acquire(&(*p).lock);
        release(lk);
        (*p).chan = chan;
        (*p).state = ProcState::Sleeping;
        sched();
        (*p).chan = 0;
        release(&(*p).lock);
    }
    acquire(lk);
}

/// Wakes every process sleeping on `chan`. Must be called without any p.lock held.
pub fn wakeup(chan: usize) {
    let me = myproc();
    for i in 0..NPROC {
        let p = proc_slot(i);
        if p == me {
            continue;
        }
        // SAFETY: p.lock guards state and chan.
        unsafe {
            acquire(&(*p).lock);
            if (*p).state == ProcState::Sleeping && (*p).chan == chan {
                (*p).state = ProcState::Runnable;
            }
            release(&(*p).lock);
        }
    }
}

/// Marks process `pid` killed (it exits at its next return to user space) and wakes it if
/// sleeping. -1 if no such process.
pub fn kill(pid: i32) -> i32 {
    for i in 0..NPROC {
        let p = proc_slot(i);
        // SAFETY: p.lock guards pid, killed and state.
        unsafe {
            acquire(&(*p).lock);
            if (*p).pid == pid && (*p).state != ProcState::Unused {
                (*p).killed = true;
                if (*p).state == ProcState::Sleeping {
                    (*p).state = ProcState::Runnable;
                }
                release(&(*p).lock);
                return 0;
            }
            release(&(*p).lock);
        }
    }
    -1
}

/// Marks `p` killed.
pub fn setkilled(p: *mut Proc) {
    // SAFETY: p.lock guards killed.
    unsafe {
        acquire(&(*p).lock);
        (*p).killed = true;
        release(&(*p).lock);
    }
}

/// Has `p` been killed?
pub fn killed(p: *mut Proc) -> bool {
    // SAFETY: p.lock guards killed.
    unsafe {
        acquire(&(*p).lock);
        let k = (*p).killed;
        release(&(*p).lock);
        k
    }
}

/// Copies `len` bytes from kernel `src` to `dst`, a user address of the current process if
/// `user_dst`, else a kernel address.
pub fn either_copyout(user_dst: bool, dst: usize, src: *const u8, len: usize) -> Result<(), ()> {
    if user_dst {
        // SAFETY: the current process's page table.
        copyout(unsafe { (*myproc()).pagetable }, dst, src, len)
    } else {
        // SAFETY: kernel callers pass valid kernel buffers.
        unsafe { core::ptr::copy(src, dst as *mut u8, len) };
        Ok(())
    }
}

/// Copies `len` bytes to kernel `dst` from `src`, a user address of the current process if
/// `user_src`, else a kernel address.
pub fn either_copyin(dst: *mut u8, user_src: bool, src: usize, len: usize) -> Result<(), ()> {
    if user_src {
        // SAFETY: the current process's page table.
        copyin(unsafe { (*myproc()).pagetable }, dst, src, len)
    } else {
        // SAFETY: kernel callers pass valid kernel buffers.
        unsafe { core::ptr::copy(src as *const u8, dst, len) };
        Ok(())
    }
}

/// Prints the process list to the console (^P). Takes no locks, to stay usable when stuck.
pub fn procdump() {
    crate::println!();
    for i in 0..NPROC {
        let p = proc_slot(i);
        // SAFETY: racy read for debugging only, as in xv6.
        unsafe {
            let st = (*p).state;
            if st == ProcState::Unused {
                continue;
            }
            let s = match st {
                ProcState::Unused => "unused",
                ProcState::Used => "used",
                ProcState::Sleeping => "sleep ",
                ProcState::Runnable => "runble",
                ProcState::Running => "run   ",
                ProcState::Zombie => "zombie",
            };
            let name = &(*p).name;
            let n = name.iter().position(|&c| c == 0).unwrap_or(16);
            crate::println!(
                "{} {} {}",
                (*p).pid,
                s,
                core::str::from_utf8(&name[..n]).unwrap_or("?")
            );
        }
    }
}

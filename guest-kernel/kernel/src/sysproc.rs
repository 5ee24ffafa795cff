//! Process system calls (xv6 sysproc.c) and SYS_COWSTAT. Each returns the value for a0
//! (u64; -1 as u64::MAX).

use crate::proc::{exit, fork, growproc, kill, killed, myproc, sleep, wait};
use crate::spinlock::{acquire, release};
use crate::syscall::{argaddr, argint};
use crate::trap::{ticks_chan, TICKS, TICKSLOCK};
use crate::vm::copyout;

const ERR: u64 = u64::MAX;

/// exit(status): never returns.
pub fn sys_exit() -> u64 {
    exit(argint(0));
}

/// getpid() → pid.
pub fn sys_getpid() -> u64 {
    // SAFETY: our own pid.
    unsafe { (*myproc()).pid as u64 }
}

/// fork() → child's pid in the parent, 0 in the child, -1 on failure.
pub fn sys_fork() -> u64 {
    fork() as i64 as u64
}

/// wait(int *status) → pid of an exited child, or -1.
pub fn sys_wait() -> u64 {
    wait(argaddr(0)) as i64 as u64
}

/// sbrk(n) → the old break; grows or shrinks memory by n bytes. -1 if out of memory.
pub fn sys_sbrk() -> u64 {
    let n = argint(0);
    // SAFETY: our own size.
    let addr = unsafe { (*myproc()).sz };
    if growproc(n as isize).is_err() {
        return ERR;
    }
    addr as u64
}

/// sleep(n): waits n timer ticks; -1 if killed meanwhile.
pub fn sys_sleep() -> u64 {
    let n = argint(0).max(0) as u32;
    acquire(&TICKSLOCK);
    // SAFETY: TICKS under TICKSLOCK.
    let ticks0 = unsafe { TICKS };
    // SAFETY: as above.
    while unsafe { TICKS }.wrapping_sub(ticks0) < n {
        if killed(myproc()) {
            release(&TICKSLOCK);
            return ERR;
        }
        sleep(ticks_chan(), &TICKSLOCK);
    }
    release(&TICKSLOCK);
    0
}

/// kill(pid) → 0, or -1 if there is no such process.
pub fn sys_kill() -> u64 {
    kill(argint(0)) as i64 as u64
}

/// uptime() → timer ticks since boot.
pub fn sys_uptime() -> u64 {
    acquire(&TICKSLOCK);
    // SAFETY: TICKS under TICKSLOCK.
    let t = unsafe { TICKS };
    release(&TICKSLOCK);
    t as u64
}

/// cowstat(struct cowstat *st) → 0, copying abi::CowStat to user `st`; -1 on a bad address.
pub fn sys_cowstat() -> u64 {
    let st = crate::kalloc::cowstat();
    let addr = argaddr(0);
    // SAFETY: our own page table.
    let pt = unsafe { (*myproc()).pagetable };
    match copyout(
        pt,
        addr,
        &st as *const abi::CowStat as *const u8,
        core::mem::size_of::<abi::CowStat>(),
    ) {
        Ok(()) => 0,
        Err(()) => ERR,
    }
}

//! Spinlocks: mutual exclusion between harts, with interrupts off while held (xv6 spinlock.c).

use crate::proc::{cpuid, mycpu};
use crate::riscv::{intr_get, intr_off, intr_on};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A spinlock. `cpu` is the holder's hart id + 1 (0 = nobody), for `holding` checks.
pub struct Spinlock {
    locked: AtomicBool,
    cpu: AtomicUsize,
    pub name: &'static str,
}

impl Spinlock {
    /// An unlocked lock called `name` (for panics).
    pub const fn new(name: &'static str) -> Self {
        Spinlock {
            locked: AtomicBool::new(false),
            cpu: AtomicUsize::new(0),
            name,
        }
    }
}

/// Takes `lk`, spinning until it is free. Disables interrupts first (push_off) so an
/// interrupt handler on this hart cannot deadlock on the same lock. Panics on re-acquire.
pub fn acquire(lk: &Spinlock) {
    push_off();
    if holding(lk) {
        panic!("acquire {}", lk.name);
    }
    while lk
        .locked
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    lk.cpu.store(cpuid() + 1, Ordering::Relaxed);
}

/// Releases `lk`, which this hart must hold; restores the interrupt state (pop_off).
pub fn release(lk: &Spinlock) {
    if !holding(lk) {
        panic!("release {}", lk.name);
    }
    lk.cpu.store(0, Ordering::Relaxed);
    lk.locked.store(false, Ordering::Release);
    pop_off();
}

/// Does this hart hold `lk`? Interrupts must be off.
pub fn holding(lk: &Spinlock) -> bool {
    lk.locked.load(Ordering::Relaxed) && lk.cpu.load(Ordering::Relaxed) == cpuid() + 1
}

/// Disables interrupts, counting nesting; the outermost call remembers whether they were on.
pub fn push_off() {
    let old = intr_get();
    intr_off();
    let c = mycpu();
    // SAFETY: per-hart data, interrupts are off.
    unsafe {
        if (*c).noff == 0 {
            (*c).intena = old;
        }
        (*c).noff += 1;
    }
}

/// Undoes one push_off; the outermost re-enables interrupts if they were on before.
pub fn pop_off() {
    let c = mycpu();
    if intr_get() {
        panic!("pop_off - interruptible");
    }
    // SAFETY: per-hart data, interrupts are off.
    unsafe {
        if (*c).noff < 1 {
            panic!("pop_off");
        }
        (*c).noff -= 1;
        if (*c).noff == 0 && (*c).intena {
            intr_on();
        }
    }
}

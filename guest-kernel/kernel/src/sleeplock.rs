//! Sleep-locks: long-held locks (inodes, buffers) that yield the hart while waiting
//! (xv6 sleeplock.c). Only usable from process context.

use crate::proc::{myproc, sleep, wakeup};
use crate::spinlock::{acquire, release, Spinlock};

pub struct Sleeplock {
    lk: Spinlock,
    locked: bool,
    pid: i32,
}

impl Sleeplock {
    pub const fn new(name: &'static str) -> Self {
        Sleeplock {
            lk: Spinlock::new(name),
            locked: false,
            pid: 0,
        }
    }
}

/// Takes the sleep-lock, sleeping while another process holds it.
pub fn acquiresleep(l: *mut Sleeplock) {
    // SAFETY: `l` points at a live sleep-lock; its fields are guarded by `lk`.
    unsafe {
        acquire(&(*l).lk);
        while core::ptr::read_volatile(&raw const (*l).locked) {
            sleep(l as usize, &(*l).lk);
        }
        (*l).locked = true;
        (*l).pid = (*myproc()).pid;
        release(&(*l).lk);
    }
}

/// Releases the sleep-lock and wakes its waiters.
pub fn releasesleep(l: *mut Sleeplock) {
    // SAFETY: as for acquiresleep.
    unsafe {
        acquire(&(*l).lk);
        (*l).locked = false;
        (*l).pid = 0;
        wakeup(l as usize);
        release(&(*l).lk);
    }
}

/// Does the current process hold the sleep-lock?
pub fn holdingsleep(l: *mut Sleeplock) -> bool {
    // SAFETY: as for acquiresleep.
    unsafe {
        acquire(&(*l).lk);
        let r = (*l).locked && (*l).pid == (*myproc()).pid;
        release(&(*l).lk);
        r
    }
}

//! Buffer cache (xv6 bio.c): NBUF block-sized buffers holding cached copies of disk blocks,
//! kept in a least-recently-used list. A buffer is used by one process at a time (its sleep
//! lock); `bread` returns it locked and valid, `brelse` releases it.

use crate::sleeplock::{acquiresleep, holdingsleep, releasesleep, Sleeplock};
use crate::spinlock::{acquire, release, Spinlock};
use crate::virtio_disk::virtio_disk_rw;
use abi::fs::BSIZE;
use abi::param::NBUF;
use core::ptr::{addr_of_mut, null_mut};

/// One cached block. `data` is 8-byte aligned so it can hold on-disk structures.
#[repr(C)]
pub struct Buf {
    #[allow(dead_code)]
    align: [u64; 0],
    pub data: [u8; BSIZE],
    /// Has data been read from disk?
    pub valid: bool,
    /// Does the disk own the buffer (request in flight)?
    pub disk: bool,
    pub dev: u32,
    pub blockno: u32,
    pub lock: Sleeplock,
    pub refcnt: u32,
    prev: *mut Buf,
    next: *mut Buf,
}

impl Buf {
    const fn new() -> Self {
        Buf {
            align: [],
            data: [0; BSIZE],
            valid: false,
            disk: false,
            dev: 0,
            blockno: 0,
            lock: Sleeplock::new("buffer"),
            refcnt: 0,
            prev: null_mut(),
            next: null_mut(),
        }
    }
}

struct Bcache {
    lock: Spinlock,
    buf: [Buf; NBUF],
    /// Head of the LRU list: head.next is most recently used.
    head: Buf,
}

const BUF_INIT: Buf = Buf::new();
static mut BCACHE: Bcache = Bcache {
    lock: Spinlock::new("bcache"),
    buf: [BUF_INIT; NBUF],
    head: Buf::new(),
};

/// Links all buffers into the LRU list (boot).
pub fn binit() {
    // SAFETY: boot, single hart.
    unsafe {
        let head = addr_of_mut!(BCACHE.head);
        (*head).prev = head;
        (*head).next = head;
        for i in 0..NBUF {
            let b = addr_of_mut!(BCACHE.buf[i]);
            (*b).next = (*head).next;
            (*b).prev = head;
            (*(*head).next).prev = b;
            (*head).next = b;
        }
    }
}

/// Finds the cached buffer for (dev, blockno), or recycles the least recently used unused
/// buffer for it. Returns it locked. Panics if every buffer is in use (as xv6).
fn bget(dev: u32, blockno: u32) -> *mut Buf {
    // SAFETY: list and refcnt/dev/blockno under BCACHE.lock; the buffer's sleep lock after.
    unsafe {
        let bc = addr_of_mut!(BCACHE);
        acquire(&(*bc).lock);
        let head = addr_of_mut!((*bc).head);
        let mut b = (*head).next;
        while b != head {
            if (*b).dev == dev && (*b).blockno == blockno {
                (*b).refcnt += 1;
                release(&(*bc).lock);
                acquiresleep(addr_of_mut!((*b).lock));
                return b;
            }
            b = (*b).next;
        }
        b = (*head).prev;
        while b != head {
            if (*b).refcnt == 0 {
                (*b).dev = dev;
                (*b).blockno = blockno;
                (*b).valid = false;
                (*b).refcnt = 1;
                release(&(*bc).lock);
                acquiresleep(addr_of_mut!((*b).lock));
                return b;
            }
            b = (*b).prev;
        }
    }
    panic!("bget: no buffers");
}

/// Returns a locked buffer holding the contents of block `blockno` of `dev`.
pub fn bread(dev: u32, blockno: u32) -> *mut Buf {
    let b = bget(dev, blockno);
    // SAFETY: we hold b's sleep lock.
    unsafe {
        if !(*b).valid {
            virtio_disk_rw(b, false);
            (*b).valid = true;
        }
    }
    b
}

/// Writes b's contents to disk. The caller must hold b's lock.
pub fn bwrite(b: *mut Buf) {
    // SAFETY: b is a live buffer.
    unsafe {
        if !holdingsleep(addr_of_mut!((*b).lock)) {
            panic!("bwrite");
        }
    }
    virtio_disk_rw(b, true);
}

/// Releases a locked buffer and moves it to the head of the LRU list if now unused.
pub fn brelse(b: *mut Buf) {
    // SAFETY: b is a live buffer held by the caller.
    unsafe {
        if !holdingsleep(addr_of_mut!((*b).lock)) {
            panic!("brelse");
        }
        releasesleep(addr_of_mut!((*b).lock));
        let bc = addr_of_mut!(BCACHE);
        acquire(&(*bc).lock);
        (*b).refcnt -= 1;
        if (*b).refcnt == 0 {
            let head = addr_of_mut!((*bc).head);
            (*(*b).next).prev = (*b).prev;
            (*(*b).prev).next = (*b).next;
            (*b).next = (*head).next;
            (*b).prev = head;
            (*(*head).next).prev = b;
            (*head).next = b;
        }
        release(&(*bc).lock);
    }
}

/// Pins b in the cache (the log keeps it until commit).
pub fn bpin(b: *mut Buf) {
    // SAFETY: refcnt under BCACHE.lock.
    unsafe {
        acquire(&BCACHE.lock);
        (*b).refcnt += 1;
        release(&BCACHE.lock);
    }
}

/// Undoes bpin.
pub fn bunpin(b: *mut Buf) {
    // SAFETY: refcnt under BCACHE.lock.
    unsafe {
        acquire(&BCACHE.lock);
        (*b).refcnt -= 1;
        release(&BCACHE.lock);
    }
}

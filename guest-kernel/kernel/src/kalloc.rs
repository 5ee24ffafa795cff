//! Physical page allocator with per-page reference counts for copy-on-write fork
//! (xv6 kalloc.c plus the COW lab's counts).
//!
//! Every page between the end of the kernel image and PHYSTOP is either on the free list
//! (count 0) or referenced by `count` owners (page tables mapping it, or kernel users).
//! `kalloc` hands out a page with count 1, `krefinc` adds an owner (COW fork), `kfree` drops
//! one and returns the page to the free list when the count reaches 0. Counts, the free list
//! and the statistics are all guarded by one lock, so concurrent fork/exit/fault on any number
//! of harts neither loses nor double-counts a reference.

use crate::memlayout::{KERNBASE, PHYSTOP};
use crate::riscv::{pgroundup, PGSIZE};
use crate::spinlock::{acquire, release, Spinlock};
use core::sync::atomic::{AtomicU64, Ordering};

extern "C" {
    /// First address after the kernel image (kernel.ld).
    static end: u8;
}

const NPAGES: usize = (PHYSTOP - KERNBASE) / PGSIZE;

struct Run {
    next: *mut Run,
}

struct Kmem {
    lock: Spinlock,
    freelist: *mut Run,
    nfree: u64,
    /// Pages whose count is above 1.
    nshared: u64,
    refcnt: [u16; NPAGES],
}

static mut KMEM: Kmem = Kmem {
    lock: Spinlock::new("kmem"),
    freelist: core::ptr::null_mut(),
    nfree: 0,
    nshared: 0,
    refcnt: [0; NPAGES],
};

/// COW faults handled (store page faults on PTE_COW pages).
pub static COW_FAULTS: AtomicU64 = AtomicU64::new(0);
/// COW faults resolved by copying.
pub static COW_COPIED: AtomicU64 = AtomicU64::new(0);
/// COW faults resolved by reusing the page (count was 1).
pub static COW_REUSED: AtomicU64 = AtomicU64::new(0);

/// The allocator state (fields guarded by its lock).
fn kmem() -> *mut Kmem {
    &raw mut KMEM
}

/// Reference-count index of page `pa`; panics if pa is not a page of RAM.
fn pa_index(pa: usize) -> usize {
    if !pa.is_multiple_of(PGSIZE) || !(KERNBASE..PHYSTOP).contains(&pa) {
        panic!("kalloc: bad physical address {:#x}", pa);
    }
    (pa - KERNBASE) / PGSIZE
}

/// First address after the kernel image.
fn end_addr() -> usize {
    &raw const end as usize
}

/// Puts every page from the end of the kernel to PHYSTOP on the free list.
pub fn kinit() {
    freerange(end_addr(), PHYSTOP);
}

/// Puts the whole pages in [pa_start, pa_end) on the free list with count 0. Unlike kfree it
/// does not fill them with junk: 32768 page fills would dominate boot time.
fn freerange(pa_start: usize, pa_end: usize) {
    let k = kmem();
    let mut p = pgroundup(pa_start);
    // SAFETY: KMEM fields are guarded by KMEM.lock; the pages are unused RAM.
    unsafe {
        acquire(&(*k).lock);
        while p + PGSIZE <= pa_end {
            (*k).refcnt[pa_index(p)] = 0;
            let r = p as *mut Run;
            (*r).next = (*k).freelist;
            (*k).freelist = r;
            (*k).nfree += 1;
            p += PGSIZE;
        }
        release(&(*k).lock);
    }
}

/// Drops one reference to the page at `pa` (which kalloc returned); when none remain the page
/// is filled with junk and returned to the free list. Panics on a page that is already free.
pub fn kfree(pa: usize) {
    if pa < end_addr() {
        panic!("kfree {:#x}", pa);
    }
    let i = pa_index(pa);
    let k = kmem();
    // SAFETY: KMEM fields are guarded by KMEM.lock.
    unsafe {
        acquire(&(*k).lock);
        let c = (*k).refcnt[i];
        if c == 0 {
            panic!("kfree: page {:#x} already free", pa);
        }
        (*k).refcnt[i] = c - 1;
        if c == 2 {
            (*k).nshared -= 1;
        }
        release(&(*k).lock);
        if c != 1 {
            return;
        }
        // Last reference: nobody else can reach the page now.
        core::ptr::write_bytes(pa as *mut u8, 1, PGSIZE);
        let r = pa as *mut Run;
        acquire(&(*k).lock);
        (*r).next = (*k).freelist;
        (*k).freelist = r;
        (*k).nfree += 1;
        release(&(*k).lock);
    }
}

/// Allocates one 4096-byte page with reference count 1, filled with junk; None when memory
/// is exhausted (callers fail the operation, never panic).
pub fn kalloc() -> Option<usize> {
    let pa = kalloc_nofill()?;
    // SAFETY: a page we now own.
    unsafe { core::ptr::write_bytes(pa as *mut u8, 5, PGSIZE) };
    Some(pa)
}

/// Like kalloc but leaves the old contents: for callers that overwrite the whole page at once
/// (fork and COW copies).
pub fn kalloc_nofill() -> Option<usize> {
    let k = kmem();
    // SAFETY: KMEM fields are guarded by KMEM.lock.
    unsafe {
        acquire(&(*k).lock);
        let r = (*k).freelist;
        if !r.is_null() {
            (*k).freelist = (*r).next;
            (*k).nfree -= 1;
            (*k).refcnt[pa_index(r as usize)] = 1;
        }
        release(&(*k).lock);
        if r.is_null() {
            return None;
        }
        Some(r as usize)
    }
}

/// Adds a reference to the allocated page at `pa` (a COW fork mapping it once more).
pub fn krefinc(pa: usize) {
    let i = pa_index(pa);
    let k = kmem();
    // SAFETY: KMEM fields are guarded by KMEM.lock.
    unsafe {
        acquire(&(*k).lock);
        let c = (*k).refcnt[i];
        if c == 0 || c == u16::MAX {
            panic!("krefinc: count {} for {:#x}", c, pa);
        }
        (*k).refcnt[i] = c + 1;
        if c == 1 {
            (*k).nshared += 1;
        }
        release(&(*k).lock);
    }
}

/// Current reference count of the page at `pa` (a snapshot).
pub fn krefcount(pa: usize) -> u16 {
    let i = pa_index(pa);
    let k = kmem();
    // SAFETY: KMEM fields are guarded by KMEM.lock.
    unsafe {
        acquire(&(*k).lock);
        let c = (*k).refcnt[i];
        release(&(*k).lock);
        c
    }
}

/// The COW counters and page totals for SYS_COWSTAT.
pub fn cowstat() -> abi::CowStat {
    let k = kmem();
    // SAFETY: KMEM fields are guarded by KMEM.lock.
    let (shared, free) = unsafe {
        acquire(&(*k).lock);
        let r = ((*k).nshared, (*k).nfree);
        release(&(*k).lock);
        r
    };
    abi::CowStat {
        cow_faults: COW_FAULTS.load(Ordering::Relaxed),
        pages_copied: COW_COPIED.load(Ordering::Relaxed),
        pages_reused: COW_REUSED.load(Ordering::Relaxed),
        pages_shared: shared,
        free_pages: free,
    }
}

//! Physical page allocator with per-page reference counts for copy-on-write fork
//! (xv6 kalloc.c plus the COW lab's counts), sized at boot to the RAM the device tree reports.
//!
//! RAM from the end of the kernel image to `phystop()`: first the reference-count table (one
//! u16 per page of RAM), then the pages handed out. A page is free (count 0) — on the free
//! list, or at or above `fresh`, the first page never handed out — or referenced by `count`
//! owners (page tables mapping it, or kernel users). Pages from `fresh` up are handed out in
//! order once the free list is empty, so boot costs nothing per page and a big RAM is only
//! touched as it is used. `kalloc` hands out a page with count
//! 1, `krefinc` adds an owner (COW fork), `kfree` drops one and frees the page when the count
//! reaches 0. Counts, the free list, `fresh` and the statistics are all guarded by one lock,
//! so concurrent fork/exit/fault on any number of harts neither loses nor double-counts a
//! reference.

use crate::memlayout::{phystop, KERNBASE};
use crate::riscv::{pgroundup, PGSIZE};
use crate::spinlock::{acquire, release, Spinlock};
use core::sync::atomic::{AtomicU64, Ordering};

extern "C" {
    /// First address after the kernel image (kernel.ld).
    static end: u8;
}

struct Run {
    next: *mut Run,
}

struct Kmem {
    lock: Spinlock,
    freelist: *mut Run,
    /// First page never handed out; [fresh, phystop) are free and not on the list.
    fresh: usize,
    /// End of the managed RAM (phystop(), page-aligned).
    top: usize,
    /// Pages on the free list plus pages above `fresh`.
    nfree: u64,
    /// Pages the allocator manages (from the first page after the table to `top`).
    ntotal: u64,
    /// Pages whose count is above 1.
    nshared: u64,
    /// Reference counts, one per page of RAM from KERNBASE (in RAM right after the kernel).
    refcnt: *mut u16,
}

static mut KMEM: Kmem = Kmem {
    lock: Spinlock::new("kmem"),
    freelist: core::ptr::null_mut(),
    fresh: 0,
    top: 0,
    nfree: 0,
    ntotal: 0,
    nshared: 0,
    refcnt: core::ptr::null_mut(),
};

impl Kmem {
    /// One more reference on page `pa`, whose count lives at `slot`; the caller holds `lock`.
    /// Panics, naming `caller`, on a free page or a count that would overflow.
    ///
    /// # Safety
    /// `slot` is `refslot(pa)` and `self.lock` is held.
    unsafe fn incref(&mut self, slot: *mut u16, pa: usize, caller: &str) {
        let c = *slot;
        if c == 0 || c == u16::MAX {
            panic!("{}: count {} for {:#x}", caller, c, pa);
        }
        *slot = c + 1;
        if c == 1 {
            self.nshared += 1;
        }
    }

    /// One reference fewer on the page whose count `c` (above 0) lives at `slot`; the caller
    /// holds `lock`.
    ///
    /// # Safety
    /// `slot` is a `refslot` and `self.lock` is held.
    unsafe fn decref(&mut self, slot: *mut u16, c: u16) {
        *slot = c - 1;
        if c == 2 {
            self.nshared -= 1;
        }
    }
}

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

/// Reference-count slot of page `pa`; panics if pa is not a page of RAM.
fn refslot(pa: usize) -> *mut u16 {
    let k = kmem();
    // SAFETY: `top` and `refcnt` are written once by kinit, before any other call.
    let (top, table) = unsafe { ((*k).top, (*k).refcnt) };
    if !pa.is_multiple_of(PGSIZE) || !(KERNBASE..top).contains(&pa) {
        panic!("kalloc: bad physical address {:#x}", pa);
    }
    // SAFETY: the table has one slot per page of [KERNBASE, top).
    unsafe { table.add((pa - KERNBASE) / PGSIZE) }
}

/// First address after the kernel image.
fn end_addr() -> usize {
    &raw const end as usize
}

/// Places the reference-count table (zeroed) right after the kernel image, sized to RAM
/// (`phystop()`), and makes every page from the table's end to `phystop()` free.
pub fn kinit() {
    let top = phystop();
    let npages = (top - KERNBASE) / PGSIZE;
    let table = pgroundup(end_addr());
    let first = pgroundup(table + npages * core::mem::size_of::<u16>());
    if first >= top {
        panic!("kinit: {} bytes of RAM hold no free page", top - KERNBASE);
    }
    let k = kmem();
    // SAFETY: boot, hart 0 only; the table's pages are unused RAM.
    unsafe {
        core::ptr::write_bytes(table as *mut u16, 0, npages);
        acquire(&(*k).lock);
        (*k).refcnt = table as *mut u16;
        (*k).top = top;
        (*k).fresh = first;
        (*k).nfree = ((top - first) / PGSIZE) as u64;
        (*k).ntotal = (*k).nfree;
        release(&(*k).lock);
    }
}

/// Drops one reference to the page at `pa` (which kalloc returned); when none remain the page
/// is filled with junk and returned to the free list. Panics on a page that is already free.
pub fn kfree(pa: usize) {
    if pa < end_addr() {
        panic!("kfree {:#x}", pa);
    }
    let slot = refslot(pa);
    let k = kmem();
    // SAFETY: KMEM fields and the counts are guarded by KMEM.lock.
    unsafe {
        acquire(&(*k).lock);
        let c = *slot;
        if c == 0 {
            panic!("kfree: page {:#x} already free", pa);
        }
        (*k).decref(slot, c);
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

/// Drops one reference to the page at `pa` only if others remain: returns true if it did
/// (count was above 1), false — changing nothing — if the caller holds the only reference.
/// The check and the drop are one step under the allocator lock, so of several owners
/// dropping at once on different harts exactly one sees false and must free the page's
/// contents itself (on-demand fork: the last owner of a shared page-table page).
#[cfg(feature = "odf")]
pub fn kfree_if_shared(pa: usize) -> bool {
    let slot = refslot(pa);
    let k = kmem();
    // SAFETY: KMEM fields and the counts are guarded by KMEM.lock.
    unsafe {
        acquire(&(*k).lock);
        let c = *slot;
        if c == 0 {
            panic!("kfree_if_shared: page {:#x} is free", pa);
        }
        let shared = c > 1;
        if shared {
            (*k).decref(slot, c);
        }
        release(&(*k).lock);
        shared
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
        let pa = if !r.is_null() {
            (*k).freelist = (*r).next;
            r as usize
        } else if (*k).fresh < (*k).top {
            (*k).fresh += PGSIZE;
            (*k).fresh - PGSIZE
        } else {
            release(&(*k).lock);
            return None;
        };
        (*k).nfree -= 1;
        *refslot(pa) = 1;
        release(&(*k).lock);
        Some(pa)
    }
}

/// Adds a reference to the allocated page at `pa` (a COW fork mapping it once more).
pub fn krefinc(pa: usize) {
    let slot = refslot(pa);
    let k = kmem();
    // SAFETY: KMEM fields and the counts are guarded by KMEM.lock.
    unsafe {
        acquire(&(*k).lock);
        (*k).incref(slot, pa, "krefinc");
        release(&(*k).lock);
    }
}

/// Adds a reference to the page each valid PTE of a leaf page-table page maps (on-demand
/// fork copying a shared leaf page), under one hold of the lock.
#[cfg(feature = "odf")]
pub fn krefinc_ptes(ptes: &[u64; 512]) {
    use crate::riscv::{pte2pa, PTE_V};
    let k = kmem();
    // SAFETY: KMEM fields and the counts are guarded by KMEM.lock.
    unsafe {
        acquire(&(*k).lock);
        for &e in ptes.iter().filter(|&&e| e & PTE_V != 0) {
            let pa = pte2pa(e);
            (*k).incref(refslot(pa), pa, "krefinc_ptes");
        }
        release(&(*k).lock);
    }
}

/// Current reference count of the page at `pa` (a snapshot).
pub fn krefcount(pa: usize) -> u16 {
    let slot = refslot(pa);
    let k = kmem();
    // SAFETY: KMEM fields and the counts are guarded by KMEM.lock.
    unsafe {
        acquire(&(*k).lock);
        let c = *slot;
        release(&(*k).lock);
        c
    }
}

/// The COW counters and page totals for SYS_COWSTAT.
pub fn cowstat() -> abi::CowStat {
    let k = kmem();
    // SAFETY: KMEM fields are guarded by KMEM.lock.
    let (shared, free, total) = unsafe {
        acquire(&(*k).lock);
        let r = ((*k).nshared, (*k).nfree, (*k).ntotal);
        release(&(*k).lock);
        r
    };
    #[allow(unused_mut)]
    let mut st = abi::CowStat {
        cow_faults: COW_FAULTS.load(Ordering::Relaxed),
        pages_copied: COW_COPIED.load(Ordering::Relaxed),
        pages_reused: COW_REUSED.load(Ordering::Relaxed),
        pages_shared: shared,
        free_pages: free,
        total_pages: total,
        ..Default::default()
    };
    #[cfg(feature = "odf")]
    crate::odf::stat(&mut st);
    st
}

//! On-demand fork (feature `odf`): copy-on-write fork that shares the last-level page-table
//! pages too, after Zhao, Gong and Fonseca, "On-demand-fork: a microsecond fork for
//! memory-intensive and latency-sensitive applications" (EuroSys 2021), on top of the lab's
//! COW (`vm::cow_break`).
//!
//! A last-level ("leaf") page-table page maps one 2 MiB region. fork gives the child no copy
//! of it: the child's level-1 entry points at the parent's leaf page, whose reference count
//! (kalloc's, as for data pages) counts the level-1 entries pointing at it. A data page's
//! count counts the leaf pages mapping it, so sharing a leaf leaves data counts alone: a
//! fork of a process of N regions costs N count increments, not one per page.
//!
//! A level-1 entry (RSW bits, ignored by the MMU) is in one of three states:
//! - private: V set, no mark — the leaf's count is 1, the process may change it freely;
//! - **pending** ([`PTE_LEAF_PENDING`], V clear): shared by fork, entries not yet known to be
//!   write-protected. RISC-V has no write-protect bit in non-leaf PTEs (Sv39 §4.4.1), so
//!   sharing a leaf needs each of its PTEs read-only; fork defers that scan: it clears V in
//!   both processes and the first use (a page fault of any kind, or a kernel `walk`) resolves
//!   the entry: count 1 → private again, no scan at all (the other sharer is gone); else the
//!   leaf's writable PTEs become read-only + PTE_COW ([`protect`]) and the entry shared;
//! - **shared** ([`PTE_LEAF_SHARED`], V set): every PTE of the leaf is read-only, the leaf
//!   may have other owners. fork shares it again as it is.
//!
//! Anything that changes a leaf PTE — a write fault or `copyout` (`cow_break`), `sbrk`
//! growth (`mappages`) or shrink, exec and exit (`uvmunmap`) — first calls [`unshare`]: count
//! 1 → take the page over; else copy it, add a reference to every data page it maps and drop
//! one reference to the shared page. Unmapping all that a shared leaf maps just drops the
//! reference ([`unmap_shared`]). Page-table pages are freed with their last reference.
//!
//! Concurrency (two harts faulting on the same shared leaf): processes are single-threaded and
//! only a process changes its own level-1 entries (fork changes the parent's, which is the
//! caller, and the child's, which does not run yet). The reference counts are changed and
//! read under the allocator lock (`kalloc`'s `kmem` lock). A leaf page whose count is above 1
//! is never changed, except by [`protect`], which only ever writes the same protected value
//! whichever hart does it. A count seen as 1 stays 1 (only an owner can add references, by
//! forking). So of two harts unsharing one leaf at once, both copy the (unchanging) page,
//! and `kfree_if_shared` — one check-and-decrement under the `kmem` lock — tells the last one
//! that it now holds the only reference and must release the old page itself: no update is
//! lost and no reference counted twice.

use crate::kalloc::{kalloc_nofill, kfree, kfree_if_shared, krefcount, krefinc, krefinc_ptes};
use crate::riscv::*;
use crate::vm::PageTable;
use core::sync::atomic::{AtomicU64, Ordering};

/// Level-1 entry (V clear): shared by fork, leaf PTEs not yet write-protected (RSW bit 8).
pub const PTE_LEAF_PENDING: u64 = 1 << 8;
/// Level-1 entry (V set): the leaf page's PTEs are all read-only; it may be shared (RSW bit 9).
pub const PTE_LEAF_SHARED: u64 = 1 << 9;
/// Bytes of address space one leaf page-table page maps.
pub const REGION: usize = PGSIZE * 512;

/// Leaf page-table pages shared by fork.
static LEAF_SHARED: AtomicU64 = AtomicU64::new(0);
/// Shared leaf pages unshared by copying.
static LEAF_COPIED: AtomicU64 = AtomicU64::new(0);
/// Shared leaf pages unshared by taking them over (count 1).
static LEAF_TAKEN: AtomicU64 = AtomicU64::new(0);

/// Fills in the on-demand-fork counters of SYS_COWSTAT.
pub fn stat(st: &mut abi::CowStat) {
    st.leaf_tables_shared = LEAF_SHARED.load(Ordering::Relaxed);
    st.leaf_tables_copied = LEAF_COPIED.load(Ordering::Relaxed);
    st.leaf_tables_taken_over = LEAF_TAKEN.load(Ordering::Relaxed);
}

/// Is this level-1 entry shared by fork and not yet resolved?
#[inline]
pub fn is_pending(v: u64) -> bool {
    v & (PTE_V | PTE_LEAF_PENDING) == PTE_LEAF_PENDING
}

/// The 512 PTEs of the leaf page-table page at `pa`.
fn ptes(pa: usize) -> *mut [u64; 512] {
    pa as *mut [u64; 512]
}

/// Makes every writable PTE of the leaf page at `leaf` read-only + PTE_COW (others are left
/// alone). Idempotent: harts protecting the same page at once write the same values.
fn protect(leaf: usize) {
    // SAFETY: a leaf page-table page we hold a reference to.
    let t = unsafe { &mut *ptes(leaf) };
    for e in t.iter_mut() {
        // PTE_W (bit 2) moves to PTE_COW (bit 8); invalid PTEs have no W bit.
        let v = *e;
        let w = v & PTE_W;
        if w != 0 {
            *e = (v & !PTE_W) | (w << 6);
        }
    }
}

/// Resolves the pending level-1 entry at `l1` of the current process's page table (see the
/// module docs) and returns its new value. No memory needed.
pub fn resolve(l1: *mut u64) -> u64 {
    // SAFETY: a level-1 entry of the caller's own page table.
    let v = unsafe { *l1 };
    let leaf = pte2pa(v);
    let nv = if krefcount(leaf) == 1 {
        pa2pte(leaf) | PTE_V
    } else {
        protect(leaf);
        pa2pte(leaf) | PTE_V | PTE_LEAF_SHARED
    };
    // SAFETY: as above.
    unsafe { *l1 = nv };
    nv
}

/// The level-1 entry for `va` in `pagetable`, allocating the level-1 page-table page if
/// `alloc`; None if it is missing (and `!alloc`), `va >= MAXVA`, or out of memory.
fn l1_entry(pagetable: PageTable, va: usize, alloc: bool) -> Option<*mut u64> {
    if va >= MAXVA {
        return None;
    }
    // SAFETY: `pagetable` is a root page-table page.
    let l2 = unsafe { (pagetable as *mut u64).add(px(2, va)) };
    // SAFETY: as above.
    let v = unsafe { *l2 };
    let l1 = if v & PTE_V != 0 {
        pte2pa(v)
    } else {
        if !alloc {
            return None;
        }
        let pa = kalloc_nofill()?;
        // SAFETY: a fresh page of ours; then the root entry we own.
        unsafe {
            core::ptr::write_bytes(pa as *mut u8, 0, PGSIZE);
            *l2 = pa2pte(pa) | PTE_V;
        }
        pa
    };
    // SAFETY: a level-1 page-table page.
    Some(unsafe { (l1 as *mut u64).add(px(1, va)) })
}

/// Gives the current process's page table a private leaf page for the region holding `va`
/// (before a PTE in it changes): a pending entry is resolved; a shared leaf is taken over
/// (count 1) or copied. Err if the copy finds no memory (nothing changed). Nothing to do when
/// the region has no leaf page or it is already private.
pub fn unshare(pagetable: PageTable, va: usize) -> Result<(), ()> {
    let Some(l1) = l1_entry(pagetable, va, false) else {
        return Ok(());
    };
    // SAFETY: a level-1 entry of the caller's own page table.
    let mut v = unsafe { *l1 };
    if is_pending(v) {
        v = resolve(l1);
    }
    if v & PTE_LEAF_SHARED == 0 || v & PTE_V == 0 || v & (PTE_R | PTE_W | PTE_X) != 0 {
        return Ok(());
    }
    let leaf = pte2pa(v);
    if krefcount(leaf) == 1 {
        // Sole owner: nobody can add a reference meanwhile (only owners fork).
        // SAFETY: as above.
        unsafe { *l1 = pa2pte(leaf) | PTE_V };
        LEAF_TAKEN.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    let new = kalloc_nofill().ok_or(())?;
    // SAFETY: `leaf` is a page-table page we hold a reference to (unchanging while shared);
    // `new` is ours.
    unsafe { core::ptr::copy_nonoverlapping(leaf as *const u8, new as *mut u8, PGSIZE) };
    // SAFETY: `new` holds the copied PTEs.
    krefinc_ptes(unsafe { &*ptes(new) });
    if !kfree_if_shared(leaf) {
        // The other owners let go while we copied: the old page is ours alone; release it.
        free_leaf(leaf);
    }
    // SAFETY: as above.
    unsafe { *l1 = pa2pte(new) | PTE_V };
    LEAF_COPIED.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Drops the reference each valid PTE of the leaf page at `leaf` holds, then the page.
fn free_leaf(leaf: usize) {
    // SAFETY: a leaf page-table page nobody else references.
    for &e in unsafe { &*ptes(leaf) }.iter() {
        if e & PTE_V != 0 {
            kfree(pte2pa(e));
        }
    }
    kfree(leaf);
}

/// `uvmunmap` of [a, end) meeting a shared or pending leaf for the region holding `a`: if
/// every page that leaf maps lies in [a, end), drops the process's reference to the leaf
/// (and with it all those mappings) and returns the end of the region; the caller goes on
/// from there. None — the caller unmaps page by page, unsharing first — when the region has
/// no such leaf, when pages outside [a, end) stay mapped, or when this was the last
/// reference (the leaf is now private: its pages must be freed one by one).
pub fn unmap_shared(pagetable: PageTable, a: usize, end: usize) -> Option<usize> {
    let l1 = l1_entry(pagetable, a, false)?;
    // SAFETY: a level-1 entry of the caller's own page table.
    let v = unsafe { *l1 };
    if !is_pending(v) && (v & PTE_V == 0 || v & PTE_LEAF_SHARED == 0) {
        return None;
    }
    let leaf = pte2pa(v);
    let rstart = a & !(REGION - 1);
    let (lo, hi) = (
        px(0, a),
        if end >= rstart + REGION {
            512
        } else {
            px(0, end)
        },
    );
    // SAFETY: a leaf page-table page we hold a reference to (unchanging while shared).
    let t = unsafe { &*ptes(leaf) };
    if t[..lo].iter().chain(&t[hi..]).any(|e| e & PTE_V != 0) {
        return None;
    }
    if !kfree_if_shared(leaf) {
        // SAFETY: as above.
        unsafe { *l1 = pa2pte(leaf) | PTE_V };
        return None;
    }
    // SAFETY: as above.
    unsafe { *l1 = 0 };
    Some(rstart + REGION)
}

/// Gives child page table `new` the user memory [0, sz) of `old` (fork) by sharing each leaf
/// page-table page: both level-1 entries end up pointing at it, pending (if it was private:
/// its PTEs are write-protected on first use, if still shared then) or shared (as it was).
/// One reference per region; no data page is touched. The caller flushes the parent's TLB.
/// On failure (no memory for the child's level-1 pages) the child's references are dropped,
/// its level-1 pages stay for `freewalk`, and Err is returned; the parent stays valid.
pub fn uvmcopy(old: PageTable, new: PageTable, sz: usize) -> Result<(), ()> {
    let mut va = 0;
    while va < sz {
        let Some(ol1) = l1_entry(old, va, false) else {
            va = (va | (REGION * 512 - 1)) + 1; // no level-1 page: skip 1 GiB
            continue;
        };
        // SAFETY: level-1 entries of the parent (the caller) and of the child (not running).
        unsafe {
            let v = *ol1;
            if v & PTE_V != 0 || is_pending(v) {
                let Some(cl1) = l1_entry(new, va, true) else {
                    release_shared(new, va);
                    return Err(());
                };
                let leaf = pte2pa(v);
                krefinc(leaf);
                let nv = if v & PTE_V != 0 && v & PTE_LEAF_SHARED == 0 {
                    pa2pte(leaf) | PTE_LEAF_PENDING
                } else {
                    v
                };
                *ol1 = nv;
                *cl1 = nv;
                LEAF_SHARED.fetch_add(1, Ordering::Relaxed);
            }
        }
        va = (va | (REGION - 1)) + 1;
    }
    Ok(())
}

/// Undoes a failed `uvmcopy` into `new` below `sz`: drops each shared leaf reference the
/// child holds (the parent keeps its own) and clears the entry.
fn release_shared(new: PageTable, sz: usize) {
    let mut va = 0;
    while va < sz {
        if let Some(l1) = l1_entry(new, va, false) {
            // SAFETY: a level-1 entry of the child, which never ran.
            unsafe {
                if *l1 != 0 {
                    if !kfree_if_shared(pte2pa(*l1)) {
                        panic!("release_shared: child held the last reference");
                    }
                    *l1 = 0;
                }
            }
        }
        va = (va | (REGION - 1)) + 1;
    }
}

/// A user page fault at `va` of any kind: if the region is pending, resolves it and returns
/// true (retry the access); false if on-demand fork has nothing to do with this fault.
pub fn fault(pagetable: PageTable, va: usize) -> bool {
    match l1_entry(pagetable, va, false) {
        // SAFETY: a level-1 entry of the caller's own page table.
        Some(l1) if is_pending(unsafe { *l1 }) => {
            resolve(l1);
            true
        }
        _ => false,
    }
}

//! Sv39 page tables: the kernel's direct map, per-process user page tables, copy-on-write
//! sharing, and copying between kernel and user memory (xv6 vm.c plus the COW lab).
//! RISC-V Privileged ISA 20211203, §4.4 (Sv39) and §4.3.1 (PTE format).
//!
//! A page table is identified by the physical address of its root page (`PageTable`).

#[cfg(not(any(feature = "eager-fork", feature = "odf")))]
use crate::kalloc::krefinc;
use crate::kalloc::{kalloc, kalloc_nofill, kfree, krefcount, COW_COPIED, COW_FAULTS, COW_REUSED};
use crate::memlayout::*;
#[cfg(feature = "odf")]
pub use crate::odf::uvmcopy;
use crate::riscv::*;
use core::sync::atomic::Ordering;

/// Physical address of a root page-table page.
pub type PageTable = usize;

static mut KERNEL_PAGETABLE: PageTable = 0;

extern "C" {
    static etext: u8;
    static trampoline: u8;
}

/// Address of the end of kernel text (kernel.ld).
fn etext_addr() -> usize {
    &raw const etext as usize
}

/// Physical address of the trampoline page (trampoline.rs).
pub fn trampoline_addr() -> usize {
    &raw const trampoline as usize
}

/// A zeroed page, or None if memory is exhausted.
fn zeroed_page() -> Option<usize> {
    let pa = kalloc()?;
    // SAFETY: a freshly allocated page owned by the caller.
    unsafe { core::ptr::write_bytes(pa as *mut u8, 0, PGSIZE) };
    Some(pa)
}

/// Builds the kernel page table: devices (UART, test device, virtio, PLIC), kernel text (R+X), data and free RAM (R+W), the
/// trampoline at the top, and one kernel stack per process slot. Panics if memory runs out
/// (boot only).
fn kvmmake() -> PageTable {
    let kpgtbl = zeroed_page().expect("kvmmake: out of memory");
    kvmmap(kpgtbl, UART0, UART0, PGSIZE, PTE_R | PTE_W);
    kvmmap(kpgtbl, TEST, TEST, PGSIZE, PTE_R | PTE_W);
    kvmmap(kpgtbl, VIRTIO0, VIRTIO0, PGSIZE, PTE_R | PTE_W);
    kvmmap(kpgtbl, PLIC, PLIC, PLIC_SIZE, PTE_R | PTE_W);
    let et = etext_addr();
    kvmmap(kpgtbl, KERNBASE, KERNBASE, et - KERNBASE, PTE_R | PTE_X);
    kvmmap_ram(kpgtbl, et, phystop());
    kvmmap(kpgtbl, TRAMPOLINE, trampoline_addr(), PGSIZE, PTE_R | PTE_X);
    crate::proc::proc_mapstacks(kpgtbl);
    kpgtbl
}

/// Creates the kernel page table (hart 0, once).
pub fn kvminit() {
    // SAFETY: boot, before other harts start.
    unsafe { KERNEL_PAGETABLE = kvmmake() };
}

/// Switches this hart to the kernel page table and turns paging on.
pub fn kvminithart() {
    sfence_vma();
    // SAFETY: written once by kvminit before any hart calls this.
    w_satp(make_satp(unsafe { KERNEL_PAGETABLE }));
    sfence_vma();
}

/// Maps RAM [start, end) one-to-one R+W, with 2 MiB megapages (level-1 leaves) where whole
/// aligned megapages fit and 4 KiB pages at the ends: a few GiB of RAM then take a few
/// page-table pages, not thousands. Boot only; panics if memory runs out.
fn kvmmap_ram(kpgtbl: PageTable, start: usize, end: usize) {
    const MEGA: usize = PGSIZE * 512;
    let mstart = start.next_multiple_of(MEGA).min(end);
    let mend = (end & !(MEGA - 1)).max(mstart);
    if mstart > start {
        kvmmap(kpgtbl, start, start, mstart - start, PTE_R | PTE_W);
    }
    let mut a = mstart;
    while a < mend {
        // SAFETY: `kpgtbl` is the kernel's root page-table page (direct-mapped RAM).
        let l2 = unsafe { (kpgtbl as *mut u64).add(px(2, a)) };
        // SAFETY: as above.
        let l1 = unsafe {
            if *l2 & PTE_V == 0 {
                *l2 = pa2pte(zeroed_page().expect("kvmmap_ram: out of memory")) | PTE_V;
            }
            (pte2pa(*l2) as *mut u64).add(px(1, a))
        };
        // SAFETY: a level-1 entry of the kernel page table, not yet used.
        unsafe { *l1 = pa2pte(a) | PTE_R | PTE_W | PTE_A | PTE_D | PTE_V };
        a += MEGA;
    }
    if end > mend {
        kvmmap(kpgtbl, mend, mend, end - mend, PTE_R | PTE_W);
    }
}

/// Adds a kernel mapping; panics on failure (boot only).
pub fn kvmmap(kpgtbl: PageTable, va: usize, pa: usize, sz: usize, perm: u64) {
    if mappages(kpgtbl, va, sz, pa, perm).is_err() {
        panic!("kvmmap");
    }
}

/// Returns a pointer to the leaf PTE for `va` in `pagetable`, creating the intermediate
/// page-table pages if `alloc`. None if `va >= MAXVA`, if a level is missing and `!alloc`,
/// or if a page-table page cannot be allocated.
pub fn walk(pagetable: PageTable, va: usize, alloc: bool) -> Option<*mut u64> {
    if va >= MAXVA {
        return None;
    }
    let mut pt = pagetable;
    for level in [2, 1] {
        // SAFETY: `pt` is a page-table page (direct-mapped physical memory).
        let pte = unsafe { (pt as *mut u64).add(px(level, va)) };
        // SAFETY: as above.
        #[allow(unused_mut)]
        let mut v = unsafe { *pte };
        #[cfg(feature = "odf")]
        if level == 1 && crate::odf::is_pending(v) {
            v = crate::odf::resolve(pte); // a leaf page shared by fork, first use
        }
        if v & PTE_V != 0 {
            if v & (PTE_R | PTE_W | PTE_X) != 0 {
                return None; // a superpage leaf: not used for user memory
            }
            pt = pte2pa(v);
        } else {
            if !alloc {
                return None;
            }
            let new = zeroed_page()?;
            // SAFETY: as above.
            unsafe { *pte = pa2pte(new) | PTE_V };
            pt = new;
        }
    }
    // SAFETY: as above.
    Some(unsafe { (pt as *mut u64).add(px(0, va)) })
}

/// Like `walk`, for a caller about to change the PTE: on the on-demand-fork kernel the leaf
/// page-table page for `va` is made private first (`odf::unshare`). None also when that
/// finds no memory.
pub fn walk_mut(pagetable: PageTable, va: usize, alloc: bool) -> Option<*mut u64> {
    #[cfg(feature = "odf")]
    crate::odf::unshare(pagetable, va).ok()?;
    walk(pagetable, va, alloc)
}

/// Physical address of the user page mapping `va`, or None if `va` is not mapped with PTE_U
/// (or is >= MAXVA). Only for user pages.
pub fn walkaddr(pagetable: PageTable, va: usize) -> Option<usize> {
    let pte = walk(pagetable, va, false)?;
    // SAFETY: walk returned a PTE inside a page-table page.
    let v = unsafe { *pte };
    if v & PTE_V == 0 || v & PTE_U == 0 {
        return None;
    }
    Some(pte2pa(v))
}

/// Maps [va, va+size) to physical [pa, ...) with permissions `perm` (| PTE_V, and A and D
/// preset so no access-bit faults can occur). `va` and
/// `size` need not be aligned. Err if a page-table page cannot be allocated (mappings made
/// so far stay). Panics on remapping a valid PTE or size 0 (kernel bugs).
pub fn mappages(
    pagetable: PageTable,
    va: usize,
    size: usize,
    pa: usize,
    perm: u64,
) -> Result<(), ()> {
    if size == 0 {
        panic!("mappages: size");
    }
    let mut a = pgrounddown(va);
    let last = pgrounddown(va + size - 1);
    let mut pa = pa;
    loop {
        let pte = walk_mut(pagetable, a, true).ok_or(())?;
        // SAFETY: walk returned a PTE inside a page-table page.
        unsafe {
            if *pte & PTE_V != 0 {
                panic!("mappages: remap {:#x}", a);
            }
            *pte = pa2pte(pa) | perm | PTE_A | PTE_D | PTE_V;
        }
        if a == last {
            return Ok(());
        }
        a += PGSIZE;
        pa += PGSIZE;
    }
}

/// Removes `npages` mappings starting at page-aligned `va`, dropping a reference to each
/// physical page if `do_free`. Pages that are not mapped are skipped. On the on-demand-fork
/// kernel a shared leaf page-table page whose mappings all go is just let go of; one that
/// keeps some is unshared first (growproc does that before a shrink, so this cannot fail
/// for want of memory).
pub fn uvmunmap(pagetable: PageTable, va: usize, npages: usize, do_free: bool) {
    if !va.is_multiple_of(PGSIZE) {
        panic!("uvmunmap: not aligned");
    }
    let end = va + npages * PGSIZE;
    let mut a = va;
    while a < end {
        #[cfg(feature = "odf")]
        if do_free {
            if let Some(next) = crate::odf::unmap_shared(pagetable, a, end) {
                a = next;
                continue;
            }
            if crate::odf::unshare(pagetable, a).is_err() {
                panic!("uvmunmap: no memory to unshare {:#x}", a);
            }
        }
        let this = a;
        a += PGSIZE;
        let Some(pte) = walk(pagetable, this, false) else {
            continue;
        };
        // SAFETY: walk returned a PTE inside a page-table page.
        unsafe {
            if *pte & PTE_V == 0 {
                continue;
            }
            if pte_flags(*pte) == PTE_V {
                panic!("uvmunmap: not a leaf at {:#x}", this);
            }
            if do_free {
                kfree(pte2pa(*pte));
            }
            *pte = 0;
        }
    }
}

/// An empty user page table, or None if out of memory.
pub fn uvmcreate() -> Option<PageTable> {
    zeroed_page()
}

/// Grows a process from `oldsz` to `newsz` bytes with zeroed pages mapped R|U|`xperm`.
/// Returns the new size, or 0 (having undone partial work) if out of memory. `newsz < oldsz`
/// returns `oldsz`.
pub fn uvmalloc(pagetable: PageTable, oldsz: usize, newsz: usize, xperm: u64) -> usize {
    if newsz < oldsz {
        return oldsz;
    }
    if newsz > TRAPFRAME {
        return 0;
    }
    let start = pgroundup(oldsz);
    let mut a = start;
    while a < newsz {
        let Some(mem) = zeroed_page() else {
            uvmdealloc(pagetable, a, oldsz);
            return 0;
        };
        if mappages(pagetable, a, PGSIZE, mem, PTE_R | PTE_U | xperm).is_err() {
            kfree(mem);
            uvmdealloc(pagetable, a, oldsz);
            return 0;
        }
        a += PGSIZE;
    }
    newsz
}

/// Shrinks a process from `oldsz` to `newsz` bytes, unmapping and releasing whole pages.
/// Returns the new size.
pub fn uvmdealloc(pagetable: PageTable, oldsz: usize, newsz: usize) -> usize {
    if newsz >= oldsz {
        return oldsz;
    }
    if pgroundup(newsz) < pgroundup(oldsz) {
        let npages = (pgroundup(oldsz) - pgroundup(newsz)) / PGSIZE;
        uvmunmap(pagetable, pgroundup(newsz), npages, true);
    }
    newsz
}

/// Frees the page-table pages of `pagetable`; all leaf mappings must already be removed.
fn freewalk(pagetable: PageTable) {
    for i in 0..512 {
        // SAFETY: `pagetable` is a page-table page.
        let pte = unsafe { (pagetable as *mut u64).add(i) };
        // SAFETY: as above.
        let v = unsafe { *pte };
        #[cfg(feature = "odf")]
        if crate::odf::is_pending(v) {
            panic!("freewalk: shared leaf left");
        }
        if v & PTE_V != 0 && v & (PTE_R | PTE_W | PTE_X) == 0 {
            freewalk(pte2pa(v));
            // SAFETY: as above.
            unsafe { *pte = 0 };
        } else if v & PTE_V != 0 {
            panic!("freewalk: leaf");
        }
    }
    kfree(pagetable);
}

/// Releases user memory [0, sz) and then the page-table pages.
pub fn uvmfree(pagetable: PageTable, sz: usize) {
    if sz > 0 {
        uvmunmap(pagetable, 0, pgroundup(sz) / PGSIZE, true);
    }
    freewalk(pagetable);
}

/// Gives child page table `new` the user memory [0, sz) of `old` (fork).
///
/// Copy-on-write: each physical page is shared, not copied. A page that is writable (or
/// already COW) loses PTE_W and gains PTE_COW in both tables; read-only pages (text) are
/// shared as they are and stay read-only. Each shared page gains one reference. The caller
/// must flush the parent's TLB (`sfence.vma`) since its PTEs may have changed. On failure
/// (no memory for the child's page-table pages) the child's mappings are released and Err
/// returned; the parent is left valid (some of its pages may now be COW, which is harmless).
///
/// Walks one leaf page-table page (2 MiB of address space) at a time on both sides instead
/// of walking from the root for every page.
#[cfg(not(any(feature = "eager-fork", feature = "odf")))]
pub fn uvmcopy(old: PageTable, new: PageTable, sz: usize) -> Result<(), ()> {
    const REGION: usize = PGSIZE * 512;
    let mut va = 0;
    while va < sz {
        let region_end = ((va / REGION + 1) * REGION).min(sz);
        // The parent's PTE for va; None means no leaf table for this whole region.
        let Some(opte) = walk(old, va, false) else {
            va = region_end;
            continue;
        };
        let first = px(0, va);
        // The child's PTE for the first page mapped in this region, once allocated.
        let mut cbase: Option<(*mut u64, usize)> = None;
        let mut a = va;
        while a < region_end {
            // SAFETY: px(0, a) >= first and both lie in the same leaf page-table page.
            let pte = unsafe { opte.add(px(0, a) - first) };
            // SAFETY: as above.
            let mut v = unsafe { *pte };
            if v & PTE_V != 0 {
                if v & (PTE_W | PTE_COW) != 0 {
                    v = (v & !PTE_W) | PTE_COW;
                    // SAFETY: as above; the parent is the current process, single-threaded.
                    unsafe { *pte = v };
                }
                let (cpte0, cfirst) = match cbase {
                    Some(b) => b,
                    None => match walk(new, a, true) {
                        Some(c) => {
                            cbase = Some((c, px(0, a)));
                            (c, px(0, a))
                        }
                        None => {
                            uvmunmap(new, 0, a / PGSIZE, true);
                            return Err(());
                        }
                    },
                };
                // SAFETY: same leaf page-table page of the child, at or after cfirst.
                let cpte = unsafe { cpte0.add(px(0, a) - cfirst) };
                // SAFETY: as above.
                unsafe {
                    if *cpte & PTE_V != 0 {
                        panic!("uvmcopy: remap {:#x}", a);
                    }
                    *cpte = v;
                }
                krefinc(pte2pa(v));
            }
            a += PGSIZE;
        }
        va = region_end;
    }
    Ok(())
}

/// Gives child page table `new` a copy of the user memory [0, sz) of `old` (fork), page by
/// page — xv6's original eager uvmcopy, kept as the `eager-fork` baseline. On out of memory
/// releases what it copied and returns Err.
#[cfg(feature = "eager-fork")]
pub fn uvmcopy(old: PageTable, new: PageTable, sz: usize) -> Result<(), ()> {
    let mut i = 0;
    while i < sz {
        let Some(pte) = walk(old, i, false) else {
            i += PGSIZE;
            continue;
        };
        // SAFETY: walk returned a PTE inside a page-table page.
        let v = unsafe { *pte };
        if v & PTE_V == 0 {
            i += PGSIZE;
            continue;
        }
        let pa = pte2pa(v);
        let Some(mem) = kalloc_nofill() else {
            uvmunmap(new, 0, i / PGSIZE, true);
            return Err(());
        };
        // SAFETY: both are whole pages of RAM; `mem` is ours.
        unsafe { core::ptr::copy_nonoverlapping(pa as *const u8, mem as *mut u8, PGSIZE) };
        if mappages(new, i, PGSIZE, mem, pte_flags(v) & !PTE_V).is_err() {
            kfree(mem);
            uvmunmap(new, 0, i / PGSIZE, true);
            return Err(());
        }
        i += PGSIZE;
    }
    Ok(())
}

/// Marks the PTE for `va` not user-accessible (exec's stack guard page).
pub fn uvmclear(pagetable: PageTable, va: usize) {
    let pte = walk_mut(pagetable, va, false).expect("uvmclear");
    // SAFETY: walk returned a PTE inside a page-table page.
    unsafe { *pte &= !PTE_U };
}

/// Why a write to user memory could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CowError {
    /// Not a user page that may be written: unmapped, va >= MAXVA, not PTE_U, or read-only
    /// and not COW.
    NotCow,
    /// A COW page needed copying but no physical page was free.
    OutOfMemory,
}

/// Makes the user page holding `va` privately writable, breaking copy-on-write if needed, and
/// returns its physical address.
///
/// - Writable page: returned as is.
/// - PTE_COW page with reference count 1: PTE_W set and PTE_COW cleared, no copy (reused).
/// - PTE_COW page shared: a new page gets a copy, is mapped with the old flags plus PTE_W
///   minus PTE_COW, and the old page loses one reference (copied).
/// - Anything else is not a COW page: `NotCow`. No memory: `OutOfMemory` (nothing changed).
///
/// Only the owning process calls this for its page table, so PTE updates do not race; the
/// reference counts are shared and locked in kalloc. On the on-demand-fork kernel the leaf
/// page-table page is unshared first (`odf::unshare`; no memory: `OutOfMemory`). No `sfence.vma` is needed here: while
/// in the kernel this hart runs on the kernel page table, the process runs on no other hart,
/// and the return to user space (`userret`) flushes the TLB around its `satp` write.
pub fn cow_break(pagetable: PageTable, va: usize) -> Result<usize, CowError> {
    let va0 = pgrounddown(va);
    #[cfg(feature = "odf")]
    crate::odf::unshare(pagetable, va0).map_err(|()| CowError::OutOfMemory)?;
    let pte = walk(pagetable, va0, false).ok_or(CowError::NotCow)?;
    // SAFETY: walk returned a PTE inside a page-table page.
    let v = unsafe { *pte };
    if v & PTE_V == 0 || v & PTE_U == 0 {
        return Err(CowError::NotCow);
    }
    if v & PTE_W != 0 {
        return Ok(pte2pa(v));
    }
    if v & PTE_COW == 0 {
        return Err(CowError::NotCow);
    }
    let pa = pte2pa(v);
    COW_FAULTS.fetch_add(1, Ordering::Relaxed);
    if krefcount(pa) == 1 {
        // Sole owner: nobody else maps this page, so nobody can add a reference meanwhile.
        // SAFETY: as above.
        unsafe { *pte = (v | PTE_W) & !PTE_COW };
        COW_REUSED.fetch_add(1, Ordering::Relaxed);
        return Ok(pa);
    }
    let mem = kalloc_nofill().ok_or(CowError::OutOfMemory)?;
    // SAFETY: `pa` is a mapped user page (we hold a reference); `mem` is a fresh page.
    unsafe { core::ptr::copy_nonoverlapping(pa as *const u8, mem as *mut u8, PGSIZE) };
    // SAFETY: as above.
    unsafe { *pte = pa2pte(mem) | ((pte_flags(v) | PTE_W) & !PTE_COW) };
    COW_COPIED.fetch_add(1, Ordering::Relaxed);
    kfree(pa);
    Ok(mem)
}

/// Copies `len` bytes from kernel `src` to user virtual address `dstva`, breaking COW on each
/// destination page first. Err if any page is unmapped, not user, read-only (and not COW),
/// beyond MAXVA, or a COW copy finds no memory.
pub fn copyout(
    pagetable: PageTable,
    mut dstva: usize,
    mut src: *const u8,
    mut len: usize,
) -> Result<(), ()> {
    while len > 0 {
        let va0 = pgrounddown(dstva);
        let pa0 = cow_break(pagetable, va0).map_err(|_| ())?;
        let n = (PGSIZE - (dstva - va0)).min(len);
        // SAFETY: `pa0` is a writable user page of ours; `src` holds `len` bytes.
        unsafe { core::ptr::copy(src, (pa0 + (dstva - va0)) as *mut u8, n) };
        len -= n;
        // SAFETY: stays within the caller's buffer.
        src = unsafe { src.add(n) };
        dstva = va0 + PGSIZE;
    }
    Ok(())
}

/// Copies `len` bytes from user virtual address `srcva` to kernel `dst`. Err if any source
/// page is not a mapped user page.
pub fn copyin(
    pagetable: PageTable,
    mut dst: *mut u8,
    mut srcva: usize,
    mut len: usize,
) -> Result<(), ()> {
    while len > 0 {
        let va0 = pgrounddown(srcva);
        let pa0 = walkaddr(pagetable, va0).ok_or(())?;
        let n = (PGSIZE - (srcva - va0)).min(len);
        // SAFETY: `pa0` is a mapped user page; `dst` has room for `len` bytes.
        unsafe { core::ptr::copy((pa0 + (srcva - va0)) as *const u8, dst, n) };
        len -= n;
        // SAFETY: stays within the caller's buffer.
        dst = unsafe { dst.add(n) };
        srcva = va0 + PGSIZE;
    }
    Ok(())
}

/// Copies a NUL-terminated string from user `srcva` into `dst` (at most `dst.len()` bytes
/// including the NUL). Returns the string length (without the NUL); Err on a bad address or
/// when no NUL is found within `dst.len()` bytes.
pub fn copyinstr(pagetable: PageTable, dst: &mut [u8], mut srcva: usize) -> Result<usize, ()> {
    let mut got = 0;
    while got < dst.len() {
        let va0 = pgrounddown(srcva);
        let pa0 = walkaddr(pagetable, va0).ok_or(())?;
        let mut n = PGSIZE - (srcva - va0);
        let mut p = (pa0 + (srcva - va0)) as *const u8;
        while n > 0 && got < dst.len() {
            // SAFETY: `p` stays inside the mapped user page.
            let c = unsafe { *p };
            dst[got] = c;
            if c == 0 {
                return Ok(got);
            }
            got += 1;
            n -= 1;
            // SAFETY: as above.
            p = unsafe { p.add(1) };
        }
        srcva = va0 + PGSIZE;
    }
    Err(())
}

//! The TLB: cached Sv39 translations, one set per translation context and page-table root, kept
//! coherent with the page tables instead of being emptied on every change of context.
//!
//! Layout (QEMU's per-`mmu_idx` TLBs, plus root tags): [`ROOTS`] root slots, each tagged with
//! the `satp` value whose tables filled it, each holding [`CONTEXTS`] direct-mapped arrays of
//! [`TLB_SIZE`] entries, one per data context (U, S, S with `SUM`, each with or without `MXR`).
//! A trap, `sret`/`mret` or `sstatus` write only moves the hart to another array; a `satp`
//! write to a root seen before finds its entries again.
//!
//! Exactness: a translation is a function of `satp`, the context and the PTE words its walk
//! read. Each slot lists the page-table pages its walks read, with their generation; those
//! pages are marked in [`Ram`] (`Ram::watch_pt_page`), so any write to one — a store from any
//! hart, an AMO, device DMA — moves its generation and `Ram::pt_gen`. At every `sfence.vma`
//! and `satp` write, [`Tlb::validate`] drops every slot one of whose pages moved: after the
//! fence, no translation survives that a fresh walk would not produce (A/D bits aside: an entry
//! permits a store only when D was already set, so it never needs an update that a walk would
//! make). Between fences entries may be stale, as the spec allows (Privileged ISA §4.2.1).

use crate::bus::Ram;

/// Entries per (root, context) array (direct-mapped by the low VPN bits).
pub const TLB_SIZE: usize = 256;
/// Data contexts per root: bit 0 = S (else U), bit 1 = `SUM` (S only), bit 2 = `MXR`.
pub const CONTEXTS: usize = 8;
/// Page-table roots cached at once (LRU).
pub const ROOTS: usize = 8;
/// Page-table pages a slot may watch before it is emptied and starts again.
const MAX_PT_PAGES: usize = 1024;
/// A tag that matches no VPN (VPNs are at most 52 bits).
pub const NO_TAG: u64 = u64::MAX;

/// One TLB entry: per-access tags and the physical page.
#[derive(Debug, Clone, Copy)]
pub struct TlbEntry {
    /// `[fetch, load, store]` tags: the VPN (`vaddr >> 12`) when that access may use the entry.
    pub tag: [u64; 3],
    /// Physical address of the 4 KiB page.
    pub pa_page: u64,
}

impl TlbEntry {
    /// An entry that matches nothing.
    pub const EMPTY: TlbEntry = TlbEntry {
        tag: [NO_TAG; 3],
        pa_page: 0,
    };
}

/// One page-table root's share of the TLB.
struct RootSlot {
    /// The `satp` value whose tables filled this slot (`NO_TAG`: free).
    satp: u64,
    /// Page-table pages (physical page address) read by the walks that filled the slot, with
    /// their `Ram::page_gen` when first read.
    pt_pages: Vec<(u64, u32)>,
    /// Bit per context array that may hold entries (the arrays a flush must empty).
    used: u8,
    /// Last selection, for LRU replacement.
    stamp: u64,
}

/// The TLB of one hart.
pub struct Tlb {
    /// `ROOTS * CONTEXTS * TLB_SIZE` entries: slot-major, then context, then VPN index.
    pub entries: Box<[TlbEntry]>,
    slots: Vec<RootSlot>,
    /// The slot of the current `satp`.
    cur: usize,
    /// `Ram::pt_gen` when the slots were last validated.
    seen_pt_gen: u64,
    clock: u64,
    /// Lookups that missed (page-table walks started).
    pub misses: u64,
    /// Lookups that hit (data accesses and fetch-page changes under translation).
    pub hits: u64,
}

impl Default for Tlb {
    fn default() -> Tlb {
        Tlb {
            entries: vec![TlbEntry::EMPTY; ROOTS * CONTEXTS * TLB_SIZE].into_boxed_slice(),
            slots: (0..ROOTS)
                .map(|_| RootSlot {
                    satp: NO_TAG,
                    pt_pages: Vec::new(),
                    used: 0,
                    stamp: 0,
                })
                .collect(),
            cur: 0,
            seen_pt_gen: 0,
            clock: 0,
            misses: 0,
            hits: 0,
        }
    }
}

impl Tlb {
    /// A TLB with no entry arrays, only a placeholder while [`Hart::reset`] moves the real one
    /// (no allocation); never used for lookups.
    ///
    /// [`Hart::reset`]: super::Hart::reset
    pub(crate) fn unallocated() -> Tlb {
        Tlb {
            entries: Box::new([]),
            slots: Vec::new(),
            cur: 0,
            seen_pt_gen: 0,
            clock: 0,
            misses: 0,
            hits: 0,
        }
    }

    /// Back to the state of `Tlb::default()`, keeping the allocations: every slot emptied and
    /// freed, counters at zero.
    pub fn reset(&mut self) {
        self.flush_all();
        for s in &mut self.slots {
            s.satp = NO_TAG;
            s.stamp = 0;
        }
        self.cur = 0;
        self.seen_pt_gen = 0;
        self.clock = 0;
        self.misses = 0;
        self.hits = 0;
    }

    /// Index in `entries` of the first entry of `ctx`'s array in the current slot.
    #[inline]
    pub fn base(&self, ctx: usize) -> usize {
        (self.cur * CONTEXTS + ctx) * TLB_SIZE
    }

    /// Make the slot of `satp` current, taking the least recently used one (emptied) when no
    /// slot holds it.
    pub fn select_root(&mut self, satp: u64) {
        self.clock += 1;
        let i = match self.slots.iter().position(|s| s.satp == satp) {
            Some(i) => i,
            None => {
                let i = (0..ROOTS).min_by_key(|&i| self.slots[i].stamp).unwrap_or(0);
                self.flush_slot(i);
                self.slots[i].satp = satp;
                i
            }
        };
        self.slots[i].stamp = self.clock;
        self.cur = i;
    }

    /// Empty slot `i` (it keeps its root).
    fn flush_slot(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        for ctx in 0..CONTEXTS {
            if slot.used & (1 << ctx) != 0 {
                let start = (i * CONTEXTS + ctx) * TLB_SIZE;
                self.entries[start..start + TLB_SIZE].fill(TlbEntry::EMPTY);
            }
        }
        slot.used = 0;
        slot.pt_pages.clear();
    }

    /// Empty every slot.
    pub fn flush_all(&mut self) {
        for i in 0..ROOTS {
            self.flush_slot(i);
        }
    }

    /// Drop every slot that depends on a page-table page written since it was read (the
    /// `sfence.vma` rule, see the module doc). Returns whether the current slot was emptied.
    pub fn validate(&mut self, ram: &Ram) -> bool {
        if ram.pt_gen() == self.seen_pt_gen {
            return false;
        }
        self.seen_pt_gen = ram.pt_gen();
        let mut cur_dropped = false;
        for i in 0..ROOTS {
            let stale = self.slots[i]
                .pt_pages
                .iter()
                .any(|&(page, gen)| ram.page_gen(page) != gen);
            if stale {
                self.flush_slot(i);
                cur_dropped |= i == self.cur;
            }
        }
        cur_dropped
    }

    /// Record that a walk for the current slot read the page-table page at `page` (in RAM).
    pub fn watch(&mut self, ram: &mut Ram, page: u64) {
        let cur = self.cur;
        if self.slots[cur].pt_pages.iter().any(|&(p, _)| p == page) {
            return;
        }
        if self.slots[cur].pt_pages.len() >= MAX_PT_PAGES {
            self.flush_slot(cur);
        }
        let gen = ram.watch_pt_page(page);
        self.slots[cur].pt_pages.push((page, gen));
    }

    /// The walk itself wrote A/D into the page-table page `page`, whose generation was
    /// `gen_before`: entries of this hart's slots stay exact (the only PTE that changed gained
    /// A or D, which never removes a permission), so the slots follow the page's new
    /// generation instead of being dropped at the next fence.
    pub fn absorb_own_write(&mut self, ram: &mut Ram, page: u64, gen_before: u32) {
        if ram.page_gen(page) == gen_before {
            return;
        }
        let gen = ram.watch_pt_page(page);
        for slot in &mut self.slots {
            for e in &mut slot.pt_pages {
                if *e == (page, gen_before) {
                    e.1 = gen;
                }
            }
        }
    }

    /// Note that context `ctx` of the current slot now holds entries.
    #[inline]
    pub fn mark_used(&mut self, ctx: usize) {
        self.slots[self.cur].used |= 1 << ctx;
    }
}

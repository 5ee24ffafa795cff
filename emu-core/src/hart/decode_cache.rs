//! The decoded-instruction cache: decoded instructions per 4 KiB physical page of RAM, one slot per
//! 2-byte parcel, filled lazily as instructions are first executed.
//!
//! Invalidation: a page is marked in [`crate::bus::Ram`] when a hart caches code from it; any
//! write to a marked page (a store from any hart, an AMO, a page-table A/D update, device DMA
//! through `Ram::write_bytes`) bumps the page's generation and RAM's global code generation.
//! A hart compares the global generation at the start of every `run`, after each of its own
//! stores that touched a marked page, and on `fence.i`, and then resets the pages whose
//! generation moved.

use super::decode::{decode, PackedInsn};
use crate::bus::Ram;

/// Parcels per page.
pub const SLOTS_PER_PAGE: usize = 2048;
/// Pages held before the cache is emptied and refilled.
const MAX_PAGES: usize = 512;

/// Decoded instructions of the physical pages a hart executes from.
#[derive(Default)]
pub struct DecodeCache {
    /// RAM page number (`(pa - ram base) >> 12`) → page index + 1 (0: not cached); grown to
    /// RAM's page count on first use. A flat array: one load per lookup on every change of
    /// code page (measured: the hash map was ~4 % of a kernel workload).
    map: Vec<u32>,
    /// Per page index: physical page address, generation at fill time, and whether the page is
    /// marked in RAM for that generation.
    pages: Vec<(u64, u32, bool)>,
    /// `pages.len() * SLOTS_PER_PAGE` decoded slots.
    pub insns: Vec<PackedInsn>,
    /// The JIT tier's entry per slot (parallel to `insns`, see `hart/jit/`): a visit count or
    /// a compiled block. Reset with the slot, so a block never outlives the decodes it came from.
    pub jit: Vec<u32>,
    /// `Ram::code_gen` at the last synchronisation.
    seen_gen: u64,
    /// Instructions decoded (cache misses).
    pub decodes: u64,
    /// Times the cache was emptied (page indices given out before are void).
    pub clears: u64,
}

impl DecodeCache {
    /// Index of the page at physical page address `pa_page` (which lies in `ram`), creating
    /// it when new.
    #[inline]
    pub fn page_index(&mut self, ram: &Ram, pa_page: u64) -> usize {
        let n = ((pa_page - ram.base()) >> 12) as usize;
        if let Some(&i) = self.map.get(n) {
            if i != 0 {
                return i as usize - 1;
            }
        } else {
            self.map.resize(ram.size().div_ceil(0x1000) as usize, 0);
        }
        self.new_page(ram, n, pa_page)
    }

    #[cold]
    fn new_page(&mut self, ram: &Ram, n: usize, pa_page: u64) -> usize {
        if self.pages.len() >= MAX_PAGES {
            self.clear_with(ram.base());
        }
        let i = self.pages.len();
        self.pages.push((pa_page, 0, false));
        self.insns
            .resize(self.insns.len() + SLOTS_PER_PAGE, PackedInsn::UNDECODED);
        self.jit.resize(self.insns.len(), 0);
        self.map[n] = i as u32 + 1;
        i
    }

    /// Store `insn` decoded from page `index`, slot `slot`; marks the page as code in RAM first
    /// so that any later write to it invalidates the slot.
    pub fn fill(&mut self, ram: &mut Ram, index: usize, slot: usize, insn: PackedInsn) {
        let page = &mut self.pages[index];
        if !page.2 {
            page.1 = ram.mark_code_page(page.0);
            page.2 = true;
        }
        self.insns[index * SLOTS_PER_PAGE + slot] = insn;
        self.decodes += 1;
    }

    /// Decode slot `slot` of page `index` straight from RAM and store it (the JIT tier looks
    /// ahead of execution inside a page it runs from: the same bytes a fetch would read now,
    /// and any later write to the page drops the decode as usual). `UNDECODED` for an
    /// instruction that crosses the page end.
    pub fn decode_ahead(&mut self, ram: &mut Ram, index: usize, slot: usize) -> PackedInsn {
        let pa = self.pages[index].0 + slot as u64 * 2;
        let Ok(lo) = ram.read(pa, 2) else {
            return PackedInsn::UNDECODED;
        };
        let mut bits = lo as u32;
        if bits & 3 == 3 {
            if slot + 1 >= SLOTS_PER_PAGE {
                return PackedInsn::UNDECODED;
            }
            let Ok(hi) = ram.read(pa + 2, 2) else {
                return PackedInsn::UNDECODED;
            };
            bits |= (hi as u32) << 16;
        }
        let insn = decode(bits);
        let packed = insn.pack();
        self.fill(ram, index, slot, packed);
        packed
    }

    /// Physical address of page `index`.
    #[inline]
    pub fn page_addr(&self, index: usize) -> u64 {
        self.pages[index].0
    }

    /// Whether RAM's code generation moved since the last [`DecodeCache::sync`].
    #[inline]
    pub fn stale(&self, ram: &Ram) -> bool {
        ram.code_gen() != self.seen_gen
    }

    /// Reset the pages written since they were decoded.
    pub fn sync(&mut self, ram: &Ram) {
        for (i, page) in self.pages.iter_mut().enumerate() {
            if page.2 && ram.page_gen(page.0) != page.1 {
                page.2 = false;
                self.insns[i * SLOTS_PER_PAGE..(i + 1) * SLOTS_PER_PAGE]
                    .fill(PackedInsn::UNDECODED);
                self.jit[i * SLOTS_PER_PAGE..(i + 1) * SLOTS_PER_PAGE].fill(0);
            }
        }
        self.seen_gen = ram.code_gen();
    }

    /// Back to the state of `DecodeCache::default()`, keeping the allocations.
    pub fn reset(&mut self) {
        self.map.fill(0);
        self.pages.clear();
        self.insns.clear();
        self.jit.clear();
        self.seen_gen = 0;
        self.decodes = 0;
        self.clears = 0;
    }

    /// Forget everything (at capacity); `ram_base` is RAM's physical base.
    pub fn clear_with(&mut self, ram_base: u64) {
        for &(pa_page, _, _) in &self.pages {
            if let Some(e) = self.map.get_mut(((pa_page - ram_base) >> 12) as usize) {
                *e = 0;
            }
        }
        self.pages.clear();
        self.insns.clear();
        self.jit.clear();
        self.clears += 1;
    }
}

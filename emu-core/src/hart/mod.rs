//! One RISC-V hart: RV64GC (I, M, A, F, D, C, Zicsr, Zifencei), M/S/U privilege, Sv39.
//!
//! Files: `decode.rs` (u32 and RVC → [`decode::Insn`]), `decode_cache.rs` (decoded
//! instructions per physical page), `execute.rs`, `fpu.rs` (IEEE-754 arithmetic with RISC-V
//! semantics), `csr.rs`, `trap.rs`, `mmu.rs` (Sv39 walk), `tlb.rs` (TLB arrays per page-table
//! root and context, kept exact by watching page-table pages).
//!
//! The run loop fetches from the decode cache through a one-page shortcut (the virtual page of
//! `pc` and its cache page), executes with one `match`, and looks at interrupts only when
//! something that can change them happened: the start of [`Hart::run`] (the board changes
//! interrupt lines and `mtime` only between runs), a CSR write that makes one takeable,
//! `mret`/`sret`, `wfi`. With the JIT tier on (`jit/`), a taken branch or jump looks for a
//! compiled block at its target.
pub mod csr;
pub mod debug;
pub mod decode;
pub mod decode_cache;
mod execute;
pub mod fpu;
pub mod jit;
mod loops;
pub mod mmu;
mod rvc;
pub mod tlb;
pub mod trap;

use crate::bus::Bus;
use decode::{decode, PackedInsn};
use decode_cache::{DecodeCache, SLOTS_PER_PAGE};
use mmu::{Access, NO_TAG};
use tlb::Tlb;
use trap::{cause, Trap};

/// A `Trap::cause` that is no trap: `execute` met an empty decode-cache slot and the run loop
/// must decode it and retry (no real cause has every bit set).
pub(crate) const REFETCH: u64 = u64::MAX;

/// A `Trap::cause` that is no trap: `execute` met a CSR instruction, which the run loop executes
/// itself after bringing `instret` up to date (the loop counts retired instructions in its
/// budget, not per instruction in `instret`).
pub(crate) const CSR_STEP: u64 = u64::MAX - 1;

/// Entries of the hart's recent-code-page cache (`Hart::fetch_cache`).
const FETCH_CACHE: usize = 64;

/// Why [`Hart::run`] returned to the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HartExit {
    /// The instruction budget was spent.
    Budget,
    /// The hart executed `wfi` and waits for an interrupt (mip & mie ≠ 0).
    Wfi,
    /// A device access asked the machine to look (power-off request, interrupt line change, …).
    Event,
}

/// Privilege level (RISC-V Privileged ISA §1.2): encoding as in `mstatus.MPP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    User = 0,
    Supervisor = 1,
    Machine = 3,
}

/// Bits of `mip` (Privileged ISA §3.1.9).
pub mod irq {
    pub const SSIP: u64 = 1 << 1;
    pub const MSIP: u64 = 1 << 3;
    pub const STIP: u64 = 1 << 5;
    pub const MTIP: u64 = 1 << 7;
    pub const SEIP: u64 = 1 << 9;
    pub const MEIP: u64 = 1 << 11;
}

/// Architectural state of one hart plus its caches.
pub struct Hart {
    /// `mhartid`.
    pub id: u64,
    /// Program counter.
    pub pc: u64,
    /// Integer registers x0..x31 (x0 reads 0).
    pub x: [u64; 32],
    /// Current privilege level.
    pub privilege: Privilege,
    /// Value of `mtime` (CLINT, 10 MHz ticks) as last set by the machine; read by `time`/`rdtime`
    /// and compared against `stimecmp` (Sstc).
    pub mtime: u64,
    /// FP registers f0..f31; singles are NaN-boxed (Unprivileged ISA §12.2).
    pub f: [u64; 32],
    /// The CSR file.
    pub csr: csr::Csrs,
    /// `minstret` (and `mcycle`: one cycle per instruction). Inside [`Hart::run`] the loop
    /// counts in its budget and writes this back before a CSR instruction and on return.
    instret: u64,
    /// Interrupt-pending lines driven by the board (MSIP, MTIP, MEIP, external SEIP).
    ext_irq: u64,
    /// LR reservation: physical address and the generation of its RAM page at LR time (a write
    /// to the page by anyone moves the generation: see `Ram::mark_code_page`).
    reservation: Option<(u64, u32)>,
    /// Whether fetches / loads and stores go through Sv39 in the current context.
    fetch_paging: bool,
    data_paging: bool,
    tlb: Tlb,
    /// Index in `tlb.entries` of the array serving the current context (`Tlb::base`), and
    /// that context.
    tlb_base: usize,
    tlb_ctx: usize,
    dcache: DecodeCache,
    /// Fetch shortcut: virtual page of the current code page (`NO_TAG` when none) and the index
    /// of its first slot in `dcache.insns`.
    fetch_vpn: u64,
    fetch_base: usize,
    /// Host address of slot 0 of that page (`dcache.insns` at `fetch_base`), valid with
    /// `fetch_vpn`: set only by `set_fetch_page`.
    fetch_addr: usize,
    /// Code pages recently fetched from in the current translation context: (virtual page,
    /// `fetch_base`), direct-mapped; `NO_TAG` when empty. Emptied with the context (see
    /// `mmu_context_changed`, `tlb_validate`) and when the decode cache is emptied
    /// (`fetch_cache_clears` ≠ `dcache.clears`). Spares `fetch_slow` the translation and the
    /// page lookup when control returns to a page it left.
    fetch_cache: [(u64, usize); FETCH_CACHE],
    fetch_cache_clears: u64,
    /// Something happened that the run loop must look at (exit request, interrupt change).
    attention: bool,
    exit: Option<HartExit>,
    /// (privilege, satp, mstatus) when the translation context was last computed: `run`
    /// recomputes it when the machine changed the public fields in between.
    mmu_snapshot: (Privilege, u64, u64),
    /// Traps taken lately (wedge detection) and, when tracing, every trap (trap path only).
    pub trap_log: crate::trace::TrapLog,
    /// The JIT tier (off unless [`Hart::set_jit`]).
    jit: jit::Jit,
}

impl Hart {
    /// A hart in reset state: M-mode, `pc` = 0x1000 (the reset ROM), `mhartid` = `id`.
    pub fn new(id: u64) -> Hart {
        Hart::with_caches(id, Tlb::default(), DecodeCache::default())
    }

    /// A hart in reset state that keeps the allocations of `tlb` and `dcache` (emptied here).
    fn with_caches(id: u64, mut tlb: Tlb, mut dcache: DecodeCache) -> Hart {
        tlb.reset();
        dcache.reset();
        Hart {
            id,
            pc: 0x1000,
            x: [0; 32],
            privilege: Privilege::Machine,
            mtime: 0,
            f: [0; 32],
            csr: csr::Csrs::default(),
            instret: 0,
            ext_irq: 0,
            reservation: None,
            fetch_paging: false,
            data_paging: false,
            tlb,
            tlb_base: 0,
            tlb_ctx: 0,
            dcache,
            fetch_vpn: NO_TAG,
            fetch_base: 0,
            fetch_addr: 0,
            fetch_cache: [(NO_TAG, 0); FETCH_CACHE],
            fetch_cache_clears: 0,
            attention: false,
            exit: None,
            mmu_snapshot: (Privilege::Machine, 0, 0),
            trap_log: crate::trace::TrapLog::default(),
            jit: jit::Jit::default(),
        }
    }

    /// Return to reset state (Privileged ISA §3.4): M-mode, `pc` = 0x1000, registers and CSRs
    /// cleared, caches emptied (their memory is kept: the TLB arrays are 512 KiB). `id` and
    /// `mtime` are kept; board interrupt lines are cleared.
    pub fn reset(&mut self) {
        let mtime = self.mtime;
        let trace = self.trap_log.trace.take();
        let tlb = std::mem::replace(&mut self.tlb, Tlb::unallocated());
        let dcache = std::mem::take(&mut self.dcache);
        let (jit, hot) = (self.jit.enabled, self.jit.hot);
        // The old JIT state (and its compiled code) goes with the old hart; the decode cache's
        // reset forgets every entry naming it.
        *self = Hart::with_caches(self.id, tlb, dcache);
        self.jit.enabled = jit;
        self.jit.hot = hot;
        self.mtime = mtime;
        self.trap_log.trace = trace;
    }

    /// Execute until `budget` instructions retire, the hart waits in `wfi`, or a device event
    /// needs the machine. Returns why, and the number of instructions retired. Traps taken count
    /// against the budget too (so a trap loop still returns), but not as retired.
    pub fn run(&mut self, bus: &mut Bus, budget: u64) -> (HartExit, u64) {
        // Other harts and DMA ran since our last run: they may have rewritten code. (Their
        // stores to a reserved page break our LR reservation through its page generation.)
        if self.dcache.stale(&bus.ram) {
            self.dcache.sync(&bus.ram);
        }
        self.exit = None;
        self.attention = false;
        if self.mmu_snapshot
            != (
                self.privilege,
                self.csr.satp,
                self.csr.mstatus & mmu::CONTEXT_BITS,
            )
        {
            let satp = self.mmu_snapshot.1;
            self.mmu_context_changed();
            if satp != self.csr.satp {
                self.tlb_validate(bus);
            }
        }
        self.check_interrupts();
        // Steps left (instructions plus traps) and traps taken: retired = steps - traps.
        let mut left = budget;
        let mut traps = 0u64;
        // The pc lives in a local (a register) while instructions execute; `self.pc` is
        // written back before anything that reads it: traps, slow fetches, exits.
        let mut pc = self.pc;
        // `instret` is `base + (budget - left - traps)` after each step; `self.instret` is
        // written back before a CSR instruction and at every return.
        let mut base = self.instret;
        // One compare per instruction decides the fast path: `pc` is in the current fetch
        // page. Everything else — a new page, a fetch fault, and anything that needs attention
        // (whose setters drop the fetch page, see `Hart::attend`) — takes the slow branch.
        while left != 0 {
            left -= 1;
            let (insn, next) = if pc >> 12 == self.fetch_vpn {
                debug_assert!(self.fetch_base + SLOTS_PER_PAGE <= self.dcache.insns.len());
                // SAFETY: `fetch_vpn` is valid only while `fetch_base` indexes a whole page of
                // `dcache.insns`: both are set together in `fetch_slow` after `page_index` grew
                // the vector, and every place that shrinks it (`DecodeCache::clear_with`, at
                // capacity in `page_index`, before `fetch_slow` sets them again) or
                // changes translation (`mmu_context_changed`, `tlb_validate`) resets
                // `fetch_vpn` to `NO_TAG`, which no `pc >> 12` equals. The slot of parcel `(pc & 0xffe) / 2` is `(pc & 0xffe) * 8` bytes
                // into the page (16-byte slots), below `SLOTS_PER_PAGE * 16`.
                // Measured hot path: the page address does not depend on `pc`, so the only
                // work between `pc` and the load is one `and` (a short pc → fetch → pc chain).
                // The length byte is read on its own, before the whole slot, so that the next
                // pc waits for one load and one add only.
                // `fetch_addr` is `dcache.insns.as_ptr() + fetch_base` from the same moment
                // (`set_fetch_page`), and the vector is not reallocated while `fetch_vpn` holds.
                unsafe {
                    let slot = (self.fetch_addr as *const u8)
                        .add((pc as usize & 0xffe) * (std::mem::size_of::<PackedInsn>() / 2));
                    let len = slot.add(PackedInsn::LENGTH_BYTE).read();
                    (
                        slot.cast::<PackedInsn>().read(),
                        pc.wrapping_add(len as u64),
                    )
                }
            } else {
                self.pc = pc;
                if self.attention {
                    // Not a step: nothing executes here.
                    left += 1;
                    self.attention = false;
                    if let Some(e) = self.exit.take() {
                        self.instret = base.wrapping_add(budget - left - traps);
                        return (e, budget - left - traps);
                    }
                    self.check_interrupts();
                    pc = self.pc;
                    continue;
                }
                match self.fetch_slow(bus) {
                    Ok(insn) => (insn, pc.wrapping_add(insn.length())),
                    Err(t) => {
                        self.take_trap(t);
                        traps += 1;
                        pc = self.pc;
                        continue;
                    }
                }
            };
            match self.execute(bus, insn, pc, next) {
                Ok(to) => {
                    pc = to;
                    // A taken branch or jump: a block head for the JIT tier.
                    if to != next && self.jit.enabled {
                        self.jit_run(bus, &mut pc, &mut left, &mut traps);
                    }
                }
                Err(mut t) => {
                    self.pc = pc;
                    if t.cause == REFETCH {
                        // An empty slot of the current page: decode it through the slow
                        // branch; not a step.
                        left += 1;
                        self.fetch_vpn = NO_TAG;
                        continue;
                    }
                    if t.cause == loops::LOOP_STEP {
                        match self.exec_loop(bus, insn, pc, next, &mut left) {
                            Ok(next) => {
                                pc = next;
                                continue;
                            }
                            Err(t2) => t = t2,
                        }
                    }
                    if t.cause == CSR_STEP {
                        // Retired before this instruction: all steps but this one and traps.
                        self.instret = base.wrapping_add(budget - left - 1 - traps);
                        match self.exec_csr_step(bus, insn, pc) {
                            Ok(next) => {
                                pc = next;
                                // A write to minstret set it to its value minus one.
                                self.instret = self.instret.wrapping_add(1);
                                base = self.instret.wrapping_sub(budget - left - traps);
                                continue;
                            }
                            Err(t2) => t = t2,
                        }
                    }
                    self.take_trap(t);
                    traps += 1;
                    pc = self.pc;
                }
            }
        }
        self.pc = pc;
        self.instret = base.wrapping_add(budget - traps);
        if self.attention {
            self.attention = false;
            if let Some(e) = self.exit.take() {
                return (e, budget - traps);
            }
        }
        (HartExit::Budget, budget - traps)
    }

    /// Ask the run loop to look (exit request, interrupt change) before the next instruction:
    /// dropping the fetch page sends the next fetch to the loop's slow branch, which checks
    /// `attention` — so the fast path needs no separate check.
    #[inline(always)]
    pub(crate) fn attend(&mut self) {
        self.attention = true;
        self.fetch_vpn = NO_TAG;
    }

    /// Take the highest-priority pending and enabled interrupt, if any.
    fn check_interrupts(&mut self) {
        if let Some(code) = self.pending_interrupt() {
            self.take_trap(Trap::new(cause::INTERRUPT | code, 0));
        }
    }

    /// An MMIO access set `bus.event`: finish the instruction, then return to the machine.
    pub(crate) fn exit_event(&mut self) {
        self.exit = Some(HartExit::Event);
        self.attend();
    }

    /// Translate `pc`, find (or make) its decode-cache page, decode the instruction if needed.
    /// Instructions outside RAM (a ROM) or straddling a page boundary are decoded every time.
    #[cold]
    #[inline(never)]
    fn fetch_slow(&mut self, bus: &mut Bus) -> Result<PackedInsn, Trap> {
        let pc = self.pc;
        let slot = (pc as usize & 0xfff) >> 1;
        let vpn = pc >> 12;
        if self.dcache.clears != self.fetch_cache_clears {
            self.fetch_cache_flush();
            self.fetch_cache_clears = self.dcache.clears;
        }
        let (cached_vpn, base) = self.fetch_cache[vpn as usize % FETCH_CACHE];
        if cached_vpn == vpn {
            let packed = self.dcache.insns[base + slot];
            if !packed.is_undecoded() {
                self.set_fetch_page(vpn, base);
                return Ok(packed);
            }
        }
        let pa = self.translate(bus, pc, Access::Fetch)?;
        let pa_page = pa & !0xfff;
        let in_ram = bus.ram.offset_of(pa_page, 0x1000).is_some();
        let index = if in_ram {
            let index = self.dcache.page_index(&bus.ram, pa_page);
            self.set_fetch_page(vpn, index * SLOTS_PER_PAGE);
            self.fetch_cache[vpn as usize % FETCH_CACHE] = (vpn, self.fetch_base);
            let packed = self.dcache.insns[self.fetch_base + slot];
            if !packed.is_undecoded() {
                return Ok(packed);
            }
            Some(index)
        } else {
            None
        };
        let lo = self.fetch_parcel(bus, pa, pc)?;
        let mut bits = lo;
        if lo & 3 == 3 {
            let pa2 = if slot == SLOTS_PER_PAGE - 1 {
                self.translate(bus, pc.wrapping_add(2), Access::Fetch)?
            } else {
                pa + 2
            };
            bits |= self.fetch_parcel(bus, pa2, pc.wrapping_add(2))? << 16;
        }
        let insn = decode(bits);
        let mut packed = insn.pack();
        if let Some(index) = index {
            if !(lo & 3 == 3 && slot == SLOTS_PER_PAGE - 1) {
                if loops::heads_loop(&bus.ram, pa, insn) {
                    packed = packed.fused();
                }
                self.dcache.fill(&mut bus.ram, index, slot, packed);
            }
        }
        Ok(packed)
    }

    /// Make the code page at `base` in `dcache.insns` (a whole page there) the fetch page of
    /// virtual page `vpn`.
    #[inline]
    fn set_fetch_page(&mut self, vpn: u64, base: usize) {
        debug_assert!(base + SLOTS_PER_PAGE <= self.dcache.insns.len());
        self.fetch_vpn = vpn;
        self.fetch_base = base;
        self.fetch_addr = self.dcache.insns[base..].as_ptr() as usize;
    }

    /// Forget the recent code pages (their translation or decode-cache page may have changed).
    pub(crate) fn fetch_cache_flush(&mut self) {
        self.fetch_cache = [(NO_TAG, 0); FETCH_CACHE];
    }

    /// Read the 16-bit parcel at physical `pa` (virtual `va`, for the access fault).
    fn fetch_parcel(&mut self, bus: &mut Bus, pa: u64, va: u64) -> Result<u32, Trap> {
        let fault = Trap::new(cause::INSN_ACCESS_FAULT, va);
        if bus.ram.contains(pa, 2) {
            return bus.ram.read(pa, 2).map(|v| v as u32).map_err(|_| fault);
        }
        let v = bus.read(pa, 2).map_err(|_| fault)?;
        Ok(v as u32)
    }

    /// Set the interrupt-pending bits driven by the board (`MSIP`, `MTIP`, `MEIP`, and the
    /// external part of `SEIP`): the bits in `mask` take the values in `value`.
    pub fn set_external_irq(&mut self, mask: u64, value: u64) {
        let mask = mask & (irq::MSIP | irq::MTIP | irq::MEIP | irq::SEIP);
        self.ext_irq = (self.ext_irq & !mask) | (value & mask);
    }

    /// Whether an interrupt is pending and enabled in `mie` (ignoring global enables): the
    /// condition that wakes a hart from `wfi` (Privileged ISA §3.3.3).
    pub fn wfi_wakeup(&self) -> bool {
        self.mip() & self.csr.mie != 0
    }

    /// `minstret`: instructions retired since reset.
    pub fn instret(&self) -> u64 {
        self.instret
    }

    /// Sv39 page-table walks done (TLB misses), since reset.
    pub fn tlb_misses(&self) -> u64 {
        self.tlb.misses
    }

    /// TLB lookups that hit (loads, stores, and fetches from a new code page under
    /// translation), since reset.
    pub fn tlb_hits(&self) -> u64 {
        self.tlb.hits
    }

    /// Instructions decoded into the decode cache (decode-cache misses), since reset. Hits are
    /// roughly `instret() - decode_misses()`.
    pub fn decode_misses(&self) -> u64 {
        self.dcache.decodes
    }
}

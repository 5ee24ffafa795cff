//! Sv39 address translation with a TLB in front (RISC-V Privileged ISA 20211203, §4.3–§4.4).
//!
//! The TLB ([`super::tlb`]) holds, per virtual page, one tag per access kind (fetch, load,
//! store): a tag equals the VPN only when that access is permitted in the translation context
//! of its array (data privilege, SUM, MXR; fetches: the privilege when it equals the data
//! privilege) and — for stores — the PTE's D bit is already set. A change of context selects
//! another array; `satp` writes and `sfence.vma` validate it against page-table writes.

use super::csr::mstatus as ms;
use super::trap::{cause, Trap};
use super::{Hart, Privilege};
use crate::bus::Bus;

/// Kind of memory access being translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Instruction fetch.
    Fetch = 0,
    /// Load (and LR).
    Load = 1,
    /// Store (and SC, AMO).
    Store = 2,
}

impl Access {
    fn page_fault(self) -> u64 {
        match self {
            Access::Fetch => cause::INSN_PAGE_FAULT,
            Access::Load => cause::LOAD_PAGE_FAULT,
            Access::Store => cause::STORE_PAGE_FAULT,
        }
    }
    /// The access-fault cause for this kind of access (§3.7.1).
    pub fn access_fault(self) -> u64 {
        match self {
            Access::Fetch => cause::INSN_ACCESS_FAULT,
            Access::Load => cause::LOAD_ACCESS_FAULT,
            Access::Store => cause::STORE_ACCESS_FAULT,
        }
    }
}

pub use super::tlb::{TlbEntry, NO_TAG, TLB_SIZE};

/// `mstatus` bits that change how loads and stores translate.
pub(crate) const CONTEXT_BITS: u64 = ms::MPRV | ms::MPP | ms::SUM | ms::MXR;

const PTE_V: u64 = 1 << 0;
const PTE_R: u64 = 1 << 1;
const PTE_W: u64 = 1 << 2;
const PTE_X: u64 = 1 << 3;
const PTE_U: u64 = 1 << 4;
const PTE_A: u64 = 1 << 6;
const PTE_D: u64 = 1 << 7;
/// PTE bits 63:54 (N, PBMT, reserved) must be zero without Svnapot/Svpbmt (§4.4.1).
const PTE_RESERVED: u64 = 0x3ff << 54;
const PPN_MASK: u64 = (1 << 44) - 1;

impl Hart {
    /// Privilege used for loads and stores: MPP when `mstatus.MPRV` is set in M-mode (§3.1.6.3).
    pub(crate) fn data_privilege(&self) -> Privilege {
        if self.privilege == Privilege::Machine && self.csr.mstatus & ms::MPRV != 0 {
            super::trap::priv_from_bits((self.csr.mstatus >> 11) & 3)
        } else {
            self.privilege
        }
    }

    /// Recompute whether fetches and data accesses translate and which TLB array serves them;
    /// drop the fetch-page shortcut when anything changed. Called on every change of the
    /// translation context. A new `satp` must be followed by [`Hart::tlb_validate`].
    pub(crate) fn mmu_context_changed(&mut self) {
        let snapshot = (
            self.privilege,
            self.csr.satp,
            self.csr.mstatus & CONTEXT_BITS,
        );
        if snapshot == self.mmu_snapshot {
            // Nothing the TLB's tags depend on changed (e.g. an `sstatus.SIE` write, a trap
            // from S to S): the entries stay valid.
            return;
        }
        let sv39 = self.csr.satp >> 60 == 8;
        let data_priv = self.data_privilege();
        self.fetch_paging = sv39 && self.privilege != Privilege::Machine;
        self.data_paging = sv39 && data_priv != Privilege::Machine;
        if snapshot.1 != self.mmu_snapshot.1 && sv39 {
            self.tlb.select_root(self.csr.satp);
        }
        let ms_bits = self.csr.mstatus;
        let ctx = if data_priv == Privilege::Supervisor {
            1 | ((ms_bits & ms::SUM != 0) as usize) << 1
        } else {
            0
        } | ((ms_bits & ms::MXR != 0) as usize) << 2;
        self.tlb_ctx = ctx;
        self.tlb_base = self.tlb.base(ctx);
        self.mmu_snapshot = snapshot;
        self.fetch_vpn = NO_TAG;
        self.fetch_cache_flush();
    }

    /// The `sfence.vma` rule (and after a `satp` write): drop the TLB entries that depend on
    /// page-table words written since they were filled (see [`super::tlb`]).
    pub(crate) fn tlb_validate(&mut self, bus: &Bus) {
        if self.tlb.validate(&bus.ram) {
            self.fetch_vpn = NO_TAG;
            self.fetch_cache_flush();
        }
    }

    /// Translate `va` for `access`: identity when translation is off, else TLB then walk.
    #[inline]
    pub(crate) fn translate(
        &mut self,
        bus: &mut Bus,
        va: u64,
        access: Access,
    ) -> Result<u64, Trap> {
        let paging = if access == Access::Fetch {
            self.fetch_paging
        } else {
            self.data_paging
        };
        if !paging {
            return Ok(va);
        }
        let vpn = va >> 12;
        let e = &self.tlb.entries[self.tlb_base + (vpn as usize % TLB_SIZE)];
        if e.tag[access as usize] == vpn {
            self.tlb.hits += 1;
            return Ok(e.pa_page | (va & 0xfff));
        }
        self.walk(bus, va, access)
    }

    /// The Sv39 page-table walk (§4.3.2 with Sv39 parameters, §4.4): checks permissions for
    /// the current context, sets A (and D for stores) in the leaf PTE as QEMU does, fills the
    /// TLB, and returns the physical address. Page fault (12/13/15, `tval` = `va`) on any
    /// failure; access fault when a PTE lies outside RAM.
    pub(crate) fn walk(&mut self, bus: &mut Bus, va: u64, access: Access) -> Result<u64, Trap> {
        self.tlb.misses += 1;
        let fault = Trap::new(access.page_fault(), va);
        // Bits 63:39 must equal bit 38.
        if ((va << 25) as i64 >> 25) as u64 != va {
            return Err(fault);
        }
        let priv_ = if access == Access::Fetch {
            self.privilege
        } else {
            self.data_privilege()
        };
        let sum = self.csr.mstatus & ms::SUM != 0;
        let mxr = self.csr.mstatus & ms::MXR != 0;
        let mut table = (self.csr.satp & PPN_MASK) << 12;
        let mut level = 2;
        // The page-table pages read, root first: the filled entry depends on them.
        let mut tables = [0u64; 3];
        let (pte_addr, mut pte) = loop {
            tables[2 - level] = table;
            let vpn_i = (va >> (12 + 9 * level)) & 0x1ff;
            let pte_addr = table + vpn_i * 8;
            let pte = match bus.ram.offset_of(pte_addr, 8) {
                Some(off) => u64::from_le_bytes(bus.ram.load::<8>(off)),
                None => return Err(Trap::new(access.access_fault(), va)),
            };
            if pte & PTE_V == 0 || (pte & PTE_R == 0 && pte & PTE_W != 0) || pte & PTE_RESERVED != 0
            {
                return Err(fault);
            }
            if pte & (PTE_R | PTE_X) != 0 {
                break (pte_addr, pte);
            }
            // Non-leaf PTEs must have A, D, U clear (§4.4.1).
            if level == 0 || pte & (PTE_A | PTE_D | PTE_U) != 0 {
                return Err(fault);
            }
            table = ((pte >> 10) & PPN_MASK) << 12;
            level -= 1;
        };
        let ppn = (pte >> 10) & PPN_MASK;
        // Misaligned superpage.
        if level > 0 && ppn & ((1 << (9 * level)) - 1) != 0 {
            return Err(fault);
        }
        let user_page = pte & PTE_U != 0;
        let allowed = |access: Access, pte: u64, priv_: Privilege| -> bool {
            let mode_ok = match priv_ {
                Privilege::User => user_page,
                Privilege::Supervisor => !user_page || (sum && access != Access::Fetch),
                Privilege::Machine => true,
            };
            mode_ok
                && match access {
                    Access::Fetch => pte & PTE_X != 0,
                    Access::Load => pte & PTE_R != 0 || (mxr && pte & PTE_X != 0),
                    Access::Store => pte & PTE_W != 0,
                }
        };
        if !allowed(access, pte, priv_) {
            return Err(fault);
        }
        for &t in &tables[..3 - level] {
            self.tlb.watch(&mut bus.ram, t);
        }
        let new = pte | PTE_A | if access == Access::Store { PTE_D } else { 0 };
        if new != pte {
            let gen_before = bus.ram.page_gen(pte_addr);
            bus.ram
                .write(pte_addr, 8, new)
                .map_err(|_| Trap::new(access.access_fault(), va))?;
            self.tlb
                .absorb_own_write(&mut bus.ram, pte_addr & !0xfff, gen_before);
            pte = new;
        }
        // Physical page of this 4 KiB virtual page (superpages contribute VPN bits).
        let low_mask = (1u64 << (9 * level)) - 1;
        let pa_page = ((ppn & !low_mask) | ((va >> 12) & low_mask)) << 12;
        // Fill the TLB: a tag per access kind permitted in this context. Fetch permission uses
        // the real privilege, loads and stores the data privilege; the two coincide except
        // under MPRV, where fetches do not translate at all.
        let vpn = va >> 12;
        let fetch_priv = self.privilege;
        let data_priv = self.data_privilege();
        let tag = |ok: bool| if ok { vpn } else { NO_TAG };
        let entry = TlbEntry {
            tag: [
                tag(self.fetch_paging && allowed(Access::Fetch, pte, fetch_priv)),
                tag(self.data_paging && allowed(Access::Load, pte, data_priv)),
                tag(self.data_paging && pte & PTE_D != 0 && allowed(Access::Store, pte, data_priv)),
            ],
            pa_page,
        };
        self.tlb.entries[self.tlb_base + (vpn as usize % TLB_SIZE)] = entry;
        self.tlb.mark_used(self.tlb_ctx);
        Ok(pa_page | (va & 0xfff))
    }
}

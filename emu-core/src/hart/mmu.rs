//! Sv39 address translation with a TLB in front (RISC-V Privileged ISA 20211203, §4.3–§4.4).
//!
//! The TLB is direct-mapped and holds, per virtual page, one tag per access kind (fetch, load,
//! store): a tag equals the VPN only when that access is permitted in the translation context
//! it was filled in (privilege, MPRV, SUM, MXR) and — for stores — the PTE's D bit is already
//! set. Any change of that context (trap, `mret`/`sret`, `satp`/`mstatus` write) and every
//! `sfence.vma` flush the whole TLB, so no stale translation survives them.

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

/// Number of TLB entries (direct-mapped by the low VPN bits).
pub const TLB_SIZE: usize = 256;
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

    /// Recompute whether fetches and data accesses translate, flush the TLB and the fetch-page
    /// shortcut. Called on every change of the translation context and on `sfence.vma`.
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
        self.fetch_paging = sv39 && self.privilege != Privilege::Machine;
        self.data_paging = sv39 && self.data_privilege() != Privilege::Machine;
        self.mmu_snapshot = snapshot;
        self.tlb_flush();
    }

    /// Drop every TLB entry and the current fetch page.
    pub(crate) fn tlb_flush(&mut self) {
        self.tlb.fill(TlbEntry::EMPTY);
        self.fetch_vpn = NO_TAG;
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
        let e = &self.tlb[vpn as usize % TLB_SIZE];
        if e.tag[access as usize] == vpn {
            return Ok(e.pa_page | (va & 0xfff));
        }
        self.walk(bus, va, access)
    }

    /// The Sv39 page-table walk (§4.3.2 with Sv39 parameters, §4.4): checks permissions for
    /// the current context, sets A (and D for stores) in the leaf PTE as QEMU does, fills the
    /// TLB, and returns the physical address. Page fault (12/13/15, `tval` = `va`) on any
    /// failure; access fault when a PTE lies outside RAM.
    pub(crate) fn walk(&mut self, bus: &mut Bus, va: u64, access: Access) -> Result<u64, Trap> {
        self.tlb_misses += 1;
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
        let (pte_addr, mut pte) = loop {
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
        let new = pte | PTE_A | if access == Access::Store { PTE_D } else { 0 };
        if new != pte {
            bus.ram
                .write(pte_addr, 8, new)
                .map_err(|_| Trap::new(access.access_fault(), va))?;
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
        self.tlb[vpn as usize % TLB_SIZE] = entry;
        Ok(pa_page | (va & 0xfff))
    }
}

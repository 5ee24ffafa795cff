//! Traps: exception and interrupt causes, trap entry with delegation, `mret`/`sret`, and the
//! interrupt-selection rule (RISC-V Privileged ISA 20211203, §3.1.6–§3.1.9, §3.3.2, §4.1.1).

use super::csr::{mstatus as ms, Csrs};
use super::{Hart, Privilege};

/// An exception or interrupt to be taken: `cause` as written to `mcause`/`scause` (bit 63 set
/// for interrupts) and the value for `mtval`/`stval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trap {
    /// `xcause` value (interrupt bit 63 | exception code).
    pub cause: u64,
    /// `xtval` value: faulting address, or instruction bits for illegal instruction, or 0.
    pub tval: u64,
}

/// Exception codes (Privileged ISA §3.1.15, Table 3.6).
pub mod cause {
    pub const INSN_MISALIGNED: u64 = 0;
    pub const INSN_ACCESS_FAULT: u64 = 1;
    pub const ILLEGAL_INSN: u64 = 2;
    pub const BREAKPOINT: u64 = 3;
    pub const LOAD_MISALIGNED: u64 = 4;
    pub const LOAD_ACCESS_FAULT: u64 = 5;
    pub const STORE_MISALIGNED: u64 = 6;
    pub const STORE_ACCESS_FAULT: u64 = 7;
    pub const ECALL_FROM_U: u64 = 8;
    pub const ECALL_FROM_S: u64 = 9;
    pub const ECALL_FROM_M: u64 = 11;
    pub const INSN_PAGE_FAULT: u64 = 12;
    pub const LOAD_PAGE_FAULT: u64 = 13;
    pub const STORE_PAGE_FAULT: u64 = 15;
    /// Bit 63 of `xcause`: the trap is an interrupt.
    pub const INTERRUPT: u64 = 1 << 63;
}

impl Trap {
    /// An exception with code `cause` and trap value `tval`.
    #[inline]
    pub fn new(cause: u64, tval: u64) -> Trap {
        Trap { cause, tval }
    }
    /// Illegal instruction with the instruction bits in `tval`.
    #[inline]
    pub fn illegal(raw: u32) -> Trap {
        Trap {
            cause: cause::ILLEGAL_INSN,
            tval: raw as u64,
        }
    }
}

/// Interrupt codes in decreasing priority (Privileged ISA §3.1.9): MEI, MSI, MTI, SEI, SSI, STI.
const PRIORITY: [u64; 6] = [11, 3, 7, 9, 1, 5];

impl Hart {
    /// The interrupt to take now, if any: pending (`mip`) and enabled (`mie`), globally enabled
    /// for its target mode, M-targeted interrupts first, then by the §3.1.9 priority order.
    pub(crate) fn pending_interrupt(&self) -> Option<u64> {
        let pending = self.mip() & self.csr.mie;
        if pending == 0 {
            return None;
        }
        let mstatus = self.csr.mstatus;
        let m = pending & !self.csr.mideleg;
        let m_enabled = self.privilege < Privilege::Machine || mstatus & ms::MIE != 0;
        let s = pending & self.csr.mideleg;
        let s_enabled = self.privilege < Privilege::Supervisor
            || (self.privilege == Privilege::Supervisor && mstatus & ms::SIE != 0);
        let set = if m != 0 && m_enabled {
            m
        } else if s != 0 && s_enabled {
            s
        } else {
            return None;
        };
        PRIORITY.iter().copied().find(|&i| set & (1 << i) != 0)
    }

    /// Enter the trap handler for `trap` taken at `self.pc` (Privileged ISA §3.1.6.1, §3.1.7,
    /// §3.1.8): choose M or S by `medeleg`/`mideleg`, save `xepc`/`xcause`/`xtval`, stack the
    /// interrupt enable and previous privilege, jump to `xtvec` (vectored for interrupts).
    pub(crate) fn take_trap(&mut self, trap: Trap) {
        let is_irq = trap.cause & cause::INTERRUPT != 0;
        let code = trap.cause & !cause::INTERRUPT;
        let deleg = if is_irq {
            self.csr.mideleg
        } else {
            self.csr.medeleg
        };
        self.reservation = None;
        let from_priv = self.privilege;
        let epc = self.pc;
        let from = self.privilege as u64;
        let c: &mut Csrs = &mut self.csr;
        if self.privilege <= Privilege::Supervisor && code < 64 && (deleg >> code) & 1 != 0 {
            c.sepc = self.pc;
            c.scause = trap.cause;
            c.stval = trap.tval;
            let sie = (c.mstatus >> 1) & 1;
            c.mstatus =
                (c.mstatus & !(ms::SPIE | ms::SIE | ms::SPP)) | (sie << 5) | ((from & 1) << 8);
            self.pc = tvec_target(c.stvec, is_irq, code);
            self.privilege = Privilege::Supervisor;
        } else {
            c.mepc = self.pc;
            c.mcause = trap.cause;
            c.mtval = trap.tval;
            let mie = (c.mstatus >> 3) & 1;
            c.mstatus = (c.mstatus & !(ms::MPIE | ms::MIE | ms::MPP)) | (mie << 7) | (from << 11);
            self.pc = tvec_target(c.mtvec, is_irq, code);
            self.privilege = Privilege::Machine;
        }
        self.mmu_context_changed();
        self.trap_log.note(crate::trace::TrapRecord {
            hart: self.id,
            cause: trap.cause,
            epc,
            tval: trap.tval,
            from: from_priv,
            to: self.privilege,
            target: self.pc,
        });
    }

    /// `mret` (Privileged ISA §3.3.2): privilege ← MPP, MIE ← MPIE, MPIE ← 1, MPP ← U,
    /// MPRV ← 0 when leaving M, pc ← `mepc`.
    pub(crate) fn do_mret(&mut self) {
        let c = &mut self.csr;
        let mpp = (c.mstatus >> 11) & 3;
        let mpie = (c.mstatus >> 7) & 1;
        c.mstatus = (c.mstatus & !(ms::MIE | ms::MPP)) | (mpie << 3) | ms::MPIE;
        if mpp != 3 {
            c.mstatus &= !ms::MPRV;
        }
        self.privilege = priv_from_bits(mpp);
        self.pc = c.mepc;
        self.reservation = None;
        self.mmu_context_changed();
    }

    /// `sret` (Privileged ISA §3.3.2, §4.1.1): privilege ← SPP, SIE ← SPIE, SPIE ← 1, SPP ← U,
    /// MPRV ← 0, pc ← `sepc`.
    pub(crate) fn do_sret(&mut self) {
        let c = &mut self.csr;
        let spp = (c.mstatus >> 8) & 1;
        let spie = (c.mstatus >> 5) & 1;
        c.mstatus = (c.mstatus & !(ms::SIE | ms::SPP | ms::MPRV)) | (spie << 1) | ms::SPIE;
        self.privilege = priv_from_bits(spp);
        self.pc = c.sepc;
        self.reservation = None;
        self.mmu_context_changed();
    }
}

/// The privilege for a 2-bit MPP/SPP encoding (2 is reserved; never stored, read as U).
pub(crate) fn priv_from_bits(b: u64) -> Privilege {
    match b {
        3 => Privilege::Machine,
        1 => Privilege::Supervisor,
        _ => Privilege::User,
    }
}

/// Handler address for `xtvec` (Privileged ISA §3.1.7): BASE, plus 4·cause for interrupts in
/// vectored mode.
fn tvec_target(tvec: u64, is_irq: bool, code: u64) -> u64 {
    let base = tvec & !3;
    if is_irq && tvec & 3 == 1 {
        base.wrapping_add(4 * code)
    } else {
        base
    }
}

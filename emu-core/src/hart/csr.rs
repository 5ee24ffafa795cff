//! Control and status registers (RISC-V Privileged ISA 20211203, ch. 2 and 3, §4.1; Sstc;
//! Unprivileged ISA §11.2 for `fflags`/`frm`/`fcsr`).
//!
//! Access rules (§2.1): CSR bits 9..8 give the lowest privilege allowed, bits 11..10 = 3 mark
//! read-only CSRs; an access that breaks them, or names a CSR we do not implement, raises
//! illegal instruction with the instruction bits in `mtval`.

use super::trap::Trap;
use super::{irq, Hart, Privilege};

/// `mstatus` fields (Privileged ISA §3.1.6).
pub mod mstatus {
    pub const SIE: u64 = 1 << 1;
    pub const MIE: u64 = 1 << 3;
    pub const SPIE: u64 = 1 << 5;
    pub const MPIE: u64 = 1 << 7;
    pub const SPP: u64 = 1 << 8;
    pub const MPP: u64 = 3 << 11;
    pub const FS: u64 = 3 << 13;
    pub const MPRV: u64 = 1 << 17;
    pub const SUM: u64 = 1 << 18;
    pub const MXR: u64 = 1 << 19;
    pub const TVM: u64 = 1 << 20;
    pub const TW: u64 = 1 << 21;
    pub const TSR: u64 = 1 << 22;
    /// UXL = SXL = 2 (64-bit), read-only.
    pub const XLEN_FIELDS: u64 = (2 << 32) | (2 << 34);
    pub const SD: u64 = 1 << 63;
}
use mstatus as ms;

/// CSR numbers (Privileged ISA §2.2, Tables 2.2–2.5).
pub mod num {
    pub const FFLAGS: u16 = 0x001;
    pub const FRM: u16 = 0x002;
    pub const FCSR: u16 = 0x003;
    pub const CYCLE: u16 = 0xc00;
    pub const TIME: u16 = 0xc01;
    pub const INSTRET: u16 = 0xc02;
    pub const SSTATUS: u16 = 0x100;
    pub const SIE: u16 = 0x104;
    pub const STVEC: u16 = 0x105;
    pub const SCOUNTEREN: u16 = 0x106;
    pub const SENVCFG: u16 = 0x10a;
    pub const SSCRATCH: u16 = 0x140;
    pub const SEPC: u16 = 0x141;
    pub const SCAUSE: u16 = 0x142;
    pub const STVAL: u16 = 0x143;
    pub const SIP: u16 = 0x144;
    pub const STIMECMP: u16 = 0x14d;
    pub const SATP: u16 = 0x180;
    pub const MVENDORID: u16 = 0xf11;
    pub const MARCHID: u16 = 0xf12;
    pub const MIMPID: u16 = 0xf13;
    pub const MHARTID: u16 = 0xf14;
    pub const MCONFIGPTR: u16 = 0xf15;
    pub const MSTATUS: u16 = 0x300;
    pub const MISA: u16 = 0x301;
    pub const MEDELEG: u16 = 0x302;
    pub const MIDELEG: u16 = 0x303;
    pub const MIE: u16 = 0x304;
    pub const MTVEC: u16 = 0x305;
    pub const MCOUNTEREN: u16 = 0x306;
    pub const MENVCFG: u16 = 0x30a;
    pub const MCOUNTINHIBIT: u16 = 0x320;
    pub const MSCRATCH: u16 = 0x340;
    pub const MEPC: u16 = 0x341;
    pub const MCAUSE: u16 = 0x342;
    pub const MTVAL: u16 = 0x343;
    pub const MIP: u16 = 0x344;
    pub const MCYCLE: u16 = 0xb00;
    pub const MINSTRET: u16 = 0xb02;
}

/// `misa`: MXL = 2 (64-bit), extensions A C D F I M S U.
pub const MISA_VALUE: u64 = (2 << 62)
    | (1 << 0)  // A
    | (1 << 2)  // C
    | (1 << 3)  // D
    | (1 << 5)  // F
    | (1 << 8)  // I
    | (1 << 12) // M
    | (1 << 18) // S
    | (1 << 20); // U

/// Interrupt bits delegable to S-mode (SSIP, STIP, SEIP).
pub const S_INTERRUPTS: u64 = irq::SSIP | irq::STIP | irq::SEIP;
/// Interrupt-enable bits implemented in `mie`.
const MIE_MASK: u64 = S_INTERRUPTS | irq::MSIP | irq::MTIP | irq::MEIP;
/// Exceptions delegable through `medeleg`: all but ecall-from-M (11) and reserved codes.
const MEDELEG_MASK: u64 = 0xb3ff;
/// `menvcfg.STCE` (Sstc enable).
pub const MENVCFG_STCE: u64 = 1 << 63;
const MENVCFG_MASK: u64 = MENVCFG_STCE | 1; // STCE, FIOM
const MSTATUS_WRITABLE: u64 = ms::SIE
    | ms::MIE
    | ms::SPIE
    | ms::MPIE
    | ms::SPP
    | ms::MPP
    | ms::FS
    | ms::MPRV
    | ms::SUM
    | ms::MXR
    | ms::TVM
    | ms::TW
    | ms::TSR;
/// Bits of `mstatus` visible through `sstatus` (§4.1.1).
const SSTATUS_MASK: u64 =
    ms::SIE | ms::SPIE | ms::SPP | ms::FS | ms::SUM | ms::MXR | ms::SD | (3 << 32);

/// The hart's CSR file (values not derived from other state).
#[derive(Debug, Clone)]
pub struct Csrs {
    /// `mstatus` without SD (computed on read) and with UXL/SXL fixed.
    pub mstatus: u64,
    pub medeleg: u64,
    pub mideleg: u64,
    pub mie: u64,
    /// Software-writable bits of `mip`: SSIP, STIP (when Sstc is off), the software SEIP bit.
    pub mip_sw: u64,
    pub mtvec: u64,
    pub stvec: u64,
    pub mepc: u64,
    pub sepc: u64,
    pub mcause: u64,
    pub scause: u64,
    pub mtval: u64,
    pub stval: u64,
    pub mscratch: u64,
    pub sscratch: u64,
    pub mcounteren: u64,
    pub scounteren: u64,
    pub menvcfg: u64,
    pub senvcfg: u64,
    pub satp: u64,
    pub stimecmp: u64,
    pub pmpcfg: [u64; 16],
    pub pmpaddr: [u64; 64],
    /// Accrued FP exception flags (5 bits).
    pub fflags: u8,
    /// Dynamic rounding mode (3 bits).
    pub frm: u8,
}

impl Default for Csrs {
    fn default() -> Csrs {
        Csrs {
            mstatus: ms::XLEN_FIELDS,
            medeleg: 0,
            mideleg: 0,
            mie: 0,
            mip_sw: 0,
            mtvec: 0,
            stvec: 0,
            mepc: 0,
            sepc: 0,
            mcause: 0,
            scause: 0,
            mtval: 0,
            stval: 0,
            mscratch: 0,
            sscratch: 0,
            mcounteren: 0,
            scounteren: 0,
            menvcfg: 0,
            senvcfg: 0,
            satp: 0,
            stimecmp: u64::MAX,
            pmpcfg: [0; 16],
            pmpaddr: [0; 64],
            fflags: 0,
            frm: 0,
        }
    }
}

/// What a CSR write changed, so the hart can refresh derived state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CsrEffect {
    /// Nothing beyond the register itself.
    None,
    /// Interrupt enables/pending may have changed: re-check interrupts.
    Interrupts,
    /// Translation context changed (satp, MPRV, SUM, MXR, …): flush TLB, re-check interrupts.
    Mmu,
}

impl Hart {
    /// `mip` as the guest reads it: software bits | board lines | Sstc's STIP.
    #[inline]
    pub(crate) fn mip(&self) -> u64 {
        let mut v = self.csr.mip_sw | self.ext_irq;
        if self.csr.menvcfg & MENVCFG_STCE != 0 {
            v &= !irq::STIP;
            if self.mtime >= self.csr.stimecmp {
                v |= irq::STIP;
            }
        }
        v
    }

    fn mstatus_read(&self) -> u64 {
        let v = self.csr.mstatus;
        if v & ms::FS == ms::FS {
            v | ms::SD
        } else {
            v
        }
    }

    /// Whether a counter CSR (`cycle`, `time`, `instret`, `hpmcounterN`, index `bit`) may be
    /// read at the current privilege (`mcounteren`/`scounteren`, §3.1.11, §4.1.5).
    fn counter_allowed(&self, bit: u64) -> bool {
        match self.privilege {
            Privilege::Machine => true,
            Privilege::Supervisor => self.csr.mcounteren >> bit & 1 != 0,
            Privilege::User => {
                self.csr.mcounteren >> bit & 1 != 0 && self.csr.scounteren >> bit & 1 != 0
            }
        }
    }

    /// Whether FP state is accessible (`mstatus.FS` ≠ Off).
    #[inline]
    pub(crate) fn fs_enabled(&self) -> bool {
        self.csr.mstatus & ms::FS != 0
    }
    /// Mark FP state Dirty (any write to f registers or fcsr).
    #[inline]
    pub(crate) fn fs_dirty(&mut self) {
        self.csr.mstatus |= ms::FS;
    }

    /// Read CSR `csr` for instruction `raw` (illegal instruction if absent or not permitted).
    pub(crate) fn csr_read(&self, csr: u16, raw: u32) -> Result<u64, Trap> {
        use num::*;
        let ill = Trap::illegal(raw);
        if (csr >> 8) & 3 > self.privilege as u16 {
            return Err(ill);
        }
        let c = &self.csr;
        Ok(match csr {
            FFLAGS | FRM | FCSR => {
                if !self.fs_enabled() {
                    return Err(ill);
                }
                match csr {
                    FFLAGS => c.fflags as u64,
                    FRM => c.frm as u64,
                    _ => (c.frm as u64) << 5 | c.fflags as u64,
                }
            }
            0xc00..=0xc1f => {
                let i = (csr & 31) as u64;
                if !self.counter_allowed(i) {
                    return Err(ill);
                }
                match csr {
                    CYCLE | INSTRET => self.instret,
                    TIME => self.mtime,
                    _ => 0,
                }
            }
            SSTATUS => self.mstatus_read() & SSTATUS_MASK,
            SIE => c.mie & c.mideleg,
            STVEC => c.stvec,
            SCOUNTEREN => c.scounteren,
            SENVCFG => c.senvcfg,
            SSCRATCH => c.sscratch,
            SEPC => c.sepc,
            SCAUSE => c.scause,
            STVAL => c.stval,
            SIP => self.mip() & c.mideleg,
            STIMECMP => {
                self.check_stimecmp_access(raw)?;
                c.stimecmp
            }
            SATP => {
                if self.privilege == Privilege::Supervisor && c.mstatus & ms::TVM != 0 {
                    return Err(ill);
                }
                c.satp
            }
            MVENDORID | MARCHID | MIMPID | MCONFIGPTR => 0,
            // Sdtrig with no triggers: tselect/tdata1–3 read 0 (type 0: none), as QEMU lets
            // riscv-tests probe them without a trap.
            0x7a0..=0x7a3 => 0,
            MHARTID => self.id,
            MSTATUS => self.mstatus_read(),
            MISA => MISA_VALUE,
            MEDELEG => c.medeleg,
            MIDELEG => c.mideleg,
            MIE => c.mie,
            MTVEC => c.mtvec,
            MCOUNTEREN => c.mcounteren,
            MENVCFG => c.menvcfg,
            MCOUNTINHIBIT => 0,
            0x323..=0x33f => 0, // mhpmevent3..31
            MSCRATCH => c.mscratch,
            MEPC => c.mepc,
            MCAUSE => c.mcause,
            MTVAL => c.mtval,
            MIP => self.mip(),
            0x3a0..=0x3af if csr & 1 == 0 => c.pmpcfg[(csr - 0x3a0) as usize],
            0x3b0..=0x3ef => c.pmpaddr[(csr - 0x3b0) as usize],
            MCYCLE | MINSTRET => self.instret,
            0xb03..=0xb1f => 0, // mhpmcounter3..31
            _ => return Err(ill),
        })
    }

    fn check_stimecmp_access(&self, raw: u32) -> Result<(), Trap> {
        if self.privilege == Privilege::Supervisor
            && (self.csr.menvcfg & MENVCFG_STCE == 0 || self.csr.mcounteren & 2 == 0)
        {
            return Err(Trap::illegal(raw));
        }
        if self.privilege == Privilege::Machine || self.csr.menvcfg & MENVCFG_STCE != 0 {
            Ok(())
        } else {
            Err(Trap::illegal(raw))
        }
    }

    /// Write `value` to CSR `csr` for instruction `raw`. The caller has checked readability
    /// (every writable CSR is readable); this checks the read-only range and WARL rules.
    pub(crate) fn csr_write(&mut self, csr: u16, value: u64, raw: u32) -> Result<CsrEffect, Trap> {
        use num::*;
        let ill = Trap::illegal(raw);
        if csr >> 10 == 3 || (csr >> 8) & 3 > self.privilege as u16 {
            return Err(ill);
        }
        let c = &mut self.csr;
        let mut effect = CsrEffect::None;
        match csr {
            FFLAGS | FRM | FCSR => {
                if c.mstatus & ms::FS == 0 {
                    return Err(ill);
                }
                match csr {
                    FFLAGS => c.fflags = (value & 31) as u8,
                    FRM => c.frm = (value & 7) as u8,
                    _ => {
                        c.fflags = (value & 31) as u8;
                        c.frm = ((value >> 5) & 7) as u8;
                    }
                }
                c.mstatus |= ms::FS;
            }
            SSTATUS => {
                let mask = SSTATUS_MASK & MSTATUS_WRITABLE;
                c.mstatus = (c.mstatus & !mask) | (value & mask);
                effect = CsrEffect::Mmu;
            }
            SIE => {
                let mask = c.mideleg & MIE_MASK;
                c.mie = (c.mie & !mask) | (value & mask);
                effect = CsrEffect::Interrupts;
            }
            STVEC => c.stvec = warl_tvec(c.stvec, value),
            SCOUNTEREN => c.scounteren = value & 0xffff_ffff,
            SENVCFG => c.senvcfg = value & 1,
            SSCRATCH => c.sscratch = value,
            SEPC => c.sepc = value & !1,
            SCAUSE => c.scause = value,
            STVAL => c.stval = value,
            SIP => {
                let mask = c.mideleg & irq::SSIP;
                c.mip_sw = (c.mip_sw & !mask) | (value & mask);
                effect = CsrEffect::Interrupts;
            }
            STIMECMP => {
                self.check_stimecmp_access(raw)?;
                self.csr.stimecmp = value;
                return Ok(CsrEffect::Interrupts);
            }
            SATP => {
                if self.privilege == Privilege::Supervisor && c.mstatus & ms::TVM != 0 {
                    return Err(ill);
                }
                // Bare (0) and Sv39 (8) only; other modes: the write is ignored (§4.1.11).
                // ASIDLEN = 0: the ASID field reads as zero.
                match value >> 60 {
                    0 | 8 => c.satp = value & (0xf << 60 | 0xfff_ffff_ffff),
                    _ => {}
                }
                effect = CsrEffect::Mmu;
            }
            MSTATUS => {
                let mut v = (c.mstatus & !MSTATUS_WRITABLE) | (value & MSTATUS_WRITABLE);
                if (v >> 11) & 3 == 2 {
                    // MPP is WARL: the reserved encoding keeps the old value.
                    v = (v & !ms::MPP) | (c.mstatus & ms::MPP);
                }
                c.mstatus = v;
                effect = CsrEffect::Mmu;
            }
            MISA => {} // writes ignored
            MEDELEG => c.medeleg = value & MEDELEG_MASK,
            MIDELEG => {
                c.mideleg = value & S_INTERRUPTS;
                effect = CsrEffect::Interrupts;
            }
            MIE => {
                c.mie = value & MIE_MASK;
                effect = CsrEffect::Interrupts;
            }
            MTVEC => c.mtvec = warl_tvec(c.mtvec, value),
            MCOUNTEREN => c.mcounteren = value & 0xffff_ffff,
            MENVCFG => {
                c.menvcfg = value & MENVCFG_MASK;
                effect = CsrEffect::Interrupts;
            }
            MCOUNTINHIBIT => {}
            0x323..=0x33f => {}
            0x7a0..=0x7a3 => {}
            MSCRATCH => c.mscratch = value,
            MEPC => c.mepc = value & !1,
            MCAUSE => c.mcause = value,
            MTVAL => c.mtval = value,
            MIP => {
                let mut mask = S_INTERRUPTS;
                if c.menvcfg & MENVCFG_STCE != 0 {
                    mask &= !irq::STIP;
                }
                c.mip_sw = (c.mip_sw & !mask) | (value & mask);
                effect = CsrEffect::Interrupts;
            }
            0x3a0..=0x3af if csr & 1 == 0 => {
                let i = (csr - 0x3a0) as usize;
                // A locked entry (L bit) ignores writes.
                let mut v = c.pmpcfg[i];
                for b in 0..8 {
                    let shift = 8 * b;
                    if (v >> shift) & 0x80 == 0 {
                        v = (v & !(0xff << shift)) | (value & (0x9f << shift));
                    }
                }
                c.pmpcfg[i] = v;
            }
            0x3b0..=0x3ef => c.pmpaddr[(csr - 0x3b0) as usize] = value & ((1 << 54) - 1),
            MCYCLE | MINSTRET => {
                // The write takes the place of this instruction's own increment.
                self.instret = value.wrapping_sub(1);
            }
            0xb03..=0xb1f => {}
            _ => return Err(ill),
        }
        Ok(effect)
    }
}

/// `xtvec` is WARL: modes 0 (direct) and 1 (vectored); other modes keep the old value.
fn warl_tvec(old: u64, value: u64) -> u64 {
    if value & 3 >= 2 {
        old
    } else {
        value
    }
}

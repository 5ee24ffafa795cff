//! What a debugger needs from a hart, outside the run loop (nothing here runs unless a
//! debugger asks): CSR access at any privilege, side-effect-free Sv39 translation, taking a
//! pending interrupt as a step of its own, and the memory access an instruction is about to
//! make (for watchpoints).

use super::csr::num;
use super::decode::expand_rvc;
use super::{Hart, Privilege};
use crate::bus::Ram;

/// The CSRs shown to a debugger, by name (as gdb's RISC-V target knows them) and number. The
/// FP CSRs `fflags`/`frm`/`fcsr` come first (gdb shows them with the FP registers).
pub const DEBUG_CSRS: &[(&str, u16)] = &[
    ("fflags", num::FFLAGS),
    ("frm", num::FRM),
    ("fcsr", num::FCSR),
    ("cycle", num::CYCLE),
    ("time", num::TIME),
    ("instret", num::INSTRET),
    ("sstatus", num::SSTATUS),
    ("sie", num::SIE),
    ("stvec", num::STVEC),
    ("scounteren", num::SCOUNTEREN),
    ("senvcfg", num::SENVCFG),
    ("sscratch", num::SSCRATCH),
    ("sepc", num::SEPC),
    ("scause", num::SCAUSE),
    ("stval", num::STVAL),
    ("sip", num::SIP),
    ("stimecmp", num::STIMECMP),
    ("satp", num::SATP),
    ("mvendorid", num::MVENDORID),
    ("marchid", num::MARCHID),
    ("mimpid", num::MIMPID),
    ("mhartid", num::MHARTID),
    ("mstatus", num::MSTATUS),
    ("misa", num::MISA),
    ("medeleg", num::MEDELEG),
    ("mideleg", num::MIDELEG),
    ("mie", num::MIE),
    ("mtvec", num::MTVEC),
    ("mcounteren", num::MCOUNTEREN),
    ("menvcfg", num::MENVCFG),
    ("mscratch", num::MSCRATCH),
    ("mepc", num::MEPC),
    ("mcause", num::MCAUSE),
    ("mtval", num::MTVAL),
    ("mip", num::MIP),
    ("pmpcfg0", 0x3a0),
    ("pmpcfg2", 0x3a2),
    ("pmpaddr0", 0x3b0),
    ("pmpaddr1", 0x3b1),
    ("pmpaddr2", 0x3b2),
    ("pmpaddr3", 0x3b3),
    ("mcycle", num::MCYCLE),
    ("minstret", num::MINSTRET),
];

/// A memory access an instruction makes: `size` bytes at virtual `addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemAccess {
    /// Virtual address of the first byte.
    pub addr: u64,
    /// Bytes accessed (1, 2, 4 or 8).
    pub size: u64,
    /// The instruction reads memory (loads, LR, AMOs).
    pub read: bool,
    /// The instruction writes memory (stores, SC, AMOs).
    pub write: bool,
}

/// The memory access of instruction `bits` (a 32-bit word, or a 16-bit RVC parcel in the low
/// half) with integer registers `x`: loads, stores, FP loads and stores, LR/SC and AMOs
/// (Unprivileged ISA 20191213 ch. 2, 8, 11, 12, 16). None for every other instruction.
pub fn mem_access(bits: u32, x: &[u64; 32]) -> Option<MemAccess> {
    let w = if bits & 3 == 3 {
        bits
    } else {
        expand_rvc(bits as u16)?
    };
    let rs1 = ((w >> 15) & 31) as usize;
    let f3 = (w >> 12) & 7;
    let imm_i = (w as i32 >> 20) as i64 as u64;
    let imm_s = (((w as i32 >> 25) << 5) as u32 | ((w >> 7) & 31)) as i32 as i64 as u64;
    let base = x[rs1];
    let (addr, size, read, write) = match w & 0x7f {
        // LOAD: lb lh lw ld lbu lhu lwu
        0x03 if f3 != 7 => (base.wrapping_add(imm_i), 1 << (f3 & 3), true, false),
        // LOAD-FP: flw fld
        0x07 if f3 == 2 || f3 == 3 => (base.wrapping_add(imm_i), 1 << f3, true, false),
        // STORE: sb sh sw sd
        0x23 if f3 < 4 => (base.wrapping_add(imm_s), 1 << f3, false, true),
        // STORE-FP: fsw fsd
        0x27 if f3 == 2 || f3 == 3 => (base.wrapping_add(imm_s), 1 << f3, false, true),
        // AMO: lr, sc, amo*.w/.d
        0x2f if f3 == 2 || f3 == 3 => {
            let funct5 = w >> 27;
            let (read, write) = match funct5 {
                0b00010 => (true, false), // lr
                0b00011 => (false, true), // sc
                _ => (true, true),
            };
            (base, 1 << f3, read, write)
        }
        _ => return None,
    };
    Some(MemAccess {
        addr,
        size,
        read,
        write,
    })
}

impl Hart {
    /// Read CSR `csr` as a debugger sees it: at any privilege, FP CSRs even while `mstatus.FS`
    /// is Off. None for a CSR the hart does not implement.
    pub fn debug_read_csr(&mut self, csr: u16) -> Option<u64> {
        match csr {
            num::FFLAGS => return Some(self.csr.fflags as u64),
            num::FRM => return Some(self.csr.frm as u64),
            num::FCSR => return Some((self.csr.frm as u64) << 5 | self.csr.fflags as u64),
            _ => {}
        }
        let privilege = self.privilege;
        self.privilege = Privilege::Machine;
        let value = self.csr_read(csr, 0);
        self.privilege = privilege;
        value.ok()
    }

    /// Write CSR `csr` as a debugger does: at any privilege, with the CSR's WARL rules.
    /// Returns false for a CSR the hart does not implement or a read-only one. A change of the
    /// translation context or of interrupt enables takes effect when the hart next runs.
    pub fn debug_write_csr(&mut self, csr: u16, value: u64) -> bool {
        match csr {
            num::FFLAGS => self.csr.fflags = (value & 31) as u8,
            num::FRM => self.csr.frm = (value & 7) as u8,
            num::FCSR => {
                self.csr.fflags = (value & 31) as u8;
                self.csr.frm = ((value >> 5) & 7) as u8;
            }
            num::MINSTRET | num::MCYCLE => self.instret = value,
            _ => {
                let privilege = self.privilege;
                self.privilege = Privilege::Machine;
                let r = self.csr_write(csr, value, 0);
                self.privilege = privilege;
                return r.is_ok();
            }
        }
        true
    }

    /// Take the highest-priority pending and enabled interrupt, if any (pc moves to the
    /// handler). Returns whether one was taken: a debugger counts that as a step, so that
    /// stepping into an interrupt stops at the handler's first instruction.
    pub(crate) fn debug_take_interrupt(&mut self) -> bool {
        match self.pending_interrupt() {
            Some(code) => {
                self.take_trap(super::trap::Trap::new(
                    super::trap::cause::INTERRUPT | code,
                    0,
                ));
                true
            }
            None => false,
        }
    }

    /// Translate virtual `va` as this hart's instruction fetches would (its `satp` and
    /// privilege; identity in M-mode or with paging off), without side effects: no TLB fill,
    /// no A/D update, no permission check beyond a valid leaf (a debugger reads user pages from
    /// the kernel too). None when the address does not map.
    pub fn debug_translate(&self, ram: &Ram, va: u64) -> Option<u64> {
        if self.csr.satp >> 60 != 8 || self.privilege == Privilege::Machine {
            return Some(va);
        }
        if ((va << 25) as i64 >> 25) as u64 != va {
            return None;
        }
        const PPN_MASK: u64 = (1 << 44) - 1;
        let mut table = (self.csr.satp & PPN_MASK) << 12;
        for level in (0..3).rev() {
            let vpn_i = (va >> (12 + 9 * level)) & 0x1ff;
            let pte = ram.read(table + vpn_i * 8, 8).ok()?;
            if pte & 1 == 0 {
                return None;
            }
            let ppn = (pte >> 10) & PPN_MASK;
            if pte & 0b1010 != 0 {
                // A leaf (R or X): superpages contribute the low VPN bits.
                let low = (1u64 << (9 * level)) - 1;
                return Some((((ppn & !low) | ((va >> 12) & low)) << 12) | (va & 0xfff));
            }
            table = ppn << 12;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regs() -> [u64; 32] {
        let mut x = [0u64; 32];
        x[2] = 0x8000_1000; // sp
        x[10] = 0x8000_2000; // a0
        x
    }

    #[test]
    fn loads_and_stores_give_address_and_size() {
        let x = regs();
        // ld a1, 8(a0)
        let ld = 0x0085_3583;
        assert_eq!(
            mem_access(ld, &x),
            Some(MemAccess {
                addr: 0x8000_2008,
                size: 8,
                read: true,
                write: false
            })
        );
        // sw a1, -4(a0): imm -4 = 0xffc → imm[11:5]=0x7f, imm[4:0]=0x1c
        let sw = (0x7f << 25) | (11 << 20) | (10 << 15) | (2 << 12) | (0x1c << 7) | 0x23;
        assert_eq!(
            mem_access(sw, &x),
            Some(MemAccess {
                addr: 0x8000_1ffc,
                size: 4,
                read: false,
                write: true
            })
        );
        // amoadd.w a0, a1, (a0)
        let amo = (11 << 20) | (10 << 15) | (2 << 12) | (10 << 7) | 0x2f;
        let a = mem_access(amo, &x).unwrap();
        assert!(a.read && a.write && a.size == 4 && a.addr == 0x8000_2000);
        // addi a0, a0, 1 is no access
        assert_eq!(mem_access(0x0015_0513, &x), None);
    }

    #[test]
    fn compressed_accesses_are_expanded() {
        let x = regs();
        // c.sdsp ra, 8(sp) = 0xe406
        let a = mem_access(0xe406, &x).unwrap();
        assert_eq!((a.addr, a.size, a.write), (0x8000_1008, 8, true));
        // c.lw a1, 0(a0) = 0x410c
        let a = mem_access(0x410c, &x).unwrap();
        assert_eq!((a.addr, a.size, a.read), (0x8000_2000, 4, true));
    }
}

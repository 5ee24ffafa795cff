//! Diagnostics a run can report: traps as they are taken (`--trace traps`, QEMU's `-d int`),
//! accesses to unclaimed addresses and unimplemented registers (`--trace unimp`, QEMU's
//! `-d guest_errors,unimp`), and the wedge report that stops a hart looping through traps
//! without retiring an instruction. emu-core only records them; a [`Tracer`] (the CLI's
//! prints to stderr) receives them.
//!
//! Cost when off: traps are recorded in the trap path only (a hart's [`TrapLog`]), unclaimed
//! accesses in the bus's slow path only; nothing is checked per instruction.

use std::fmt;

use crate::hart::trap::cause;
use crate::hart::Privilege;

/// One trap or interrupt as taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapRecord {
    /// The hart (`mhartid`).
    pub hart: u64,
    /// `xcause` (bit 63 set for interrupts).
    pub cause: u64,
    /// `xepc`: the pc of the trapping (or interrupted) instruction.
    pub epc: u64,
    /// `xtval`.
    pub tval: u64,
    /// Privilege before the trap.
    pub from: Privilege,
    /// Privilege the handler runs in.
    pub to: Privilege,
    /// Handler address (`xtvec`, vectored for interrupts): the next pc.
    pub target: u64,
}

/// Name of an `xcause` value, as the privileged spec's Table 3.6 words it.
pub fn cause_name(c: u64) -> &'static str {
    if c & cause::INTERRUPT != 0 {
        return match c & !cause::INTERRUPT {
            1 => "supervisor software interrupt",
            3 => "machine software interrupt",
            5 => "supervisor timer interrupt",
            7 => "machine timer interrupt",
            9 => "supervisor external interrupt",
            11 => "machine external interrupt",
            _ => "interrupt",
        };
    }
    match c {
        0 => "instruction address misaligned",
        1 => "instruction access fault",
        2 => "illegal instruction",
        3 => "breakpoint",
        4 => "load address misaligned",
        5 => "load access fault",
        6 => "store/AMO address misaligned",
        7 => "store/AMO access fault",
        8 => "environment call from U-mode",
        9 => "environment call from S-mode",
        11 => "environment call from M-mode",
        12 => "instruction page fault",
        13 => "load page fault",
        15 => "store/AMO page fault",
        _ => "exception",
    }
}

/// One-letter name of a privilege level (QEMU's and the spec's U, S, M).
pub fn priv_letter(p: Privilege) -> char {
    match p {
        Privilege::User => 'U',
        Privilege::Supervisor => 'S',
        Privilege::Machine => 'M',
    }
}

impl fmt::Display for TrapRecord {
    /// `hart 0: exception 0x5 (load access fault) epc 0x80000010 tval 0x7fe48c40, S -> S at 0x0`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.cause & cause::INTERRUPT != 0 {
            "interrupt"
        } else {
            "exception"
        };
        write!(
            f,
            "hart {}: {kind} {:#x} ({}) epc {:#x} tval {:#x}, {} -> {} at {:#x}",
            self.hart,
            self.cause & !cause::INTERRUPT,
            cause_name(self.cause),
            self.epc,
            self.tval,
            priv_letter(self.from),
            priv_letter(self.to),
            self.target
        )
    }
}

/// The traps a hart took lately: the chain of traps each taken at the handler entry of the one
/// before (no instruction retired in between), and, when tracing, every trap.
#[derive(Debug, Clone, Default)]
pub struct TrapLog {
    /// `--trace traps`: every trap taken, drained by the machine after each run.
    pub trace: Option<Vec<TrapRecord>>,
    /// The first trap of the current chain.
    pub first: Option<TrapRecord>,
    /// The latest trap.
    pub last: Option<TrapRecord>,
    /// Traps in the current chain.
    pub chain: u64,
}

impl TrapLog {
    /// Note a trap just taken (called from the trap path only).
    #[inline]
    pub fn note(&mut self, r: TrapRecord) {
        if self.last.is_none_or(|l| l.target != r.epc) {
            self.first = Some(r);
            self.chain = 0;
        }
        self.chain += 1;
        self.last = Some(r);
        if let Some(t) = &mut self.trace {
            t.push(r);
        }
    }
}

/// A hart that kept taking traps without retiring an instruction: the run stops with this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wedge {
    /// The hart.
    pub hart: u64,
    /// The first trap of the chain (what went wrong first).
    pub first: TrapRecord,
    /// The trap that repeats.
    pub repeat: TrapRecord,
    /// Traps taken in a row without retiring an instruction.
    pub traps: u64,
}

impl fmt::Display for Wedge {
    /// One line, e.g. `hart 0 wedged in S-mode: load access fault at epc 0x80001234 (tval
    /// 0x7fe48c40) went to the S-mode handler at 0x0; there instruction access fault at 0x0
    /// (tval 0x0) repeats without retiring an instruction (4096 traps): stvec is 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, rep) = (&self.first, &self.repeat);
        write!(
            f,
            "hart {} wedged in {}-mode: {} at epc {:#x} (tval {:#x}) went to the {}-mode handler \
             at {:#x}; there {} at {:#x} (tval {:#x}) repeats without retiring an instruction \
             ({} traps)",
            self.hart,
            priv_letter(rep.to),
            cause_name(first.cause),
            first.epc,
            first.tval,
            priv_letter(first.to),
            first.target,
            cause_name(rep.cause),
            rep.epc,
            rep.tval,
            self.traps
        )?;
        let tvec = match rep.to {
            Privilege::Machine => "mtvec",
            _ => "stvec",
        };
        match rep.cause {
            cause::INSN_ACCESS_FAULT | cause::INSN_PAGE_FAULT if rep.target == 0 => {
                write!(f, ": {tvec} is 0")
            }
            cause::INSN_ACCESS_FAULT | cause::INSN_PAGE_FAULT | cause::INSN_MISALIGNED => {
                write!(f, ": {tvec} {:#x} is not executable", rep.target)
            }
            cause::ILLEGAL_INSN => write!(
                f,
                ": the handler at {tvec} {:#x} is not code (instruction bits {:#x})",
                rep.target, rep.tval
            ),
            _ => Ok(()),
        }
    }
}

/// An access `--trace unimp` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnimpAccess {
    /// Physical address.
    pub paddr: u64,
    /// Width in bytes.
    pub size: u8,
    /// The value written; `None` for a read.
    pub value: Option<u64>,
    /// The device, the offset in it, and what happened; `None` when no device claims the
    /// address (an access fault).
    pub device: Option<(&'static str, u64, &'static str)>,
}

impl fmt::Display for UnimpAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(v) => write!(f, "write of {:#x} ({} bytes)", v, self.size)?,
            None => write!(f, "read of {} bytes", self.size)?,
        }
        write!(f, " at {:#x}: ", self.paddr)?;
        match self.device {
            Some((dev, off, what)) => write!(f, "{dev} +{off:#x}: {what}"),
            None => write!(f, "unclaimed address: access fault"),
        }
    }
}

/// Receives what a machine traces (see [`crate::Machine::set_tracer`]).
pub trait Tracer {
    /// A trap or interrupt was taken (`--trace traps`).
    fn trap(&mut self, record: &TrapRecord);
    /// An access to an unclaimed address or an unimplemented register (`--trace unimp`).
    fn unimp(&mut self, access: &UnimpAccess);
}

//! One RISC-V hart: RV64GC (I, M, A, F, D, C, Zicsr, Zifencei), M/S/U privilege, Sv39.
//!
//! Files: `decode.rs` (u32 and RVC → [`decode::Insn`]), `execute.rs`, `fpu.rs` (IEEE-754
//! arithmetic with RISC-V semantics), `csr.rs`, `trap.rs`, `mmu.rs` (Sv39 + TLB).
pub mod fpu;

use crate::bus::Bus;

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
}

impl Hart {
    /// A hart in reset state: M-mode, `pc` = 0x1000 (the reset ROM), `mhartid` = `id`.
    pub fn new(id: u64) -> Hart {
        Hart {
            id,
            pc: 0x1000,
            x: [0; 32],
            privilege: Privilege::Machine,
            mtime: 0,
        }
    }

    /// Execute until `budget` instructions retire, the hart waits in `wfi`, or a device event
    /// needs the machine. Returns why, and the number of instructions retired.
    pub fn run(&mut self, _bus: &mut Bus, _budget: u64) -> (HartExit, u64) {
        unimplemented!("hart interpreter: issue 2")
    }

    /// Set the interrupt-pending bits driven by the board (`MSIP`, `MTIP`, `MEIP`, and the
    /// external part of `SEIP`): the bits in `mask` take the values in `value`.
    pub fn set_external_irq(&mut self, _mask: u64, _value: u64) {}

    /// Whether an interrupt is pending and enabled in `mie` (ignoring global enables): the
    /// condition that wakes a hart from `wfi` (Privileged ISA §3.3.3).
    pub fn wfi_wakeup(&self) -> bool {
        false
    }

    /// `minstret`: instructions retired since reset.
    pub fn instret(&self) -> u64 {
        0
    }
}

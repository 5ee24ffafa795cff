//! The debugger's view of a [`Machine`] (what emu-cli's gdb stub drives): breakpoints and
//! watchpoints kept by the machine — never written into guest memory —, per-hart resume
//! actions (continue, step one instruction, stay stopped), registers including CSRs, and
//! memory at virtual addresses through a hart's `satp` and privilege.
//!
//! Cost: none unless a debugger is attached *and* a breakpoint, a watchpoint, a step or a
//! stopped hart asks for it. Then the run loop's round runs each hart one instruction at a
//! time through [`Machine::debug_round`]: the `pc` is compared with the breakpoints before
//! each instruction; with watchpoints set, the instruction about to run is decoded, its
//! effective address compared with the watched ranges, and a hit is reported before the access
//! (gdb's RISC-V target declares watchpoints non-steppable: it removes them, steps over the
//! instruction and shows the old and the new value). The hart's own run loop is untouched: a
//! step is `Hart::run` with a budget of one.

use super::{ExitReason, Machine};
use crate::hart::debug::mem_access;
use crate::hart::Privilege;

/// A register as a debugger names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugReg {
    /// x0..x31 (x0 reads 0; writes to it are ignored).
    X(u8),
    /// The program counter.
    Pc,
    /// f0..f31 (raw 64 bits; singles NaN-boxed).
    F(u8),
    /// A CSR by number (see [`crate::hart::debug::DEBUG_CSRS`]).
    Csr(u16),
    /// The privilege level (0 U, 1 S, 3 M), as gdb's `$priv`.
    Priv,
}

/// Which accesses a watchpoint stops on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    /// Writes (stores, SC, AMOs): gdb's `watch`.
    Write,
    /// Reads (loads, LR, AMOs): gdb's `rwatch`.
    Read,
    /// Either: gdb's `awatch`.
    Access,
}

/// What a hart does when the machine next runs under a debugger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HartAction {
    /// Run freely (checking breakpoints and watchpoints).
    Continue,
    /// Run one step (an instruction, or the entry into a trap handler), then stop the machine.
    Step,
    /// Stay stopped (gdb's scheduler locking).
    Stop,
}

/// Why a debugged run stopped (in [`ExitReason::Debug`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugStop {
    /// Hart `hart` is about to execute an instruction at a breakpoint (`hardware`: set as a
    /// hardware breakpoint).
    Breakpoint { hart: usize, hardware: bool },
    /// Hart `hart` has just accessed watched memory; `addr` lies in the watched range.
    Watchpoint {
        hart: usize,
        kind: WatchKind,
        addr: u64,
    },
    /// Hart `hart` completed the step it was asked for.
    Stepped { hart: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Watchpoint {
    addr: u64,
    len: u64,
    kind: WatchKind,
}

/// Debugger state of a machine (present while a debugger is attached).
#[derive(Debug, Default)]
pub(crate) struct DebugState {
    /// (address, hardware) — one entry per insertion.
    breakpoints: Vec<(u64, bool)>,
    watchpoints: Vec<Watchpoint>,
    actions: Vec<HartAction>,
}

impl DebugState {
    /// Whether the run loop must use the debug stepper.
    pub(crate) fn stepper(&self) -> bool {
        !self.breakpoints.is_empty()
            || !self.watchpoints.is_empty()
            || self.actions.iter().any(|&a| a != HartAction::Continue)
    }
    pub(crate) fn frozen(&self, h: usize) -> bool {
        self.actions.get(h) == Some(&HartAction::Stop)
    }
}

/// Outcome of one debug step of a hart.
enum Stepped {
    /// The hart waits in `wfi`; nothing ran.
    Waiting,
    /// An instruction retired.
    Retired,
    /// A trap (exception or interrupt) was entered.
    Trapped,
}

impl Machine {
    /// Attach a debugger: from now on breakpoints, watchpoints and hart actions apply (all
    /// harts continue until told otherwise). Attaching twice keeps the state.
    pub fn debug_attach(&mut self) {
        if self.debug.is_none() {
            self.debug = Some(Box::new(DebugState {
                actions: vec![HartAction::Continue; self.harts.len()],
                ..DebugState::default()
            }));
        }
    }

    /// Detach the debugger: breakpoints and watchpoints are dropped and every hart runs at
    /// full speed again.
    pub fn debug_detach(&mut self) {
        self.debug = None;
    }

    fn debug_state(&mut self) -> &mut DebugState {
        self.debug_attach();
        self.debug.as_mut().expect("attached above")
    }

    /// Set what each hart does in the next run (`actions[h]` for hart `h`; missing entries
    /// continue). Attaches a debugger if none is.
    pub fn set_hart_actions(&mut self, actions: &[HartAction]) {
        let n = self.harts.len();
        let state = self.debug_state();
        state.actions = (0..n)
            .map(|h| actions.get(h).copied().unwrap_or(HartAction::Continue))
            .collect();
    }

    /// Stop every hart about to execute the instruction at virtual `addr` (in any address
    /// space). `hardware` only tags the stop reason. Always succeeds.
    pub fn add_breakpoint(&mut self, addr: u64, hardware: bool) -> bool {
        self.debug_state().breakpoints.push((addr, hardware));
        true
    }

    /// Remove one breakpoint added with the same arguments; false if there is none.
    pub fn remove_breakpoint(&mut self, addr: u64, hardware: bool) -> bool {
        let points = &mut self.debug_state().breakpoints;
        match points.iter().position(|&b| b == (addr, hardware)) {
            Some(i) => {
                points.remove(i);
                true
            }
            None => false,
        }
    }

    /// Stop after an instruction that accesses (as `kind` says) any of the `len` bytes at
    /// virtual `addr`. False (not added) if `len` is 0.
    pub fn add_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> bool {
        if len == 0 {
            return false;
        }
        self.debug_state()
            .watchpoints
            .push(Watchpoint { addr, len, kind });
        true
    }

    /// Remove one watchpoint added with the same arguments; false if there is none.
    pub fn remove_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> bool {
        let points = &mut self.debug_state().watchpoints;
        let w = Watchpoint { addr, len, kind };
        match points.iter().position(|&p| p == w) {
            Some(i) => {
                points.remove(i);
                true
            }
            None => false,
        }
    }

    /// Read register `reg` of hart `h`; None if `h` or the register does not exist.
    pub fn read_register(&mut self, h: usize, reg: DebugReg) -> Option<u64> {
        let hart = self.harts.get_mut(h)?;
        match reg {
            DebugReg::X(0) => Some(0),
            DebugReg::X(i) => hart.x.get(i as usize).copied(),
            DebugReg::Pc => Some(hart.pc),
            DebugReg::F(i) => hart.f.get(i as usize).copied(),
            DebugReg::Csr(c) => hart.debug_read_csr(c),
            DebugReg::Priv => Some(hart.privilege as u64),
        }
    }

    /// Write register `reg` of hart `h` (CSRs with their WARL rules; `Priv` 0, 1 or 3).
    /// False if `h`, the register or the value is not accepted.
    pub fn write_register(&mut self, h: usize, reg: DebugReg, value: u64) -> bool {
        let Some(hart) = self.harts.get_mut(h) else {
            return false;
        };
        match reg {
            DebugReg::X(0) => true,
            DebugReg::X(i) if i < 32 => {
                hart.x[i as usize] = value;
                true
            }
            DebugReg::Pc => {
                hart.pc = value & !1;
                true
            }
            DebugReg::F(i) if i < 32 => {
                hart.f[i as usize] = value;
                true
            }
            DebugReg::Csr(c) => hart.debug_write_csr(c, value),
            DebugReg::Priv => {
                hart.privilege = match value {
                    0 => Privilege::User,
                    1 => Privilege::Supervisor,
                    3 => Privilege::Machine,
                    _ => return false,
                };
                true
            }
            DebugReg::X(_) | DebugReg::F(_) => false,
        }
    }

    /// Physical address of virtual `va` as hart `h` sees it now (its `satp` and privilege;
    /// identity when paging is off), without side effects. None if it does not map.
    pub fn debug_translate(&self, h: usize, va: u64) -> Option<u64> {
        self.harts.get(h)?.debug_translate(&self.bus.ram, va)
    }

    /// Read guest memory at virtual `va` as hart `h` sees it into `buf`: RAM and the reset
    /// ROM (device registers are not read: that would have side effects). Returns the number
    /// of bytes read before the first address that does not map or is not memory.
    pub fn read_virtual(&self, h: usize, va: u64, buf: &mut [u8]) -> usize {
        let mut done = 0;
        while done < buf.len() {
            let addr = va.wrapping_add(done as u64);
            let chunk = ((0x1000 - (addr & 0xfff)) as usize).min(buf.len() - done);
            let Some(pa) = self.debug_translate(h, addr) else {
                break;
            };
            let out = &mut buf[done..done + chunk];
            if self.bus.ram.read_bytes(pa, out).is_err() {
                let rom = self.bus.rom.bytes();
                let off = pa.wrapping_sub(crate::dev::rom::ROM_BASE) as usize;
                match rom.get(off..off.saturating_add(chunk)) {
                    Some(bytes) => out.copy_from_slice(bytes),
                    None => break,
                }
            }
            done += chunk;
        }
        done
    }

    /// Write `data` to guest RAM at virtual `va` as hart `h` sees it (decoded code in the
    /// pages written is invalidated). False, with nothing written from the failing page on, if
    /// some byte does not map to RAM.
    pub fn write_virtual(&mut self, h: usize, va: u64, data: &[u8]) -> bool {
        let mut done = 0;
        while done < data.len() {
            let addr = va.wrapping_add(done as u64);
            let chunk = ((0x1000 - (addr & 0xfff)) as usize).min(data.len() - done);
            let Some(pa) = self.debug_translate(h, addr) else {
                return false;
            };
            if self
                .bus
                .ram
                .write_bytes(pa, &data[done..done + chunk])
                .is_err()
            {
                return false;
            }
            done += chunk;
        }
        true
    }

    /// Whether hart `h` is held by a debugger's `Stop` action.
    pub(crate) fn debug_frozen(&self, h: usize) -> bool {
        self.debug.as_ref().is_some_and(|d| d.frozen(h))
    }

    /// One round of the run loop under a debugger: a stepping hart steps first (and ends the
    /// run when its step is done), then every continuing hart runs up to its quantum one
    /// instruction at a time, stopping at breakpoints and watchpoints. Returns the busiest
    /// hart's steps and the instructions of the round, as the fast round does.
    pub(crate) fn debug_round(&mut self, left: u64) -> Result<(u64, u64), ExitReason> {
        let actions = self
            .debug
            .as_ref()
            .map(|d| d.actions.clone())
            .unwrap_or_default();
        if let Some(s) = actions.iter().position(|&a| a == HartAction::Step) {
            self.update_hart_irqs(s);
            if let Some((kind, addr)) = self.watch_hit(s) {
                return Err(ExitReason::Debug(DebugStop::Watchpoint {
                    hart: s,
                    kind,
                    addr,
                }));
            }
            match self.debug_step(s)? {
                Stepped::Waiting => {}
                Stepped::Retired | Stepped::Trapped => {
                    self.tick_remainder += 1;
                    return Err(ExitReason::Debug(DebugStop::Stepped { hart: s }));
                }
            }
        }
        let (mut busiest, mut round) = (0, 0);
        for h in 0..self.harts.len() {
            if actions.get(h).copied().unwrap_or(HartAction::Continue) != HartAction::Continue {
                continue;
            }
            let budget = self.next_quantum().min(left - round);
            let ran = self.debug_run_hart(h, budget)?;
            busiest = busiest.max(ran);
            round += ran;
        }
        Ok((busiest, round))
    }

    /// Run hart `h` for up to `budget` steps, one at a time, checking breakpoints before and
    /// watchpoints around each instruction.
    fn debug_run_hart(&mut self, h: usize, budget: u64) -> Result<u64, ExitReason> {
        // As in the fast loop: the board's lines change only between runs and on events.
        self.update_hart_irqs(h);
        let mut ran = 0;
        while ran < budget {
            let pc = self.harts[h].pc;
            let bp = self
                .debug
                .as_ref()
                .and_then(|d| d.breakpoints.iter().find(|b| b.0 == pc).copied());
            if let Some((_, hardware)) = bp {
                if !self.waiting[h] {
                    return Err(ExitReason::Debug(DebugStop::Breakpoint {
                        hart: h,
                        hardware,
                    }));
                }
            }
            if !self.waiting[h] {
                if let Some((kind, addr)) = self.watch_hit(h) {
                    return Err(ExitReason::Debug(DebugStop::Watchpoint {
                        hart: h,
                        kind,
                        addr,
                    }));
                }
            }
            match self.debug_step(h)? {
                Stepped::Waiting => break,
                Stepped::Trapped | Stepped::Retired => ran += 1,
            }
        }
        Ok(ran)
    }

    /// The watchpoint the instruction at hart `h`'s `pc` would hit: the kind of access and an
    /// address inside the watched range.
    fn watch_hit(&self, h: usize) -> Option<(WatchKind, u64)> {
        let d = self.debug.as_ref()?;
        if d.watchpoints.is_empty() {
            return None;
        }
        let hart = &self.harts[h];
        let mut raw = [0u8; 4];
        let n = self.read_virtual(h, hart.pc, &mut raw[..2]);
        if n < 2 {
            return None;
        }
        if raw[0] & 3 == 3 && self.read_virtual(h, hart.pc.wrapping_add(2), &mut raw[2..]) < 2 {
            return None;
        }
        let access = mem_access(u32::from_le_bytes(raw), &hart.x)?;
        let end = access.addr.wrapping_add(access.size);
        d.watchpoints.iter().find_map(|w| {
            let hit_kind = match w.kind {
                WatchKind::Write if access.write => WatchKind::Write,
                WatchKind::Read if access.read => WatchKind::Read,
                WatchKind::Access if access.read || access.write => WatchKind::Access,
                _ => return None,
            };
            let w_end = w.addr.wrapping_add(w.len);
            (access.addr < w_end && w.addr < end).then(|| (hit_kind, access.addr.max(w.addr)))
        })
    }

    /// One step of hart `h`: enter a pending interrupt's handler, or execute one instruction
    /// (which may trap). Device events are handled as in the fast loop; the caller has set the
    /// hart's interrupt lines (`update_hart_irqs`) before its first step.
    fn debug_step(&mut self, h: usize) -> Result<Stepped, ExitReason> {
        if self.waiting[h] {
            if !self.harts[h].wfi_wakeup() {
                return Ok(Stepped::Waiting);
            }
            self.waiting[h] = false;
        }
        if self.harts[h].debug_take_interrupt() {
            return Ok(Stepped::Trapped);
        }
        let (exit, n) = self.harts[h].run(&mut self.bus, 1);
        self.after_hart_run(h, exit, n)?;
        Ok(if n > 0 {
            Stepped::Retired
        } else {
            Stepped::Trapped
        })
    }
}

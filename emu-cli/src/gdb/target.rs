//! The `gdbstub` target: gdb's requests mapped onto emu-core's [`Machine`] debug API. Harts
//! are gdb threads (thread id = hart + 1); all-stop: a stop of one hart stops them all.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conn::GdbConn;

use emu_core::{DebugReg, DebugStop, ExitReason, HartAction, Machine, RunLimits, WatchKind};
use gdbstub::common::Pid;
use gdbstub::common::{Signal, Tid};
use gdbstub::conn::ConnectionExt;
use gdbstub::stub::{run_blocking, MultiThreadStopReason};
use gdbstub::target::ext::base::multithread::{
    MultiThreadBase, MultiThreadResume, MultiThreadResumeOps, MultiThreadSchedulerLocking,
    MultiThreadSchedulerLockingOps, MultiThreadSingleStep, MultiThreadSingleStepOps,
};
use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps,
    SwBreakpoint, SwBreakpointOps,
};
use gdbstub::target::ext::extended_mode::{
    Args, AttachKind, ExtendedMode, ExtendedModeOps, ShouldTerminate,
};
use gdbstub::target::ext::target_description_xml_override::{
    TargetDescriptionXmlOverride, TargetDescriptionXmlOverrideOps,
};
use gdbstub::target::ext::thread_extra_info::{ThreadExtraInfo, ThreadExtraInfoOps};
use gdbstub::target::{Target, TargetError, TargetResult};
use gdbstub_arch::riscv::reg::id::RiscvRegId;
use gdbstub_arch::riscv::reg::RiscvCoreRegs;
use gdbstub_arch::riscv::Riscv64;

use crate::console::{GuestClock, StopFlag};

/// How often the running machine looks at the gdb connection (for Ctrl-C).
const POLL: Duration = Duration::from_millis(10);

/// The machine as gdb sees it, plus what the session needs to end a run.
pub struct GdbTarget {
    /// The one machine (given back when the session ends).
    pub machine: Machine,
    /// Per hart: the action gdb asked for in the last `vCont` (None: not named).
    actions: Vec<Option<HartAction>>,
    /// The hart that last stopped (reported with Ctrl-C).
    last_hart: usize,
    stop: Arc<StopFlag>,
    clock: Arc<GuestClock>,
    deadline: Option<Instant>,
    max_insns: Option<u64>,
    xml: String,
    /// Set when the guest or the CLI ended the run during the session.
    pub ended: Option<ExitReason>,
    /// Whether the resume packet being handled is a legacy `c`/`C` (see `conn.rs`): then every
    /// hart continues, as on QEMU, instead of only the current one.
    pub legacy_continue: Rc<Cell<bool>>,
}

impl GdbTarget {
    /// A target over `machine`; `deadline` and `max_insns` are the run's limits (`--timeout`,
    /// `--max-insns`), `stop` the CLI's stop flag.
    pub fn new(
        machine: Machine,
        stop: Arc<StopFlag>,
        clock: Arc<GuestClock>,
        deadline: Option<Instant>,
        max_insns: Option<u64>,
    ) -> GdbTarget {
        let n = machine.num_harts();
        GdbTarget {
            machine,
            actions: vec![None; n],
            last_hart: 0,
            stop,
            clock,
            deadline,
            max_insns,
            xml: super::tdesc::target_xml(),
            ended: None,
            legacy_continue: Rc::new(Cell::new(false)),
        }
    }

    fn hart(&self, tid: Tid) -> TargetResult<usize, Self> {
        let h = tid.get() - 1;
        if h < self.machine.num_harts() {
            Ok(h)
        } else {
            Err(TargetError::NonFatal)
        }
    }

    /// Run the machine as the last `vCont` asked until it stops, or until gdb sends a byte
    /// (Ctrl-C), the CLI asks to stop, or a limit is reached.
    fn run(&mut self, conn: &mut GdbConn) -> Result<Option<ExitReason>, std::io::Error> {
        let actions: Vec<HartAction> = self
            .actions
            .iter()
            .map(|a| a.unwrap_or(HartAction::Continue))
            .collect();
        self.machine.set_hart_actions(&actions);
        let limits = RunLimits {
            max_insns: self.max_insns,
            timeout: self.deadline.map(|d| {
                d.saturating_duration_since(Instant::now())
                    .max(Duration::from_nanos(1))
            }),
        };
        let (stop, clock) = (&self.stop, &self.clock);
        let mut last_poll = Instant::now();
        let mut incoming = false;
        let reason = self.machine.run_until(&limits, &mut |m| {
            clock.set(m.bus().clint.mtime);
            if stop.is_set() {
                return true;
            }
            if last_poll.elapsed() >= POLL {
                last_poll = Instant::now();
                if !matches!(conn.peek(), Ok(None)) {
                    incoming = true;
                    return true;
                }
            }
            false
        });
        Ok(if incoming && !stop.is_set() {
            None
        } else {
            Some(reason)
        })
    }
}

fn debug_reg(id: RiscvRegId<u64>) -> Option<DebugReg> {
    Some(match id {
        RiscvRegId::Gpr(i) => DebugReg::X(i),
        RiscvRegId::Fpr(i) => DebugReg::F(i),
        RiscvRegId::Pc => DebugReg::Pc,
        RiscvRegId::Csr(c) => DebugReg::Csr(c),
        RiscvRegId::Priv => DebugReg::Priv,
        _ => return None,
    })
}

fn tid_of(hart: usize) -> Tid {
    Tid::new(hart + 1).expect("hart + 1 > 0")
}

impl Target for GdbTarget {
    type Arch = Riscv64;
    type Error = String;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::MultiThread(self)
    }
    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }
    fn support_target_description_xml_override(
        &mut self,
    ) -> Option<TargetDescriptionXmlOverrideOps<'_, Self>> {
        Some(self)
    }
    fn guard_rail_implicit_sw_breakpoints(&self) -> bool {
        true
    }
    fn support_extended_mode(&mut self) -> Option<ExtendedModeOps<'_, Self>> {
        Some(self)
    }
}

/// Only so that `kill` is answered with OK before the stub closes (as QEMU does); `run`,
/// `attach` and `restart` of other programs are refused.
impl ExtendedMode for GdbTarget {
    fn run(&mut self, _filename: Option<&[u8]>, _args: Args<'_, '_>) -> TargetResult<Pid, Self> {
        Err(TargetError::NonFatal)
    }
    fn attach(&mut self, _pid: Pid) -> TargetResult<(), Self> {
        Err(TargetError::NonFatal)
    }
    fn query_if_attached(&mut self, _pid: Pid) -> TargetResult<AttachKind, Self> {
        Ok(AttachKind::Attach)
    }
    fn kill(&mut self, _pid: Option<Pid>) -> TargetResult<ShouldTerminate, Self> {
        Ok(ShouldTerminate::Yes)
    }
    fn restart(&mut self) -> Result<(), String> {
        Err("rvcow's gdb stub cannot restart the machine; quit and boot again".into())
    }
}

impl MultiThreadBase for GdbTarget {
    fn read_registers(
        &mut self,
        regs: &mut RiscvCoreRegs<u64>,
        tid: Tid,
    ) -> TargetResult<(), Self> {
        let h = self.hart(tid)?;
        for i in 0..32u8 {
            regs.x[i as usize] = self.machine.read_register(h, DebugReg::X(i)).unwrap_or(0);
        }
        regs.pc = self.machine.read_register(h, DebugReg::Pc).unwrap_or(0);
        Ok(())
    }

    fn write_registers(&mut self, regs: &RiscvCoreRegs<u64>, tid: Tid) -> TargetResult<(), Self> {
        let h = self.hart(tid)?;
        for i in 1..32u8 {
            self.machine
                .write_register(h, DebugReg::X(i), regs.x[i as usize]);
        }
        self.machine.write_register(h, DebugReg::Pc, regs.pc);
        Ok(())
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, Tid, Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8], tid: Tid) -> TargetResult<usize, Self> {
        let h = self.hart(tid)?;
        match self.machine.read_virtual(h, start, data) {
            0 if !data.is_empty() => Err(TargetError::NonFatal),
            n => Ok(n),
        }
    }

    fn write_addrs(&mut self, start: u64, data: &[u8], tid: Tid) -> TargetResult<(), Self> {
        let h = self.hart(tid)?;
        if self.machine.write_virtual(h, start, data) {
            Ok(())
        } else {
            Err(TargetError::NonFatal)
        }
    }

    fn list_active_threads(&mut self, thread_is_active: &mut dyn FnMut(Tid)) -> Result<(), String> {
        for h in 0..self.machine.num_harts() {
            thread_is_active(tid_of(h));
        }
        Ok(())
    }

    fn support_resume(&mut self) -> Option<MultiThreadResumeOps<'_, Self>> {
        Some(self)
    }

    fn support_thread_extra_info(&mut self) -> Option<ThreadExtraInfoOps<'_, Self>> {
        Some(self)
    }
}

impl SingleRegisterAccess<Tid> for GdbTarget {
    fn read_register(
        &mut self,
        tid: Tid,
        reg_id: RiscvRegId<u64>,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        let h = self.hart(tid)?;
        let Some(value) = debug_reg(reg_id).and_then(|r| self.machine.read_register(h, r)) else {
            return Ok(0); // unavailable
        };
        let bytes = value.to_le_bytes();
        let n = buf.len().min(8);
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    fn write_register(
        &mut self,
        tid: Tid,
        reg_id: RiscvRegId<u64>,
        val: &[u8],
    ) -> TargetResult<(), Self> {
        let h = self.hart(tid)?;
        let mut bytes = [0u8; 8];
        let n = val.len().min(8);
        bytes[..n].copy_from_slice(&val[..n]);
        let reg = debug_reg(reg_id).ok_or(TargetError::NonFatal)?;
        if self
            .machine
            .write_register(h, reg, u64::from_le_bytes(bytes))
        {
            Ok(())
        } else {
            Err(TargetError::NonFatal)
        }
    }
}

impl MultiThreadResume for GdbTarget {
    fn resume(&mut self) -> Result<(), String> {
        Ok(()) // the actions apply when the event loop runs the machine
    }
    fn clear_resume_actions(&mut self) -> Result<(), String> {
        self.actions.fill(None);
        Ok(())
    }
    fn set_resume_action_continue(
        &mut self,
        tid: Tid,
        _signal: Option<Signal>,
    ) -> Result<(), String> {
        let h = tid.get() - 1;
        if let Some(a) = self.actions.get_mut(h) {
            *a = Some(HartAction::Continue);
        }
        Ok(())
    }
    fn support_single_step(&mut self) -> Option<MultiThreadSingleStepOps<'_, Self>> {
        Some(self)
    }
    fn support_scheduler_locking(&mut self) -> Option<MultiThreadSchedulerLockingOps<'_, Self>> {
        Some(self)
    }
}

impl MultiThreadSingleStep for GdbTarget {
    fn set_resume_action_step(&mut self, tid: Tid, _signal: Option<Signal>) -> Result<(), String> {
        let h = tid.get() - 1;
        if let Some(a) = self.actions.get_mut(h) {
            *a = Some(HartAction::Step);
        }
        Ok(())
    }
}

impl MultiThreadSchedulerLocking for GdbTarget {
    fn set_resume_action_scheduler_lock(&mut self) -> Result<(), String> {
        if self.legacy_continue.get() {
            // A bare `c` resumes every hart on QEMU; unnamed harts default to Continue.
            return Ok(());
        }
        for a in &mut self.actions {
            a.get_or_insert(HartAction::Stop);
        }
        Ok(())
    }
}

impl Breakpoints for GdbTarget {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }
    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }
    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for GdbTarget {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.machine.add_breakpoint(addr, false))
    }
    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.machine.remove_breakpoint(addr, false))
    }
}

impl HwBreakpoint for GdbTarget {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.machine.add_breakpoint(addr, true))
    }
    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.machine.remove_breakpoint(addr, true))
    }
}

fn watch_kind(kind: gdbstub::target::ext::breakpoints::WatchKind) -> WatchKind {
    use gdbstub::target::ext::breakpoints::WatchKind as G;
    match kind {
        G::Write => WatchKind::Write,
        G::Read => WatchKind::Read,
        G::ReadWrite => WatchKind::Access,
    }
}

impl HwWatchpoint for GdbTarget {
    fn add_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: gdbstub::target::ext::breakpoints::WatchKind,
    ) -> TargetResult<bool, Self> {
        Ok(self.machine.add_watchpoint(addr, len, watch_kind(kind)))
    }
    fn remove_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: gdbstub::target::ext::breakpoints::WatchKind,
    ) -> TargetResult<bool, Self> {
        Ok(self.machine.remove_watchpoint(addr, len, watch_kind(kind)))
    }
}

impl TargetDescriptionXmlOverride for GdbTarget {
    fn target_description_xml(
        &self,
        annex: &[u8],
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        if annex != b"target.xml" {
            return Err(TargetError::NonFatal);
        }
        let xml = self.xml.as_bytes();
        let start = (offset as usize).min(xml.len());
        let n = length.min(buf.len()).min(xml.len() - start);
        buf[..n].copy_from_slice(&xml[start..start + n]);
        Ok(n)
    }
}

impl ThreadExtraInfo for GdbTarget {
    fn thread_extra_info(&self, tid: Tid, buf: &mut [u8]) -> Result<usize, String> {
        let h = tid.get() - 1;
        if h >= self.machine.num_harts() {
            return Ok(0);
        }
        let mode = match self.machine.hart(h).privilege {
            emu_core::hart::Privilege::Machine => "M",
            emu_core::hart::Privilege::Supervisor => "S",
            emu_core::hart::Privilege::User => "U",
        };
        let wfi = if self.machine.is_waiting(h) {
            ", wfi"
        } else {
            ""
        };
        let text = format!("hart {h} ({mode}-mode{wfi})");
        let n = text.len().min(buf.len());
        buf[..n].copy_from_slice(&text.as_bytes()[..n]);
        Ok(n)
    }
}

/// The blocking event loop `gdbstub` drives while the target runs.
pub enum EventLoop {}

impl run_blocking::BlockingEventLoop for EventLoop {
    type Target = GdbTarget;
    type Connection = GdbConn;
    type StopReason = MultiThreadStopReason<u64>;

    fn wait_for_stop_reason(
        target: &mut GdbTarget,
        conn: &mut GdbConn,
    ) -> Result<
        run_blocking::Event<Self::StopReason>,
        run_blocking::WaitForStopReasonError<String, std::io::Error>,
    > {
        use run_blocking::{Event, WaitForStopReasonError};
        let reason = target
            .run(conn)
            .map_err(WaitForStopReasonError::Connection)?;
        let Some(reason) = reason else {
            let byte = ConnectionExt::read(conn).map_err(WaitForStopReasonError::Connection)?;
            return Ok(Event::IncomingData(byte));
        };
        let stop = match reason {
            ExitReason::Debug(DebugStop::Breakpoint { hart, hardware }) => {
                target.last_hart = hart;
                if hardware {
                    MultiThreadStopReason::HwBreak(tid_of(hart))
                } else {
                    MultiThreadStopReason::SwBreak(tid_of(hart))
                }
            }
            ExitReason::Debug(DebugStop::Watchpoint { hart, kind, addr }) => {
                target.last_hart = hart;
                use gdbstub::target::ext::breakpoints::WatchKind as G;
                MultiThreadStopReason::Watch {
                    tid: tid_of(hart),
                    kind: match kind {
                        WatchKind::Write => G::Write,
                        WatchKind::Read => G::Read,
                        WatchKind::Access => G::ReadWrite,
                    },
                    addr,
                }
            }
            ExitReason::Debug(DebugStop::Stepped { hart }) => {
                target.last_hart = hart;
                MultiThreadStopReason::SignalWithThread {
                    tid: tid_of(hart),
                    signal: Signal::SIGTRAP,
                }
            }
            ExitReason::PowerOff { code } => {
                target.ended = Some(reason.clone());
                MultiThreadStopReason::Exited(code as u8)
            }
            ExitReason::Timeout | ExitReason::InstructionLimit => {
                target.ended = Some(reason);
                MultiThreadStopReason::Terminated(Signal::SIGALRM)
            }
            other => {
                target.ended = Some(other);
                MultiThreadStopReason::Terminated(Signal::SIGKILL)
            }
        };
        Ok(Event::TargetStopped(stop))
    }

    fn on_interrupt(target: &mut GdbTarget) -> Result<Option<MultiThreadStopReason<u64>>, String> {
        Ok(Some(MultiThreadStopReason::SignalWithThread {
            tid: tid_of(target.last_hart),
            signal: Signal::SIGINT,
        }))
    }
}

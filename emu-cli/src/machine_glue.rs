//! The one place emu-cli calls emu-core's machine API: build the machine from a [`BootPlan`],
//! attach console and disk, run it under the limits, collect statistics.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Result};
use emu_core::{
    BootImages, ClockMode, Console, Disk, DiskMode, ExitReason, Machine, MachineConfig,
    MachineStats, RtcClock, RunLimits,
};

use crate::boot::{BootPlan, DiskSource};
use crate::console::{lock_status, GuestClock, SessionConsole, StopCause, StopFlag};
use crate::options::{BootArgs, Clock, ScriptStep};
use crate::outcome::{RunEnd, StatsReport};

impl<W: Write> Console for SessionConsole<W> {
    fn read(&mut self) -> Option<u8> {
        self.read_byte()
    }
    fn write(&mut self, bytes: &[u8]) {
        self.write_bytes(bytes)
    }
    fn flush(&mut self) {
        self.flush_output()
    }
    fn wait_for_input(&mut self, timeout: std::time::Duration) {
        self.wait_for_key(timeout)
    }
}

/// The machine configuration a plan asks for.
pub fn machine_config(plan: &BootPlan) -> MachineConfig {
    MachineConfig {
        harts: plan.harts,
        ram_size: plan.ram_size,
        seed: plan.seed,
        clock: match plan.clock {
            Clock::Virtual => ClockMode::Virtual,
            Clock::Host => ClockMode::Host,
        },
        htif: plan.htif,
        virtio_legacy: plan.virtio_legacy,
        rtc: if plan.rtc_host {
            RtcClock::Host
        } else {
            RtcClock::Virtual
        },
        no_reboot: plan.no_reboot,
        jit: plan.jit,
    }
}

/// Builds the machine: configuration, firmware/kernel/initrd, disk. Nothing runs yet.
///
/// # Errors
/// One line naming the file (firmware, kernel, initrd or disk) and the fix.
pub fn build_machine(plan: &BootPlan, images: BootImages) -> Result<Machine> {
    let mut machine = Machine::new(machine_config(plan)).map_err(|e| anyhow!("{e}"))?;
    machine.boot(images).map_err(|e| anyhow!("{e}"))?;
    let disk = match &plan.disk {
        DiskSource::None => None,
        DiskSource::BundledOverlay => Some(Disk::from_bytes(images::FS_IMG.to_vec())),
        DiskSource::File { path, overlay } => {
            let mode = if *overlay {
                DiskMode::Overlay
            } else {
                DiskMode::WriteThrough
            };
            Some(Disk::open(path, mode).map_err(|e| anyhow!("{e}"))?)
        }
        DiskSource::ReadOnly(path) => {
            Some(Disk::open(path, DiskMode::ReadOnly).map_err(|e| anyhow!("{e}"))?)
        }
    };
    if let Some(disk) = disk {
        machine.attach_disk(disk);
    }
    Ok(machine)
}

/// How long the console output must be quiet before the next `--send` text is typed: 200 ms of
/// guest time (the shell has printed its prompt and waits).
pub const SEND_QUIET_TICKS: u64 = emu_core::dev::clint::MTIME_HZ / 5;

/// The `--stats` report of a machine's counters.
pub fn stats_report(stats: &MachineStats) -> StatsReport {
    StatsReport {
        instret: stats.instret.clone(),
        host_seconds: stats.host_seconds,
        guest_seconds: stats.guest_ticks as f64 / emu_core::dev::clint::MTIME_HZ as f64,
        tlb_hit_rate: stats.tlb_hit_rate,
        decode_hit_rate: stats.decode_cache_hit_rate,
        jit: stats.jit,
    }
}

/// How a run ended, from the machine's exit reason and the CLI's stop request.
pub fn run_end(reason: ExitReason, stop: &StopFlag, args: &BootArgs) -> RunEnd {
    match reason {
        ExitReason::PowerOff { code } => RunEnd::PowerOff(code),
        ExitReason::Reset => RunEnd::Reset,
        ExitReason::InstructionLimit => RunEnd::InstructionLimit(args.max_insns.unwrap_or(0)),
        ExitReason::Timeout => RunEnd::Timeout(args.timeout.unwrap_or_default()),
        ExitReason::Stopped => match stop.cause() {
            Some(StopCause::ExpectTimeout(step)) => RunEnd::ExpectTimeout {
                pattern: match args.script.get(step) {
                    Some(ScriptStep::Expect(p)) => String::from_utf8_lossy(p).into_owned(),
                    _ => String::new(),
                },
                after: args.expect_timeout.unwrap_or_default(),
            },
            Some(cause) => RunEnd::Stopped(cause),
            None => RunEnd::HostError("the machine stopped without a reason".into()),
        },
        ExitReason::HostError(e) => RunEnd::HostError(e),
        ExitReason::Wedged(w) => RunEnd::Wedged(w.to_string()),
        ExitReason::Debug(stop) => RunEnd::HostError(format!("{stop:?} outside a gdb session")),
    }
}

/// `--trace` output: one line per trap (`trap: …`) or unimplemented access (`unimp: …`) on
/// stderr (the terminal keeps output post-processing, so `\n` ends a line).
pub struct StderrTracer;

impl StderrTracer {
    fn line(&self, text: std::fmt::Arguments) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

impl emu_core::trace::Tracer for StderrTracer {
    fn trap(&mut self, record: &emu_core::trace::TrapRecord) {
        self.line(format_args!("trap: {record}"));
    }
    fn unimp(&mut self, access: &emu_core::trace::UnimpAccess) {
        self.line(format_args!("unimp: {access}"));
    }
}

/// Runs a built machine with `console` on its UART until it ends or the CLI stops it;
/// returns how the run ended and the machine's statistics.
pub fn run_machine<W: Write + 'static>(
    machine: &mut Machine,
    console: SessionConsole<W>,
    stop: &Arc<StopFlag>,
    clock: &GuestClock,
    args: &BootArgs,
) -> (RunEnd, StatsReport) {
    let status = console.status();
    machine.set_console(Box::new(console));
    let limits = RunLimits {
        max_insns: args.max_insns,
        timeout: args.timeout,
    };
    // Only --expect-timeout sets deadlines: without it the loop does not look.
    let watch_expect = args.expect_timeout.is_some();
    let reason = machine.run_until(&limits, &mut |m| {
        clock.set(m.bus().clint.mtime);
        let overdue = watch_expect
            .then(|| lock_status(&status).expect_deadline)
            .flatten();
        if let Some((step, at)) = overdue {
            if Instant::now() >= at {
                stop.request(StopCause::ExpectTimeout(step));
            }
        }
        stop.is_set()
    });
    (run_end(reason, stop, args), stats_report(&machine.stats()))
}

//! `emu-cli boot --gdb tcp::PORT` (`-s`, `--halted`): a gdb remote stub (crate `gdbstub`,
//! RISC-V 64 from `gdbstub_arch`) in front of the one [`Machine`].
//!
//! The stub listens on 127.0.0.1 only. With `--halted` (QEMU's `-S`) nothing runs until gdb
//! connects; otherwise the guest runs at full speed and a connecting gdb stops it. While gdb
//! holds the machine, [`target::GdbTarget`] maps its requests onto emu-core's debug API (see
//! emu-core/src/machine/debug.rs). `detach` lets the guest run on and the stub waits for the
//! next gdb; `kill` ends the run. Ctrl-A x, a signal and `--timeout` end a run that gdb holds
//! (running or stopped): a watcher thread closes the connection gdb is blocked on.

pub mod conn;
pub mod target;
pub mod tdesc;

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use emu_core::{ExitReason, Machine, RunLimits};
use gdbstub::stub::{DisconnectReason, GdbStub};

use crate::console::{GuestClock, StopFlag};
use crate::machine_glue::{run_end, stats_report};
use crate::options::BootArgs;
use crate::outcome::{RunEnd, StatsReport};
use target::{EventLoop, GdbTarget};

/// How often a free-running machine looks for a connecting gdb, and the watcher for a stop.
const POLL: Duration = Duration::from_millis(10);

/// Parses a gdb address as QEMU's `-gdb` takes it: `tcp::PORT`, `tcp:127.0.0.1:PORT`,
/// `tcp:localhost:PORT`, `:PORT` or a bare `PORT`.
///
/// # Errors
/// Anything else (other hosts, `unix:`, devices), with the accepted forms.
pub fn parse_gdb_address(text: &str) -> Result<u16, String> {
    let rest = text.strip_prefix("tcp:").unwrap_or(text);
    let port = match rest.rsplit_once(':') {
        Some(("" | "127.0.0.1" | "localhost", port)) => port,
        Some(_) => {
            return Err(format!(
                "`{text}`: the gdb stub listens on 127.0.0.1 only; give tcp::PORT or PORT"
            ))
        }
        None => rest,
    };
    port.parse::<u16>().map_err(|_| {
        format!("`{text}` is not a gdb address; give tcp::PORT or PORT, e.g. tcp::1234")
    })
}

/// A listening gdb stub.
pub struct GdbListener {
    listener: TcpListener,
    port: u16,
}

impl GdbListener {
    /// Listen on 127.0.0.1:`port` (0: any free port).
    ///
    /// # Errors
    /// The port is taken or not allowed: one line naming it and the fix.
    pub fn bind(port: u16) -> Result<GdbListener> {
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
            anyhow!("--gdb: cannot listen on 127.0.0.1:{port}: {e}; give another port, e.g. --gdb tcp::1235")
        })?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        Ok(GdbListener { listener, port })
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn try_accept(&self) -> Option<TcpStream> {
        self.listener.accept().ok().map(|(s, _)| s)
    }
}

/// Runs `machine` under the gdb stub until the run ends (guest power-off, `kill`, Ctrl-A x, a
/// signal, `--timeout`, `--max-insns`). The console must already be attached.
pub fn serve(
    mut machine: Machine,
    gdb: &GdbListener,
    halted: bool,
    stop: &Arc<StopFlag>,
    clock: &Arc<GuestClock>,
    args: &BootArgs,
) -> (RunEnd, StatsReport) {
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let limits = |deadline: Option<Instant>| RunLimits {
        max_insns: args.max_insns,
        timeout: deadline.map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_nanos(1))
        }),
    };
    let mut pending = None;
    if halted {
        if !args.quiet {
            eprintln!(
                "emu-cli: waiting for gdb on tcp::{} (target remote :{})",
                gdb.port(),
                gdb.port()
            );
        }
        loop {
            if let Some(s) = gdb.try_accept() {
                pending = Some(s);
                break;
            }
            if let Some(end) = stopped_or_timed_out(stop, deadline, args) {
                return (end, stats_report(&machine.stats()));
            }
            std::thread::sleep(POLL);
        }
    }
    loop {
        let conn = match pending.take() {
            Some(c) => c,
            None => {
                machine.debug_detach();
                let mut accepted = None;
                let mut last_poll = Instant::now();
                let reason = machine.run_until(&limits(deadline), &mut |m| {
                    clock.set(m.bus().clint.mtime);
                    if stop.is_set() {
                        return true;
                    }
                    if last_poll.elapsed() >= POLL {
                        last_poll = Instant::now();
                        accepted = gdb.try_accept();
                        return accepted.is_some();
                    }
                    false
                });
                match accepted {
                    Some(c) if !stop.is_set() => c,
                    _ => return (run_end(reason, stop, args), stats_report(&machine.stats())),
                }
            }
        };
        let _ = conn.set_nonblocking(false);
        let over = Arc::new(AtomicBool::new(false));
        if let Ok(clone) = conn.try_clone() {
            spawn_watcher(clone, stop.clone(), deadline, over.clone());
        }
        machine.debug_attach();
        let (conn, legacy_continue) = conn::GdbConn::new(conn);
        let mut target = GdbTarget::new(
            machine,
            stop.clone(),
            clock.clone(),
            deadline,
            args.max_insns,
        );
        target.legacy_continue = legacy_continue;
        let result = GdbStub::new(conn).run_blocking::<EventLoop>(&mut target);
        over.store(true, Ordering::SeqCst);
        let ended = target.ended.take();
        machine = target.machine;
        let stats = |m: &Machine| stats_report(&m.stats());
        if let Some(reason) = ended {
            return (run_end(reason, stop, args), stats(&machine));
        }
        match result {
            Ok(DisconnectReason::Disconnect) => {
                if !args.quiet {
                    eprintln!("emu-cli: gdb detached; the guest runs on");
                }
            }
            Ok(DisconnectReason::Kill) => return (RunEnd::DebuggerKill, stats(&machine)),
            Ok(DisconnectReason::TargetExited(_) | DisconnectReason::TargetTerminated(_)) => {
                let end = stopped_or_timed_out(stop, deadline, args).unwrap_or_else(|| {
                    RunEnd::HostError("the gdb session ended without a reason".into())
                });
                return (end, stats(&machine));
            }
            Err(e) => {
                if let Some(end) = stopped_or_timed_out(stop, deadline, args) {
                    return (end, stats(&machine));
                }
                if !args.quiet {
                    eprintln!("emu-cli: gdb connection closed ({e}); the guest runs on");
                }
            }
        }
    }
}

/// The run's end if the CLI asked to stop or `--timeout` has passed.
fn stopped_or_timed_out(
    stop: &StopFlag,
    deadline: Option<Instant>,
    args: &BootArgs,
) -> Option<RunEnd> {
    if stop.is_set() {
        return Some(run_end(ExitReason::Stopped, stop, args));
    }
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return Some(run_end(ExitReason::Timeout, stop, args));
    }
    None
}

/// While a session lasts, close its connection when the CLI asks to stop or the deadline
/// passes: gdbstub then returns from its blocking read.
fn spawn_watcher(
    conn: TcpStream,
    stop: Arc<StopFlag>,
    deadline: Option<Instant>,
    over: Arc<AtomicBool>,
) {
    std::thread::spawn(move || loop {
        if over.load(Ordering::SeqCst) {
            return;
        }
        if stop.is_set() || deadline.is_some_and(|d| Instant::now() >= d) {
            // Give a running session the chance to report the end to gdb first.
            std::thread::sleep(Duration::from_millis(100));
            let _ = conn.shutdown(std::net::Shutdown::Both);
            return;
        }
        std::thread::sleep(POLL);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdb_addresses_as_qemu_takes_them() {
        assert_eq!(parse_gdb_address("tcp::1234"), Ok(1234));
        assert_eq!(parse_gdb_address("tcp:localhost:26000"), Ok(26000));
        assert_eq!(parse_gdb_address("tcp:127.0.0.1:5"), Ok(5));
        assert_eq!(parse_gdb_address(":4321"), Ok(4321));
        assert_eq!(parse_gdb_address("1234"), Ok(1234));
        assert!(parse_gdb_address("tcp:0.0.0.0:1234")
            .unwrap_err()
            .contains("127.0.0.1 only"));
        assert!(parse_gdb_address("unix:/tmp/s").is_err());
        assert!(parse_gdb_address("tcp::99999").is_err());
    }
}

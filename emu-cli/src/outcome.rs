//! How a run ended, as an exit status and a message; and the `--stats` report.
//!
//! Exit statuses: the guest's power-off code (0 = pass); 1 host error; 124 when `--timeout`,
//! `--max-insns` or `--expect-timeout` ends the run (as `timeout(1)` does); 125 usage error
//! (clap); 126 when a hart wedged (kept taking traps without retiring an instruction); 128 + n
//! when signal n stopped the run.

use crate::console::StopCause;

/// Exit status for a host error.
pub const EXIT_HOST_ERROR: i32 = 1;
/// Exit status when `--timeout` or `--max-insns` ended the run.
pub const EXIT_TIMEOUT: i32 = 124;
/// Exit status for a usage error.
pub const EXIT_USAGE: i32 = 125;
/// Exit status when a hart wedged: it kept taking traps without retiring an instruction.
pub const EXIT_WEDGED: i32 = 126;

/// Why a run ended (the machine's exit reason, with the CLI's stop requests resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// The guest powered off (test finisher or HTIF) with this code.
    PowerOff(u32),
    /// The guest asked for a reset.
    Reset,
    /// `--max-insns` instructions were retired.
    InstructionLimit(u64),
    /// `--timeout` of host time passed.
    Timeout(std::time::Duration),
    /// The CLI stopped the machine.
    Stopped(StopCause),
    /// An `--expect` pattern did not appear within `--expect-timeout`.
    ExpectTimeout {
        pattern: String,
        after: std::time::Duration,
    },
    /// The emulator failed (I/O error on the disk, …).
    HostError(String),
    /// A hart wedged; the diagnostic (emu-core's `Wedge` report).
    Wedged(String),
    /// gdb's `kill` ended the run (status 0, as QEMU exits).
    DebuggerKill,
}

/// The exit status and the line to print (None: print nothing) for how a run ended.
pub fn exit_status(end: &RunEnd) -> (i32, Option<String>) {
    match end {
        RunEnd::PowerOff(0) => (0, Some("guest powered off (pass)".into())),
        RunEnd::PowerOff(code) => (
            truncate_code(*code),
            Some(format!("guest powered off with code {code} (fail)")),
        ),
        RunEnd::Reset => (
            0,
            Some("guest requested a reset (--no-reboot: stopping)".into()),
        ),
        RunEnd::InstructionLimit(n) => (EXIT_TIMEOUT, Some(format!("--max-insns {n} reached"))),
        RunEnd::Timeout(t) => (
            EXIT_TIMEOUT,
            Some(format!("--timeout {}s reached", t.as_secs_f64())),
        ),
        RunEnd::ExpectTimeout { pattern, after } => (
            EXIT_TIMEOUT,
            Some(format!(
                "--expect {pattern:?} did not appear within --expect-timeout {}s",
                after.as_secs_f64()
            )),
        ),
        RunEnd::Stopped(StopCause::UntilMatched) => (0, Some("--until pattern seen".into())),
        RunEnd::Stopped(StopCause::Quit) => (0, Some("quit (Ctrl-A x)".into())),
        RunEnd::Stopped(StopCause::OutputClosed) => (128 + 13, None),
        RunEnd::Stopped(StopCause::Signal(n)) => (128 + n, Some(format!("stopped by signal {n}"))),
        RunEnd::Stopped(StopCause::ExpectTimeout(n)) => {
            (EXIT_TIMEOUT, Some(format!("--expect step {n} timed out")))
        }
        RunEnd::HostError(e) => (EXIT_HOST_ERROR, Some(format!("error: {e}"))),
        RunEnd::Wedged(w) => (EXIT_WEDGED, Some(w.clone())),
        RunEnd::DebuggerKill => (0, Some("killed by gdb".into())),
    }
}

/// A power-off code as an 8-bit exit status that is never 0 for a failure (as QEMU's spike
/// machine reports HTIF codes).
pub fn truncate_code(code: u32) -> i32 {
    match code & 0xff {
        0 if code != 0 => 1,
        c => c as i32,
    }
}

/// What `--stats` prints (filled from the machine's statistics).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsReport {
    /// Instructions retired, per hart.
    pub instret: Vec<u64>,
    /// Host wall-clock seconds spent running.
    pub host_seconds: f64,
    /// Guest seconds elapsed (mtime ticks / timebase frequency).
    pub guest_seconds: f64,
    /// TLB hits / lookups, if the machine counts them.
    pub tlb_hit_rate: Option<f64>,
    /// Decoded-instruction cache hits / lookups, if the machine counts them.
    pub decode_hit_rate: Option<f64>,
    /// The JIT tier's counters, when it is on.
    pub jit: Option<emu_core::hart::jit::JitStats>,
}

impl StatsReport {
    /// Instructions retired by all harts.
    pub fn total_insns(&self) -> u64 {
        self.instret.iter().sum()
    }

    /// Millions of instructions per host second (0 when no time passed).
    pub fn mips(&self) -> f64 {
        if self.host_seconds > 0.0 {
            self.total_insns() as f64 / self.host_seconds / 1e6
        } else {
            0.0
        }
    }

    /// The report, one fact per line, each line starting with `emu-cli: `.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (hart, n) in self.instret.iter().enumerate() {
            s += &format!(
                "emu-cli: hart {hart}: {} instructions retired\n",
                group_thousands(*n)
            );
        }
        s += &format!(
            "emu-cli: total {} instructions in {:.3} s of host time: {:.1} MIPS\n",
            group_thousands(self.total_insns()),
            self.host_seconds,
            self.mips()
        );
        s += &format!("emu-cli: guest time {:.3} s\n", self.guest_seconds);
        let rate = |r: Option<f64>| r.map_or("n/a".to_string(), |r| format!("{:.2}%", r * 100.0));
        s += &format!(
            "emu-cli: TLB hit rate {}, decode cache hit rate {}\n",
            rate(self.tlb_hit_rate),
            rate(self.decode_hit_rate)
        );
        if let Some(j) = &self.jit {
            let share = if self.total_insns() > 0 {
                j.insns as f64 / self.total_insns() as f64 * 100.0
            } else {
                0.0
            };
            s += &format!(
                "emu-cli: JIT: {} blocks compiled ({} failed, {} flushes) in {:.3} s, {:.2}% of instructions in compiled code\n",
                group_thousands(j.blocks),
                j.failed,
                j.flushes,
                j.compile_ns as f64 / 1e9,
                share
            );
        }
        s
    }
}

/// `1234567` → `"1,234,567"`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|g| std::str::from_utf8(g).unwrap_or_default())
        .collect();
    groups.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn power_off_code_is_the_exit_status() {
        assert_eq!(exit_status(&RunEnd::PowerOff(0)).0, 0);
        assert_eq!(exit_status(&RunEnd::PowerOff(3)).0, 3);
        assert_eq!(exit_status(&RunEnd::PowerOff(0x1ff)).0, 0xff);
        assert_eq!(
            exit_status(&RunEnd::PowerOff(0x100)).0,
            1,
            "a failure never exits 0"
        );
    }

    #[test]
    fn limits_exit_124_like_timeout() {
        assert_eq!(exit_status(&RunEnd::InstructionLimit(10)).0, 124);
        let (code, msg) = exit_status(&RunEnd::Timeout(Duration::from_millis(1500)));
        assert_eq!(code, 124);
        assert_eq!(msg.unwrap(), "--timeout 1.5s reached");
    }

    #[test]
    fn cli_stops_and_errors() {
        assert_eq!(exit_status(&RunEnd::Stopped(StopCause::UntilMatched)).0, 0);
        assert_eq!(exit_status(&RunEnd::Stopped(StopCause::Quit)).0, 0);
        assert_eq!(exit_status(&RunEnd::Stopped(StopCause::Signal(15))).0, 143);
        assert_eq!(
            exit_status(&RunEnd::Stopped(StopCause::OutputClosed)),
            (141, None)
        );
        let (code, msg) = exit_status(&RunEnd::ExpectTimeout {
            pattern: "=> ".into(),
            after: Duration::from_secs(5),
        });
        assert_eq!(code, 124);
        assert_eq!(
            msg.unwrap(),
            "--expect \"=> \" did not appear within --expect-timeout 5s"
        );
        let (code, msg) = exit_status(&RunEnd::HostError("disk fs.img: I/O error".into()));
        assert_eq!(code, 1);
        assert!(msg.unwrap().contains("fs.img"));
        let (code, msg) = exit_status(&RunEnd::Wedged("hart 0 wedged in S-mode: …".into()));
        assert_eq!(code, EXIT_WEDGED);
        assert!(msg.unwrap().starts_with("hart 0 wedged"));
    }

    #[test]
    fn stats_report_computes_mips_and_groups_digits() {
        let r = StatsReport {
            instret: vec![1_000_000, 2_000_000, 0],
            host_seconds: 0.5,
            guest_seconds: 0.25,
            tlb_hit_rate: Some(0.995),
            decode_hit_rate: None,
            jit: None,
        };
        assert_eq!(r.total_insns(), 3_000_000);
        assert!((r.mips() - 6.0).abs() < 1e-9);
        let text = r.render();
        assert!(
            text.contains("hart 1: 2,000,000 instructions retired"),
            "{text}"
        );
        assert!(text.contains("hart 2: 0 instructions"), "{text}");
        assert!(
            text.contains("3,000,000 instructions in 0.500 s of host time: 6.0 MIPS"),
            "{text}"
        );
        assert!(text.contains("guest time 0.250 s"), "{text}");
        assert!(
            text.contains("TLB hit rate 99.50%, decode cache hit rate n/a"),
            "{text}"
        );
        assert!(!text.contains("JIT"), "{text}");
        let with_jit = StatsReport {
            jit: Some(emu_core::hart::jit::JitStats {
                blocks: 1234,
                failed: 0,
                insns: 1_500_000,
                compile_ns: 250_000_000,
                flushes: 1,
            }),
            ..r
        };
        let text = with_jit.render();
        assert!(
            text.contains("JIT: 1,234 blocks compiled (0 failed, 1 flushes) in 0.250 s, 50.00% of instructions in compiled code"),
            "{text}"
        );
        assert_eq!(StatsReport::default().mips(), 0.0);
    }

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}

//! How a machine is built ([`MachineConfig`]), how long a run may go ([`RunLimits`]), why it
//! ended ([`ExitReason`]) and what it counted ([`MachineStats`]).

use std::time::Duration;

use super::DebugStop;
use crate::trace::Wedge;

/// Where the goldfish RTC's wall-clock time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RtcClock {
    /// [`crate::dev::rtc::VIRTUAL_EPOCH_NS`] plus guest time: reproducible (the default).
    #[default]
    Virtual,
    /// The host's time (`--rtc host`).
    Host,
}

/// How guest time relates to host time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// `mtime` advances with retired instructions; idle time is skipped. Reproducible.
    #[default]
    Virtual,
    /// `mtime` follows host wall-clock time (10 MHz); idle harts sleep. For interactive use.
    Host,
}

/// How a machine is built.
#[derive(Debug, Clone)]
pub struct MachineConfig {
    /// Number of harts, 1 to 8 (default 1).
    pub harts: usize,
    /// RAM size in bytes (default 128 MiB); at least 1 MiB, at most 64 GiB.
    pub ram_size: u64,
    /// Seed that varies the interleaving quantum (None: a fixed quantum).
    pub seed: Option<u64>,
    /// Guest clock (default virtual).
    pub clock: ClockMode,
    /// Honour HTIF `tohost` writes when the kernel ELF has that symbol (default true; issue 7).
    pub htif: bool,
    /// virtio-mmio transport: legacy (Version 1) if true, modern (Version 2) if false (the
    /// default; what current xv6 and QEMU with `force-legacy=false` use).
    pub virtio_legacy: bool,
    /// Wall-clock source of the RTC (default virtual).
    pub rtc: RtcClock,
    /// A guest reset request ends the run with [`ExitReason::Reset`] (QEMU `-no-reboot`)
    /// instead of rebooting the machine (the default, as QEMU).
    pub no_reboot: bool,
    /// Run hot guest code through the JIT tier (`hart/jit/`; default on); same behaviour
    /// either way.
    pub jit: bool,
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig {
            harts: 1,
            ram_size: 128 << 20,
            seed: None,
            clock: ClockMode::Virtual,
            htif: true,
            virtio_legacy: false,
            rtc: RtcClock::Virtual,
            no_reboot: false,
            jit: true,
        }
    }
}

/// Limits on one [`Machine::run_until`](super::Machine::run_until) call. `None` means unlimited.
#[derive(Debug, Clone, Default)]
pub struct RunLimits {
    /// Most instructions retired in total over all harts (counted since the machine was built).
    pub max_insns: Option<u64>,
    /// Most host wall time for this call.
    pub timeout: Option<Duration>,
}

/// Why [`Machine::run_until`](super::Machine::run_until) returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    /// The guest powered off through the test finisher; `code` 0 means pass.
    PowerOff { code: u32 },
    /// The guest asked for a reset through the test finisher and
    /// [`MachineConfig::no_reboot`] is set (otherwise the machine reboots and runs on).
    Reset,
    /// [`RunLimits::max_insns`] instructions have retired.
    InstructionLimit,
    /// [`RunLimits::timeout`] of host time passed.
    Timeout,
    /// The stop predicate returned true.
    Stopped,
    /// The host could not go on (e.g. no kernel loaded).
    HostError(String),
    /// A hart kept taking traps without retiring an instruction ([`WEDGE_TRAPS`](super::WEDGE_TRAPS) in a row):
    /// the report names the first trap of the chain and the one that repeats.
    Wedged(Wedge),
    /// A debugger's breakpoint, watchpoint or step stopped the run (see [`DebugStop`]).
    Debug(DebugStop),
}

/// Counters of a machine.
#[derive(Debug, Clone, Default)]
pub struct MachineStats {
    /// Instructions retired per hart.
    pub instret: Vec<u64>,
    /// Guest time: `mtime` in 10 MHz ticks.
    pub guest_ticks: u64,
    /// Host seconds spent inside [`Machine::run_until`](super::Machine::run_until).
    pub host_seconds: f64,
    /// TLB hit rate (0..=1): hits / (hits + page-table walks) over all harts' translated
    /// loads, stores and fetch-page changes; `None` when nothing was translated.
    pub tlb_hit_rate: Option<f64>,
    /// Decoded-instruction cache hit rate (0..=1): 1 − decodes / instructions retired.
    pub decode_cache_hit_rate: Option<f64>,
    /// The JIT tier's counters summed over harts (`None` with the JIT off).
    pub jit: Option<crate::hart::jit::JitStats>,
}

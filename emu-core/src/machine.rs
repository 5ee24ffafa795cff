//! The machine: harts, bus, run loop, virtual clock, exit reasons — the API the CLI, tests and
//! benches drive.
//!
//! Time: `mtime` (10 MHz) advances with retired instructions, one tick per
//! [`INSNS_PER_TICK`] instructions of the busiest hart in each round, so a run with the same
//! inputs is repeatable to the byte. When every hart waits in `wfi`, time jumps to the next
//! CLINT deadline (or by [`IDLE_STEP`] ticks, which lets `stimecmp` deadlines of Sstc
//! arrive) — an idle guest costs no host time. [`ClockMode::Host`] follows wall time instead.
//! With [`Machine::set_idle_sleep`] (interactive use, QEMU's `-icount sleep=on`) the virtual
//! clock never runs ahead of wall time while every hart waits: the machine sleeps until the
//! next deadline is due on the wall clock, or until console input comes.
//!
//! Console output is flushed ([`Console::flush`]) once per round.
//!
//! Harts are interleaved round-robin in one host thread, each running a quantum of
//! instructions per round; a seed varies the quantum to shake out races in guest locking.

use std::time::{Duration, Instant};

use crate::boot::{load_boot, BootFile, BootImages, BootLayout};
use crate::bus::{Bus, RAM_BASE};
use crate::dev::clint::MTIME_HZ;
use crate::dev::fdt::{build_fdt, dtb_address};
use crate::dev::htif::Htif;
use crate::dev::rom::ResetRom;
use crate::dev::test_finisher::FinisherRequest;
use crate::dev::virtio::blk::Blk;
use crate::hart::csr::MENVCFG_STCE;
use crate::hart::{irq, Hart, HartExit};
use crate::loader::LoadedImage;
use crate::trace::{Tracer, Wedge};

use crate::console::Console;
pub use crate::dev::virtio::blk::{Disk, DiskMode};
pub use debug::{DebugReg, DebugStop, HartAction, WatchKind};

mod config;
mod debug;
use crate::error::EmuError;
pub use config::{ClockMode, ExitReason, MachineConfig, MachineStats, RtcClock, RunLimits};

/// Instructions per `mtime` tick: 10 MHz of guest time at a nominal 100 MIPS.
pub const INSNS_PER_TICK: u64 = 10;
/// Instructions a hart runs per round when no seed varies it.
pub const QUANTUM: u64 = 4096;
/// Ticks (1 ms of guest time) the clock moves per idle step while all harts wait with no timer
/// deadline at all (only input can wake them).
pub const IDLE_STEP: u64 = MTIME_HZ / 1000;
/// Host time slept per idle step when only console input can wake the guest.
pub const IDLE_SLEEP: Duration = Duration::from_micros(200);
/// Longest host wait per idle step when guest time follows the wall clock (host clock or
/// [`Machine::set_idle_sleep`]) and only console input can wake the guest.
pub const IDLE_INPUT_WAIT: Duration = Duration::from_millis(100);
/// Most harts a machine may have.
pub const MAX_HARTS: usize = 8;
/// Traps a hart may take in a row without retiring an instruction before the run stops with
/// [`ExitReason::Wedged`] (no handler takes this many traps without running an instruction).
pub const WEDGE_TRAPS: u64 = 4096;

/// A whole board: harts, bus, clock.
pub struct Machine {
    config: MachineConfig,
    harts: Vec<Hart>,
    waiting: Vec<bool>,
    retired: Vec<u64>,
    total_retired: u64,
    /// TLB hits, TLB misses and decodes of the harts before their last reset (for `stats`).
    counts_before_reset: [u64; 3],
    bus: Bus,
    image: Option<LoadedImage>,
    /// The images as given to [`Machine::boot`], reloaded by [`Machine::reset`].
    boot: Option<BootImages>,
    /// Where the last boot put them.
    layout: Option<BootLayout>,
    /// Guest reset requests that rebooted the machine.
    reboots: u64,
    dtb: Vec<u8>,
    dtb_addr: u64,
    dtb_len: u64,
    tick_remainder: u64,
    rng: u64,
    host_seconds: f64,
    /// Host instant and `mtime` at which host-clock mode last synchronised.
    host_base: Option<(Instant, u64)>,
    /// The HTIF of a kernel with a `tohost` symbol, when `config.htif` (polled every round).
    htif: Option<Htif>,
    /// Per hart: steps spent taking traps without retiring an instruction, in a row.
    trap_steps: Vec<u64>,
    /// Receives `--trace` output, when tracing.
    tracer: Option<Box<dyn Tracer>>,
    /// Breakpoints, watchpoints and hart actions while a debugger is attached (machine/debug.rs).
    debug: Option<Box<debug::DebugState>>,
    /// Pace idle virtual time to the wall clock ([`Machine::set_idle_sleep`]).
    idle_sleep: bool,
    /// Host instant and `mtime` from which paced idle time is measured.
    wall_anchor: Option<(Instant, u64)>,
}

impl Machine {
    /// Build a machine: harts in reset at the reset ROM, RAM, devices, and the device tree in
    /// RAM. Errors: harts not in 1..=8, RAM under 1 MiB or over 64 GiB.
    pub fn new(config: MachineConfig) -> Result<Machine, EmuError> {
        if !(1..=MAX_HARTS).contains(&config.harts) {
            return Err(EmuError::Config(format!(
                "{} harts; give 1 to {MAX_HARTS}",
                config.harts
            )));
        }
        if config.ram_size < (1 << 20) || config.ram_size > (64 << 30) {
            return Err(EmuError::Config(format!(
                "{} bytes of RAM; give 1 MiB to 64 GiB",
                config.ram_size
            )));
        }
        let n = config.harts;
        let mut bus = Bus::with_harts(config.ram_size as usize, n, config.virtio_legacy);
        let dtb =
            build_fdt(n, RAM_BASE, config.ram_size).map_err(|e| EmuError::Fdt(e.to_string()))?;
        let dtb_addr = dtb_address(RAM_BASE, config.ram_size, dtb.len() as u64);
        bus.ram
            .write_bytes(dtb_addr, &dtb)
            .map_err(|_| EmuError::Fdt("the device tree does not fit in RAM".into()))?;
        bus.rom = ResetRom::new(RAM_BASE, dtb_addr, 0);
        let dtb_len = dtb.len() as u64;
        let rng = config.seed.unwrap_or(0) ^ 0x9e37_79b9_7f4a_7c15;
        Ok(Machine {
            harts: (0..n as u64)
                .map(|id| {
                    let mut h = Hart::new(id);
                    h.set_jit(config.jit);
                    h
                })
                .collect(),
            waiting: vec![false; n],
            retired: vec![0; n],
            total_retired: 0,
            counts_before_reset: [0; 3],
            bus,
            image: None,
            boot: None,
            layout: None,
            reboots: 0,
            dtb,
            dtb_addr,
            dtb_len,
            tick_remainder: 0,
            rng,
            host_seconds: 0.0,
            host_base: None,
            htif: None,
            trap_steps: vec![0; n],
            tracer: None,
            debug: None,
            idle_sleep: false,
            wall_anchor: None,
            config,
        })
    }

    /// Load a kernel without firmware (QEMU `-bios none -kernel`): an ELF64 RISC-V executable
    /// by its segments, or a raw image at 0x8000_0000; the reset ROM jumps to its entry in
    /// M-mode. `name` (the file path) appears in errors. Same as [`Machine::boot`] with only a
    /// kernel.
    pub fn load_kernel(&mut self, bytes: &[u8], name: &str) -> Result<(), EmuError> {
        self.boot(BootImages {
            kernel: Some(BootFile::new(name, bytes.to_vec())),
            ..BootImages::default()
        })
    }

    /// Load firmware, kernel and initrd where QEMU `virt` puts them, write the device tree
    /// (with `/chosen` bootargs and initrd) at the top of RAM and point the reset ROM at the
    /// firmware (or the kernel without one); see [`crate::boot`]. The images are kept and
    /// loaded again on every reset. Errors: one line naming the file and the fix (bad ELF,
    /// images overlapping or outside RAM, S-mode Linux `Image` without firmware, …).
    pub fn boot(&mut self, images: BootImages) -> Result<(), EmuError> {
        let layout = load_boot(&mut self.bus.ram, self.harts.len(), &images)?;
        self.bus.rom = ResetRom::new(layout.start, layout.dtb_addr, layout.kernel_entry);
        self.htif = match (self.config.htif, layout.started.tohost) {
            (true, Some(tohost)) => Some(Htif::new(tohost, layout.started.fromhost)),
            _ => None,
        };
        self.image = Some(layout.kernel.clone().unwrap_or(layout.started.clone()));
        self.dtb_addr = layout.dtb_addr;
        self.dtb_len = layout.dtb.len() as u64;
        self.dtb = layout.dtb.clone();
        self.layout = Some(layout);
        self.boot = Some(images);
        Ok(())
    }

    /// Reset the board to power-on, as a guest reset request does (and as QEMU's system
    /// reset): harts back to the reset ROM; CLINT, PLIC, UART and virtio transports to their
    /// power-on state (disks and console stay attached; `mtime` keeps counting so guest time
    /// stays monotonic for the host); RAM zeroed; the images of [`Machine::boot`] loaded again
    /// and the device tree rewritten.
    pub fn reset(&mut self) -> Result<(), EmuError> {
        let n = self.harts.len();
        for hart in &mut self.harts {
            // The statistics span reboots, as the instruction counts do.
            let c = &mut self.counts_before_reset;
            c[0] += hart.tlb_hits();
            c[1] += hart.tlb_misses();
            c[2] += hart.decode_misses();
            hart.reset();
        }
        self.waiting = vec![false; n];
        let mtime = self.bus.clint.mtime;
        self.bus.clint = crate::dev::clint::Clint::new(n);
        self.bus.clint.mtime = mtime;
        self.bus.plic = crate::dev::plic::Plic::new(2 * n);
        self.bus.uart.reset();
        for slot in &mut self.bus.virtio {
            slot.reset();
        }
        self.bus.test_finisher.request = None;
        self.bus.fw_cfg = crate::dev::fw_cfg::FwCfg::new(n);
        self.bus.ecam = crate::dev::pcie::Ecam::new();
        self.trap_steps = vec![0; n];
        self.bus.event = false;
        self.bus.ram.clear();
        match self.boot.clone() {
            Some(images) => self.boot(images)?,
            None => self
                .bus
                .ram
                .write_bytes(self.dtb_addr, &self.dtb)
                .map_err(|_| EmuError::Fdt("the device tree does not fit in RAM".into()))?,
        }
        Ok(())
    }

    /// Put `disk` behind virtio-mmio slot 0 (0x1000_1000, PLIC source 1) as a block device.
    pub fn attach_disk(&mut self, disk: Disk) {
        self.bus.virtio[0].set_device(Some(Box::new(Blk::new(disk))));
    }

    /// Send traces to `tracer`: every trap taken when `traps` (`--trace traps`), accesses to
    /// unclaimed addresses and unimplemented registers when `unimp` (`--trace unimp`).
    pub fn set_tracer(&mut self, tracer: Box<dyn Tracer>, traps: bool, unimp: bool) {
        for hart in &mut self.harts {
            hart.trap_log.trace = traps.then(Vec::new);
        }
        self.bus.unimp_log = unimp.then(Vec::new);
        self.tracer = Some(tracer);
    }

    /// Hand what the harts and the bus recorded to the tracer.
    #[cold]
    fn flush_traces(&mut self) {
        let Some(tracer) = &mut self.tracer else {
            return;
        };
        for hart in &mut self.harts {
            if let Some(log) = &mut hart.trap_log.trace {
                for r in log.drain(..) {
                    tracer.trap(&r);
                }
            }
        }
        if let Some(log) = &mut self.bus.unimp_log {
            for a in log.drain(..) {
                tracer.unimp(&a);
            }
        }
    }

    /// The RTC's time now: nanoseconds since the Unix epoch.
    fn rtc_now(&self) -> u64 {
        match self.config.rtc {
            RtcClock::Virtual => crate::dev::rtc::VIRTUAL_EPOCH_NS
                .wrapping_add(self.bus.clint.mtime * (1_000_000_000 / MTIME_HZ)),
            RtcClock::Host => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
        }
    }

    /// Connect the UART to `console`.
    pub fn set_console(&mut self, console: Box<dyn Console>) {
        self.bus.uart.set_console(console);
    }

    /// With `on`, the virtual clock never runs ahead of wall time while every hart waits
    /// (QEMU's `-icount sleep=on`): idle periods are slept out on the host — cut short by
    /// console input ([`Console::wait_for_input`]) — instead of skipped. For a person at the
    /// keyboard (a guest's `sleep 10` takes 10 s, an idle guest costs no host CPU); scripted
    /// runs leave it off (the default) and skip idle time. The host clock always sleeps.
    pub fn set_idle_sleep(&mut self, on: bool) {
        self.idle_sleep = on;
        self.wall_anchor = None;
    }

    /// The configuration the machine was built with.
    pub fn config(&self) -> &MachineConfig {
        &self.config
    }
    /// The bus (RAM and devices).
    pub fn bus(&self) -> &Bus {
        &self.bus
    }
    /// The bus, mutably (tests poke RAM and devices).
    pub fn bus_mut(&mut self) -> &mut Bus {
        &mut self.bus
    }
    /// Hart `i`.
    pub fn hart(&self, i: usize) -> &Hart {
        &self.harts[i]
    }
    /// Hart `i`, mutably.
    pub fn hart_mut(&mut self, i: usize) -> &mut Hart {
        &mut self.harts[i]
    }
    /// Number of harts.
    pub fn num_harts(&self) -> usize {
        self.harts.len()
    }
    /// What [`Machine::load_kernel`] loaded (entry, HTIF `tohost`/`fromhost` symbols).
    pub fn loaded_image(&self) -> Option<&LoadedImage> {
        self.image.as_ref()
    }
    /// Where the last [`Machine::boot`] put firmware, kernel, initrd and device tree.
    pub fn boot_layout(&self) -> Option<&BootLayout> {
        self.layout.as_ref()
    }
    /// How many guest reset requests rebooted the machine so far.
    pub fn reboots(&self) -> u64 {
        self.reboots
    }
    /// Physical address of the device tree (passed in `a1`).
    pub fn dtb_address(&self) -> u64 {
        self.dtb_addr
    }
    /// Whether hart `i` waits in `wfi`.
    pub fn is_waiting(&self, i: usize) -> bool {
        self.waiting[i]
    }

    /// Counters so far.
    pub fn stats(&self) -> MachineStats {
        let [mut hits, mut misses, mut decodes] = self.counts_before_reset;
        for h in &self.harts {
            hits += h.tlb_hits();
            misses += h.tlb_misses();
            decodes += h.decode_misses();
        }
        let executed: u64 = self.retired.iter().sum();
        MachineStats {
            instret: self.retired.clone(),
            guest_ticks: self.bus.clint.mtime,
            host_seconds: self.host_seconds,
            tlb_hit_rate: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
            decode_cache_hit_rate: (executed > 0)
                .then(|| 1.0 - (decodes.min(executed) as f64 / executed as f64)),
            jit: self.config.jit.then(|| {
                self.harts.iter().map(|h| h.jit_stats()).fold(
                    Default::default(),
                    |a: crate::hart::jit::JitStats, b| crate::hart::jit::JitStats {
                        blocks: a.blocks + b.blocks,
                        failed: a.failed + b.failed,
                        insns: a.insns + b.insns,
                        compile_ns: a.compile_ns + b.compile_ns,
                        flushes: a.flushes + b.flushes,
                    },
                )
            }),
        }
    }

    /// Run until the guest powers off (or resets, with [`MachineConfig::no_reboot`]), a limit
    /// is reached, or `stop` (checked between rounds, i.e. every few thousand instructions)
    /// returns true. A guest reset request otherwise reboots the machine ([`Machine::reset`])
    /// and the run goes on.
    pub fn run_until(
        &mut self,
        limits: &RunLimits,
        stop: &mut dyn FnMut(&Machine) -> bool,
    ) -> ExitReason {
        let start = Instant::now();
        let reason = self.run_loop(start, limits, stop);
        self.bus.uart.console_mut().flush();
        self.host_seconds += start.elapsed().as_secs_f64();
        reason
    }

    fn run_loop(
        &mut self,
        start: Instant,
        limits: &RunLimits,
        stop: &mut dyn FnMut(&Machine) -> bool,
    ) -> ExitReason {
        if self.image.is_none() {
            return ExitReason::HostError(
                "no kernel loaded; call Machine::load_kernel or Machine::boot first".into(),
            );
        }
        let deadline = limits.timeout.map(|t| start + t);
        if self.config.clock == ClockMode::Host {
            self.host_base = Some((Instant::now(), self.bus.clint.mtime));
        }
        loop {
            if stop(self) {
                return ExitReason::Stopped;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return ExitReason::Timeout;
            }
            let left = match limits.max_insns {
                Some(max) if self.total_retired >= max => return ExitReason::InstructionLimit,
                Some(max) => max - self.total_retired,
                None => u64::MAX,
            };
            if self.bus.uart.poll_console() {
                // New input: the harts see it through the PLIC below.
                self.bus.uart_irq_update();
                self.bus.event = false;
            }
            if self.config.clock == ClockMode::Host {
                self.sync_host_clock();
            }
            let now = self.rtc_now();
            self.bus.set_rtc_time(now);
            let (mut busiest, mut round) = (0, 0);
            let mut outcome = Ok(());
            if self.debug.as_ref().is_some_and(|d| d.stepper()) {
                // A debugger's breakpoints, watchpoints or steps: one instruction at a time.
                match self.debug_round(left) {
                    Ok((b, _)) => busiest = b,
                    Err(reason) => outcome = Err(reason),
                }
                if self.tracer.is_some() {
                    self.flush_traces();
                }
            } else {
                for h in 0..self.harts.len() {
                    let budget = self.next_quantum().min(left - round);
                    match self.run_hart(h, budget) {
                        Ok(ran) => {
                            busiest = busiest.max(ran);
                            round += ran;
                        }
                        Err(reason) => {
                            outcome = Err(reason);
                            break;
                        }
                    }
                }
            }
            match outcome {
                Ok(()) => {}
                Err(ExitReason::Reset) if !self.config.no_reboot => {
                    if let Err(e) = self.reset() {
                        return ExitReason::HostError(format!("reboot failed: {e}"));
                    }
                    self.reboots += 1;
                }
                Err(reason) => return reason,
            }
            if self.config.clock == ClockMode::Virtual {
                let t = self.tick_remainder + busiest;
                self.advance_mtime(t / INSNS_PER_TICK);
                self.tick_remainder = t % INSNS_PER_TICK;
            }
            if let Some(htif) = &mut self.htif {
                let console = self.bus.uart.console_mut();
                if let Some(exit) = htif.poll(&mut self.bus.ram, console) {
                    return ExitReason::PowerOff { code: exit.code };
                }
            }
            self.bus.uart.console_mut().flush();
            if (0..self.harts.len()).all(|h| self.waiting[h] || self.debug_frozen(h)) {
                self.idle(deadline);
            }
        }
    }

    /// Set hart `h`'s view of time and its interrupt lines from the CLINT and PLIC.
    fn update_hart_irqs(&mut self, h: usize) {
        let bus = &self.bus;
        let mut bits = 0;
        if bus.clint.msip(h) {
            bits |= irq::MSIP;
        }
        if bus.clint.mtip(h) {
            bits |= irq::MTIP;
        }
        if bus.plic.context_irq(2 * h) {
            bits |= irq::MEIP;
        }
        if bus.plic.context_irq(2 * h + 1) {
            bits |= irq::SEIP;
        }
        let hart = &mut self.harts[h];
        hart.mtime = bus.clint.mtime;
        hart.set_external_irq(irq::MSIP | irq::MTIP | irq::MEIP | irq::SEIP, bits);
    }

    /// Run hart `h` for up to `budget` instructions (fewer if it waits). Returns the number
    /// retired, or the exit reason when the guest powered off or reset.
    fn run_hart(&mut self, h: usize, budget: u64) -> Result<u64, ExitReason> {
        self.update_hart_irqs(h);
        if self.waiting[h] {
            if !self.harts[h].wfi_wakeup() {
                return Ok(0);
            }
            self.waiting[h] = false;
        }
        let mut ran = 0;
        while ran < budget {
            let (exit, n) = self.harts[h].run(&mut self.bus, budget - ran);
            if self.tracer.is_some() {
                self.flush_traces();
            }
            if n == 0 && exit == HartExit::Budget {
                // Every step was a trap: count towards a wedge.
                self.trap_steps[h] += budget - ran;
                if self.trap_steps[h] >= WEDGE_TRAPS {
                    return Err(self.wedge_report(h));
                }
                break;
            }
            if n != 0 {
                self.trap_steps[h] = 0;
            }
            ran += n;
            let now_waiting = self.after_hart_run(h, exit, n)?;
            if exit == HartExit::Budget || now_waiting {
                break;
            }
        }
        Ok(ran)
    }

    /// What follows every run of hart `h` that retired `n` instructions and stopped with
    /// `exit`, in the fast loop and the debug round alike: the instruction counts, a device
    /// event (power-off, reset, interrupt lines), and after `wfi` whether the hart now waits
    /// (returned: true when it does). A device event that ends the run is the error.
    fn after_hart_run(&mut self, h: usize, exit: HartExit, n: u64) -> Result<bool, ExitReason> {
        self.retired[h] += n;
        self.total_retired += n;
        if std::mem::take(&mut self.bus.event) {
            if let Some(reason) = self.handle_event() {
                return Err(reason);
            }
            self.update_hart_irqs(h);
        }
        if exit == HartExit::Wfi {
            self.update_hart_irqs(h);
            if !self.harts[h].wfi_wakeup() {
                self.waiting[h] = true;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The report for hart `h`, which took [`WEDGE_TRAPS`] traps without retiring.
    #[cold]
    fn wedge_report(&self, h: usize) -> ExitReason {
        let log = &self.harts[h].trap_log;
        match (log.first, log.last) {
            (Some(first), Some(repeat)) => ExitReason::Wedged(Wedge {
                hart: h as u64,
                first,
                repeat,
                traps: self.trap_steps[h].max(log.chain),
            }),
            _ => ExitReason::HostError(format!("hart {h} stopped retiring instructions")),
        }
    }

    /// Act on what a device asked for after an MMIO access.
    fn handle_event(&mut self) -> Option<ExitReason> {
        if self.bus.clint.mtime_written {
            self.bus.clint.mtime_written = false;
            if self.host_base.is_some() {
                self.host_base = Some((Instant::now(), self.bus.clint.mtime));
            }
            self.wall_anchor = None;
        }
        match self.bus.test_finisher.request.take()? {
            FinisherRequest::PowerOff { code } => Some(ExitReason::PowerOff { code }),
            FinisherRequest::Reset => Some(ExitReason::Reset),
        }
    }

    fn advance_mtime(&mut self, ticks: u64) {
        self.bus.clint.mtime = self.bus.clint.mtime.wrapping_add(ticks);
    }

    fn sync_host_clock(&mut self) {
        if let Some((at, base)) = self.host_base {
            let ticks = (at.elapsed().as_nanos() * MTIME_HZ as u128 / 1_000_000_000) as u64;
            self.bus.clint.mtime = base.wrapping_add(ticks);
        }
    }

    /// Every hart waits: bring the next wake-up forward (virtual clock) or sleep until it
    /// (host clock), watching the console for input.
    fn idle(&mut self, deadline: Option<Instant>) {
        for h in 0..self.harts.len() {
            self.update_hart_irqs(h);
            if self.harts[h].wfi_wakeup() && !self.debug_frozen(h) {
                return;
            }
        }
        if self.bus.uart.poll_console() {
            self.bus.uart_irq_update();
            self.bus.event = false;
            return;
        }
        let now = self.bus.clint.mtime;
        let sstc = self
            .harts
            .iter()
            .filter(|h| h.csr.menvcfg & MENVCFG_STCE != 0 && h.csr.mie & irq::STIP != 0)
            .map(|h| h.csr.stimecmp)
            .filter(|&t| t > now)
            .min();
        let (target, only_input) = match (self.bus.clint.next_deadline(), sstc) {
            (Some(a), Some(b)) => (a.min(b), false),
            (Some(a), None) | (None, Some(a)) => (a, false),
            (None, None) => (now.saturating_add(IDLE_STEP), true),
        };
        match self.config.clock {
            ClockMode::Virtual if self.idle_sleep => {
                self.idle_paced(now, target, only_input, deadline)
            }
            ClockMode::Virtual => {
                self.bus.clint.mtime = target;
                if only_input {
                    // Only console input can wake the guest: wait for it without spinning.
                    // Guest time moves by IDLE_STEP either way, so runs stay reproducible.
                    std::thread::sleep(IDLE_SLEEP);
                }
            }
            ClockMode::Host => {
                let wait = if only_input {
                    IDLE_INPUT_WAIT
                } else {
                    ticks_to_duration(target - now)
                };
                let wait = match deadline {
                    Some(d) => wait.min(d.saturating_duration_since(Instant::now())),
                    None => wait,
                };
                self.bus.uart.console_mut().wait_for_input(wait);
                self.sync_host_clock();
            }
        }
    }

    /// Idle with the virtual clock paced to the wall clock (QEMU's `-icount sleep=on`): wait
    /// until `target` is due on the wall clock or console input comes, then move `mtime` by the
    /// wall time that passed. Due times are measured from an anchor, so consecutive idle periods
    /// do not drift; idle time never passes faster than wall time. A lead a busy guest built
    /// (its instructions ran faster than 10 per 100 ns) is not paid back, and a guest behind the
    /// wall clock jumps to `target` at once, the lag forgiven: either way the anchor moves.
    fn idle_paced(&mut self, now: u64, target: u64, only_input: bool, deadline: Option<Instant>) {
        let wall = Instant::now();
        let target = if only_input {
            now.saturating_add(IDLE_INPUT_WAIT.as_nanos() as u64 * MTIME_HZ / 1_000_000_000)
        } else {
            target
        };
        let span = ticks_to_duration(target - now);
        let (mut at, mut base) = *self.wall_anchor.get_or_insert((wall, now));
        let mut due = at + ticks_to_duration(target.saturating_sub(base));
        if due <= wall || target < base {
            self.bus.clint.mtime = target;
            self.wall_anchor = Some((wall, target));
            return;
        }
        if due > wall + span {
            (at, base, due) = (wall, now, wall + span);
            self.wall_anchor = Some((at, base));
        }
        let wait = match deadline {
            Some(d) => (due - wall).min(d.saturating_duration_since(wall)),
            None => due - wall,
        };
        self.bus.uart.console_mut().wait_for_input(wait);
        let passed = (at.elapsed().as_nanos() * MTIME_HZ as u128 / 1_000_000_000) as u64;
        self.bus.clint.mtime = base.saturating_add(passed).clamp(now, target);
    }

    /// The next quantum: fixed without a seed, else varied in [QUANTUM/4, 2·QUANTUM).
    fn next_quantum(&mut self) -> u64 {
        if self.config.seed.is_none() {
            return QUANTUM;
        }
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        QUANTUM / 4 + z % (QUANTUM * 2 - QUANTUM / 4)
    }
}

/// `ticks` of `mtime` (10 MHz) as a host duration.
fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::from_nanos(ticks.saturating_mul(1_000_000_000 / MTIME_HZ))
}

//! Shared helpers for the end-to-end tests: boot the bundled images on emu-core and drive the
//! guest's console like a user at the `$ ` prompt.
#![allow(dead_code)]

use emu_core::machine::{Disk, ExitReason, RunLimits};
use emu_core::MemoryConsole;
use emu_core::{Machine, MachineConfig};
use std::time::Duration;

/// Instructions a single shell command may take before the test gives up (all harts together).
/// cowtest needs about 1.3·10⁹; usertests -q several times that.
pub const COMMAND_BUDGET: u64 = 40_000_000_000;

/// A booted guest with its console.
pub struct Guest {
    pub machine: Machine,
    pub console: MemoryConsole,
    /// Console bytes already consumed by [`Guest::run_command`].
    seen: usize,
}

impl Guest {
    /// Boot `kernel` (ELF bytes) with the bundled fs.img as an in-memory overlay on `harts` harts,
    /// and wait for the first `$ ` prompt.
    pub fn boot(kernel: &[u8], harts: usize, seed: Option<u64>) -> Guest {
        Guest::boot_with_ram(kernel, harts, seed, MachineConfig::default().ram_size)
    }

    /// Like [`Guest::boot`] with `ram_size` bytes of RAM (`emu-cli boot --mem`).
    pub fn boot_with_ram(kernel: &[u8], harts: usize, seed: Option<u64>, ram_size: u64) -> Guest {
        Guest::boot_config(
            kernel,
            MachineConfig {
                harts,
                seed,
                ram_size,
                ..Default::default()
            },
        )
    }

    /// Like [`Guest::boot`] on a machine built from `config`.
    pub fn boot_config(kernel: &[u8], config: MachineConfig) -> Guest {
        let mut machine = Machine::new(config).expect("machine config");
        machine
            .load_kernel(kernel, "kernel.img")
            .expect("bundled kernel loads");
        machine.attach_disk(Disk::from_bytes(images::FS_IMG.to_vec()));
        let console = MemoryConsole::new();
        machine.set_console(Box::new(console.clone()));
        let mut guest = Guest {
            machine,
            console,
            seen: 0,
        };
        let out = guest.wait_for("$ ", 2_000_000_000);
        assert!(
            out.contains("$ "),
            "no shell prompt after boot; console:\n{out}"
        );
        guest
    }

    /// Run until the console output (after what was already consumed) contains `pattern`, the
    /// guest powers off, or `budget` more instructions retire. Returns the new output and marks
    /// it consumed up to the end of the first match of `pattern` (all of it if not found).
    pub fn wait_for(&mut self, pattern: &str, budget: u64) -> String {
        let start = self.seen;
        let already: u64 = self.machine.stats().instret.iter().sum();
        let console = self.console.clone();
        let limits = RunLimits {
            max_insns: Some(already + budget),
            timeout: Some(Duration::from_secs(600)),
        };
        let exit = self.machine.run_until(&limits, &mut |_| {
            let out = console.output();
            find(&out[start.min(out.len())..], pattern.as_bytes()).is_some()
        });
        let out = self.console.output();
        let fresh = &out[start..];
        match find(fresh, pattern.as_bytes()) {
            Some(i) => self.seen = start + i + pattern.len(),
            None => self.seen = out.len(),
        }
        let text = String::from_utf8_lossy(fresh).into_owned();
        if !matches!(exit, ExitReason::Stopped) {
            return format!("{text}\n[machine stopped: {exit:?}]");
        }
        text
    }

    /// Type `line` and a newline at the prompt, wait for the next prompt, and return what the
    /// command printed (including the echoed command line).
    pub fn run_command(&mut self, line: &str, budget: u64) -> String {
        self.console.push_input(line.as_bytes());
        self.console.push_input(b"\n");
        self.wait_for("\n$ ", budget)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

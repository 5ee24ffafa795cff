//! The machine: harts, bus, run loop, virtual clock, exit reasons.

/// How a machine is built.
#[derive(Debug, Clone)]
pub struct MachineConfig {
    /// Number of harts, 1 to 8.
    pub harts: usize,
    /// RAM size in bytes.
    pub ram_size: u64,
}

/// Why [`Machine::run_until`] returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    /// The guest powered off through the test finisher; `code` 0 means pass.
    PowerOff { code: u32 },
}

/// A whole board.
pub struct Machine {}

impl Machine {
    /// Run until the guest powers off.
    pub fn run_until(&mut self) -> ExitReason {
        unimplemented!("board: issue 3")
    }
}

//! emu-core: an RV64GC hart interpreter (M/S/U, Sv39) on the QEMU `virt` board layout.
//!
//! The picture (see ARCHITECTURE.md): a [`Machine`] owns N [`hart::Hart`]s and one [`bus::Bus`];
//! the bus maps physical addresses to RAM and to devices; the CLI and tests drive a machine
//! through [`Machine::run_until`] and watch its [`Console`].
pub mod bus;
pub mod dev;
pub mod hart;
pub mod loader;
pub mod machine;

pub use machine::{
    ClockMode, Console, Disk, DiskMode, EmuError, ExitReason, Machine, MachineConfig, MachineStats,
    MemoryConsole, NullConsole, RunLimits,
};

//! emu-core: an RV64GC hart interpreter (M/S/U, Sv39) on the QEMU `virt` board layout.
//!
//! The picture (see ARCHITECTURE.md): a [`Machine`] owns N [`hart::Hart`]s and one [`bus::Bus`];
//! the bus maps physical addresses to RAM and to devices; the CLI and tests drive a machine
//! through [`Machine::run_until`] and watch its [`Console`].
pub mod boot;
pub mod bus;
pub mod console;
pub mod dev;
pub mod error;
pub mod hart;
pub mod loader;
pub mod machine;
pub mod trace;

pub use boot::{BootFile, BootImages, BootLayout};
pub use console::{Console, MemoryConsole, NullConsole};
pub use error::EmuError;
pub use machine::{
    ClockMode, DebugReg, DebugStop, Disk, DiskMode, ExitReason, HartAction, Machine, MachineConfig,
    MachineStats, RtcClock, RunLimits, WatchKind,
};

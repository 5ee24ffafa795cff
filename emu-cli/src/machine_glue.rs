//! The one place emu-cli calls emu-core's machine API: build the machine from a [`BootPlan`],
//! attach console and disk, run it under the limits, collect statistics.

use std::io::Stdout;
use std::sync::Arc;

use anyhow::{anyhow, Result};

use crate::boot::BootPlan;
use crate::console::{SessionConsole, StopFlag};
use crate::host_files::KernelFormat;
use crate::options::BootArgs;
use crate::outcome::{RunEnd, StatsReport};

/// Builds and runs the machine; returns how the run ended and its statistics.
///
/// # Errors
/// The machine could not be built (bad image, disk I/O): one line naming the file and the fix.
pub fn run_machine(
    _plan: &BootPlan,
    _kernel: &[u8],
    _format: KernelFormat,
    _kernel_name: &str,
    _console: SessionConsole<Stdout>,
    _stop: &Arc<StopFlag>,
    _args: &BootArgs,
) -> Result<(RunEnd, Option<StatsReport>)> {
    Err(anyhow!("this build has no machine yet: emu-core's Machine (issue 3) is not merged into this branch"))
}

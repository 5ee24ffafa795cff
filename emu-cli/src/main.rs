//! `emu-cli`: boot a kernel on rvcow's RISC-V `virt` board.
//!
//! ```text
//! emu-cli boot [KERNEL] [--disk IMG] [--snapshot] [--smp N] [--mem SIZE] [--clock virtual|host]
//!              [--seed N] [--timeout SECS] [--max-insns N] [--send TEXT | --expect PATTERN]...
//!              [--expect-timeout SECS] [--until PATTERN] [--stats] [--quiet] [--htif on|off]
//!              [--bios FILE] [--initrd FILE] [--append TEXT] [--no-reboot] [--gdb tcp::PORT | -s]
//!              [--halted | -S]
//! emu-cli images [--export DIR]
//! ```
//!
//! Exit status: the guest's power-off code; 1 host error (one line naming the file and the fix);
//! 124 `--timeout`/`--max-insns` reached; 125 usage error.

mod boot;
mod console;
mod ctrl_a;
mod gdb;
mod host_files;
mod machine_glue;
mod options;
mod outcome;
mod terminal;

use crate::options::{Cli, Command, ImagesArgs};
use crate::outcome::{EXIT_HOST_ERROR, EXIT_USAGE};

fn main() {
    let status = match options::parse_cli_from(std::env::args_os()) {
        Ok(cli) => run(cli),
        Err(e) => {
            let _ = e.print();
            if e.use_stderr() {
                EXIT_USAGE
            } else {
                0 // --help, --version
            }
        }
    };
    std::process::exit(status);
}

/// Runs a parsed command line; host errors become one line on stderr and status 1.
fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Boot(args) => boot::run(&args),
        Command::Images(args) => images_command(&args).map(|()| 0),
    };
    result.unwrap_or_else(|e| {
        terminal::restore_terminal();
        eprintln!("emu-cli: {e}");
        EXIT_HOST_ERROR
    })
}

/// `emu-cli images`: print where the bundled images are, or copy them into `--export DIR`.
fn images_command(args: &ImagesArgs) -> anyhow::Result<()> {
    match &args.export {
        Some(dir) => {
            let written = images::export(dir).map_err(|e| {
                anyhow::anyhow!(
                    "{}: {}; give a writable directory",
                    dir.display(),
                    host_files::io_reason(&e)
                )
            })?;
            for path in written {
                println!("{}", path.display());
            }
        }
        None => {
            println!("kernel.img        {}", images::kernel_path().display());
            println!(
                "kernel-eager.img  {}",
                images::kernel_eager_path().display()
            );
            println!("kernel-odf.img    {}", images::kernel_odf_path().display());
            println!("fs.img            {}", images::fs_path().display());
            let user = images::user_program_path("");
            println!(
                "user programs     {} (with symbols, for gdb)",
                user.display()
            );
        }
    }
    Ok(())
}

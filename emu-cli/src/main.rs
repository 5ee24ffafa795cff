//! `emu-cli`: boot a kernel on rvcow's RISC-V `virt` board.
//!
//! ```text
//! emu-cli boot [KERNEL] [--disk IMG] [--snapshot] [--smp N] [--mem SIZE] [--clock virtual|host]
//!              [--seed N] [--timeout SECS] [--max-insns N] [--send TEXT | --expect PATTERN]...
//!              [--expect-timeout SECS] [--until PATTERN] [--stats] [--quiet] [--htif on|off]
//!              [--bios FILE] [--initrd FILE] [--append TEXT] [--no-reboot] [--gdb tcp::PORT | -s]
//!              [--halted | -S] [--trace traps,unimp] [--rtc virtual|host] [--virtio modern|legacy]
//! emu-cli images [--export DIR]
//! ```
//!
//! Exit status: the guest's power-off code; 1 host error (one line naming the file and the fix);
//! 124 `--timeout`/`--max-insns` reached; 125 usage error; 126 a hart wedged (trap loop).

mod boot;
mod console;
mod ctrl_a;
mod gdb;
mod host_files;
mod machine_glue;
mod options;
mod outcome;
mod qemu;
mod terminal;

use crate::options::{Cli, Command, ImagesArgs};
use crate::outcome::{EXIT_HOST_ERROR, EXIT_USAGE};

fn main() {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == "qemu") {
        std::process::exit(qemu_command(&argv[2..]));
    }
    let status = match options::parse_cli_from(argv) {
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
        Command::Qemu(args) => Ok(qemu_command(
            &args
                .args
                .iter()
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>(),
        )),
    };
    result.unwrap_or_else(|e| {
        terminal::restore_terminal();
        eprintln!("emu-cli: {e}");
        EXIT_HOST_ERROR
    })
}

/// `emu-cli qemu ARGS…`: a qemu-system-riscv64 command line run as `emu-cli boot` (see qemu.rs).
fn qemu_command(args: &[std::ffi::OsString]) -> i32 {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match qemu::translate(&args) {
        Ok(qemu::QemuAction::Help) => {
            print!("{}", qemu::HELP);
            0
        }
        Ok(qemu::QemuAction::Version) => {
            println!(
                "QEMU emulator version 7.2.0 (rvcow emu-cli {} standing in for qemu-system-riscv64)",
                env!("CARGO_PKG_VERSION")
            );
            0
        }
        Ok(qemu::QemuAction::PrintWrapper) => {
            print!("{}", qemu::wrapper_for_this_executable());
            0
        }
        Ok(qemu::QemuAction::Boot(boot)) => {
            let argv = ["emu-cli".to_string(), "boot".to_string()]
                .into_iter()
                .chain(boot);
            match options::parse_cli_from(argv) {
                Ok(cli) => run(cli),
                Err(e) => {
                    let _ = e.print();
                    EXIT_USAGE
                }
            }
        }
        Err(line) => {
            eprintln!("{line}");
            EXIT_HOST_ERROR
        }
    }
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

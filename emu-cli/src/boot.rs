//! `emu-cli boot`: resolve the options into a plan, set up the console and the terminal, run
//! the machine, and turn its exit reason into an exit status.

use std::path::PathBuf;
use std::sync::{mpsc, Arc};

use anyhow::{anyhow, Result};
use emu_core::{BootFile, BootImages};

use crate::console::{lock_status, GuestClock, SessionConsole, StopFlag};
use crate::host_files::{self, KernelFormat};
use crate::options::{parse_size, BootArgs, Clock, OnOff, RtcSource, TraceWhat, VirtioTransport};
use crate::outcome::{exit_status, RunEnd};
use crate::{gdb, machine_glue, terminal};

/// Where the kernel comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelSource {
    /// The bundled `kernel.img` (see the `images` crate).
    Bundled,
    /// A file named on the command line.
    File(PathBuf),
    /// No kernel: `--bios` without KERNEL runs the firmware alone.
    None,
}

/// What backs the virtio-blk device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskSource {
    /// No disk.
    None,
    /// The bundled `fs.img`, as an in-memory overlay (the shipped image is never modified).
    BundledOverlay,
    /// An image file; `overlay` keeps writes in memory (`--snapshot`).
    File { path: PathBuf, overlay: bool },
    /// An image file the guest sees as a read-only disk (`--disk IMG,readonly`).
    ReadOnly(PathBuf),
}

/// Splits a `--disk` value into the image path and whether `,readonly` (or `,readonly=on`)
/// follows it, as in QEMU's `-drive file=IMG,readonly=on`. `,readonly=off` is accepted too.
pub fn split_disk_arg(value: &std::path::Path) -> (PathBuf, bool) {
    let text = value.to_string_lossy();
    for (suffix, readonly) in [
        (",readonly", true),
        (",readonly=on", true),
        (",readonly=off", false),
    ] {
        if let Some(path) = text.strip_suffix(suffix) {
            if !path.is_empty() {
                return (PathBuf::from(path), readonly);
            }
        }
    }
    (value.to_path_buf(), false)
}

/// Everything `boot` will do, decided from the options before anything runs.
#[derive(Debug, Clone, PartialEq)]
pub struct BootPlan {
    pub kernel: KernelSource,
    pub disk: DiskSource,
    pub harts: usize,
    pub ram_size: u64,
    pub clock: Clock,
    pub seed: Option<u64>,
    pub htif: bool,
    /// `--trace traps`.
    pub trace_traps: bool,
    /// `--trace unimp`.
    pub trace_unimp: bool,
    /// `--rtc host`.
    pub rtc_host: bool,
    /// `--jit on`.
    pub jit: bool,
    /// `--virtio legacy`.
    pub virtio_legacy: bool,
    /// `--bios` (None: QEMU's `-bios none`, the kernel runs in M-mode).
    pub bios: Option<PathBuf>,
    pub initrd: Option<PathBuf>,
    pub append: Option<String>,
    pub no_reboot: bool,
}

impl BootPlan {
    /// Resolves the options: no KERNEL means the bundled kernel, with the bundled fs.img as an
    /// overlay unless `--disk` names another image.
    ///
    /// # Errors
    /// A bad `--mem` (one line naming the option and a fix).
    pub fn from_args(args: &BootArgs) -> Result<BootPlan> {
        let ram_size = parse_size(&args.mem).map_err(|e| anyhow!("--mem {e}"))?;
        let bios = args.bios.clone().filter(|p| p.as_os_str() != "none");
        let kernel = match (&args.kernel, &bios) {
            (Some(path), _) => KernelSource::File(path.clone()),
            (None, None) => KernelSource::Bundled,
            (None, Some(_)) => KernelSource::None,
        };
        let disk = match (&args.disk, &kernel) {
            (Some(value), _) => match split_disk_arg(value) {
                (path, true) if !args.snapshot => DiskSource::ReadOnly(path),
                (path, _) => DiskSource::File {
                    path,
                    overlay: args.snapshot,
                },
            },
            (None, KernelSource::Bundled) => DiskSource::BundledOverlay,
            (None, KernelSource::File(_) | KernelSource::None) => DiskSource::None,
        };
        Ok(BootPlan {
            kernel,
            disk,
            harts: usize::from(args.smp),
            ram_size,
            clock: args.clock,
            seed: args.seed,
            htif: args.htif == OnOff::On,
            trace_traps: args.trace.contains(&TraceWhat::Traps),
            trace_unimp: args.trace.contains(&TraceWhat::Unimp),
            rtc_host: args.rtc == RtcSource::Host,
            jit: args.jit == OnOff::On,
            virtio_legacy: args.virtio == VirtioTransport::Legacy,
            bios,
            initrd: args.initrd.clone(),
            append: args.append.clone(),
            no_reboot: args.no_reboot,
        })
    }

    /// Reads firmware, kernel and initrd into the images the machine boots.
    ///
    /// # Errors
    /// A file is missing, unreadable, or not what its option needs (one line naming the file
    /// and the fix).
    pub fn boot_images(&self) -> Result<BootImages> {
        let bios = match &self.bios {
            Some(path) => Some(BootFile::new(
                path.display().to_string(),
                host_files::read_firmware(path)?,
            )),
            None => None,
        };
        let kernel = match &self.kernel {
            KernelSource::None => None,
            _ => {
                let (bytes, _format, name) = self.kernel_bytes()?;
                Some(BootFile::new(name, bytes))
            }
        };
        let initrd = match &self.initrd {
            Some(path) => Some(BootFile::new(
                path.display().to_string(),
                host_files::read_initrd(path)?,
            )),
            None => None,
        };
        Ok(BootImages {
            bios,
            kernel,
            initrd,
            append: self.append.clone(),
        })
    }

    /// A KERNEL file given without `--disk` whose bytes are one of the bundled kernels (e.g.
    /// after `emu-cli images --export .`) gets the bundled fs.img as an in-memory overlay, as
    /// when no KERNEL is given; the banner says so.
    pub fn give_bundled_kernel_its_disk(&mut self, kernel: &[u8]) {
        let bundled = kernel == images::KERNEL_IMG
            || kernel == images::KERNEL_EAGER_IMG
            || kernel == images::KERNEL_ODF_IMG;
        if bundled && self.disk == DiskSource::None && matches!(self.kernel, KernelSource::File(_))
        {
            self.disk = DiskSource::BundledOverlay;
        }
    }

    /// The kernel's bytes, format and display name.
    ///
    /// # Errors
    /// The kernel file is missing, unreadable, or not a kernel ([`host_files::read_kernel`]).
    pub fn kernel_bytes(&self) -> Result<(Vec<u8>, KernelFormat, String)> {
        match &self.kernel {
            KernelSource::Bundled => Ok((
                images::KERNEL_IMG.to_vec(),
                KernelFormat::Elf,
                "kernel.img (bundled)".into(),
            )),
            KernelSource::None => Err(anyhow!("no kernel given; name a KERNEL file")),
            KernelSource::File(path) => {
                let (bytes, format) = host_files::read_kernel(path)?;
                Ok((bytes, format, path.display().to_string()))
            }
        }
    }

    /// One line describing the boot, for the banner.
    pub fn describe(&self) -> String {
        let mut kernel = match &self.kernel {
            KernelSource::Bundled => "the bundled kernel.img".to_string(),
            KernelSource::File(p) => p.display().to_string(),
            KernelSource::None => "no kernel".to_string(),
        };
        if let Some(bios) = &self.bios {
            kernel = format!("{} then {kernel}", bios.display());
        }
        if let Some(initrd) = &self.initrd {
            kernel += &format!(" with initrd {}", initrd.display());
        }
        let disk = match &self.disk {
            DiskSource::None => "no disk".to_string(),
            DiskSource::BundledOverlay if matches!(self.kernel, KernelSource::File(_)) => {
                "the bundled fs.img (writes kept in memory; KERNEL is a bundled kernel)".to_string()
            }
            DiskSource::BundledOverlay => "the bundled fs.img (writes kept in memory)".to_string(),
            DiskSource::File {
                path,
                overlay: true,
            } => format!("{} (writes kept in memory)", path.display()),
            DiskSource::File {
                path,
                overlay: false,
            } => path.display().to_string(),
            DiskSource::ReadOnly(path) => format!("{} (read-only)", path.display()),
        };
        format!(
            "booting {kernel} on {} hart(s), {} MiB RAM, disk {disk}",
            self.harts,
            self.ram_size >> 20
        )
    }
}

/// Runs `emu-cli boot` and returns the process exit status.
///
/// # Errors
/// Host errors before the machine runs (bad option value, missing kernel or disk): the caller
/// prints them on one line and exits with 1.
pub fn run(args: &BootArgs) -> Result<i32> {
    let mut plan = BootPlan::from_args(args)?;
    let images = plan.boot_images()?;
    if let Some(kernel) = &images.kernel {
        plan.give_bundled_kernel_its_disk(&kernel.bytes);
    }
    match &plan.disk {
        DiskSource::File { path, overlay } => host_files::check_disk(path, !*overlay)?,
        DiskSource::ReadOnly(path) => host_files::check_disk(path, false)?,
        _ => {}
    }
    let mut machine = machine_glue::build_machine(&plan, images)?;
    if args.halted && args.gdb_port().is_none() {
        return Err(anyhow!(
            "--halted waits for gdb; add --gdb tcp::PORT or -s (port 1234)"
        ));
    }
    if args.gdb_port().is_some() && args.expect_timeout.is_some() {
        return Err(anyhow!(
            "--expect-timeout is not watched while gdb holds the machine; use --timeout with --gdb"
        ));
    }
    let gdb = args.gdb_port().map(gdb::GdbListener::bind).transpose()?;

    let stop = Arc::new(StopFlag::new());
    let clock = Arc::new(GuestClock::new());
    let interactive = terminal::stdin_is_terminal();
    terminal::install_panic_hook();
    terminal::spawn_signal_thread(stop.clone())?;
    let (keys_tx, keys_rx) = mpsc::channel();
    terminal::spawn_stdin_reader(interactive, stop.clone(), keys_tx)?;

    let console = SessionConsole::new(
        terminal::stdout_writer()?,
        args.script.clone(),
        Some(keys_rx),
        stop.clone(),
    )
    .with_until(args.until.as_ref().map(|t| t.0.clone()))
    .with_expect_timeout(args.expect_timeout)
    .with_pacing(clock.clone(), machine_glue::SEND_QUIET_TICKS);
    let status = console.status();
    // A person at the keyboard: idle time is slept, not skipped (scripted runs skip it).
    let scripted = !args.script.is_empty() || args.until.is_some();
    machine.set_idle_sleep(interactive && !scripted);

    if !args.quiet {
        let keys = if interactive {
            "; Ctrl-A x quits, Ctrl-A h helps"
        } else {
            ""
        };
        eprintln!("emu-cli: {}{keys}", plan.describe());
        if plan.disk == DiskSource::None {
            eprintln!(
                "emu-cli: note: no --disk given: the guest has no disk (virtio-blk slot 0 is empty)"
            );
        }
    }

    // Raw input only once everything that could fail before the run has been done; the guard
    // restores the terminal when this function returns by any path.
    let raw = if interactive {
        terminal::RawModeGuard::enable().ok()
    } else {
        None
    };
    if plan.trace_traps || plan.trace_unimp {
        machine.set_tracer(
            Box::new(machine_glue::StderrTracer),
            plan.trace_traps,
            plan.trace_unimp,
        );
    }

    let (end, stats) = match &gdb {
        None => machine_glue::run_machine(&mut machine, console, &stop, &clock, args),
        Some(gdb) => {
            machine.set_console(Box::new(console));
            gdb::serve(machine, gdb, args.halted, &stop, &clock, args)
        }
    };
    drop(raw);

    let (code, message) = exit_status(&end);
    let error = matches!(end, RunEnd::HostError(_) | RunEnd::Wedged(_));
    let status = lock_status(&status);
    // Guest output is flushed; our first line after unfinished guest output starts with a line
    // break where both show on one screen.
    let mut mid_line = status.mid_line && terminal::stderr_shares_stdout_screen();
    let mut line_break = || {
        if std::mem::take(&mut mid_line) {
            "\n"
        } else {
            ""
        }
    };
    if let Some(mut message) = message.filter(|_| !args.quiet || error) {
        if matches!(end, RunEnd::PowerOff(c) if c != 0) && !status.last_line_text().is_empty() {
            message += &format!("; its last line: {:?}", status.last_line_text());
        }
        eprintln!("{}emu-cli: {message}", line_break());
    }
    if args.stats {
        eprint!("{}{}", line_break(), stats.render());
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{Cli, Command};
    use clap::Parser;

    fn plan(args: &[&str]) -> Result<BootPlan> {
        let mut argv = vec!["emu-cli", "boot"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Boot(b) => BootPlan::from_args(&b),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_kernel_boots_the_bundled_images_with_an_overlay() {
        let p = plan(&[]).unwrap();
        assert_eq!(p.kernel, KernelSource::Bundled);
        assert_eq!(p.disk, DiskSource::BundledOverlay);
        assert_eq!((p.harts, p.ram_size, p.htif), (3, 128 << 20, true));
        assert!(!p.trace_traps && !p.trace_unimp && !p.rtc_host && !p.virtio_legacy);
    }

    #[test]
    fn trace_rtc_and_virtio_options() {
        let p = plan(&[
            "--trace",
            "traps,unimp",
            "--rtc",
            "host",
            "--virtio",
            "legacy",
        ])
        .unwrap();
        assert!(p.trace_traps && p.trace_unimp && p.rtc_host && p.virtio_legacy);
        let p = plan(&["--trace", "unimp", "--virtio", "modern"]).unwrap();
        assert!(!p.trace_traps && p.trace_unimp && !p.virtio_legacy);
        let cfg = crate::machine_glue::machine_config(&plan(&["--virtio", "legacy"]).unwrap());
        assert!(cfg.virtio_legacy);
    }

    #[test]
    fn disk_is_written_through_unless_snapshot() {
        let p = plan(&["--disk", "d.img"]).unwrap();
        assert_eq!(
            p.disk,
            DiskSource::File {
                path: "d.img".into(),
                overlay: false
            }
        );
        let p = plan(&["--disk", "d.img", "--snapshot"]).unwrap();
        assert_eq!(
            p.disk,
            DiskSource::File {
                path: "d.img".into(),
                overlay: true
            }
        );
    }

    #[test]
    fn readonly_suffix_makes_a_read_only_disk() {
        let p = plan(&["--disk", "d.img,readonly"]).unwrap();
        assert_eq!(p.disk, DiskSource::ReadOnly("d.img".into()));
        assert!(p.describe().contains("d.img (read-only)"));
        let p = plan(&["--disk", "d.img,readonly=on"]).unwrap();
        assert_eq!(p.disk, DiskSource::ReadOnly("d.img".into()));
        let p = plan(&["--disk", "d.img,readonly=off"]).unwrap();
        assert_eq!(
            p.disk,
            DiskSource::File {
                path: "d.img".into(),
                overlay: false
            }
        );
        // With --snapshot the file is never written anyway; the guest may write its overlay.
        let p = plan(&["--disk", "d.img,readonly", "--snapshot"]).unwrap();
        assert_eq!(
            p.disk,
            DiskSource::File {
                path: "d.img".into(),
                overlay: true
            }
        );
    }

    #[test]
    fn own_kernel_has_no_disk_unless_given() {
        let p = plan(&["k.elf", "--smp", "1", "--htif", "off"]).unwrap();
        assert_eq!(p.kernel, KernelSource::File("k.elf".into()));
        assert_eq!(p.disk, DiskSource::None);
        assert_eq!((p.harts, p.htif), (1, false));
    }

    #[test]
    fn a_copy_of_a_bundled_kernel_gets_the_bundled_disk() {
        for image in [
            images::KERNEL_IMG,
            images::KERNEL_EAGER_IMG,
            images::KERNEL_ODF_IMG,
        ] {
            let mut p = plan(&["kernel.img"]).unwrap();
            p.give_bundled_kernel_its_disk(image);
            assert_eq!(p.disk, DiskSource::BundledOverlay);
            assert!(p.describe().contains("bundled fs.img"), "{}", p.describe());
        }
        let mut p = plan(&["kernel.img", "--disk", "mine.img"]).unwrap();
        p.give_bundled_kernel_its_disk(images::KERNEL_IMG);
        assert!(matches!(p.disk, DiskSource::File { .. }), "--disk wins");
        let mut p = plan(&["xv6-kernel"]).unwrap();
        p.give_bundled_kernel_its_disk(b"\x7fELF other kernel");
        assert_eq!(p.disk, DiskSource::None);
    }

    #[test]
    fn bios_initrd_append_and_no_reboot_reach_the_plan() {
        let p = plan(&[
            "u-boot.bin",
            "--bios",
            "fw_jump.elf",
            "--initrd",
            "rd",
            "--append",
            "quiet",
            "--no-reboot",
        ])
        .unwrap();
        assert_eq!(p.kernel, KernelSource::File("u-boot.bin".into()));
        assert_eq!(p.bios, Some("fw_jump.elf".into()));
        assert_eq!(p.initrd, Some("rd".into()));
        assert_eq!(p.append.as_deref(), Some("quiet"));
        assert!(p.no_reboot);
        assert_eq!(p.disk, DiskSource::None);
        let d = p.describe();
        assert!(
            d.contains("fw_jump.elf then u-boot.bin with initrd rd"),
            "{d}"
        );
        // `--bios none` is QEMU's default; --bios without KERNEL runs the firmware alone.
        assert_eq!(plan(&["--bios", "none"]).unwrap().bios, None);
        assert_eq!(
            plan(&["--bios", "none"]).unwrap().kernel,
            KernelSource::Bundled
        );
        assert_eq!(
            plan(&["--bios", "fw.elf"]).unwrap().kernel,
            KernelSource::None
        );
    }

    #[test]
    fn bad_mem_is_a_one_line_host_error() {
        let err = plan(&["--mem", "lots"]).unwrap_err().to_string();
        assert!(err.starts_with("--mem `lots`"), "{err}");
        assert!(err.contains("e.g. 128M") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn bundled_kernel_bytes_are_the_image() {
        let (bytes, format, name) = plan(&[]).unwrap().kernel_bytes().unwrap();
        assert_eq!(bytes, images::KERNEL_IMG);
        assert_eq!(format, KernelFormat::Elf);
        assert!(name.contains("bundled"));
    }

    #[test]
    fn banner_names_kernel_harts_ram_and_disk() {
        let d = plan(&["--mem", "256M"]).unwrap().describe();
        assert!(
            d.contains("bundled kernel.img") && d.contains("3 hart") && d.contains("256 MiB"),
            "{d}"
        );
        assert!(d.contains("bundled fs.img (writes kept in memory)"), "{d}");
    }
}

//! Command-line options (clap derive) and the parsers behind them: sizes (`128M`), console text
//! with `\n` escapes, durations in seconds.
//!
//! Usage errors (unknown option, `--smp 9`, `--clock fast`) are clap errors and exit with 125;
//! `--mem` is parsed after clap so that a bad size is a host error (exit 1) with a one-line fix,
//! as the issue asks.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Default RAM size, as in xv6's Makefile (`-m 128M`).
pub const DEFAULT_MEM: &str = "128M";
/// Smallest RAM `--mem` accepts: 1 MiB.
pub const MIN_MEM: u64 = 1 << 20;
/// Largest RAM `--mem` accepts: 16 GiB (the host must be able to allocate it).
pub const MAX_MEM: u64 = 16 << 30;

/// rvcow: a RISC-V (RV64GC) full-system emulator of the QEMU `virt` board.
#[derive(Debug, Parser)]
#[command(name = "emu-cli", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size difference between the subcommands' arguments costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Boot a kernel (default: the bundled copy-on-write xv6-style kernel with its fs.img).
    Boot(BootArgs),
    /// Run a qemu-system-riscv64 command line (xv6's `make qemu QEMU=…`); `emu-cli qemu -help`
    /// lists the options, `--print-wrapper` prints a wrapper script.
    Qemu(QemuArgs),
    /// Print the paths of the bundled images, or copy them into a directory.
    Images(ImagesArgs),
}

/// `emu-cli boot [KERNEL] [OPTIONS]`.
#[derive(Debug, Args, Clone)]
#[command(
    after_help = "Console: Ctrl-A x quits, Ctrl-A h prints help, Ctrl-A a sends a literal Ctrl-A.\n\
Exit status: the guest's power-off code; 1 host error; 124 --timeout or --max-insns reached; 125 usage error; 126 a hart wedged (kept taking traps without retiring an instruction: the diagnostic names the first trap and the one that repeats)."
)]
pub struct BootArgs {
    /// Kernel to boot: a RISC-V ELF (e.g. xv6's kernel/kernel), a Linux `Image` (needs --bios) or
    /// a raw image (`*.bin`). Without --bios it runs in M-mode from the reset ROM (QEMU's
    /// `-bios none`; a raw image at 0x8000_0000); with --bios it goes where QEMU's -kernel puts
    /// it (ELF by its segments, Image by its text offset, raw at 0x8020_0000). Default: the
    /// bundled kernel.img, with the bundled fs.img as an in-memory overlay unless --disk is
    /// given (with --bios and no KERNEL: the firmware alone).
    pub kernel: Option<PathBuf>,

    /// M-mode firmware run first (QEMU's -bios): an ELF or raw binary, e.g. OpenSBI's
    /// /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf or fw_dynamic.elf; `none` (the
    /// default) runs KERNEL in M-mode.
    #[arg(long, value_name = "FILE")]
    pub bios: Option<PathBuf>,

    /// Initial RAM disk (QEMU's -initrd): loaded above the kernel and announced in the device
    /// tree's /chosen (linux,initrd-start/-end).
    #[arg(long, value_name = "FILE")]
    pub initrd: Option<PathBuf>,

    /// Kernel command line (QEMU's -append): the device tree's /chosen/bootargs.
    #[arg(long, value_name = "TEXT")]
    pub append: Option<String>,

    /// A guest reset request (SiFive test device 0x7777, SBI system reset) ends the run with
    /// status 0 instead of rebooting the machine (QEMU's -no-reboot).
    #[arg(long)]
    pub no_reboot: bool,

    /// Raw disk image for the virtio-blk device; writes go to the file (see --snapshot), which
    /// is locked against other writers. `IMG,readonly`: the guest sees a read-only disk.
    #[arg(long, value_name = "IMG")]
    pub disk: Option<PathBuf>,

    /// Keep disk writes in memory: the image file is never modified.
    #[arg(long)]
    pub snapshot: bool,

    /// Number of harts, 1 to 8.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=8))]
    pub smp: u8,

    /// RAM size: bytes, or with a K/M/G suffix (binary units, as QEMU's -m), e.g. 128M, 1G.
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MEM)]
    pub mem: String,

    /// Guest clock: `virtual` (advances with retired instructions: reproducible) or `host`
    /// (follows wall time).
    #[arg(long, value_enum, default_value_t = Clock::Virtual)]
    pub clock: Clock,

    /// Seed that varies the hart interleaving quantum (same seed, same inputs: same output).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Stop after this much host wall time (seconds, may be fractional); exit status 124.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,

    /// Stop after this many instructions retired (all harts together); exit status 124.
    #[arg(long, value_name = "N")]
    pub max_insns: Option<u64>,

    /// Text typed into the console: right after the --expect before it matched, or, with no
    /// --expect before it, once the guest has printed and then been quiet for 200 ms of guest
    /// time (at the prompt). `\n`, `\r`, `\t`, `\\`, `\xHH` escapes are honoured.
    /// Repeatable, in order with --expect.
    #[arg(long, value_name = "TEXT", value_parser = parse_console_text)]
    pub send: Vec<ConsoleText>,

    /// Wait until the console output since the previous --send/--expect contains PATTERN
    /// (escapes as --send); the --send after it is typed at once. Repeatable.
    #[arg(long, value_name = "PATTERN", value_parser = parse_console_text)]
    pub expect: Vec<ConsoleText>,

    /// Host seconds each --expect may wait; a pattern that does not come in time ends the run
    /// with status 124, naming it.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub expect_timeout: Option<Duration>,

    /// --send and --expect in command-line order (filled by [`parse_cli_from`]).
    #[arg(skip)]
    pub script: Vec<ScriptStep>,

    /// Exit with status 0 as soon as the console output contains PATTERN (escapes as --send).
    #[arg(long, value_name = "PATTERN", value_parser = parse_console_text)]
    pub until: Option<ConsoleText>,

    /// At exit, print instructions retired per hart, host seconds, MIPS, guest seconds and
    /// cache hit rates to stderr.
    #[arg(long)]
    pub stats: bool,

    /// Print nothing of emu-cli's own (banner, exit reason); guest output and errors still show.
    #[arg(long, short)]
    pub quiet: bool,

    /// HTIF `tohost`/`fromhost` (riscv-tests): `on` watches an ELF's `tohost` symbol.
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub htif: OnOff,

    /// Print to stderr, as QEMU's -d int / -d guest_errors,unimp: `traps` (each trap and
    /// interrupt as taken: hart, cause, epc, tval, mode before -> after), `unimp` (accesses to
    /// unclaimed addresses and to registers a device does not implement). Comma-separated or
    /// repeated.
    #[arg(long, value_enum, value_name = "WHAT", value_delimiter = ',')]
    pub trace: Vec<TraceWhat>,

    /// Wall-clock time of the goldfish RTC: `virtual` (from 2024-01-01T00:00:00Z plus guest
    /// time: reproducible) or `host` (the host's time).
    #[arg(long, value_enum, default_value_t = RtcSource::Virtual)]
    pub rtc: RtcSource,

    /// The JIT tier: `on` compiles hot guest code to host code (Cranelift), `off` interprets
    /// every instruction. Same behaviour and output either way.
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub jit: OnOff,

    /// virtio-mmio transport: `modern` (version 2; current xv6, QEMU with
    /// `-global virtio-mmio.force-legacy=false`) or `legacy` (version 1; xv6 before 2022,
    /// QEMU's default).
    #[arg(long, value_enum, default_value_t = VirtioTransport::Modern)]
    pub virtio: VirtioTransport,

    /// Serve gdb's remote protocol on 127.0.0.1:PORT (`tcp::PORT` or `PORT`, as QEMU's -gdb);
    /// harts are gdb threads.
    #[arg(long, value_name = "tcp::PORT", value_parser = crate::gdb::parse_gdb_address)]
    pub gdb: Option<u16>,

    /// Shorthand for --gdb tcp::1234 (QEMU's -s).
    #[arg(short = 's')]
    pub gdb_default_port: bool,

    /// Start with every hart stopped until gdb connects and continues (QEMU's -S); needs --gdb
    /// or -s.
    #[arg(long, short = 'S')]
    pub halted: bool,
}

/// What `--trace` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceWhat {
    /// Each trap and interrupt as taken.
    Traps,
    /// Accesses to unclaimed addresses and unimplemented device registers.
    Unimp,
}

/// `--rtc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RtcSource {
    /// A fixed epoch plus guest time.
    Virtual,
    /// The host's time.
    Host,
}

/// `--virtio`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VirtioTransport {
    /// Version 2.
    Modern,
    /// Version 1.
    Legacy,
}

impl BootArgs {
    /// The gdb port asked for (`--gdb`, or 1234 for `-s`).
    pub fn gdb_port(&self) -> Option<u16> {
        self.gdb.or(self.gdb_default_port.then_some(1234))
    }
}

/// One `--send` or `--expect`, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptStep {
    /// `--send TEXT`.
    Send(Vec<u8>),
    /// `--expect PATTERN`.
    Expect(Vec<u8>),
}

/// Parses a command line (`argv[0]` first) like `Cli::try_parse_from`, and puts the `--send`
/// and `--expect` options of `boot` into [`BootArgs::script`] in the order they were given.
///
/// # Errors
/// A usage error (clap's).
pub fn parse_cli_from<I, T>(argv: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().try_get_matches_from(argv)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let (Command::Boot(boot), Some(m)) = (&mut cli.command, matches.subcommand_matches("boot")) {
        let at =
            |id: &str| -> Vec<usize> { m.indices_of(id).map(|i| i.collect()).unwrap_or_default() };
        let mut steps: Vec<(usize, ScriptStep)> = Vec::new();
        for (i, t) in at("send").into_iter().zip(&boot.send) {
            steps.push((i, ScriptStep::Send(t.0.clone())));
        }
        for (i, t) in at("expect").into_iter().zip(&boot.expect) {
            steps.push((i, ScriptStep::Expect(t.0.clone())));
        }
        steps.sort_by_key(|(i, _)| *i);
        boot.script = steps.into_iter().map(|(_, s)| s).collect();
    }
    Ok(cli)
}

/// `emu-cli qemu ARGS…` (parsed by qemu.rs, not clap: listed here for `emu-cli --help`).
#[derive(Debug, Args, Clone)]
pub struct QemuArgs {
    /// qemu-system-riscv64 options, e.g. -machine virt -bios none -kernel kernel/kernel.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// `emu-cli images [--export DIR]`.
#[derive(Debug, Args, Clone)]
pub struct ImagesArgs {
    /// Copy kernel.img, kernel-eager.img, kernel-odf.img and fs.img into DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
}

/// Console bytes given on the command line (`--send`, `--until`), escapes already decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleText(pub Vec<u8>);

fn parse_console_text(text: &str) -> Result<ConsoleText, String> {
    parse_escapes(text).map(ConsoleText)
}

/// `--clock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Clock {
    /// mtime advances with retired instructions (10 MHz of guest time).
    Virtual,
    /// mtime follows host wall time.
    Host,
}

/// An `on|off` switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

/// Parses a memory size: a decimal number of bytes with an optional binary suffix `K`, `M`, `G`
/// or `T` (case-insensitive, optionally followed by `B` or `iB`): `"128M"` = 134217728. The
/// result must be a multiple of 4 KiB between [`MIN_MEM`] and [`MAX_MEM`].
///
/// # Errors
/// A message saying what is wrong and what is accepted.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(digits_end);
    if digits.is_empty() {
        return Err(format!(
            "`{text}` is not a size; use bytes or a K/M/G suffix, e.g. 128M"
        ));
    }
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "`{text}`: unknown size suffix `{suffix}`; use K, M or G, e.g. 128M"
            ))
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is too large; use e.g. 128M"))?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{text}` is too large; use e.g. 128M"))?;
    if !(MIN_MEM..=MAX_MEM).contains(&bytes) {
        return Err(format!(
            "`{text}` is out of range; RAM must be between 1M and 16G, e.g. 128M"
        ));
    }
    if bytes % 4096 != 0 {
        return Err(format!("`{text}` is not a multiple of 4K; use e.g. 128M"));
    }
    Ok(bytes)
}

/// Turns console text with escapes into bytes: `\n` (LF), `\r` (CR), `\t` (tab), `\e` (ESC),
/// `\0` (NUL), `\\` (backslash), `\xHH` (one byte, two hex digits). Other characters are
/// taken as their UTF-8 bytes.
///
/// # Errors
/// An unknown escape, a truncated `\x`, or a trailing lone backslash.
pub fn parse_escapes(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('e') => out.push(0x1b),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = (hex.len() == 2)
                    .then(|| u8::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| format!("`\\x{hex}` needs two hex digits, e.g. \\x03"))?;
                out.push(byte);
            }
            Some(other) => {
                return Err(format!(
                    "unknown escape `\\{other}`; use \\n \\r \\t \\e \\0 \\\\ or \\xHH"
                ))
            }
            None => return Err("trailing `\\`; write `\\\\` for a backslash".to_string()),
        }
    }
    Ok(out)
}

/// Parses a positive number of seconds, e.g. `30` or `0.5`.
///
/// # Errors
/// Not a number, not finite, zero or negative.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!(
            "`{text}`: give a positive number of seconds, e.g. 30 or 0.5"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn boot(args: &[&str]) -> Result<BootArgs, clap::Error> {
        let mut argv = vec!["emu-cli", "boot"];
        argv.extend_from_slice(args);
        parse_cli_from(argv).map(|cli| match cli.command {
            Command::Boot(b) => b,
            other => panic!("parsed as {other:?}"),
        })
    }

    #[test]
    fn sizes_use_binary_suffixes() {
        assert_eq!(parse_size("128M"), Ok(128 << 20));
        assert_eq!(parse_size("128m"), Ok(128 << 20));
        assert_eq!(parse_size("128MiB"), Ok(128 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("65536K"), Ok(64 << 20));
        assert_eq!(parse_size("16777216"), Ok(16 << 20));
    }

    #[test]
    fn bad_sizes_are_rejected_with_a_hint() {
        for bad in [
            "",
            "M",
            "12Q",
            "-1M",
            "0",
            "512K",
            "17G",
            "1048577",
            "99999999999999999999G",
            "1.5G",
        ] {
            let err = parse_size(bad).expect_err(bad);
            assert!(err.contains("e.g. 128M"), "{bad}: {err}");
        }
    }

    #[test]
    fn escapes_become_bytes() {
        assert_eq!(parse_escapes("cowtest\\n").unwrap(), b"cowtest\n");
        assert_eq!(parse_escapes("a\\tb\\r\\n").unwrap(), b"a\tb\r\n");
        assert_eq!(
            parse_escapes("\\x03\\x1B\\e\\0").unwrap(),
            [3, 0x1b, 0x1b, 0]
        );
        assert_eq!(parse_escapes("back\\\\slash").unwrap(), b"back\\slash");
        assert_eq!(parse_escapes("é").unwrap(), "é".as_bytes());
        assert_eq!(parse_escapes("real\nnewline").unwrap(), b"real\nnewline");
    }

    #[test]
    fn bad_escapes_are_errors() {
        assert!(parse_escapes("\\q").unwrap_err().contains("unknown escape"));
        assert!(parse_escapes("\\x4")
            .unwrap_err()
            .contains("two hex digits"));
        assert!(parse_escapes("\\xzz")
            .unwrap_err()
            .contains("two hex digits"));
        assert!(parse_escapes("end\\").unwrap_err().contains("trailing"));
    }

    #[test]
    fn seconds_may_be_fractional() {
        assert_eq!(parse_seconds("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "abc", "inf", "NaN"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn boot_defaults_match_the_issue() {
        let b = boot(&[]).unwrap();
        assert_eq!(b.kernel, None);
        assert_eq!(b.smp, 3);
        assert_eq!(parse_size(&b.mem), Ok(128 << 20));
        assert_eq!(b.clock, Clock::Virtual);
        assert_eq!(b.htif, OnOff::On);
        assert!(!b.snapshot && !b.stats && !b.quiet && !b.no_reboot);
        assert!(b.bios.is_none() && b.initrd.is_none() && b.append.is_none());
        assert!(
            b.send.is_empty() && b.until.is_none() && b.timeout.is_none() && b.max_insns.is_none()
        );
    }

    #[test]
    fn every_boot_option_parses() {
        let b = boot(&[
            "k.elf",
            "--disk",
            "fs.img",
            "--snapshot",
            "--smp",
            "1",
            "--mem",
            "256M",
            "--clock",
            "host",
            "--seed",
            "42",
            "--timeout",
            "2.5",
            "--max-insns",
            "1000000",
            "--send",
            "ls\\n",
            "--send",
            "cowtest\\n",
            "--until",
            "ALL COW TESTS PASSED",
            "--stats",
            "--quiet",
            "--htif",
            "off",
            "--bios",
            "fw_jump.elf",
            "--initrd",
            "rd.cpio",
            "--append",
            "console=ttyS0 rdinit=/init",
            "--no-reboot",
        ])
        .unwrap();
        assert_eq!(b.bios.as_deref(), Some(std::path::Path::new("fw_jump.elf")));
        assert_eq!(b.initrd.as_deref(), Some(std::path::Path::new("rd.cpio")));
        assert_eq!(b.append.as_deref(), Some("console=ttyS0 rdinit=/init"));
        assert!(b.no_reboot);
        assert_eq!(b.kernel.as_deref(), Some(std::path::Path::new("k.elf")));
        assert_eq!(b.disk.as_deref(), Some(std::path::Path::new("fs.img")));
        assert!(b.snapshot && b.stats && b.quiet);
        assert_eq!(
            (b.smp, b.mem.as_str(), b.clock, b.seed),
            (1, "256M", Clock::Host, Some(42))
        );
        assert_eq!(b.timeout, Some(Duration::from_millis(2500)));
        assert_eq!(b.max_insns, Some(1_000_000));
        assert_eq!(
            b.send,
            vec![
                ConsoleText(b"ls\n".to_vec()),
                ConsoleText(b"cowtest\n".to_vec())
            ]
        );
        assert_eq!(b.until, Some(ConsoleText(b"ALL COW TESTS PASSED".to_vec())));
        assert_eq!(b.htif, OnOff::Off);
    }

    #[test]
    fn send_and_expect_keep_their_order() {
        let b = boot(&[
            "--send",
            "a",
            "--expect",
            "autoboot",
            "--send",
            " ",
            "--expect",
            "=> ",
            "--send",
            "help\\n",
            "--expect-timeout",
            "7",
        ])
        .unwrap();
        assert_eq!(
            b.script,
            vec![
                ScriptStep::Send(b"a".to_vec()),
                ScriptStep::Expect(b"autoboot".to_vec()),
                ScriptStep::Send(b" ".to_vec()),
                ScriptStep::Expect(b"=> ".to_vec()),
                ScriptStep::Send(b"help\n".to_vec()),
            ]
        );
        assert_eq!(b.expect_timeout, Some(Duration::from_secs(7)));
        assert!(boot(&[]).unwrap().script.is_empty());
    }

    #[test]
    fn usage_errors_are_clap_errors() {
        assert_eq!(
            boot(&["--smp", "0"]).unwrap_err().kind(),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            boot(&["--smp", "9"]).unwrap_err().kind(),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            boot(&["--clock", "fast"]).unwrap_err().kind(),
            ErrorKind::InvalidValue
        );
        assert_eq!(
            boot(&["--frobnicate"]).unwrap_err().kind(),
            ErrorKind::UnknownArgument
        );
        assert_eq!(
            boot(&["--send", "\\q"]).unwrap_err().kind(),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            boot(&["--timeout", "0"]).unwrap_err().kind(),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            boot(&["a", "b"]).unwrap_err().kind(),
            ErrorKind::UnknownArgument
        );
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

//! `emu-cli qemu ARGS…`: a `qemu-system-riscv64` command line, with QEMU's meaning, mapped onto
//! `emu-cli boot` — the same plan, the same machine, the same run loop. The options xv6's
//! Makefiles and course scripts pass are accepted; any other option is refused with one line
//! naming it (nothing is silently ignored).
//!
//! | QEMU | emu-cli boot |
//! |---|---|
//! | `-machine virt` / `-M virt` | (the only board) |
//! | `-bios none` / `-bios FILE` | no firmware / `--bios FILE`; no `-bios`: Debian's OpenSBI `fw_dynamic` as QEMU's default |
//! | `-kernel F`, `-initrd F`, `-append T` | `KERNEL`, `--initrd`, `--append` |
//! | `-m 128M` / `-m 128` (MiB) / `-m size=…` | `--mem` |
//! | `-smp N` / `-smp cpus=N` | `--smp N` (QEMU's default 1) |
//! | `-nographic`, `-serial mon:stdio`, `-serial stdio` | (the console is stdio; Ctrl-A x quits) |
//! | `-global virtio-mmio.force-legacy=false\|true` (default true, as QEMU) | `--virtio modern\|legacy` |
//! | `-d int`, `-d guest_errors`, `-d unimp` | `--trace traps`, `--trace unimp` |
//! | `-drive file=F,if=none,format=raw,id=ID` + `-device virtio-blk-device,drive=ID,bus=virtio-mmio-bus.0` | `--disk F` |
//! | `-snapshot`, `-no-reboot` | `--snapshot`, `--no-reboot` |
//! | `-S`, `-s`, `-gdb tcp::PORT` | `--halted`, `--gdb tcp::1234`, `--gdb tcp::PORT` |
//! | `-help`, `-version` | this tool's help (one option per line, `-gdb` among them) and version |

use std::collections::HashMap;

/// The wrapper script shipped in the repository (`emu-cli/qemu-system-riscv64`), so that
/// `make qemu QEMU=/path/to/wrapper` works where `QEMU=` must be one word.
pub const WRAPPER: &str = include_str!("../qemu-system-riscv64");

/// Debian's OpenSBI build for QEMU's `virt` (package opensbi): what QEMU runs without `-bios`.
pub const DEFAULT_BIOS: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf";

/// What a QEMU command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QemuAction {
    /// Boot: the `emu-cli boot` arguments (without `emu-cli boot`).
    Boot(Vec<String>),
    /// `-help`.
    Help,
    /// `-version`.
    Version,
    /// `--print-wrapper`.
    PrintWrapper,
}

/// The options this front end accepts, as `-help` lists them (each on a line of its own,
/// starting with the option: xv6's Makefile greps `-help` for `^-gdb`).
pub const HELP: &str = "\
usage: emu-cli qemu [options]    (rvcow standing in for qemu-system-riscv64)

-machine virt    the QEMU virt board (also -M virt)
-bios none|FILE  M-mode firmware; none: run -kernel in M-mode; default: OpenSBI fw_dynamic
-kernel FILE     kernel (ELF, Linux Image or raw)
-initrd FILE     initial RAM disk
-append TEXT     kernel command line
-m SIZE          RAM (128M default; a bare number is MiB)
-smp N           number of harts (also cpus=N), 1 to 8
-nographic       no display (the only mode)
-serial mon:stdio  console on stdio, Ctrl-A x quits (also -serial stdio)
-global virtio-mmio.force-legacy=false|true  modern or legacy (the default) virtio-mmio
-drive file=FILE,if=none,format=raw,id=ID  a raw disk image
-device virtio-blk-device,drive=ID,bus=virtio-mmio-bus.0  the disk on virtio-mmio slot 0
-snapshot        keep disk writes in memory
-no-reboot       exit instead of rebooting when the guest resets
-S               do not start the harts until gdb continues
-s               shorthand for -gdb tcp::1234
-gdb tcp::PORT   wait for gdb on 127.0.0.1:PORT
-d int|guest_errors|unimp  log traps / unimplemented accesses to stderr
-help            this list
-version         version
--print-wrapper  print a qemu-system-riscv64 wrapper script running emu-cli qemu
";

fn refuse(option: &str, why: &str) -> String {
    format!("emu-cli qemu: {option}: {why}")
}

/// Key=value list of a QEMU option (`file=F,if=none,…`); a first element without `=` is
/// returned under the key "".
fn keyvals(text: &str) -> HashMap<String, String> {
    text.split(',')
        .enumerate()
        .map(|(i, kv)| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None if i == 0 => (String::new(), kv.to_string()),
            None => (kv.to_string(), String::new()),
        })
        .collect()
}

/// Maps a `qemu-system-riscv64` command line (without the program name) onto `emu-cli boot`.
///
/// # Errors
/// One line naming the first option that is unknown, unsupported or malformed.
pub fn translate(args: &[String]) -> Result<QemuAction, String> {
    let mut boot: Vec<String> = Vec::new();
    let mut kernel = None;
    let mut bios: Option<String> = None;
    let mut smp = "1".to_string();
    let mut mem = "128M".to_string();
    let mut drives: HashMap<String, String> = HashMap::new();
    let mut disk = None;
    // QEMU's default transport is legacy (force-legacy=true); xv6 since 2022 asks for modern.
    let mut virtio = "legacy";
    let mut traces: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let opt = if arg.starts_with("--") && arg.len() > 2 {
            &arg[1..]
        } else {
            arg.as_str()
        };
        let mut value = |name: &str| -> Result<String, String> {
            it.next()
                .cloned()
                .ok_or_else(|| refuse(name, "needs a value"))
        };
        match opt {
            "-help" | "-h" => return Ok(QemuAction::Help),
            "-version" => return Ok(QemuAction::Version),
            "-print-wrapper" => return Ok(QemuAction::PrintWrapper),
            "-machine" | "-M" => {
                let v = value(opt)?;
                let kv = keyvals(&v);
                if kv.get("").map(String::as_str) != Some("virt") || kv.len() != 1 {
                    return Err(refuse(
                        &format!("{opt} {v}"),
                        "rvcow is the virt board only; give -machine virt",
                    ));
                }
            }
            "-bios" => bios = Some(value(opt)?),
            "-kernel" => kernel = Some(value(opt)?),
            "-initrd" => boot.extend(["--initrd".into(), value(opt)?]),
            "-append" => boot.extend(["--append".into(), value(opt)?]),
            "-m" => {
                let v = value(opt)?;
                let kv = keyvals(&v);
                let size = match (kv.get(""), kv.get("size"), kv.len()) {
                    (Some(s), None, 1) | (None, Some(s), 1) => s.clone(),
                    _ => return Err(refuse(&format!("-m {v}"), "give a size, e.g. -m 128M")),
                };
                mem = if size.chars().all(|c| c.is_ascii_digit()) {
                    format!("{size}M") // QEMU: a bare number is MiB
                } else {
                    size
                };
            }
            "-smp" => {
                let v = value(opt)?;
                let kv = keyvals(&v);
                let n = match (kv.get(""), kv.get("cpus"), kv.len()) {
                    (Some(n), None, 1) | (None, Some(n), 1) => n.clone(),
                    _ => {
                        return Err(refuse(
                            &format!("-smp {v}"),
                            "give the number of harts, e.g. -smp 3 or -smp cpus=3",
                        ))
                    }
                };
                smp = n;
            }
            "-nographic" => {}
            "-serial" => {
                let v = value(opt)?;
                if v != "mon:stdio" && v != "stdio" {
                    return Err(refuse(
                        &format!("-serial {v}"),
                        "the console is stdio only; give -serial mon:stdio",
                    ));
                }
            }
            "-global" => {
                let v = value(opt)?;
                match v.as_str() {
                    "virtio-mmio.force-legacy=false" => virtio = "modern",
                    "virtio-mmio.force-legacy=true" => virtio = "legacy",
                    _ => return Err(refuse(&format!("-global {v}"), "not supported")),
                }
            }
            "-drive" => {
                let v = value(opt)?;
                let kv = keyvals(&v);
                let bad = |why: &str| refuse(&format!("-drive {v}"), why);
                let file = kv.get("file").ok_or_else(|| bad("needs file=IMAGE"))?;
                if kv.get("if").map(String::as_str) != Some("none") {
                    return Err(bad(
                        "give if=none and attach it with -device virtio-blk-device",
                    ));
                }
                if kv.get("format").is_some_and(|f| f != "raw") {
                    return Err(bad("raw images only (format=raw)"));
                }
                let id = kv.get("id").ok_or_else(|| bad("needs id=ID"))?;
                if let Some(k) = kv
                    .keys()
                    .find(|k| !["file", "if", "format", "id"].contains(&k.as_str()))
                {
                    return Err(bad(&format!("option {k} not supported")));
                }
                drives.insert(id.clone(), file.clone());
            }
            "-device" => {
                let v = value(opt)?;
                let kv = keyvals(&v);
                let bad = |why: &str| refuse(&format!("-device {v}"), why);
                if kv.get("").map(String::as_str) != Some("virtio-blk-device") {
                    return Err(bad(
                        "not supported; rvcow has virtio-blk-device on virtio-mmio-bus.0",
                    ));
                }
                let id = kv.get("drive").ok_or_else(|| bad("needs drive=ID"))?;
                match kv.get("bus").map(String::as_str) {
                    None | Some("virtio-mmio-bus.0") => {}
                    Some(_) => return Err(bad("only bus=virtio-mmio-bus.0 is supported")),
                }
                if let Some(k) = kv
                    .keys()
                    .find(|k| !["", "drive", "bus"].contains(&k.as_str()))
                {
                    return Err(bad(&format!("option {k} not supported")));
                }
                if disk.is_some() {
                    return Err(bad("one virtio-blk disk only"));
                }
                let file = drives
                    .get(id)
                    .ok_or_else(|| bad(&format!("no -drive with id={id} before it")))?;
                disk = Some(file.clone());
            }
            "-snapshot" => boot.push("--snapshot".into()),
            "-no-reboot" => boot.push("--no-reboot".into()),
            "-S" => boot.push("--halted".into()),
            "-s" => boot.extend(["--gdb".into(), "tcp::1234".into()]),
            "-gdb" => boot.extend(["--gdb".into(), value(opt)?]),
            "-d" => {
                let v = value(opt)?;
                for item in v.split(',') {
                    let what = match item {
                        "int" => "traps",
                        "guest_errors" | "unimp" => "unimp",
                        _ => {
                            return Err(refuse(
                                &format!("-d {v}"),
                                &format!(
                                "log item {item} not supported; give int, guest_errors or unimp"
                            ),
                            ))
                        }
                    };
                    if !traces.contains(&what) {
                        traces.push(what);
                    }
                }
            }
            other if other.starts_with('-') => {
                return Err(refuse(
                    other,
                    "not supported by rvcow (see emu-cli qemu -help)",
                ))
            }
            other => {
                return Err(refuse(
                    other,
                    "unexpected argument; QEMU takes the kernel as -kernel FILE",
                ))
            }
        }
    }
    if let Some((id, _)) = drives.iter().find(|(_, f)| Some(*f) != disk.as_ref()) {
        return Err(refuse(
            &format!("-drive id={id}"),
            "not attached; add -device virtio-blk-device,drive=ID,bus=virtio-mmio-bus.0",
        ));
    }
    let bios = match bios {
        Some(b) => b,
        None if std::path::Path::new(DEFAULT_BIOS).exists() => DEFAULT_BIOS.to_string(),
        None => {
            return Err(refuse(
                "-bios",
                &format!("QEMU's default firmware ({DEFAULT_BIOS}, package opensbi) is not installed; give -bios none or -bios FILE"),
            ))
        }
    };
    if kernel.is_none() && bios == "none" {
        return Err(refuse(
            "-kernel",
            "nothing to boot; give -kernel FILE (the bundled kernel boots with `emu-cli boot`)",
        ));
    }
    let mut argv: Vec<String> = Vec::new();
    if let Some(k) = kernel {
        argv.push(k);
    }
    argv.extend(["--bios".into(), bios]);
    argv.extend(["--smp".into(), smp, "--mem".into(), mem]);
    if let Some(d) = disk {
        argv.extend(["--disk".into(), d]);
    }
    argv.extend(["--virtio".into(), virtio.into()]);
    if !traces.is_empty() {
        argv.extend(["--trace".into(), traces.join(",")]);
    }
    argv.extend(boot);
    Ok(QemuAction::Boot(argv))
}

/// The wrapper script with `emu-cli` replaced by the running executable's path.
pub fn wrapper_for_this_executable() -> String {
    match std::env::current_exe() {
        Ok(exe) => WRAPPER.replace(
            "${RVCOW_EMU_CLI:-emu-cli}",
            &format!("${{RVCOW_EMU_CLI:-{}}}", exe.display()),
        ),
        Err(_) => WRAPPER.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn boot(line: &str) -> Vec<String> {
        match translate(&args(line)) {
            Ok(QemuAction::Boot(a)) => a,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn xv6_makefile_qemu_line() {
        let a = boot(
            "-machine virt -bios none -kernel kernel/kernel -m 128M -smp 3 -nographic \
             -global virtio-mmio.force-legacy=false -drive file=fs.img,if=none,format=raw,id=x0 \
             -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
        );
        assert_eq!(
            a,
            args("kernel/kernel --bios none --smp 3 --mem 128M --disk fs.img --virtio modern")
        );
    }

    #[test]
    fn xv6_makefile_qemu_gdb_line() {
        let a = boot(
            "-machine virt -bios none -kernel kernel/kernel -m 128M -smp cpus=2 -nographic \
             -global virtio-mmio.force-legacy=false -drive file=fs.img,if=none,format=raw,id=x0 \
             -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0 -S -gdb tcp::26000",
        );
        assert_eq!(
            a,
            args("kernel/kernel --bios none --smp 2 --mem 128M --disk fs.img --virtio modern --halted --gdb tcp::26000")
        );
        let a = boot("-bios none -kernel k -s -S -snapshot -no-reboot -serial mon:stdio -m 256");
        assert_eq!(
            a,
            args("k --bios none --smp 1 --mem 256M --virtio legacy --gdb tcp::1234 --halted --snapshot --no-reboot")
        );
    }

    #[test]
    fn firmware_initrd_append_and_double_dashes() {
        let a = boot("--bios fw.elf --kernel Image --initrd rd --append console=ttyS0 -M virt");
        assert_eq!(
            a,
            args("Image --bios fw.elf --smp 1 --mem 128M --virtio legacy --initrd rd --append console=ttyS0")
        );
    }

    #[test]
    fn old_xv6_gets_qemus_legacy_virtio_and_logs_map_to_trace() {
        // xv6 before 2022: no -global, QEMU's default legacy transport.
        let a = boot(
            "-machine virt -bios none -kernel kernel/kernel -m 128M -smp 3 -nographic \
             -drive file=fs.img,if=none,format=raw,id=x0 \
             -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0 -d int,guest_errors,unimp",
        );
        assert_eq!(
            a,
            args("kernel/kernel --bios none --smp 3 --mem 128M --disk fs.img --virtio legacy --trace traps,unimp")
        );
        let a = boot("-bios none -kernel k -global virtio-mmio.force-legacy=true -d unimp");
        assert!(a.ends_with(&args("--virtio legacy --trace unimp")), "{a:?}");
    }

    #[test]
    fn unsupported_options_are_refused_naming_them() {
        for (line, named) in [
            ("-bios none -kernel k -device e1000", "-device e1000"),
            ("-bios none -kernel k -netdev user,id=n0", "-netdev"),
            ("-machine sifive_u -bios none -kernel k", "-machine sifive_u"),
            ("-bios none -kernel k -serial pty", "-serial pty"),
            ("-bios none -kernel k -smp 2,sockets=2", "-smp 2,sockets=2"),
            ("-bios none -kernel k -d in_asm", "in_asm"),
            (
                "-bios none -kernel k -drive file=f,if=virtio",
                "-drive file=f,if=virtio",
            ),
            (
                "-bios none -kernel k -drive file=f,if=none,format=qcow2,id=x",
                "format=qcow2",
            ),
            (
                "-bios none -kernel k -device virtio-blk-device,drive=x0",
                "no -drive with id=x0",
            ),
            (
                "-bios none -kernel k -drive file=f,if=none,id=x -device virtio-blk-device,drive=x,bus=virtio-mmio-bus.1",
                "bus=virtio-mmio-bus.0",
            ),
            ("-bios none -kernel k -drive file=f,if=none,id=x", "not attached"),
            ("-bios none -kernel k -global virtio-mmio.x=1", "virtio-mmio.x=1"),
            ("-bios none -kernel k -m", "needs a value"),
            ("-bios none", "nothing to boot"),
            ("-bios none -kernel k stray", "stray"),
        ] {
            let err = translate(&args(line)).expect_err(line);
            assert!(err.starts_with("emu-cli qemu: "), "{err}");
            assert!(err.contains(named), "{line}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn help_lists_gdb_on_a_line_of_its_own() {
        assert_eq!(translate(&args("-help")), Ok(QemuAction::Help));
        assert_eq!(translate(&args("-version")), Ok(QemuAction::Version));
        assert!(HELP.lines().any(|l| l.starts_with("-gdb ")));
        assert!(WRAPPER.contains("qemu \"$@\""));
    }
}

//! emu-cli end to end on a tiny guest: an assembly program (built here with
//! riscv64-unknown-elf-as/ld, which .ci/run installs) that prints a greeting on the UART, echoes
//! every byte it receives, powers off with pass on `q` and with code 3 on `f`, and ignores the
//! other harts. It exercises the CLI itself — options, console plumbing, exit statuses, errors,
//! the interactive terminal — without depending on the xv6 guest.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use assert_cmd::cargo::CommandCargoExt;

mod support;

use support::{assemble, link, run_tool, s};

const ECHO_GUEST: &str = r#"
    .section .text
    .globl _start
_start:
    csrr t0, mhartid
    bnez t0, park
    li s0, 0x10000000          # NS16550A UART: RBR/THR at +0, LSR at +5
    la a0, greeting
1:  lbu t1, 0(a0)
    beqz t1, echo
    sb t1, 0(s0)
    addi a0, a0, 1
    j 1b
echo:
    lbu t1, 5(s0)
    andi t1, t1, 1             # LSR.DR
    beqz t1, echo
    lbu t2, 0(s0)
    li t3, 'q'
    beq t2, t3, pass
    li t3, 'f'
    beq t2, t3, fail
    sb t2, 0(s0)
    j echo
pass:
    li t0, 0x100000            # SiFive test finisher
    li t1, 0x5555
    sw t1, 0(t0)
fail:
    li t0, 0x100000
    li t1, (3 << 16) | 0x3333
    sw t1, 0(t0)
park:
    wfi
    j park
    .section .rodata
greeting: .asciz "echo guest ready\n"
"#;

const GREETING: &str = "echo guest ready\n";

/// The echo guest as an ELF and as a raw binary, built once per test run into cargo's
/// per-target temporary directory.
/// The third path is the same program linked at 0x9000_0000, outside the default 128 MiB of RAM.
fn guest() -> &'static (PathBuf, PathBuf, PathBuf) {
    static GUEST: OnceLock<(PathBuf, PathBuf, PathBuf)> = OnceLock::new();
    GUEST.get_or_init(|| {
        let elf = assemble("echo", ECHO_GUEST);
        let obj = elf.with_extension("o");
        let bin = elf.with_extension("bin");
        let high = elf.with_file_name("echo-high.elf");
        run_tool(
            "riscv64-unknown-elf-objcopy",
            &["-O", "binary", s(&elf), s(&bin)],
        );
        link(&obj, 0x9000_0000, &high);
        (elf, bin, high)
    })
}

fn emu_cli() -> Command {
    let mut cmd = Command::cargo_bin("emu-cli").unwrap();
    cmd.stdin(Stdio::null());
    cmd
}

/// A safety net so that a broken build fails a test instead of hanging it.
const SAFETY_TIMEOUT: &str = "120";

fn boot_echo(args: &[&str]) -> Output {
    let mut cmd = emu_cli();
    cmd.arg("boot").arg(&guest().0).args(args);
    if !args.contains(&"--timeout") {
        cmd.args(["--timeout", SAFETY_TIMEOUT]);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn send_is_typed_after_the_first_output_and_until_stops_with_0() {
    let o = boot_echo(&[
        "--send", "hello\\n", "--send", "world", "--until", "lo\\nwor",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(&format!("{GREETING}hello\nwor")),
        "{:?}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("--until pattern seen"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn guest_power_off_code_is_the_exit_status() {
    let pass = boot_echo(&["--send", "abq"]);
    assert_eq!(pass.status.code(), Some(0), "{}", stderr(&pass));
    assert_eq!(stdout(&pass), format!("{GREETING}ab"));
    let fail = boot_echo(&["--send", "f"]);
    assert_eq!(fail.status.code(), Some(3), "{}", stderr(&fail));
    assert!(stderr(&fail).contains("code 3"), "{}", stderr(&fail));
}

#[test]
fn piped_stdin_reaches_the_guest_plainly() {
    let mut child = emu_cli()
        .args(["boot", "--quiet", "--timeout", SAFETY_TIMEOUT])
        .arg(&guest().0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A Ctrl-A from a pipe is an ordinary byte: it is echoed, it does not quit.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"pipe\x01x\nq")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{GREETING}pipe\x01x\n"));
    assert_eq!(stderr(&o), "", "--quiet prints nothing of emu-cli's own");
}

#[test]
fn timeout_and_instruction_limit_exit_124() {
    let t = boot_echo(&["--timeout", "0.3"]);
    assert_eq!(t.status.code(), Some(124), "{}", stderr(&t));
    assert!(
        stderr(&t).contains("--timeout 0.3s reached"),
        "{}",
        stderr(&t)
    );
    let m = boot_echo(&["--max-insns", "50000", "--stats"]);
    assert_eq!(m.status.code(), Some(124), "{}", stderr(&m));
    let err = stderr(&m);
    assert!(err.contains("--max-insns 50000 reached"), "{err}");
    assert!(
        err.contains("hart 2:") && err.contains("MIPS") && err.contains("guest time"),
        "{err}"
    );
}

#[test]
fn same_seed_same_output_and_smp_1() {
    let args = [
        "--smp",
        "3",
        "--seed",
        "7",
        "--send",
        "determinism\\n",
        "--until",
        "ism\\n",
        "-q",
    ];
    let a = boot_echo(&args);
    let b = boot_echo(&args);
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout);
    let one = boot_echo(&["--smp", "1", "--send", "q", "-q"]);
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
}

#[test]
fn raw_binary_kernel_boots_at_0x80000000() {
    let mut cmd = emu_cli();
    let o = cmd
        .args(["boot", "-q", "--send", "q", "--timeout", SAFETY_TIMEOUT])
        .arg(&guest().1)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), GREETING);
}

fn assert_host_error(o: &Output, names: &str, fix: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("emu-cli: "), "{err}");
    assert!(err.contains(names), "names {names}: {err}");
    assert!(err.contains(fix), "says the fix ({fix}): {err}");
}

#[test]
fn host_errors_are_one_line_with_the_file_and_the_fix_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-kernel");
    let o = emu_cli().arg("boot").arg(&missing).output().unwrap();
    assert_host_error(&o, s(&missing), "omit KERNEL");

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a kernel\n").unwrap();
    let o = emu_cli().arg("boot").arg(&text).output().unwrap();
    assert_host_error(&o, s(&text), "RISC-V 64-bit ELF");

    let disk = dir.path().join("missing.img");
    let o = emu_cli()
        .args(["boot", "--disk"])
        .arg(&disk)
        .output()
        .unwrap();
    assert_host_error(&o, s(&disk), "raw disk image");

    let o = emu_cli().args(["boot", "--mem", "lots"]).output().unwrap();
    assert_host_error(&o, "--mem `lots`", "e.g. 128M");
    let o = emu_cli()
        .args(["boot", "--timeout", SAFETY_TIMEOUT])
        .arg(&guest().2)
        .output()
        .unwrap();
    assert_host_error(&o, s(&guest().2), "0x80000000");
}

#[test]
fn usage_errors_exit_125() {
    for args in [
        &["boot", "--smp", "9"][..],
        &["boot", "--no-such-option"],
        &["frobnicate"],
        &[],
        &["boot", "--send", "\\q"],
    ] {
        let o = emu_cli().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stderr(&o));
    }
    let help = emu_cli().args(["boot", "--help"]).output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("--max-insns"));
}

#[test]
fn images_are_listed_and_exported() {
    let o = emu_cli().arg("images").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains(s(images::kernel_path())),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains(s(images::fs_path())), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(s(images::kernel_odf_path())),
        "{}",
        stdout(&o)
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("exported");
    let o = emu_cli()
        .args(["images", "--export"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(out.join("kernel.img")).unwrap(),
        images::KERNEL_IMG
    );
    assert_eq!(
        std::fs::read(out.join("kernel-eager.img")).unwrap(),
        images::KERNEL_EAGER_IMG
    );
    assert_eq!(
        std::fs::read(out.join("kernel-odf.img")).unwrap(),
        images::KERNEL_ODF_IMG
    );
    assert_eq!(std::fs::read(out.join("fs.img")).unwrap(), images::FS_IMG);
}

/// The interactive console through a pseudo-terminal (util-linux `script`): raw mode (Ctrl-A is
/// not a signal key, no local echo), `\r\n` output, Ctrl-A h help, Ctrl-A x quit with status 0,
/// and the terminal back in canonical mode afterwards.
#[test]
fn interactive_terminal_ctrl_a_keys_and_restore() {
    let cli = assert_cmd::cargo::cargo_bin("emu-cli");
    let script = format!(
        "{} boot --timeout 120 {}; echo \"status=$?\"; stty -a",
        s(&cli),
        s(&guest().0)
    );
    let mut child = Command::new("script")
        .args(["-qec", &script, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs a command in a pseudo-terminal");
    let mut keys = child.stdin.take().unwrap();
    keys.write_all(b"\x01h\x01x").unwrap();
    keys.flush().unwrap();
    // Keep stdin open until the session ends: EOF would hang up the terminal.
    let o = child.wait_with_output().unwrap();
    drop(keys);
    let text = stdout(&o);
    assert!(text.contains("C-a x    exit emu-cli\r\n"), "{text:?}");
    assert!(text.contains("quit (Ctrl-A x)"), "{text:?}");
    assert!(text.contains("status=0"), "{text:?}");
    let stty = &text[text.find("status=0").unwrap()..];
    let flags: Vec<&str> = stty.split_whitespace().collect();
    for flag in ["icanon", "echo", "opost", "isig"] {
        assert!(flags.contains(&flag), "terminal restored ({flag}): {stty}");
    }
}

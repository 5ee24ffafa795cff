//! `--expect` end to end on a guest that boots like U-Boot after a slow firmware: it prints a
//! line after each of three long silent gaps (5 s of guest time each, input typed meanwhile is
//! dropped, as before Linux's shell exists), then counts down "Hit any key to stop autoboot"
//! for 3 s, swallowing the key that stops it, and gives a `=> ` prompt that echoes what is
//! typed (`q` powers off with pass). If the countdown runs out it powers off with code 2.
//! Built here with riscv64-unknown-elf-as/ld (which .ci/run installs). Real U-Boot behind
//! OpenSBI is driven the same way at the end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

mod support;

use support::assemble;

const COUNTDOWN_GUEST: &str = r#"
    .equ UART, 0x10000000          # NS16550A: RBR/THR at +0, LSR at +5 (bit 0: data ready)
    .equ MTIME, 0x0200bff8
    .equ MTIMECMP0, 0x02004000
    .equ GAP, 50000000             # 5 s of guest time (10 MHz)
    .equ SECOND, 10000000
    .equ STEP, 100000              # poll the UART every 10 ms of guest time
    .section .text
    .globl _start
_start:
    csrr t0, mhartid
    bnez t0, park
    li s0, UART
    li s1, MTIME
    li s2, MTIMECMP0
    li t0, 0x80                    # mie.MTIE: wfi wakes on the timer (mstatus.MIE stays 0)
    csrs mie, t0
    la a0, msg_boot
    call puts
    li s3, 3
stage:
    li a0, GAP
    li a1, 0                       # drop what is typed during the gap
    call delay
    la a0, msg_stage
    call puts
    addi s3, s3, -1
    bnez s3, stage
    la a0, msg_hit
    call puts
    li s3, '3'
count:
    mv a0, s3
    call putc
    li a0, SECOND
    li a1, 1
    call delay
    bgez a0, stopped               # a key: swallowed, autoboot stops
    li a0, ' '
    call putc
    addi s3, s3, -1
    li t0, '0'
    bne s3, t0, count
    la a0, msg_autoboot
    call puts
    li t0, 0x100000                # SiFive test finisher: fail with code 2
    li t1, (2 << 16) | 0x3333
    sw t1, 0(t0)
stopped:
    la a0, msg_prompt
    call puts
echo:
    li a0, STEP
    li a1, 1
    call delay
    bltz a0, echo
    li t0, 'q'
    beq a0, t0, pass
    call putc
    j echo
pass:
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
park:
    wfi
    j park

# putc(a0): one byte to the UART.
putc:
    sb a0, 0(s0)
    ret
# puts(a0): a NUL-terminated string to the UART.
puts:
    lbu t1, 0(a0)
    beqz t1, 1f
    sb t1, 0(s0)
    addi a0, a0, 1
    j puts
1:  ret
# delay(a0 = ticks, a1 = take): waits a0 ticks of mtime, sleeping in wfi 10 ms at a time.
# A byte received meanwhile is dropped (a1 = 0) or returned at once (a1 = 1); else a0 = -1.
delay:
    ld t0, 0(s1)
    add t2, t0, a0
1:  lbu t1, 5(s0)
    andi t1, t1, 1
    beqz t1, 2f
    lbu t1, 0(s0)
    beqz a1, 1b
    mv a0, t1
    ret
2:  ld t0, 0(s1)
    bgeu t0, t2, 3f
    li t3, STEP
    add t3, t0, t3
    bltu t3, t2, 4f
    mv t3, t2
4:  sd t3, 0(s2)
    wfi
    j 1b
3:  li a0, -1
    ret

    .section .rodata
msg_boot: .asciz "firmware starting\n"
msg_stage: .asciz "stage done\n"
msg_hit: .asciz "Hit any key to stop autoboot: "
msg_autoboot: .asciz "\nno key: booting\n"
msg_prompt: .asciz "\n=> "
"#;

/// The guest ELF, built once per test run into cargo's per-target temporary directory.
fn guest() -> &'static PathBuf {
    static GUEST: OnceLock<PathBuf> = OnceLock::new();
    GUEST.get_or_init(|| assemble("countdown", COUNTDOWN_GUEST))
}

fn boot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emu-cli"))
        .arg("boot")
        .arg(guest())
        .args(["--smp", "2", "--timeout", "120"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn expect_then_send_gets_past_the_countdown_and_the_silent_boot() {
    let o = boot(&[
        "--expect",
        "autoboot: ",
        "--send",
        " ",
        "--expect",
        "=> ",
        "--send",
        "hello q",
    ]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert_eq!(
        out,
        "firmware starting\nstage done\nstage done\nstage done\n\
         Hit any key to stop autoboot: 3\n=> hello "
    );
}

/// Why `--expect` exists: with the quiet-time rule alone, the text is typed in the first silent
/// gap, where the guest drops it, and the countdown runs out.
#[test]
fn quiet_time_sends_are_lost_in_the_silent_gaps() {
    let o = boot(&["--send", " ", "--send", "hello q"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.ends_with("no key: booting\n"), "{out}");
}

#[test]
fn an_expected_pattern_that_never_comes_ends_the_run_with_124_naming_it() {
    let o = boot(&[
        "--expect",
        "autoboot: ",
        "--send",
        "x",
        "--expect",
        "login: ",
        "--expect-timeout",
        "1.5",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(124), "{err}");
    assert!(
        err.contains("--expect \"login: \" did not appear within --expect-timeout 1.5s"),
        "{err}"
    );
    assert!(
        text(&o.stdout).ends_with("autoboot: 3\n=> "),
        "the key stopped autoboot"
    );
}

/// The same with real firmware (Debian's `opensbi` and `u-boot-qemu`, which .ci/run installs):
/// OpenSBI, then U-Boot's autoboot countdown, which the first key only stops; the commands
/// typed after `=> ` run.
#[test]
fn u_boot_behind_opensbi_is_stopped_and_driven_with_expect() {
    let fw = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
    let uboot = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin";
    for f in [fw, uboot] {
        assert!(
            Path::new(f).exists(),
            "{f} is missing: apt-get install opensbi u-boot-qemu (.ci/run does)"
        );
    }
    let o = Command::new(env!("CARGO_BIN_EXE_emu-cli"))
        .args(["boot", "--bios", fw, uboot, "--timeout", "120"])
        .args(["--expect", "autoboot", "--send", " "])
        .args(["--expect", "=> ", "--send", "version\\r"])
        .args(["--expect", "=> ", "--send", "poweroff\\r"])
        .args(["--expect-timeout", "60"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("=> version\r\nU-Boot 20"), "{out}");
    assert!(out.contains("=> poweroff"), "{out}");
}

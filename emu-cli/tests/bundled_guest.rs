//! emu-cli end to end with the bundled images (the copy-on-write kernel and its fs.img): what a
//! user does after `cargo run --release -p emu-cli -- boot`, driven through `--send` and
//! `--until` the way a script would. (The same guest driven through emu-core's API is tested in
//! the root package's tests/.)

use std::process::{Command, Output, Stdio};

/// Host-time safety net per run, so a broken guest fails the test instead of hanging it.
const SAFETY_TIMEOUT: &str = "300";

fn boot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emu-cli"))
        .arg("boot")
        .args(args)
        .args(["--timeout", SAFETY_TIMEOUT])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

#[test]
fn cowtest_passes_through_the_cli() {
    let o = boot(&[
        "--send",
        "cowtest\\n",
        "--until",
        "ALL COW TESTS PASSED",
        "--stats",
    ]);
    assert_ok(&o);
    let out = text(&o.stdout);
    assert!(out.contains("init: starting sh"), "{out}");
    assert!(out.contains("ALL COW TESTS PASSED"), "{out}");
    let err = text(&o.stderr);
    assert!(err.contains("--until pattern seen"), "{err}");
    assert!(
        err.contains("hart 2:") && err.contains("MIPS"),
        "--stats on 3 harts: {err}"
    );
}

/// What the shell prints for [`DONE_COMMAND`]: the shell collapses the two spaces, so the
/// echo of the typed command line never matches, whether it was typed ahead during boot or at
/// the prompt.
const DONE: &str = "done marker\\n";
const DONE_COMMAND: &str = "echo done  marker\\n";

#[test]
fn same_seed_gives_byte_identical_output_on_one_and_three_harts() {
    for smp in ["1", "3"] {
        let args = [
            "--smp",
            smp,
            "--seed",
            "11",
            "--send",
            "ls\\n",
            "--send",
            DONE_COMMAND,
            "--until",
            DONE,
            "-q",
        ];
        let a = boot(&args);
        let b = boot(&args);
        assert_ok(&a);
        assert_ok(&b);
        assert!(
            text(&a.stdout).contains("cowtest"),
            "ls lists the programs: {}",
            text(&a.stdout)
        );
        assert_eq!(
            text(&a.stdout),
            text(&b.stdout),
            "--smp {smp} --seed 11 twice"
        );
    }
}

#[test]
fn disk_keeps_a_file_across_boots_and_snapshot_leaves_it_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("fs.img");
    std::fs::write(&disk, images::FS_IMG).unwrap();
    let d = disk.to_str().unwrap();

    // Boot 1 writes a file through to the image.
    let o = boot(&[
        "--disk",
        d,
        "--smp",
        "1",
        "--send",
        "echo persisted > keep\\n",
        "--send",
        DONE_COMMAND,
        "--until",
        DONE,
        "-q",
    ]);
    assert_ok(&o);
    let written = std::fs::read(&disk).unwrap();
    assert_ne!(
        written,
        images::FS_IMG,
        "the guest's write reached the file"
    );

    // Boot 2 reads it back.
    let o = boot(&[
        "--disk",
        d,
        "--smp",
        "1",
        "--send",
        "cat keep\\n",
        "--until",
        "persisted\\n",
        "-q",
    ]);
    assert_ok(&o);

    // With --snapshot the guest writes (and sees its write), but the file stays byte-identical.
    let o = boot(&[
        "--disk",
        d,
        "--snapshot",
        "--smp",
        "1",
        "--send",
        "echo scratch > tmp\\n",
        "--send",
        "cat tmp\\n",
        "--until",
        "scratch\\n",
        "-q",
    ]);
    assert_ok(&o);
    assert_eq!(
        std::fs::read(&disk).unwrap(),
        written,
        "--snapshot left the image untouched"
    );

    // The bundled fs.img is an overlay too: the shipped file never changes.
    let o = boot(&[
        "--smp",
        "1",
        "--send",
        "echo scratch > tmp\\n",
        "--send",
        "cat tmp\\n",
        "--until",
        "scratch\\n",
        "-q",
    ]);
    assert_ok(&o);
    assert_eq!(std::fs::read(images::fs_path()).unwrap(), images::FS_IMG);
}

#[test]
fn timeout_ends_an_idle_shell_with_124() {
    let o = Command::new(env!("CARGO_BIN_EXE_emu-cli"))
        .args(["boot", "--clock", "host", "--timeout", "2", "-q"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(124), "{}", text(&o.stderr));
}

/// `emu-cli images --export .` then `emu-cli boot kernel.img`: a KERNEL whose bytes are a
/// bundled kernel gets the bundled fs.img as an in-memory overlay, and the banner says so.
#[test]
fn an_exported_bundled_kernel_boots_with_the_bundled_disk() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = dir.path().join("kernel.img");
    std::fs::write(&kernel, images::KERNEL_IMG).unwrap();
    let o = boot(&[
        kernel.to_str().unwrap(),
        "--smp",
        "1",
        "--until",
        "init: starting sh",
    ]);
    assert_ok(&o);
    let err = text(&o.stderr);
    assert!(
        err.contains("disk the bundled fs.img (writes kept in memory; KERNEL is a bundled kernel)"),
        "{err}"
    );
    assert!(!err.contains("no --disk"), "{err}");
}

/// Any other KERNEL without --disk: a one-line note that the guest has no disk. Our kernel then
/// panics at its virtio probe, and a kernel panic powers the machine off with a failure code:
/// the run ends at once, non-zero, naming the panic.
#[test]
fn another_kernel_without_a_disk_gets_a_note_and_its_panic_ends_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = dir.path().join("my-kernel");
    let mut bytes = images::KERNEL_IMG.to_vec();
    bytes.push(0); // still the same ELF, but not byte-for-byte a bundled kernel
    std::fs::write(&kernel, bytes).unwrap();
    let started = std::time::Instant::now();
    let o = boot(&[kernel.to_str().unwrap(), "--smp", "2"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("panic: "), "{out}");
    let notes: Vec<&str> = err.lines().filter(|l| l.contains("no --disk")).collect();
    assert_eq!(
        notes,
        ["emu-cli: note: no --disk given: the guest has no disk (virtio-blk slot 0 is empty)"],
        "{err}"
    );
    assert!(
        err.contains("guest powered off with code 1 (fail); its last line: \"panic: ")
            && err.contains("virtio disk"),
        "the exit message names the panic: {err}"
    );
}

/// QEMU as the referee: the bundled kernel's panic powers `qemu-system-riscv64` off with the
/// same failure code through the same test device.
#[test]
fn a_kernel_panic_powers_qemu_off_with_the_same_code() {
    // coreutils `timeout`: a kernel that did not power off would hang QEMU (status 124).
    let o = Command::new("timeout")
        .args(["120", "qemu-system-riscv64"])
        .args([
            "-machine", "virt", "-bios", "none", "-m", "128M", "-smp", "2",
        ])
        .args(["-nographic", "-kernel"])
        .arg(images::kernel_path())
        .stdin(Stdio::null())
        .output()
        .expect("qemu-system-riscv64 (qemu-system-misc; .ci/run installs it)");
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("panic: could not find a virtio disk"), "{out}");
}

//! Disk safety through the binary: one writer per image (image locking), `--snapshot` as a
//! shared reader, read-only images refused at start unless `--snapshot` or `,readonly`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn emu_cli() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_emu-cli"));
    c.stdin(Stdio::null());
    c
}

fn fresh_image(dir: &Path) -> String {
    let disk = dir.join("fs.img");
    std::fs::write(&disk, images::FS_IMG).unwrap();
    disk.to_str().unwrap().to_string()
}

/// Starts `emu-cli boot ARGS` and returns once the guest's shell prompt shows (the image is
/// open and locked by then). The child is killed when the returned guard drops.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = emu_cli()
        .arg("boot")
        .args(args)
        .args(["--smp", "1", "--timeout", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(out);
        let mut buf = Vec::new();
        while r.read_until(b' ', &mut buf).is_ok_and(|n| n > 0) {
            if buf.ends_with(b"$ ") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the first emu-cli reached the shell prompt");
    Running(child)
}

fn boot(args: &[&str]) -> Output {
    emu_cli()
        .arg("boot")
        .args(args)
        .args(["--smp", "1", "--timeout", "60"])
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A refusal: exit status 1 and one line naming the file, the holder's pid and the fix.
fn assert_refused(o: &Output, disk: &str, holder: u32, fix: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(disk), "names the file: {err}");
    assert!(
        err.contains(&format!("process {holder} (emu-cli)")),
        "names the holder: {err}"
    );
    assert!(err.contains(fix), "says what to do: {err}");
}

#[test]
fn a_second_writer_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let d = fresh_image(dir.path());
    let first = start(&["--disk", &d]);
    let pid = first.0.id();

    let t = std::time::Instant::now();
    let o = boot(&["--disk", &d]);
    assert!(t.elapsed() < Duration::from_secs(10), "fails at once");
    assert_refused(&o, &d, pid, "which is writing it; stop it first");
    // A reader may not look at an image while it is being written either.
    let o = boot(&["--disk", &d, "--snapshot"]);
    assert_refused(&o, &d, pid, "writing it");
    let o = boot(&["--disk", &format!("{d},readonly")]);
    assert_refused(&o, &d, pid, "writing it");

    // Once the writer is gone (even killed), the lock is gone with it.
    drop(first);
    let o = boot(&["--disk", &d, "--send", "echo ok\\n", "--until", "ok\\n"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn snapshot_readers_share_an_image_and_keep_writers_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = fresh_image(dir.path());
    let first = start(&["--disk", &d, "--snapshot"]);
    let pid = first.0.id();

    let o = boot(&[
        "--disk",
        &d,
        "--snapshot",
        "--send",
        "echo scratch > tmp\\n",
        "--send",
        "cat tmp\\n",
        "--until",
        "scratch\\n",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = boot(&["--disk", &d]);
    assert_refused(&o, &d, pid, "reading it; stop it first, or add --snapshot");
    drop(first);
    assert_eq!(
        std::fs::read(&d).unwrap(),
        images::FS_IMG,
        "--snapshot never writes"
    );
}

/// Makes `path` unwritable even for root (mode 0444, and the immutable attribute when the
/// tests run as root); undone on drop so the temporary directory can be removed.
struct ReadOnlyFile<'a>(&'a str, bool);

impl<'a> ReadOnlyFile<'a> {
    fn new(path: &'a str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let writable = || std::fs::OpenOptions::new().write(true).open(path).is_ok();
        let mut immutable = false;
        if writable() {
            // Root ignores the mode bits; the immutable attribute stops it.
            immutable = Command::new("chattr")
                .args(["+i", path])
                .status()
                .is_ok_and(|s| s.success());
        }
        assert!(!writable(), "cannot make {path} read-only on this host");
        ReadOnlyFile(path, immutable)
    }
}

impl Drop for ReadOnlyFile<'_> {
    fn drop(&mut self) {
        if self.1 {
            let _ = Command::new("chattr").args(["-i", self.0]).status();
        }
    }
}

#[test]
fn read_only_images_need_snapshot_or_readonly() {
    let dir = tempfile::tempdir().unwrap();
    let d = fresh_image(dir.path());
    let _ro = ReadOnlyFile::new(&d);

    let o = boot(&["--disk", &d]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&d) && err.contains("read-only"), "{err}");
    assert!(
        err.contains("--snapshot") && err.contains(&format!("--disk {d},readonly")),
        "{err}"
    );

    // --snapshot boots it, writes stay in memory.
    let o = boot(&[
        "--disk",
        &d,
        "--snapshot",
        "--send",
        "echo hi > f\\n",
        "--send",
        "cat f\\n",
        "--until",
        "hi\\n",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // ,readonly: the guest sees a read-only disk; its first write is answered with an I/O
    // error, which the xv6-style kernel reports (it panics on a failed disk request, as xv6
    // does). The file is untouched.
    let o = boot(&[
        "--disk",
        &format!("{d},readonly"),
        "--send",
        "echo hi > f\\n",
        "--until",
        "virtio_disk_intr status",
    ]);
    // --until matches, or the kernel powers off after its panic (status 1).
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("panic: virtio_disk_intr status"), "{out}");
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert!(stderr(&o).contains("(read-only)"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&d).unwrap(), images::FS_IMG);
}

/// QEMU's image locking and ours exclude each other: the same OFD locks, the same file.
#[test]
fn qemu_and_emu_cli_keep_each_other_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = fresh_image(dir.path());
    let kernel = images::kernel_path();
    let qemu = |extra: &[&str]| {
        let mut c = Command::new("qemu-system-riscv64");
        c.args([
            "-machine",
            "virt",
            "-bios",
            "none",
            "-m",
            "128M",
            "-nographic",
        ])
        .args(["-kernel", kernel.to_str().unwrap()])
        .args(["-global", "virtio-mmio.force-legacy=false"])
        .arg("-drive")
        .arg(format!("file={d},if=none,format=raw,id=x0"))
        .args([
            "-device",
            "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        c
    };

    // emu-cli writes: QEMU refuses to start on the image.
    let first = start(&["--disk", &d]);
    let o = qemu(&[])
        .output()
        .expect("qemu-system-riscv64 is installed");
    let err = stderr(&o);
    assert!(!o.status.success(), "QEMU started on a locked image");
    assert!(err.contains("lock"), "QEMU names the lock: {err}");
    drop(first);

    // QEMU writes: emu-cli refuses, naming it.
    let mut q = qemu(&[]).spawn().unwrap();
    let pid = q.id();
    let locked = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::fs::read_dir(format!("/proc/{pid}/fdinfo"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("lock:")))
    });
    // QEMU opens the image with shared locks and takes its write lock a moment later: every
    // attempt in between is refused too (as held "for reading"), so try until the write lock
    // is seen or two seconds pass.
    let mut attempts = Vec::new();
    for _ in 0..20 {
        let o = emu_cli()
            .args(["boot", "--disk", &d, "--timeout", "5"])
            .output()
            .unwrap();
        let writing = stderr(&o).contains("which is writing it");
        attempts.push(o);
        if writing {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = q.kill();
    let _ = q.wait();
    assert!(locked, "QEMU locked the image");
    for o in &attempts {
        let err = stderr(o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!("process {pid} (qemu-system-ris)")),
            "{err}"
        );
    }
    let err = stderr(attempts.last().unwrap());
    assert!(
        err.contains(&format!(
            "process {pid} (qemu-system-ris), which is writing it"
        )),
        "{err}"
    );
}

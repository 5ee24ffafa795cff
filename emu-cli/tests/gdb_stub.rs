//! The gdb stub with the real gdb: `gdb-multiarch` in batch mode against
//! `emu-cli boot --gdb tcp::0 --halted` of the bundled kernel (built with debug info). Each test
//! boots its own emu-cli on a free port (port 0: emu-cli prints the port it got).
//!
//! Needs `gdb-multiarch` (Debian package gdb-multiarch; .ci/run installs it).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Host-time safety net for every emu-cli and gdb run.
const SAFETY: Duration = Duration::from_secs(240);

struct Emu {
    child: Child,
    port: u16,
    stderr: Receiver<String>,
    stdout: Arc<Mutex<Vec<u8>>>,
}

/// `emu-cli boot --gdb tcp::0 --halted ARGS…`, once it listens.
fn emu(args: &[&str]) -> Emu {
    let mut child = Command::new(env!("CARGO_BIN_EXE_emu-cli"))
        .args(["boot", "--gdb", "tcp::0", "--halted", "--timeout"])
        .arg(SAFETY.as_secs().to_string())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut out = child.stdout.take().unwrap();
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let sink = stdout.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                return;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let port = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("emu-cli did not say where it waits for gdb");
        if let Some(rest) = line.split("waiting for gdb on tcp::").nth(1) {
            break rest
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
        }
    };
    Emu {
        child,
        port,
        stderr: rx,
        stdout,
    }
}

impl Emu {
    /// The guest's console output so far.
    fn output(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Wait until the console output contains `pattern`.
    fn wait_output(&self, pattern: &str) {
        let start = Instant::now();
        while !self.output().contains(pattern) {
            assert!(
                start.elapsed() < SAFETY,
                "no {pattern:?} in {}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait for emu-cli to exit; its status, stdout and the rest of its stderr.
    fn finish(mut self) -> (Option<i32>, String, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > SAFETY {
                let _ = self.child.kill();
                panic!("emu-cli did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(50));
        let err: Vec<String> = self.stderr.try_iter().collect();
        (status.code(), self.output(), err.join("\n"))
    }
}

fn kernel() -> String {
    images::kernel_path().display().to_string()
}

/// The gdb command line for `script` against `port` (gdb's own init files are not read).
fn gdb_command(port: u16, script: &str) -> (Command, tempfile::NamedTempFile) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    use std::io::Write;
    write!(
        file,
        "set pagination off\nset confirm off\nset width 0\ntarget remote 127.0.0.1:{port}\n{script}\n"
    )
    .unwrap();
    let mut cmd = Command::new("gdb-multiarch");
    cmd.args(["-nx", "-batch", "-x"])
        .arg(file.path())
        .arg(kernel())
        .stdin(Stdio::null());
    (cmd, file)
}

/// Run `script` in gdb-multiarch; its stdout and stderr together.
fn gdb(port: u16, script: &str) -> String {
    let (mut cmd, _file) = gdb_command(port, script);
    let out = cmd
        .output()
        .expect("gdb-multiarch not found: install the Debian package gdb-multiarch (.ci/run does)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The value of gdb's `$N = 0x…` line that follows `marker` (printed with `echo`).
fn hex_after(out: &str, marker: &str) -> u64 {
    let line = out
        .split(marker)
        .nth(1)
        .and_then(|rest| rest.lines().find(|l| l.starts_with('$')))
        .unwrap_or_else(|| panic!("no value after {marker}:\n{out}"));
    let hex = line.split("0x").nth(1).unwrap_or_else(|| panic!("{line}"));
    u64::from_str_radix(hex.trim(), 16).unwrap()
}

#[test]
fn break_backtrace_globals_threads_registers_and_stepi() {
    let e = emu(&[]);
    let out = gdb(
        e.port,
        "break kernel::proc::scheduler
continue
bt
p kernel::trap::TICKS
info threads
p $priv
info registers sstatus
p/x $satp
p/x $mcause
echo MI0\\n
p/x $minstret
stepi
echo MI1\\n
p/x $minstret
echo MI2\\n
maint packet vCont;s:p1.1
flushregs
p/x $minstret
set $a0 = 0x1234
p/x $a0
x/2i $pc
thread 2
info registers pc
kill",
    );
    let (status, _, err) = e.finish();
    assert!(
        out.contains("hit Breakpoint 1, kernel::proc::scheduler ()"),
        "{out}"
    );
    assert!(
        out.contains("in kernel::kmain ()"),
        "bt shows the caller:\n{out}"
    );
    assert!(out.contains("$1 = "), "p of a global:\n{out}");
    for h in 0..3 {
        assert!(
            out.contains(&format!("(hart {h} (")),
            "info threads, hart {h}:\n{out}"
        );
    }
    assert!(out.contains("$2 = 1"), "S-mode in the scheduler:\n{out}");
    assert!(
        out.contains("sstatus        0x"),
        "info registers sstatus:\n{out}"
    );
    assert!(out.contains("$3 = 0x8000000000"), "satp is Sv39:\n{out}");
    let (m0, m1, m2) = (
        hex_after(&out, "MI0"),
        hex_after(&out, "MI1"),
        hex_after(&out, "MI2"),
    );
    assert_eq!(m1, m0 + 1, "stepi retires one instruction:\n{out}");
    assert_eq!(m2, m1 + 1, "vCont;s retires one instruction:\n{out}");
    assert!(out.contains("= 0x1234"), "register write:\n{out}");
    assert!(out.contains("=> 0x8"), "x/2i $pc:\n{out}");
    assert!(out.contains("[Switching to thread 2"), "{out}");
    assert!(out.contains("pc             0x"), "{out}");
    assert!(out.contains("killed"), "{out}");
    assert_eq!(status, Some(0), "{err}");
    assert!(err.contains("killed by gdb"), "{err}");
}

#[test]
fn watchpoints_and_hardware_breakpoints() {
    let e = emu(&[]);
    let out = gdb(
        e.port,
        "set language rust
watch kernel::trap::TICKS
continue
continue
delete
rwatch kernel::trap::TICKS
continue
delete
hbreak kernel::trap::clockintr
continue
p kernel::trap::TICKS
kill",
    );
    e.finish();
    assert!(
        out.contains("Hardware watchpoint 1: kernel::trap::TICKS"),
        "{out}"
    );
    assert!(out.contains("Old value = 0\nNew value = 1"), "{out}");
    assert!(out.contains("Old value = 1\nNew value = 2"), "{out}");
    assert!(
        out.contains("in kernel::trap::clockintr ()"),
        "stops where TICKS is written:\n{out}"
    );
    assert!(
        out.contains("hit Hardware read watchpoint 2: kernel::trap::TICKS"),
        "{out}"
    );
    assert!(out.contains("Value = 2"), "{out}");
    assert!(
        out.contains("hit Breakpoint 3, kernel::trap::clockintr ()"),
        "hbreak:\n{out}"
    );
    assert!(out.contains("$1 = "), "{out}");
}

#[test]
fn breakpoint_in_a_user_program() {
    let e = emu(&["--send", "cowtest\\n"]);
    let cowtest = images::user_program_path("cowtest");
    let out = gdb(
        e.port,
        &format!(
            "break kernel::exec::exec if path.data_ptr[0] == 99
continue
p path
delete
add-symbol-file {}
break cowtest::main
continue
p $priv
x/i $pc
bt 2
kill",
            cowtest.display()
        ),
    );
    e.finish();
    assert!(
        out.contains("[99, 111, 119, 116, 101, 115, 116]"),
        "exec(\"cowtest\"):\n{out}"
    );
    assert!(
        out.contains("hit Breakpoint 2, cowtest::main"),
        "breakpoint in user space:\n{out}"
    );
    assert!(out.contains("= 0\n"), "U-mode:\n{out}");
    assert!(
        out.contains("<cowtest::main+") || out.contains("cowtest4main"),
        "{out}"
    );
    assert!(
        out.contains("in cowtest::_start"),
        "bt in user space:\n{out}"
    );
}

#[test]
fn ctrl_c_detach_reconnect_and_kill() {
    let e = emu(&[]);
    let (mut cmd, _file) = gdb_command(
        e.port,
        "continue
info threads
detach",
    );
    let gdb1 = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // gdb has connected and continued once the guest prints; then interrupt it while it runs.
    e.wait_output("hart 2 starting");
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-INT", &gdb1.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = gdb1.wait_with_output().unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("received signal SIGINT"), "{out}");
    assert!(out.contains("(hart 2 ("), "{out}");
    assert!(out.contains("detached"), "{out}");
    // The guest runs on (to its shell prompt); a second gdb connects to the same port, stops it
    // and kills it.
    e.wait_output("$ ");
    let out = gdb(e.port, "info threads\nkill");
    assert!(out.contains("(hart 0 ("), "reconnect:\n{out}");
    let (status, stdout, err) = e.finish();
    assert!(err.contains("gdb detached; the guest runs on"), "{err}");
    assert!(err.contains("killed by gdb"), "{err}");
    assert!(
        stdout.contains("init: starting sh"),
        "the guest ran after detach:\n{stdout}"
    );
    assert_eq!(status, Some(0));
}

#[test]
fn timeout_ends_a_run_held_by_gdb() {
    let start = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_emu-cli"))
        .args(["boot", "--gdb", "tcp::0", "--halted", "--timeout", "1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(124), "halted with no gdb: timeout");
    // Held by a gdb that keeps the machine stopped and idles.
    let mut child = Command::new(env!("CARGO_BIN_EXE_emu-cli"))
        .args(["boot", "--gdb", "tcp::0", "--halted", "--timeout", "4"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("waiting for gdb") {
        line.clear();
        err.read_line(&mut line).unwrap();
    }
    let port: u16 = line.rsplit("tcp::").next().unwrap()[..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let out = gdb(port, "info threads\nshell sleep 8\ninfo threads");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(124), "{out}");
    assert!(start.elapsed() < Duration::from_secs(60));
    assert!(out.contains("(hart 0 (M-mode))"), "{out}");
}

#[test]
fn halted_without_gdb_is_refused() {
    let o = Command::new(env!("CARGO_BIN_EXE_emu-cli"))
        .args(["boot", "--halted"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--halted waits for gdb; add --gdb"), "{err}");
    let o = Command::new(env!("CARGO_BIN_EXE_emu-cli"))
        .args(["boot", "-s", "--expect", "$ ", "--expect-timeout", "5"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--expect-timeout is not watched"), "{err}");
}

/// xv6's `gradelib.py` (`make grade`) drives the stub with its own client: it connects and
/// sends a bare `$c#63`, no `Hc`, no `vCont`. QEMU resumes every vCPU on that; so must we
/// (gdbstub alone continued hart 0 and held the others, and the held harts kept the machine
/// in one-instruction debug rounds).
#[test]
fn gradelib_bare_continue_resumes_every_hart() {
    use std::io::Write;
    let e = emu(&["--smp", "3"]);
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", e.port)).unwrap();
    sock.write_all(b"$c#63").unwrap();
    e.wait_output("hart 1 starting");
    e.wait_output("hart 2 starting");
    e.wait_output("$ ");
    // gradelib ends a test by killing QEMU; here the stub's kill packet ends the run.
    sock.write_all(b"$k#6b").unwrap();
    let (code, out, err) = e.finish();
    assert!(code.is_some(), "emu-cli exited: {err}");
    assert!(out.contains("init: starting sh"), "{out}");
}

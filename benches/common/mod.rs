//! Shared helpers of the root benches: the loop images of `mkloop.py` (ported), a booted guest
//! on emu-core driven through its console, and the same guest under `qemu-system-riscv64`.
#![allow(dead_code)]

use emu_core::machine::{Disk, ExitReason, RunLimits};
use emu_core::MemoryConsole;
use emu_core::{Machine, MachineConfig};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Which loop a loop image runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopKind {
    /// 5 instructions per iteration: addi, xor, add, addi, bne.
    Alu,
    /// 8 instructions per iteration: ld, addi, sd (to a data page 4 KiB past the code) + the ALU
    /// body (mkloop.py's usage text says 7; its loop has 8).
    Mem,
}

impl LoopKind {
    /// Instructions retired per loop iteration.
    pub fn insns_per_iteration(self) -> u64 {
        match self {
            LoopKind::Alu => 5,
            LoopKind::Mem => 8,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            LoopKind::Alu => "alu",
            LoopKind::Mem => "mem",
        }
    }
}

/// Instructions a loop image retires besides its loop: 4 before it, 4 after it (the last one
/// the test-finisher store that powers the machine off).
pub const LOOP_OVERHEAD_INSNS: u64 = 8;

/// A raw RV64 M-mode program for 0x8000_0000 (no ELF header) that runs `iterations` iterations
/// of `kind`'s loop, then writes 0x5555 (pass) to the SiFive test finisher at 0x10_0000 and
/// spins. Byte-identical to `/work/shared/tools/mkloop.py OUT iterations alu|mem`.
pub fn loop_image(iterations: u64, kind: LoopKind) -> Vec<u8> {
    const T0: u32 = 5;
    const T1: u32 = 6;
    const T2: u32 = 7;
    const T3: u32 = 28;
    const A0: u32 = 10;
    const A1: u32 = 11;
    fn r(op: u32, rd: u32, f3: u32, rs1: u32, rs2: u32) -> u32 {
        op | rd << 7 | f3 << 12 | rs1 << 15 | rs2 << 20
    }
    fn i(op: u32, rd: u32, f3: u32, rs1: u32, imm: i32) -> u32 {
        op | rd << 7 | f3 << 12 | rs1 << 15 | ((imm as u32) & 0xfff) << 20
    }
    fn s(f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
        let imm = imm as u32;
        0x23 | (imm & 0x1f) << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | ((imm >> 5) & 0x7f) << 25
    }
    fn u(op: u32, rd: u32, imm20: u32) -> u32 {
        op | rd << 7 | (imm20 & 0xfffff) << 12
    }
    fn bne(rs1: u32, rs2: u32, off: i32) -> u32 {
        let o = off as u32;
        0x63 | ((o >> 11) & 1) << 7
            | ((o >> 1) & 0xf) << 8
            | 1 << 12
            | rs1 << 15
            | rs2 << 20
            | ((o >> 5) & 0x3f) << 25
            | ((o >> 12) & 1) << 31
    }
    fn jal(rd: u32, off: i32) -> u32 {
        let o = off as u32;
        0x6f | rd << 7
            | ((o >> 12) & 0xff) << 12
            | ((o >> 11) & 1) << 20
            | ((o >> 1) & 0x3ff) << 21
            | ((o >> 20) & 1) << 31
    }
    let mut code = vec![
        u(0x17, T3, 0),       // auipc t3, 0
        0,                    // ld t0, N_OFF(t3), patched below
        u(0x17, A1, 1),       // auipc a1, 1: a1 -> data page
        i(0x13, A0, 0, 0, 0), // li a0, 0
    ];
    let loop_start = code.len() as i32;
    if kind == LoopKind::Mem {
        code.extend([
            i(0x03, T1, 3, A1, 0),
            i(0x13, T1, 0, T1, 1),
            s(3, A1, T1, 0),
        ]);
    }
    code.extend([
        i(0x13, A0, 0, A0, 3),
        r(0x33, A0, 4, A0, T0),
        r(0x33, A0, 0, A0, T0),
        i(0x13, T0, 0, T0, -1),
    ]);
    code.push(bne(T0, 0, (loop_start - code.len() as i32) * 4));
    code.extend([
        u(0x37, T1, 0x100), // lui t1, 0x100: the test finisher
        u(0x37, T2, 0x5),
        i(0x13, T2, 0, T2, 0x555), // t2 = 0x5555: pass
        s(2, T1, T2, 0),           // sw t2, 0(t1)
        jal(0, 0),
    ]);
    let n_off = (code.len() * 4).next_multiple_of(8);
    code[1] = i(0x03, T0, 3, T3, n_off as i32);
    let mut blob: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    blob.resize(n_off, 0);
    blob.extend(iterations.to_le_bytes());
    blob
}

/// Run a loop image to power-off on a fresh one-hart machine; returns the instructions retired.
/// Panics if the machine stops any other way (the image is ours: that is a bug).
pub fn run_loop_image(image: &[u8]) -> u64 {
    let mut m = Machine::new(MachineConfig::default()).expect("machine");
    m.load_kernel(image, "loop.bin").expect("loop image loads");
    let exit = m.run_until(&RunLimits::default(), &mut |_| false);
    assert_eq!(exit, ExitReason::PowerOff { code: 0 }, "loop image");
    m.stats().instret.iter().sum()
}

/// Host time (wall, or CPU under `RVCOW_BENCH_TIME=cpu`) of `iters` runs of a loop image, each
/// on a fresh one-hart machine; building and loading the machine is not timed. For criterion's
/// `iter_custom`.
pub fn time_loop_runs(image: &[u8], iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut m = Machine::new(MachineConfig::default()).expect("machine");
        m.load_kernel(image, "loop.bin").expect("loop image loads");
        let t = Stopwatch::start();
        m.run_until(&RunLimits::default(), &mut |_| false);
        total += t.elapsed();
    }
    total
}

/// Host time (wall, or CPU under `RVCOW_BENCH_TIME=cpu`) of `iters` boots of the bundled kernel
/// on 3 harts to the first `$ ` prompt; building the machine is not timed. For `iter_custom`.
pub fn time_boots_to_prompt(iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut g = Guest::new(images::KERNEL_IMG, 3);
        let t = Stopwatch::start();
        g.wait_for("$ ", |_, _| {});
        total += t.elapsed();
    }
    total
}

/// Guest instructions retired by all harts of `m`.
pub fn instret(m: &Machine) -> u64 {
    m.stats().instret.iter().sum()
}

/// A guest booted on emu-core with the bundled fs.img as an in-memory overlay, driven through
/// its console.
pub struct Guest {
    pub machine: Machine,
    pub console: MemoryConsole,
    /// Console bytes already consumed.
    seen: usize,
}

impl Guest {
    /// Build the machine (`harts` harts, 128 MiB) with `kernel` loaded; does not run it.
    pub fn new(kernel: &[u8], harts: usize) -> Guest {
        Guest::new_with_ram(kernel, harts, MachineConfig::default().ram_size)
    }

    /// Like [`Guest::new`] with `ram_size` bytes of RAM.
    pub fn new_with_ram(kernel: &[u8], harts: usize, ram_size: u64) -> Guest {
        let mut machine = Machine::new(MachineConfig {
            harts,
            ram_size,
            ..Default::default()
        })
        .expect("machine config");
        machine
            .load_kernel(kernel, "kernel.img")
            .expect("bundled kernel loads");
        machine.attach_disk(Disk::from_bytes(images::FS_IMG.to_vec()));
        let console = MemoryConsole::new();
        machine.set_console(Box::new(console.clone()));
        Guest {
            machine,
            console,
            seen: 0,
        }
    }

    /// Build and boot to the first `$ ` prompt.
    pub fn boot(kernel: &[u8], harts: usize) -> Guest {
        let mut g = Guest::new(kernel, harts);
        g.wait_for("$ ", |_, _| {});
        g
    }

    /// Run until the unconsumed console output contains `pattern`; `on_poll` sees the output
    /// (from the start of this wait) and the machine at every poll. Panics if the guest powers
    /// off or 10 minutes pass. Returns the output up to and including the match.
    pub fn wait_for(&mut self, pattern: &str, mut on_poll: impl FnMut(&[u8], &Machine)) -> String {
        let start = self.seen;
        let console = self.console.clone();
        let limits = RunLimits {
            max_insns: None,
            timeout: Some(Duration::from_secs(600)),
        };
        let exit = self.machine.run_until(&limits, &mut |m| {
            let out = console.output();
            let fresh = &out[start.min(out.len())..];
            on_poll(fresh, m);
            find(fresh, pattern.as_bytes()).is_some()
        });
        let out = self.console.output();
        let fresh = &out[start..];
        let end = find(fresh, pattern.as_bytes()).map(|i| i + pattern.len());
        let text = String::from_utf8_lossy(&fresh[..end.unwrap_or(fresh.len())]).into_owned();
        assert!(
            exit == ExitReason::Stopped && end.is_some(),
            "guest stopped ({exit:?}) before printing {pattern:?}:\n{text}"
        );
        self.seen = start + end.unwrap();
        text
    }

    /// Type `line` + newline and run until the next `\n$ ` prompt; returns the output.
    pub fn run_command(&mut self, line: &str) -> String {
        self.console.push_input(line.as_bytes());
        self.console.push_input(b"\n");
        self.wait_for("\n$ ", |_, _| {})
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The QEMU binary the peer bench compares against.
pub const QEMU: &str = "qemu-system-riscv64";

/// Whether `qemu-system-riscv64` runs here.
pub fn qemu_available() -> bool {
    Command::new(QEMU)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run a raw loop image under QEMU (`-machine virt -bios none -kernel`) to power-off; returns
/// the host wall time including QEMU's start-up (its CPU time under [`cpu_time_mode`]).
pub fn qemu_run_raw(image_path: &Path) -> Duration {
    let t = Instant::now();
    let cpu = children_cpu_time();
    let out = Command::new(QEMU)
        .args([
            "-machine",
            "virt",
            "-bios",
            "none",
            "-m",
            "128M",
            "-nographic",
        ])
        .args(["-monitor", "none", "-serial", "null", "-kernel"])
        .arg(image_path)
        .stdin(Stdio::null())
        .output()
        .expect("qemu-system-riscv64 runs");
    let d = match cpu_time_mode() {
        true => children_cpu_time().saturating_sub(cpu),
        false => t.elapsed(),
    };
    assert!(
        out.status.success(),
        "qemu on {}: {:?} {}",
        image_path.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

/// The bundled kernel booted under QEMU (`virt`, 128 MiB, 3 harts, a private copy of fs.img),
/// its serial console on pipes.
pub struct QemuGuest {
    child: Child,
    stdin: ChildStdin,
    output: Arc<(Mutex<Vec<u8>>, Condvar)>,
    seen: usize,
    _dir: tempfile::TempDir,
}

impl QemuGuest {
    /// Start QEMU on `kernel` (a file path); returns at once (see [`QemuGuest::wait_for`]).
    pub fn start(kernel: &Path) -> QemuGuest {
        let dir = tempfile::tempdir().expect("temp dir");
        let disk: PathBuf = dir.path().join("fs.img");
        std::fs::write(&disk, images::FS_IMG).expect("copy fs.img");
        let mut child = Command::new(QEMU)
            .args([
                "-machine", "virt", "-bios", "none", "-m", "128M", "-smp", "3",
            ])
            .args(["-nographic", "-global", "virtio-mmio.force-legacy=false"])
            .arg("-drive")
            .arg(format!("file={},if=none,format=raw,id=x0", disk.display()))
            .args([
                "-device",
                "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
            ])
            .arg("-kernel")
            .arg(kernel)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("qemu-system-riscv64 starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let output = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.0.lock().unwrap().extend_from_slice(&buf[..n]);
                sink.1.notify_all();
            }
        });
        QemuGuest {
            child,
            stdin,
            output,
            seen: 0,
            _dir: dir,
        }
    }

    /// Start and wait for the first `$ ` prompt.
    pub fn boot(kernel: &Path) -> QemuGuest {
        let mut q = QemuGuest::start(kernel);
        q.wait_for("$ ");
        q
    }

    /// Wait until the unconsumed output contains `pattern` (panics after 10 minutes); returns
    /// the output up to and including it.
    pub fn wait_for(&mut self, pattern: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(600);
        let (lock, cv) = &*self.output;
        let mut out = lock.lock().unwrap();
        loop {
            let fresh = &out[self.seen..];
            if let Some(i) = find(fresh, pattern.as_bytes()) {
                let text = String::from_utf8_lossy(&fresh[..i + pattern.len()]).into_owned();
                self.seen += i + pattern.len();
                return text;
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "qemu: no {pattern:?} in:\n{}",
                String::from_utf8_lossy(fresh)
            );
            out = cv.wait_timeout(out, deadline - now).unwrap().0;
        }
    }

    /// CPU time QEMU has used so far (all its threads).
    pub fn cpu_time(&self) -> Duration {
        process_cpu_time(self.child.id())
    }

    /// Type `line` + newline and wait for the next `\n$ ` prompt.
    pub fn run_command(&mut self, line: &str) -> String {
        self.stdin.write_all(line.as_bytes()).unwrap();
        self.stdin.write_all(b"\n").unwrap();
        self.stdin.flush().unwrap();
        self.wait_for("\n$ ")
    }
}

impl Drop for QemuGuest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the benches measure host CPU time instead of wall time (`RVCOW_BENCH_TIME=cpu`).
/// On a machine shared with other work, CPU time is the steadier measure: wall time also
/// counts the time the emulator waited for a core. For rvcow it is the CPU time of the thread
/// that runs the machine; for QEMU the CPU time of all its threads.
pub fn cpu_time_mode() -> bool {
    std::env::var("RVCOW_BENCH_TIME").is_ok_and(|v| v == "cpu")
}

/// CPU time used so far by the calling thread.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time (user + system) of this process's children that have been waited for.
pub fn children_cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is a valid value; getrusage fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one rusage through a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU time of every thread of a live process `pid`, from `/proc/PID/task/*/schedstat`
/// (nanoseconds on a CPU, the first field).
pub fn process_cpu_time(pid: u32) -> Duration {
    let mut ns = 0u64;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
                ns += s
                    .split_whitespace()
                    .next()
                    .and_then(|f| f.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    Duration::from_nanos(ns)
}

/// Measures the calling thread: wall time, or its CPU time under [`cpu_time_mode`].
#[derive(Clone, Copy)]
pub struct Stopwatch {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            cpu: cpu_time_mode().then(thread_cpu_time),
        }
    }
    pub fn elapsed(&self) -> Duration {
        match self.cpu {
            Some(c) => thread_cpu_time().saturating_sub(c),
            None => self.wall.elapsed(),
        }
    }
}

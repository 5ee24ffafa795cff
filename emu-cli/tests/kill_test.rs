//! The kill test: the guest's `crashtest` program creates, writes, renames and deletes files on
//! `--disk` (a copy of fs.img) and prints a line after each completed step; emu-cli is killed
//! with SIGKILL at a random moment; then the image must be consistent (`mkfs --check`'s
//! checker, which replays a committed log in memory), the bundled kernel must boot from it
//! (its log recovery installs that transaction), the image must be consistent again with the
//! log empty, and every step reported done before the kill must be on it, with its contents.
//! Precisely: the disk must hold crashtest's plan applied up to some operation at or after the
//! last one reported done (console output reaches the host in batches, so a few more may have
//! completed), with the operation after that possibly half done.
//!
//! The CI variant makes 20 kills (4 seeds × 5, each a fresh emu-cli process, one image per
//! seed); `RVCOW_KILL_ROUNDS=N` makes N kills per seed, `RVCOW_KILL_SEEDS=N` N seeds.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use abi::fs::ROOTINO;
use mkfs::reader::FsReader;

fn emu_cli() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_emu-cli"));
    c.stdin(Stdio::null());
    c
}

/// FNV-1a, 32 bits (crashtest's hash).
fn fnv(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    })
}

/// What a path must be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Dir,
    File { len: usize, fnv: u32 },
}

/// One crashtest operation.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Mkdir(String),
    Create(String, usize, u32),
    Rename(String, String),
    Unlink(String),
}

impl Op {
    /// The text crashtest prints after `ct done `.
    fn text(&self) -> String {
        match self {
            Op::Mkdir(p) => format!("mkdir {p}"),
            Op::Create(p, len, h) => format!("create {p} {len} {h:08x}"),
            Op::Rename(p, q) => format!("rename {p} {q}"),
            Op::Unlink(p) => format!("unlink {p}"),
        }
    }

    /// The paths it changes.
    fn paths(&self) -> Vec<String> {
        match self {
            Op::Rename(p, q) => vec![p.clone(), q.clone()],
            Op::Mkdir(p) | Op::Create(p, ..) | Op::Unlink(p) => vec![p.clone()],
        }
    }

    fn apply(&self, state: &mut BTreeMap<String, Expect>) {
        match self {
            Op::Mkdir(p) => {
                state.insert(p.clone(), Expect::Dir);
            }
            Op::Create(p, len, fnv) => {
                state.insert(
                    p.clone(),
                    Expect::File {
                        len: *len,
                        fnv: *fnv,
                    },
                );
            }
            Op::Rename(p, q) => {
                let e = state.remove(p).expect("renamed file exists");
                state.insert(q.clone(), e);
            }
            Op::Unlink(p) => {
                state.remove(p);
            }
        }
    }
}

/// crashtest's contents of file `i` of run `tag` (the guest program's `content`).
fn content(tag: u32, i: u32) -> Vec<u8> {
    let len = 100 + ((tag.wrapping_mul(7919) ^ i.wrapping_mul(104_729)) % 14_000) as usize;
    (0..len)
        .map(|j| b'a' + ((j as u32 + i * 7 + tag) % 26) as u8)
        .collect()
}

/// The operations `crashtest TAG` carries out, in order (a replica of the guest program's
/// loop; every done line it prints is checked against it).
fn plan(tag: u32, steps: u32) -> Vec<Op> {
    let create = |p: String, data: Vec<u8>| Op::Create(p, data.len(), fnv(&data));
    let dir = format!("c{tag}");
    let mut ops = vec![Op::Mkdir(dir.clone())];
    for i in 0..steps {
        let (f, g) = (format!("{dir}/f{i}"), format!("{dir}/g{i}"));
        ops.push(create(f.clone(), content(tag, i)));
        ops.push(Op::Rename(f, g));
        if i >= 3 {
            ops.push(Op::Unlink(format!("{dir}/g{}", i - 3)));
        }
        if i % 4 == 0 {
            let s = format!("{dir}/s{i}");
            ops.push(Op::Mkdir(s.clone()));
            ops.push(create(format!("{s}/x"), content(tag, i + 1000)));
        }
        if i % 4 == 2 {
            let s = format!("{dir}/s{}", i - 2);
            ops.push(Op::Unlink(format!("{s}/x")));
            ops.push(Op::Unlink(s));
        }
    }
    ops
}

/// How many operations crashtest reported done (checked against the plan, in order).
fn reported_done(lines: &[String], ops: &[Op]) -> usize {
    let mut done = 0;
    for line in lines {
        if line.starts_with("ct fail") {
            panic!("crashtest failed: {line}");
        }
        if let Some(text) = line.strip_prefix("ct done ") {
            assert_eq!(
                text,
                ops[done].text(),
                "crashtest's op {done} differs from the plan"
            );
            done += 1;
        }
    }
    done
}

/// Inode of `path` (relative to the root), if it exists.
fn lookup(r: &FsReader, path: &str) -> Option<u32> {
    let mut inum = ROOTINO;
    for part in path.split('/') {
        let (i, _) = r
            .dir_entries(inum)
            .unwrap()
            .into_iter()
            .find(|(_, n)| n == part)?;
        inum = i as u32;
    }
    Some(inum)
}

/// Every path below the `c*` directories crashtest makes.
fn crashtest_paths(r: &FsReader) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<(u32, String)> = r
        .dir_entries(ROOTINO)
        .unwrap()
        .into_iter()
        .filter(|(_, n)| n.starts_with('c') && n[1..].parse::<u32>().is_ok())
        .map(|(i, n)| (i as u32, n))
        .collect();
    while let Some((inum, path)) = stack.pop() {
        out.push(path.clone());
        if r.inode(inum).unwrap().typ == abi::T_DIR {
            for (i, n) in r.dir_entries(inum).unwrap() {
                if n != "." && n != ".." {
                    stack.push((i as u32, format!("{path}/{n}")));
                }
            }
        }
    }
    out
}

/// Whether the disk holds exactly `state` below the `c*` directories, except for the
/// `uncertain` paths (the operation in flight at the kill); `Err` says what differs.
fn matches(
    r: &FsReader,
    state: &BTreeMap<String, Expect>,
    uncertain: &[String],
) -> Result<(), String> {
    for (path, want) in state {
        if uncertain.contains(path) {
            continue;
        }
        let inum = lookup(r, path).ok_or_else(|| format!("{path} is missing"))?;
        let got = expect_of(r, inum);
        if &got != want {
            return Err(format!("{path} is {got:?}, not {want:?}"));
        }
    }
    for path in crashtest_paths(r) {
        if !state.contains_key(&path) && !uncertain.contains(&path) {
            return Err(format!("{path} is on the disk but should not be"));
        }
    }
    Ok(())
}

/// What the disk holds at inode `inum`: a directory, or a file's length and hash.
fn expect_of(r: &FsReader, inum: u32) -> Expect {
    if r.inode(inum).unwrap().typ == abi::T_DIR {
        Expect::Dir
    } else {
        let data = r.read_inode(inum).unwrap();
        Expect::File {
            len: data.len(),
            fnv: fnv(&data),
        }
    }
}

/// The disk's word for `paths` (present with its contents, or absent).
fn settle(r: &FsReader, state: &mut BTreeMap<String, Expect>, paths: &[String]) {
    for p in paths {
        match lookup(r, p) {
            None => {
                state.remove(p);
            }
            Some(inum) => {
                state.insert(p.clone(), expect_of(r, inum));
            }
        }
    }
}

/// Operations the guest may complete after its last done line reached the host: console
/// output reaches emu-cli's stdout in batches, so a few more may be on the disk.
const WINDOW: usize = 16;

/// Checks that the disk holds every reported operation: it must equal the plan applied up to
/// some point at or after the last reported one, with the next operation possibly half done.
/// Returns the state the disk holds (the model for the next round).
fn verify(
    img: &[u8],
    base: &BTreeMap<String, Expect>,
    ops: &[Op],
    done: usize,
    when: &str,
) -> BTreeMap<String, Expect> {
    let r = FsReader::new(img).unwrap();
    let mut state = base.clone();
    for op in &ops[..done] {
        op.apply(&mut state);
    }
    let mut first_err = None;
    for op in ops.iter().skip(done).take(WINDOW) {
        let uncertain = op.paths();
        match matches(&r, &state, &uncertain) {
            Ok(()) => {
                settle(&r, &mut state, &uncertain);
                return state;
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
        op.apply(&mut state);
    }
    panic!(
        "{when}: the disk does not hold the {done} operations reported done: {}",
        first_err.unwrap()
    );
}

fn check_consistent(img: &[u8], when: &str) -> u32 {
    let report = mkfs::check::check(img);
    assert!(
        report.consistent(),
        "{when}: the file system is inconsistent: {:?}",
        report.problems
    );
    report.log_replayed
}

/// A small deterministic generator for kill delays.
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

fn env_count(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One round: boot, start `crashtest TAG`, SIGKILL after `delay`; returns the lines seen.
/// crashtest's default step count (the run is killed long before it ends).
const STEPS: u32 = 1000;

fn run_and_kill(disk: &Path, seed: u64, tag: u32, delay: Duration) -> Vec<String> {
    let mut child = emu_cli()
        .args(["boot", "--smp", "3", "--seed", &seed.to_string(), "--disk"])
        .arg(disk)
        .args(["--send", &format!("crashtest {tag}\\n"), "--timeout", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (started_tx, started_rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    let reader = {
        let lines = lines.clone();
        std::thread::spawn(move || {
            // Whole lines only: the kill may cut the last one short.
            let mut r = BufReader::new(out);
            let mut buf = Vec::new();
            while r.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) && buf.ends_with(b"\n") {
                let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                buf.clear();
                if line.starts_with("ct start") {
                    let _ = started_tx.send(());
                }
                lines.lock().unwrap().push(line);
            }
        })
    };
    started_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("crashtest started");
    std::thread::sleep(delay);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap();
    let lines = lines.lock().unwrap().clone();
    lines
}

/// Boots the image once more (the kernel recovers its log at boot) and lists the run's
/// directory from the guest.
fn reboot(disk: &Path, tag: u32) -> String {
    let o = emu_cli()
        .args(["boot", "--smp", "1", "--disk"])
        .arg(disk)
        .args([
            "--send",
            &format!("ls c{tag}\\n"),
            "--send",
            "echo rebooted\\n",
        ])
        .args(["--until", "rebooted\\n", "--timeout", "60", "-q"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "reboot after the kill");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn sigkill_at_random_moments_loses_no_reported_write() {
    let seeds = env_count("RVCOW_KILL_SEEDS", 4) as u64;
    let rounds = env_count("RVCOW_KILL_ROUNDS", 5);
    let mut kills = 0;
    let mut replays = 0;
    for seed in 1..=seeds {
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join("fs.img");
        std::fs::write(&disk, images::FS_IMG).unwrap();
        let mut model: BTreeMap<String, Expect> = BTreeMap::new();
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for round in 0..rounds {
            let tag = round + 1;
            let ops = plan(tag, STEPS);
            let delay = Duration::from_millis(50 + next(&mut rng) % 1500);
            let lines = run_and_kill(&disk, seed, tag, delay);
            kills += 1;
            let done = reported_done(&lines, &ops);
            let when =
                format!("seed {seed} round {round} (killed after {delay:?}, {done} ops done)");
            let img = std::fs::read(&disk).unwrap();
            replays += check_consistent(&img, &format!("{when}, before reboot")).min(1);

            let listing = reboot(&disk, tag);
            assert!(
                !listing.contains("ls: cannot open"),
                "{when}: the guest cannot list c{tag}: {listing}"
            );
            let img = std::fs::read(&disk).unwrap();
            let replayed = check_consistent(&img, &format!("{when}, after reboot"));
            assert_eq!(replayed, 0, "{when}: the kernel's recovery emptied the log");
            model = verify(&img, &model, &ops, done, &when);
        }
    }
    eprintln!("{kills} kills, {replays} left a committed log transaction to replay");
    assert!(kills >= 20 || seeds * (rounds as u64) < 20);
}

//! The kill test: the guest's `crashtest` program creates, writes, renames and deletes files on
//! `--disk` (a copy of fs.img) and prints a line after each completed step; emu-cli is killed
//! with SIGKILL at a random moment; then the image must be consistent (`mkfs --check`'s
//! checker, which replays a committed log in memory), the bundled kernel must boot from it
//! (its log recovery installs that transaction), the image must be consistent again with the
//! log empty, and every step reported done before the kill must be on it, with its contents.
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

/// What a path must be after the steps reported done.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Dir,
    File { len: usize, fnv: u32 },
}

/// The state the done lines promise, and the paths the step in flight at the kill may have
/// changed (they may be in either state, or, for a file being written, hold part of it).
#[derive(Default)]
struct Model {
    paths: BTreeMap<String, Expect>,
    uncertain: Vec<String>,
}

impl Model {
    /// Applies crashtest's output lines up to the kill.
    fn apply(&mut self, lines: &[String]) {
        let mut in_flight: Option<Vec<String>> = None;
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words[..] {
                ["ct", "begin", _, ref args @ ..] => {
                    in_flight = Some(args.iter().take(2).map(|s| s.to_string()).collect())
                }
                ["ct", "done", "mkdir", p] => {
                    self.paths.insert(p.into(), Expect::Dir);
                    in_flight = None;
                }
                ["ct", "done", "create", p, len, hash] => {
                    let e = Expect::File {
                        len: len.parse().unwrap(),
                        fnv: u32::from_str_radix(hash, 16).unwrap(),
                    };
                    self.paths.insert(p.into(), e);
                    in_flight = None;
                }
                ["ct", "done", "rename", p, q] => {
                    let e = self.paths.remove(p).expect("renamed file was created");
                    self.paths.insert(q.into(), e);
                    in_flight = None;
                }
                ["ct", "done", "unlink", p] => {
                    self.paths.remove(p).expect("removed path existed");
                    in_flight = None;
                }
                ["ct", "fail", ..] => panic!("crashtest failed: {line}"),
                _ => {}
            }
        }
        self.uncertain.extend(in_flight.unwrap_or_default());
    }
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

fn verify(img: &[u8], model: &Model, when: &str) {
    let r = FsReader::new(img).unwrap();
    for (path, want) in &model.paths {
        if model.uncertain.contains(path) {
            continue;
        }
        let inum = lookup(&r, path)
            .unwrap_or_else(|| panic!("{when}: {path} was reported done but is missing"));
        let ino = r.inode(inum).unwrap();
        match want {
            Expect::Dir => assert_eq!(ino.typ, abi::T_DIR, "{when}: {path}"),
            Expect::File { len, fnv: h } => {
                let data = r.read_inode(inum).unwrap();
                assert_eq!(
                    (data.len(), fnv(&data)),
                    (*len, *h),
                    "{when}: {path} contents differ from what was reported written"
                );
            }
        }
    }
    for path in crashtest_paths(&r) {
        assert!(
            model.paths.contains_key(&path) || model.uncertain.contains(&path),
            "{when}: {path} is on the disk but its removal was reported done (or it never was made)"
        );
    }
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
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
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
        let mut model = Model::default();
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for round in 0..rounds {
            let tag = round + 1;
            let delay = Duration::from_millis(50 + next(&mut rng) % 1500);
            let lines = run_and_kill(&disk, seed, tag, delay);
            kills += 1;
            model.uncertain.clear();
            model.apply(&lines);
            let when = format!("seed {seed} round {round} (killed after {delay:?})");
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
            verify(&img, &model, &when);
            // What the reboot's shell did is no crashtest step; the in-flight step is settled
            // now: take the disk's word for its paths.
            let r = FsReader::new(&img).unwrap();
            for p in std::mem::take(&mut model.uncertain) {
                if lookup(&r, &p).is_none() {
                    model.paths.remove(&p);
                } else if !model.paths.contains_key(&p) {
                    let inum = lookup(&r, &p).unwrap();
                    let ino = r.inode(inum).unwrap();
                    let e = if ino.typ == abi::T_DIR {
                        Expect::Dir
                    } else {
                        let data = r.read_inode(inum).unwrap();
                        Expect::File {
                            len: data.len(),
                            fnv: fnv(&data),
                        }
                    };
                    model.paths.insert(p, e);
                } else if let Some(Expect::File { .. }) = model.paths.get(&p) {
                    let data = r.read_inode(lookup(&r, &p).unwrap()).unwrap();
                    model.paths.insert(
                        p,
                        Expect::File {
                            len: data.len(),
                            fnv: fnv(&data),
                        },
                    );
                }
            }
        }
    }
    eprintln!("{kills} kills, {replays} left a committed log transaction to replay");
    assert!(kills >= 20 || seeds * (rounds as u64) < 20);
}

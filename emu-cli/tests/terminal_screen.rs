//! The interactive console as a person sees it: emu-cli runs in a pseudo-terminal (util-linux
//! `script`), keys are typed once the prompt shows, and everything the terminal receives is fed
//! to a terminal emulator (the `vt100` crate) whose screen rows are then checked. Run directly
//! and as `emu-cli boot | cat` (how people keep logs: `| tee boot.log`): in both, the guest's
//! `\n` must reach the screen as CR LF (the terminal keeps `OPOST`/`ONLCR` while input is raw),
//! so no line starts where the one above ended.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A command running in a pseudo-terminal, with what the terminal received so far.
struct Pty {
    child: Child,
    keys: Option<ChildStdin>,
    screen_bytes: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    /// Runs `shell_command` with `sh` in a new pseudo-terminal.
    fn spawn(shell_command: &str) -> Pty {
        let mut child = Command::new("script")
            .args(["-qec", shell_command, "/dev/null"])
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("script (util-linux) runs a command in a pseudo-terminal");
        let keys = child.stdin.take();
        let mut out = child.stdout.take().unwrap();
        let screen_bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = screen_bytes.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            child,
            keys,
            screen_bytes,
        }
    }

    fn received(&self) -> Vec<u8> {
        self.screen_bytes.lock().unwrap().clone()
    }

    /// Waits until the bytes received after `from` contain `pattern`; returns the offset just
    /// past it.
    fn wait_for(&self, pattern: &str, from: usize) -> usize {
        let end = Instant::now() + Duration::from_secs(120);
        loop {
            let got = self.received();
            if let Some(i) = got[from.min(got.len())..]
                .windows(pattern.len())
                .position(|w| w == pattern.as_bytes())
            {
                return from + i + pattern.len();
            }
            assert!(
                Instant::now() < end,
                "{pattern:?} never came; the terminal got:\n{}",
                String::from_utf8_lossy(&got)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_keys(&mut self, keys: &[u8]) {
        let k = self.keys.as_mut().unwrap();
        k.write_all(keys).unwrap();
        k.flush().unwrap();
    }

    /// Waits for the session to end (stdin stays open until then: EOF would hang up the
    /// terminal) and returns the screen's rows as text.
    fn finish(mut self) -> Vec<String> {
        let end = Instant::now() + Duration::from_secs(60);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < end, "the session did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200)); // the reader drains the pty
        drop(self.keys.take());
        let mut parser = vt100::Parser::new(200, 160, 0);
        parser.process(&self.received());
        parser.screen().rows(0, 160).collect()
    }
}

/// Boots the bundled kernel with `command` (`{}` is emu-cli), types `ls` at the prompt, quits
/// with Ctrl-A x, and returns the screen.
fn ls_session(command: &str) -> Vec<String> {
    ls_session_until(command, "quit (Ctrl-A x)")
}

/// [`ls_session`], waiting for `last` after Ctrl-A x.
fn ls_session_until(command: &str, last: &str) -> Vec<String> {
    let cli = env!("CARGO_BIN_EXE_emu-cli");
    let mut pty = Pty::spawn(&command.replace("{}", cli));
    let prompt = pty.wait_for("$ ", 0);
    pty.type_keys(b"ls\r");
    let listed = pty.wait_for("$ ", prompt);
    pty.wait_for("cowtest", prompt);
    let _ = listed;
    pty.type_keys(b"\x01x");
    pty.wait_for(last, 0);
    pty.finish()
}

fn show(rows: &[String]) -> String {
    rows.iter()
        .filter(|r| !r.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The screen reads as it should: `$ ls` on a row of its own from column 0, the listing's rows
/// from column 0, the next prompt, and emu-cli's quit message on a row of its own.
fn assert_screen_reads_right(rows: &[String]) {
    let screen = show(rows);
    let banner = rows
        .iter()
        .position(|r| r.starts_with("emu-cli: booting"))
        .unwrap_or_else(|| panic!("banner at column 0:\n{screen}"));
    assert!(
        rows[banner..]
            .iter()
            .any(|r| r.starts_with("init: starting sh")),
        "boot lines start at column 0:\n{screen}"
    );
    let ls = rows
        .iter()
        .position(|r| r.trim_end() == "$ ls")
        .unwrap_or_else(|| panic!("`$ ls` on one row:\n{screen}"));
    let next_prompt = ls
        + 1
        + rows[ls + 1..]
            .iter()
            .position(|r| r.starts_with("$ "))
            .unwrap_or_else(|| panic!("a prompt after the listing:\n{screen}"));
    let listing = &rows[ls + 1..next_prompt];
    assert!(listing.len() >= 5, "ls lists the root directory:\n{screen}");
    for row in listing {
        assert!(
            row.starts_with(|c: char| !c.is_whitespace()),
            "every row of the listing starts in column 0: {row:?}\n{screen}"
        );
    }
    assert!(
        listing.iter().any(|r| r.starts_with("cowtest ")),
        "{screen}"
    );
    assert!(
        rows[next_prompt..]
            .iter()
            .any(|r| r.starts_with("emu-cli: quit (Ctrl-A x)")),
        "the quit message starts a row of its own:\n{screen}"
    );
}

#[test]
fn interactive_session_reads_right_on_the_screen() {
    let rows = ls_session("{} boot");
    assert_screen_reads_right(&rows);
    // The README's session shows the same screen, from the banner to the first prompt.
    let readme = include_str!("../../README.md");
    let session = &readme[readme.find("## A session").unwrap()..];
    let shown: Vec<&str> = session
        .lines()
        .skip_while(|l| !l.starts_with("emu-cli: booting"))
        .take_while(|l| !l.starts_with("$ "))
        .collect();
    let first = rows
        .iter()
        .position(|r| r.starts_with("emu-cli: booting"))
        .unwrap();
    assert!(shown.len() > 3, "{session}");
    assert_eq!(
        &rows[first..first + shown.len()],
        shown.as_slice(),
        "README's session text is what the terminal shows"
    );
}

#[test]
fn piped_through_cat_the_session_still_reads_right() {
    let rows = ls_session("{} boot --smp 1 | cat");
    assert_screen_reads_right(&rows);
}

/// With `--quiet --stats` the statistics are emu-cli's first words after the guest's prompt:
/// they too start on a row of their own.
#[test]
fn statistics_after_the_prompt_start_a_row_of_their_own() {
    let rows = ls_session_until("{} boot --smp 1 -q --stats | cat", "decode cache hit rate");
    let screen = show(&rows);
    let stats = rows
        .iter()
        .position(|r| r.starts_with("emu-cli: hart 0: "))
        .unwrap_or_else(|| panic!("statistics from column 0:\n{screen}"));
    assert_eq!(rows[stats - 1].trim_end(), "$", "{screen}");
    assert!(!screen.contains("emu-cli: booting"), "--quiet: {screen}");
}

/// Host CPU seconds `/usr/bin/time -f 'cpu=%U+%S'` reported on the screen.
fn reported_cpu(rows: &[String]) -> f64 {
    let line = rows
        .iter()
        .find_map(|r| r.trim().strip_prefix("cpu="))
        .unwrap_or_else(|| panic!("no cpu= line:\n{}", show(rows)));
    line.split('+').map(|x| x.parse::<f64>().unwrap()).sum()
}

/// Idle costs nothing with a person at the keyboard: the bundled kernel (3 harts) sitting at
/// the prompt for 30 s costs under 0.3 s of host CPU, boot included. Timing-sensitive, so
/// opt-in: `cargo test -p emu-cli --test terminal_screen -- --ignored --nocapture`.
#[test]
#[ignore = "takes 30 s of wall time; timing-sensitive"]
fn idle_at_the_prompt_costs_almost_no_host_cpu() {
    let cli = env!("CARGO_BIN_EXE_emu-cli");
    let mut pty = Pty::spawn(&format!("/usr/bin/time -f 'cpu=%U+%S' {cli} boot"));
    pty.wait_for("$ ", 0);
    std::thread::sleep(Duration::from_secs(30));
    pty.type_keys(b"\x01x");
    let rows = pty.finish();
    let cpu = reported_cpu(&rows);
    eprintln!("idle at the prompt for 30 s: {cpu:.2} s of host CPU (boot included)");
    assert!(cpu < 0.3, "{cpu} s of CPU:\n{}", show(&rows));
}

/// Guest time keeps to the wall clock with a person at the keyboard: `sleep 10` typed at the
/// prompt takes 10 s ± 0.5 s of wall time (with the default virtual clock and with
/// `--clock host`). Opt-in, as above.
#[test]
#[ignore = "takes 20 s of wall time; timing-sensitive"]
fn sleep_10_takes_10_seconds_of_wall_time() {
    for clock in ["virtual", "host"] {
        let cli = env!("CARGO_BIN_EXE_emu-cli");
        let mut pty = Pty::spawn(&format!("{cli} boot --clock {clock}"));
        let prompt = pty.wait_for("$ ", 0);
        std::thread::sleep(Duration::from_millis(500));
        pty.type_keys(b"sleep 10\r");
        let typed = pty.wait_for("sleep 10\r\n", prompt);
        let start = Instant::now();
        pty.wait_for("$ ", typed);
        let took = start.elapsed().as_secs_f64();
        pty.type_keys(b"\x01x");
        pty.finish();
        eprintln!("--clock {clock}: `sleep 10` took {took:.2} s of wall time");
        assert!((took - 10.0).abs() <= 0.5, "--clock {clock}: {took} s");
    }
}

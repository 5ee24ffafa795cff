//! The guest console as the CLI drives it: what the guest's UART reads (the `--send` texts,
//! then keys from stdin) and where its output goes (stdout, watched for `--expect` and
//! `--until`).
//!
//! Output is buffered and written once per run-loop round ([`SessionConsole::flush_output`],
//! which the machine calls through `Console::flush`), not once per byte.
//!
//! Input is held back until the guest has printed its first byte: a kernel resets the UART's
//! FIFOs when it initialises the UART (xv6's `uartinit` writes FCR with the clear bits), and
//! bytes typed before that would be lost. The script (`--send`/`--expect` in command-line
//! order) runs first, one byte each time the UART asks for one; keys from stdin follow.
//!
//! A `--send` that follows an `--expect` is typed as soon as that pattern has appeared in the
//! output since the previous step (as `expect`, pexpect and MIT's `gradelib.py` drive a
//! console). A `--send` without one waits, with pacing ([`SessionConsole::with_pacing`]),
//! until the guest's output has been quiet for a while of *guest* time (the [`GuestClock`],
//! which the run loop's stop predicate updates from `mtime`): at the shell prompt, after the
//! previous command's output, as a person would. Since guest time and the points where the UART
//! asks for input are fixed by the guest's execution, a scripted run is as reproducible as one
//! without input (with the virtual clock).

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why the CLI asked the machine to stop (see [`StopFlag`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCause {
    /// `Ctrl-A x`.
    Quit,
    /// The console output contained the `--until` pattern.
    UntilMatched,
    /// Writing the guest's output failed (e.g. stdout is a closed pipe).
    OutputClosed,
    /// The `--expect` pattern of script step `n` (0-based, among all `--send`/`--expect`
    /// steps) did not appear within `--expect-timeout`.
    ExpectTimeout(usize),
    /// The host sent this signal (SIGINT, SIGTERM, SIGHUP).
    Signal(i32),
}

/// A stop request shared by the console, the stdin reader thread, the signal thread and the
/// run loop's stop predicate. The first request wins.
#[derive(Debug, Default)]
pub struct StopFlag(AtomicU32);

const QUIT: u32 = 1;
const UNTIL: u32 = 2;
const OUTPUT_CLOSED: u32 = 3;
const SIGNAL: u32 = 0x100;
const EXPECT: u32 = 0x1_0000;

impl StopFlag {
    /// A flag with no request.
    pub fn new() -> StopFlag {
        StopFlag::default()
    }

    /// Asks the machine to stop; ignored if a stop was already requested.
    pub fn request(&self, cause: StopCause) {
        let v = match cause {
            StopCause::Quit => QUIT,
            StopCause::UntilMatched => UNTIL,
            StopCause::OutputClosed => OUTPUT_CLOSED,
            StopCause::ExpectTimeout(n) => EXPECT | (n.min(0xffff) as u32),
            StopCause::Signal(n) => SIGNAL | (n as u32 & 0xff),
        };
        let _ = self
            .0
            .compare_exchange(0, v, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The first stop requested, if any.
    pub fn cause(&self) -> Option<StopCause> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            QUIT => Some(StopCause::Quit),
            UNTIL => Some(StopCause::UntilMatched),
            OUTPUT_CLOSED => Some(StopCause::OutputClosed),
            v if v & EXPECT != 0 => Some(StopCause::ExpectTimeout((v & 0xffff) as usize)),
            v => Some(StopCause::Signal((v & 0xff) as i32)),
        }
    }

    /// Whether a stop was requested.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst) != 0
    }
}

/// Guest time as the console sees it: `mtime` ticks, published by the run loop between rounds.
#[derive(Debug, Default)]
pub struct GuestClock(AtomicU64);

impl GuestClock {
    /// A clock at tick 0.
    pub fn new() -> GuestClock {
        GuestClock::default()
    }
    /// Publishes the current `mtime`.
    pub fn set(&self, ticks: u64) {
        self.0.store(ticks, Ordering::Relaxed);
    }
    /// The last published `mtime`.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Streaming substring search over the console output (the pattern may span writes).
#[derive(Debug, Clone)]
pub struct Matcher {
    pattern: Vec<u8>,
    /// The last `pattern.len() - 1` bytes seen (a possible start of the pattern).
    window: Vec<u8>,
}

impl Matcher {
    /// A matcher for `pattern` (an empty pattern matches at once).
    pub fn new(pattern: Vec<u8>) -> Matcher {
        Matcher {
            window: Vec::with_capacity(pattern.len() * 2),
            pattern,
        }
    }

    /// Feeds output bytes; once the pattern has appeared in everything fed so far, returns
    /// how many bytes of `bytes` it took to complete it (the rest came after the match).
    pub fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        let n = self.pattern.len();
        if n == 0 {
            return Some(0);
        }
        let before = self.window.len();
        self.window.extend_from_slice(bytes);
        let found = self
            .window
            .windows(n)
            .position(|w| w == self.pattern.as_slice())
            .map(|start| start + n - before);
        let keep = self.window.len().min(n - 1);
        self.window.drain(..self.window.len() - keep);
        found
    }
}

/// One step of the console script (`--send TEXT` or `--expect PATTERN`), in command-line order.
pub use crate::options::ScriptStep as Step;

/// What the CLI needs to know about the console after (and during) the run, shared with the
/// console the machine owns.
#[derive(Debug, Default)]
pub struct ConsoleStatus {
    /// Whether the output so far stops in the middle of a line (does not end with `\n`).
    pub mid_line: bool,
    /// The last non-blank line of output (at most [`LAST_LINE_MAX`] bytes), for messages.
    pub last_line: Vec<u8>,
    /// The line being written.
    line: Vec<u8>,
    /// The script step waited for and when it times out (`--expect-timeout`).
    pub expect_deadline: Option<(usize, Instant)>,
}

/// Longest line [`ConsoleStatus::last_line`] keeps.
pub const LAST_LINE_MAX: usize = 160;

impl ConsoleStatus {
    fn record(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\n' => {
                    if self.line.iter().any(|c| !c.is_ascii_whitespace()) {
                        self.last_line = std::mem::take(&mut self.line);
                    }
                    self.line.clear();
                }
                b'\r' => {}
                _ if self.line.len() < LAST_LINE_MAX => self.line.push(b),
                _ => {}
            }
        }
        if let Some(&b) = bytes.last() {
            self.mid_line = b != b'\n';
        }
    }

    /// The last line with something on it (the unfinished one if it has), as text.
    pub fn last_line_text(&self) -> String {
        let line = if self.line.iter().any(|c| !c.is_ascii_whitespace()) {
            &self.line
        } else {
            &self.last_line
        };
        String::from_utf8_lossy(line).trim().to_string()
    }
}

/// A shared [`ConsoleStatus`].
pub type SharedStatus = Arc<Mutex<ConsoleStatus>>;

/// Locks the status, whatever a panicking holder left (it is plain data).
pub fn lock_status(status: &SharedStatus) -> std::sync::MutexGuard<'_, ConsoleStatus> {
    status.lock().unwrap_or_else(|e| e.into_inner())
}

/// The CLI's console: implements the machine's console interface over `out` (stdout in the
/// binary, a buffer in tests) and a channel of keys from the stdin reader thread.
pub struct SessionConsole<W: Write> {
    out: W,
    /// Output of this round, not yet written.
    pending: Vec<u8>,
    status: SharedStatus,
    until: Option<Matcher>,
    stop: Arc<StopFlag>,
    /// The script steps not yet done, with their index among all steps.
    steps: VecDeque<(usize, Step)>,
    /// The matcher of the `--expect` step at the front of `steps`, once it has started.
    expecting: Option<Matcher>,
    /// The front `--send` follows a matched `--expect`: type it at once.
    after_expect: bool,
    /// `--expect-timeout`: host time each `--expect` step may wait.
    expect_timeout: Option<Duration>,
    /// The rest of the text being typed.
    typing: VecDeque<u8>,
    /// Guest time and how many ticks of quiet output a `--send` without `--expect` waits for.
    pacing: Option<(Arc<GuestClock>, u64)>,
    /// Guest time of the last output byte.
    last_output: u64,
    live: Option<Receiver<u8>>,
    /// A key received while waiting for input, not yet given to the guest.
    early_key: Option<u8>,
    /// Whether the guest has printed anything (input is held back until it has).
    guest_started: bool,
}

impl<W: Write> SessionConsole<W> {
    /// A console writing to `out`; the `steps` script runs first, then bytes from `live`.
    pub fn new(out: W, steps: Vec<Step>, live: Option<Receiver<u8>>, stop: Arc<StopFlag>) -> Self {
        let mut console = SessionConsole {
            out,
            pending: Vec::with_capacity(4096),
            status: SharedStatus::default(),
            until: None,
            stop,
            steps: steps
                .into_iter()
                .enumerate()
                .filter(|(_, s)| *s != Step::Send(Vec::new()))
                .collect(),
            expecting: None,
            after_expect: false,
            expect_timeout: None,
            typing: VecDeque::new(),
            pacing: None,
            last_output: 0,
            live,
            early_key: None,
            guest_started: false,
        };
        console.start_step();
        console
    }

    /// Requests [`StopCause::UntilMatched`] once the output contains `pattern`.
    pub fn with_until(mut self, pattern: Option<Vec<u8>>) -> Self {
        self.until = pattern.map(Matcher::new);
        self
    }

    /// Types each `--send` text that does not follow an `--expect` only once the output has
    /// been quiet for `quiet_ticks` of the guest time `clock` tells.
    pub fn with_pacing(mut self, clock: Arc<GuestClock>, quiet_ticks: u64) -> Self {
        self.pacing = Some((clock, quiet_ticks));
        self
    }

    /// Gives each `--expect` step at most `timeout` of host time (from when it starts).
    pub fn with_expect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.expect_timeout = timeout;
        self.start_step();
        self
    }

    /// The status shared with the CLI (line state, last line, `--expect` deadline).
    pub fn status(&self) -> SharedStatus {
        self.status.clone()
    }

    /// The output sink (tests read the buffer back).
    #[cfg(test)]
    pub fn output(&self) -> &W {
        &self.out
    }

    /// Begins the step at the front of the script: an `--expect` starts matching now.
    fn start_step(&mut self) {
        let mut status = lock_status(&self.status);
        status.expect_deadline = None;
        if let Some((i, Step::Expect(pattern))) = self.steps.front() {
            self.expecting = Some(Matcher::new(pattern.clone()));
            status.expect_deadline = self.expect_timeout.map(|t| (*i, Instant::now() + t));
        }
    }

    /// The next byte for the guest's UART receiver, if one is ready.
    pub fn read_byte(&mut self) -> Option<u8> {
        if !self.guest_started {
            return None;
        }
        if let Some(b) = self.typing.pop_front() {
            return Some(b);
        }
        match self.steps.front() {
            Some((_, Step::Send(_))) => {
                let quiet = self.after_expect
                    || match &self.pacing {
                        Some((clock, ticks)) => {
                            clock.get().saturating_sub(self.last_output) >= *ticks
                        }
                        None => true,
                    };
                if !quiet {
                    return None;
                }
                self.after_expect = false;
                if let Some((_, Step::Send(text))) = self.steps.pop_front() {
                    self.typing = text.into();
                }
                self.start_step();
                return self.typing.pop_front();
            }
            Some((_, Step::Expect(_))) => return None,
            None => {}
        }
        if let Some(b) = self.early_key.take() {
            return Some(b);
        }
        self.live.as_ref()?.try_recv().ok()
    }

    /// Blocks until a key arrives from stdin, a stop is requested, or `timeout` passes
    /// (checking the stop flag every 50 ms). Returns at once while typed text is pending;
    /// while script steps remain (they wait for output or guest time, not for keys) it just
    /// sleeps.
    pub fn wait_for_key(&mut self, timeout: Duration) {
        if self.early_key.is_some() || !self.typing.is_empty() {
            return;
        }
        let Some(live) = self.live.as_ref().filter(|_| self.steps.is_empty()) else {
            std::thread::sleep(timeout);
            return;
        };
        let end = Instant::now() + timeout;
        while !self.stop.is_set() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match live.recv_timeout(left.min(Duration::from_millis(50))) {
                Ok(b) => {
                    self.early_key = Some(b);
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    // End of input: nothing more will come; sleep out the time.
                    std::thread::sleep(end.saturating_duration_since(Instant::now()));
                    return;
                }
            }
        }
    }

    /// Bytes the guest's UART transmitted: kept for [`SessionConsole::flush_output`] and
    /// watched for the `--expect` and `--until` patterns.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.guest_started = true;
        if let Some((clock, _)) = &self.pacing {
            self.last_output = clock.get();
        }
        self.pending.extend_from_slice(bytes);
        let mut rest = bytes;
        while let Some(m) = &mut self.expecting {
            let Some(used) = m.feed(rest) else { break };
            rest = &rest[used..];
            self.expecting = None;
            self.steps.pop_front();
            self.after_expect = matches!(self.steps.front(), Some((_, Step::Send(_))));
            self.start_step();
        }
        if let Some(m) = &mut self.until {
            if m.feed(bytes).is_some() {
                self.stop.request(StopCause::UntilMatched);
            }
        }
    }

    /// Writes the output buffered since the last call, in one write, and flushes it.
    pub fn flush_output(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        lock_status(&self.status).record(&self.pending);
        let result = self
            .out
            .write_all(&self.pending)
            .and_then(|()| self.out.flush());
        self.pending.clear();
        if result.is_err() {
            self.stop.request(StopCause::OutputClosed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn sends(texts: &[&[u8]]) -> Vec<Step> {
        texts.iter().map(|t| Step::Send(t.to_vec())).collect()
    }

    fn console(steps: Vec<Step>) -> (SessionConsole<Vec<u8>>, Arc<StopFlag>) {
        let stop = Arc::new(StopFlag::new());
        (
            SessionConsole::new(Vec::new(), steps, None, stop.clone()),
            stop,
        )
    }

    fn drain(c: &mut SessionConsole<Vec<u8>>) -> Vec<u8> {
        std::iter::from_fn(|| c.read_byte()).collect()
    }

    #[test]
    fn input_waits_for_the_first_guest_output() {
        let (mut c, _) = console(sends(&[b"ls\n"]));
        assert_eq!(c.read_byte(), None);
        c.write_bytes(b"xv6 kernel is booting\n");
        assert_eq!(drain(&mut c), b"ls\n");
        assert_eq!(c.read_byte(), None);
    }

    #[test]
    fn send_texts_come_in_order_then_live_keys() {
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(StopFlag::new());
        let mut c = SessionConsole::new(Vec::new(), sends(&[b"a\n", b"b\n"]), Some(rx), stop);
        tx.send(b'k').unwrap();
        c.write_bytes(b"$ ");
        assert_eq!(drain(&mut c), b"a\nb\nk");
        tx.send(b'z').unwrap();
        assert_eq!(c.read_byte(), Some(b'z'));
    }

    #[test]
    fn paced_texts_wait_for_quiet_output() {
        let clock = Arc::new(GuestClock::new());
        let (c, _) = console(sends(&[b"ls\n", b"cowtest\n"]));
        let mut c = c.with_pacing(clock.clone(), 100);
        clock.set(1000);
        c.write_bytes(b"booting\n");
        clock.set(1099);
        assert_eq!(c.read_byte(), None, "output was 99 ticks ago");
        clock.set(1100);
        assert_eq!(c.read_byte(), Some(b'l'));
        c.write_bytes(b"l"); // the echo
        assert_eq!(
            c.read_byte(),
            Some(b's'),
            "a text started is typed to its end"
        );
        assert_eq!(c.read_byte(), Some(b'\n'));
        clock.set(1150);
        c.write_bytes(b"s\nREADME\n$ ");
        clock.set(1249);
        assert_eq!(c.read_byte(), None);
        clock.set(1250);
        assert_eq!(drain(&mut c), b"cowtest\n");
    }

    #[test]
    fn a_send_after_an_expect_is_typed_once_the_pattern_appears() {
        let clock = Arc::new(GuestClock::new());
        let steps = vec![
            Step::Expect(b"autoboot: ".to_vec()),
            Step::Send(b" ".to_vec()),
            Step::Expect(b"=> ".to_vec()),
            Step::Send(b"help\n".to_vec()),
            Step::Send(b"ls\n".to_vec()),
        ];
        let (c, _) = console(steps);
        let mut c = c.with_pacing(clock.clone(), 100);
        clock.set(10);
        c.write_bytes(b"Hit any key to stop auto");
        clock.set(1000);
        assert_eq!(
            c.read_byte(),
            None,
            "quiet is not enough: the pattern is awaited"
        );
        c.write_bytes(b"boot: ");
        assert_eq!(c.read_byte(), Some(b' '), "typed at once, no quiet time");
        assert_eq!(c.read_byte(), None);
        // The pattern may span writes.
        c.write_bytes(b"\n=");
        c.write_bytes(b"> ");
        assert_eq!(drain(&mut c), b"help\n");
        c.write_bytes(b"help text\n=> ");
        assert_eq!(c.read_byte(), None, "the last --send keeps the quiet rule");
        clock.set(2000);
        assert_eq!(drain(&mut c), b"ls\n");
    }

    #[test]
    fn consecutive_expects_match_in_order_within_one_write() {
        let steps = vec![
            Step::Expect(b"one".to_vec()),
            Step::Expect(b"two".to_vec()),
            Step::Send(b"x".to_vec()),
        ];
        let (mut c, _) = console(steps);
        c.write_bytes(b"two one");
        assert_eq!(c.read_byte(), None, "`two` came before `one`");
        c.write_bytes(b" two");
        assert_eq!(c.read_byte(), Some(b'x'));
        let (mut c, _) = console(vec![
            Step::Expect(b"one".to_vec()),
            Step::Expect(b"two".to_vec()),
            Step::Send(b"y".to_vec()),
        ]);
        c.write_bytes(b"one two");
        assert_eq!(c.read_byte(), Some(b'y'));
    }

    #[test]
    fn an_expect_step_has_a_deadline_naming_its_index() {
        let steps = vec![Step::Send(b"a".to_vec()), Step::Expect(b"never".to_vec())];
        let (c, _) = console(steps);
        let mut c = c.with_expect_timeout(Some(Duration::from_secs(5)));
        assert_eq!(lock_status(&c.status()).expect_deadline, None);
        c.write_bytes(b"$ ");
        assert_eq!(c.read_byte(), Some(b'a'));
        let (step, at) = lock_status(&c.status()).expect_deadline.unwrap();
        assert_eq!(step, 1);
        assert!(at > Instant::now() + Duration::from_secs(4));
    }

    #[test]
    fn output_is_buffered_until_flushed_and_watched_across_writes() {
        let (c, stop) = console(vec![]);
        let mut c = c.with_until(Some(b"ALL COW TESTS PASSED".to_vec()));
        for chunk in [&b"cowtest: ALL COW"[..], b" TES", b"T", b"S PASSED\n$ "] {
            assert!(!stop.is_set());
            c.write_bytes(chunk);
        }
        assert_eq!(stop.cause(), Some(StopCause::UntilMatched));
        assert_eq!(c.output(), b"", "nothing written before the round ends");
        c.flush_output();
        assert_eq!(c.output(), b"cowtest: ALL COW TESTS PASSED\n$ ");
        let status = c.status();
        let s = lock_status(&status);
        assert!(s.mid_line);
        assert_eq!(s.last_line_text(), "$", "the unfinished line has text");
    }

    #[test]
    fn last_line_is_the_last_one_with_text() {
        let mut s = ConsoleStatus::default();
        s.record(b"panic: could not find a virtio disk\r\n\n  \n");
        assert!(!s.mid_line);
        assert_eq!(s.last_line_text(), "panic: could not find a virtio disk");
        s.record(b"$ ");
        assert_eq!(s.last_line_text(), "$");
    }

    #[test]
    fn near_misses_do_not_match() {
        let mut m = Matcher::new(b"abcabd".to_vec());
        assert_eq!(m.feed(b"abcab"), None);
        assert_eq!(m.feed(b"cabc"), None);
        assert_eq!(m.feed(b"abdxyz"), Some(3));
        let mut byte_at_a_time = Matcher::new(b"$ ".to_vec());
        assert_eq!(byte_at_a_time.feed(b"$"), None);
        assert_eq!(byte_at_a_time.feed(b" "), Some(1));
    }

    #[test]
    fn waiting_for_input_ends_early_on_a_key_or_a_stop() {
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(StopFlag::new());
        let mut c = SessionConsole::new(Vec::new(), vec![], Some(rx), stop.clone());
        c.write_bytes(b"$ ");
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            tx.send(b'k').unwrap();
            tx
        });
        let start = Instant::now();
        c.wait_for_key(Duration::from_secs(10));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(
            c.read_byte(),
            Some(b'k'),
            "the key that ended the wait is kept"
        );
        let _tx = sender.join().unwrap();
        stop.request(StopCause::Quit);
        let start = Instant::now();
        c.wait_for_key(Duration::from_secs(10));
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "a stop ends the wait"
        );
    }

    #[test]
    fn first_stop_request_wins() {
        let stop = StopFlag::new();
        assert_eq!(stop.cause(), None);
        stop.request(StopCause::Signal(15));
        stop.request(StopCause::Quit);
        assert_eq!(stop.cause(), Some(StopCause::Signal(15)));
        let stop = StopFlag::new();
        stop.request(StopCause::ExpectTimeout(3));
        assert_eq!(stop.cause(), Some(StopCause::ExpectTimeout(3)));
    }

    #[test]
    fn a_closed_output_stops_the_run() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let stop = Arc::new(StopFlag::new());
        let mut c = SessionConsole::new(Closed, vec![], None, stop.clone());
        c.write_bytes(b"x");
        c.flush_output();
        assert_eq!(stop.cause(), Some(StopCause::OutputClosed));
    }
}

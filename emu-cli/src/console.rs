//! The guest console as the CLI drives it: what the guest's UART reads (the `--send` texts, then
//! keys from stdin) and where its output goes (stdout, watched for `--until`).
//!
//! Input is held back until the guest has printed its first byte: a kernel resets the UART's
//! FIFOs when it initialises the UART (xv6's `uartinit` writes FCR with the clear bits), and
//! bytes typed before that would be lost. The `--send` texts are typed first, in order, one byte
//! each time the UART asks for one; keys from stdin follow.
//!
//! With pacing ([`SessionConsole::with_pacing`]) each `--send` text waits until the guest's
//! output has been quiet for a while of *guest* time (the [`GuestClock`], which the run loop's
//! stop predicate updates from `mtime`): the text is typed at the shell prompt, after the
//! previous command's output, as a person would. Since guest time and the points where the UART
//! asks for input are fixed by the guest's execution, a run with `--send` is as reproducible as
//! one without (with the virtual clock).

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

/// Why the CLI asked the machine to stop (see [`StopFlag`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCause {
    /// `Ctrl-A x`.
    Quit,
    /// The console output contained the `--until` pattern.
    UntilMatched,
    /// Writing the guest's output failed (e.g. stdout is a closed pipe).
    OutputClosed,
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
pub struct UntilMatcher {
    pattern: Vec<u8>,
    /// The last `pattern.len() - 1` bytes seen, followed by the new ones while searching.
    window: Vec<u8>,
}

impl UntilMatcher {
    /// A matcher for `pattern` (an empty pattern matches at the first output).
    pub fn new(pattern: Vec<u8>) -> UntilMatcher {
        UntilMatcher {
            window: Vec::with_capacity(pattern.len() * 2),
            pattern,
        }
    }

    /// Feeds output bytes; true once the pattern has appeared in everything fed so far.
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        let n = self.pattern.len();
        if n == 0 {
            return true;
        }
        self.window.extend_from_slice(bytes);
        let found = self.window.windows(n).any(|w| w == self.pattern.as_slice());
        let keep = self.window.len().min(n - 1);
        self.window.drain(..self.window.len() - keep);
        found
    }
}

/// The CLI's console: implements the machine's console interface over `out` (stdout in the
/// binary, a buffer in tests) and a channel of keys from the stdin reader thread.
pub struct SessionConsole<W: Write> {
    out: W,
    /// Translate `\n` to `\r\n` (stdout is a terminal in raw mode, which does not).
    crlf: bool,
    last_out: u8,
    until: Option<UntilMatcher>,
    stop: Arc<StopFlag>,
    /// The `--send` texts not yet started.
    send: VecDeque<Vec<u8>>,
    /// The rest of the text being typed.
    typing: VecDeque<u8>,
    /// Guest time and how many ticks of quiet output each `--send` text waits for.
    pacing: Option<(Arc<GuestClock>, u64)>,
    /// Guest time of the last output byte.
    last_output: u64,
    live: Option<Receiver<u8>>,
    /// Whether the guest has printed anything (input is held back until it has).
    guest_started: bool,
}

impl<W: Write> SessionConsole<W> {
    /// A console writing to `out`; `send` is typed first, then bytes from `live` (if any).
    pub fn new(
        out: W,
        send: Vec<Vec<u8>>,
        live: Option<Receiver<u8>>,
        stop: Arc<StopFlag>,
    ) -> Self {
        SessionConsole {
            out,
            crlf: false,
            last_out: 0,
            until: None,
            stop,
            send: send.into_iter().filter(|t| !t.is_empty()).collect(),
            typing: VecDeque::new(),
            pacing: None,
            last_output: 0,
            live,
            guest_started: false,
        }
    }

    /// Requests [`StopCause::UntilMatched`] once the output contains `pattern`.
    pub fn with_until(mut self, pattern: Option<Vec<u8>>) -> Self {
        self.until = pattern.map(UntilMatcher::new);
        self
    }

    /// Types each `--send` text only once the output has been quiet for `quiet_ticks` of the
    /// guest time `clock` tells.
    pub fn with_pacing(mut self, clock: Arc<GuestClock>, quiet_ticks: u64) -> Self {
        self.pacing = Some((clock, quiet_ticks));
        self
    }

    /// Writes `\r\n` for each `\n` not already preceded by `\r` (for a raw-mode terminal).
    pub fn with_crlf(mut self, crlf: bool) -> Self {
        self.crlf = crlf;
        self
    }

    /// The output sink (tests read the buffer back).
    #[cfg(test)]
    pub fn output(&self) -> &W {
        &self.out
    }

    /// The next byte for the guest's UART receiver, if one is ready.
    pub fn read_byte(&mut self) -> Option<u8> {
        if !self.guest_started {
            return None;
        }
        if let Some(b) = self.typing.pop_front() {
            return Some(b);
        }
        if !self.send.is_empty() {
            let quiet = match &self.pacing {
                Some((clock, ticks)) => clock.get().saturating_sub(self.last_output) >= *ticks,
                None => true,
            };
            if !quiet {
                return None;
            }
            self.typing = self.send.pop_front().unwrap_or_default().into();
            return self.typing.pop_front();
        }
        self.live.as_ref()?.try_recv().ok()
    }

    /// Bytes the guest's UART transmitted.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.guest_started = true;
        if let Some((clock, _)) = &self.pacing {
            self.last_output = clock.get();
        }
        let result = if self.crlf {
            self.write_crlf(bytes)
        } else {
            self.out.write_all(bytes)
        };
        if result.and_then(|()| self.out.flush()).is_err() {
            self.stop.request(StopCause::OutputClosed);
        }
        if let Some(m) = &mut self.until {
            if m.feed(bytes) {
                self.stop.request(StopCause::UntilMatched);
            }
        }
    }

    fn write_crlf(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let prev = if i == 0 { self.last_out } else { bytes[i - 1] };
            if b == b'\n' && prev != b'\r' {
                self.out.write_all(&bytes[start..i])?;
                self.out.write_all(b"\r")?;
                start = i;
            }
        }
        self.last_out = bytes[bytes.len() - 1];
        self.out.write_all(&bytes[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn console(send: &[&[u8]]) -> (SessionConsole<Vec<u8>>, Arc<StopFlag>) {
        let stop = Arc::new(StopFlag::new());
        let send = send.iter().map(|s| s.to_vec()).collect();
        (
            SessionConsole::new(Vec::new(), send, None, stop.clone()),
            stop,
        )
    }

    fn drain(c: &mut SessionConsole<Vec<u8>>) -> Vec<u8> {
        std::iter::from_fn(|| c.read_byte()).collect()
    }

    #[test]
    fn input_waits_for_the_first_guest_output() {
        let (mut c, _) = console(&[b"ls\n"]);
        assert_eq!(c.read_byte(), None);
        c.write_bytes(b"xv6 kernel is booting\n");
        assert_eq!(drain(&mut c), b"ls\n");
        assert_eq!(c.read_byte(), None);
    }

    #[test]
    fn send_texts_come_in_order_then_live_keys() {
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(StopFlag::new());
        let mut c = SessionConsole::new(
            Vec::new(),
            vec![b"a\n".to_vec(), b"b\n".to_vec()],
            Some(rx),
            stop,
        );
        tx.send(b'k').unwrap();
        c.write_bytes(b"$ ");
        assert_eq!(drain(&mut c), b"a\nb\nk");
        tx.send(b'z').unwrap();
        assert_eq!(c.read_byte(), Some(b'z'));
    }

    #[test]
    fn paced_texts_wait_for_quiet_output() {
        let clock = Arc::new(GuestClock::new());
        let (c, _) = console(&[b"ls\n", b"cowtest\n"]);
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
    fn output_is_copied_and_watched_for_the_pattern_across_writes() {
        let (c, stop) = console(&[]);
        let mut c = c.with_until(Some(b"ALL COW TESTS PASSED".to_vec()));
        for chunk in [&b"cowtest: ALL COW"[..], b" TES", b"T", b"S PASSED\n$ "] {
            assert!(!stop.is_set());
            c.write_bytes(chunk);
        }
        assert_eq!(stop.cause(), Some(StopCause::UntilMatched));
        assert_eq!(c.output(), b"cowtest: ALL COW TESTS PASSED\n$ ");
    }

    #[test]
    fn near_misses_do_not_match() {
        let mut m = UntilMatcher::new(b"abcabd".to_vec());
        assert!(!m.feed(b"abcab"));
        assert!(!m.feed(b"cabc"));
        assert!(m.feed(b"abd"));
        let mut byte_at_a_time = UntilMatcher::new(b"$ ".to_vec());
        assert!(!byte_at_a_time.feed(b"$"));
        assert!(byte_at_a_time.feed(b" "));
    }

    #[test]
    fn raw_terminal_output_gets_carriage_returns() {
        let (c, _) = console(&[]);
        let mut c = c.with_crlf(true);
        c.write_bytes(b"a\nb\r\n");
        c.write_bytes(b"\n");
        c.write_bytes(b"\r");
        c.write_bytes(b"\n");
        assert_eq!(c.output(), b"a\r\nb\r\n\r\n\r\n");
    }

    #[test]
    fn first_stop_request_wins() {
        let stop = StopFlag::new();
        assert_eq!(stop.cause(), None);
        stop.request(StopCause::Signal(15));
        stop.request(StopCause::Quit);
        assert_eq!(stop.cause(), Some(StopCause::Signal(15)));
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
        assert_eq!(stop.cause(), Some(StopCause::OutputClosed));
    }
}

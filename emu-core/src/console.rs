//! The host end of the guest's serial console: the [`Console`] trait the UART writes to and
//! reads from, an in-memory console for tests, and a null console.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The host end of the guest's serial console.
pub trait Console {
    /// The next byte typed by the user, if one is available now (never blocks).
    fn read(&mut self) -> Option<u8>;
    /// Bytes the guest transmitted. A console may buffer them until [`Console::flush`].
    fn write(&mut self, bytes: &[u8]);
    /// Passes on what [`Console::write`] buffered. The machine calls it once per run-loop
    /// round (every few thousand instructions), before it idles and before `run_until`
    /// returns, so a buffering console makes one host write per round, not one per byte.
    fn flush(&mut self) {}
    /// Blocks until input may be ready or `timeout` has passed; the machine calls it when
    /// every hart waits and guest time is paced to the wall clock. The default sleeps out the
    /// timeout; a console that can tell when input arrives returns earlier.
    fn wait_for_input(&mut self, timeout: Duration) {
        std::thread::sleep(timeout);
    }
}

/// An in-memory console: input queued by [`MemoryConsole::push_input`], output collected.
/// Cloning gives another handle to the same buffers, so a test keeps one handle and gives the
/// machine another.
#[derive(Debug, Clone, Default)]
pub struct MemoryConsole {
    inner: Arc<Mutex<MemoryConsoleState>>,
}

#[derive(Debug, Default)]
struct MemoryConsoleState {
    input: VecDeque<u8>,
    output: Vec<u8>,
}

impl MemoryConsole {
    /// An empty console.
    pub fn new() -> MemoryConsole {
        MemoryConsole::default()
    }
    /// Queue bytes for the guest to read.
    pub fn push_input(&self, bytes: &[u8]) {
        self.lock().input.extend(bytes.iter().copied());
    }
    /// Everything the guest has written so far.
    pub fn output(&self) -> Vec<u8> {
        self.lock().output.clone()
    }
    /// [`MemoryConsole::output`] as text (invalid UTF-8 replaced).
    pub fn output_string(&self) -> String {
        String::from_utf8_lossy(&self.lock().output).into_owned()
    }
    /// Whether queued input remains unread by the guest.
    pub fn has_input(&self) -> bool {
        !self.lock().input.is_empty()
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryConsoleState> {
        // A panic elsewhere while holding the lock leaves plain data: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Console for MemoryConsole {
    fn read(&mut self) -> Option<u8> {
        self.lock().input.pop_front()
    }
    fn write(&mut self, bytes: &[u8]) {
        self.lock().output.extend_from_slice(bytes);
    }
}

/// A console that discards output and never has input.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullConsole;

impl Console for NullConsole {
    fn read(&mut self) -> Option<u8> {
        None
    }
    fn write(&mut self, _bytes: &[u8]) {}
}

//! The host terminal: raw mode while a guest owns the console, restored on every exit path
//! (normal return and errors through [`RawModeGuard`]'s `Drop`, panics through a panic hook,
//! SIGINT/SIGTERM/SIGHUP through a signal thread), and the thread that reads stdin.

use std::io::{IsTerminal, Read, Write};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use crate::console::{StopCause, StopFlag};
use crate::ctrl_a::{CtrlADecoder, KeyAction, HELP};

/// Whether stdin is a terminal (then the console is interactive: raw mode and Ctrl-A keys).
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Whether stdout is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Puts the terminal back in the mode it had before [`RawModeGuard::enable`]. Safe to call at
/// any time, from any thread, any number of times.
pub fn restore_terminal() {
    let _ = crossterm::terminal::disable_raw_mode();
}

/// Raw mode for the lifetime of the guard: every key (Ctrl-C included) reaches the guest.
pub struct RawModeGuard(());

impl RawModeGuard {
    /// Switches the terminal on stdin to raw mode.
    ///
    /// # Errors
    /// The terminal refused (the caller then runs with a cooked terminal).
    pub fn enable() -> std::io::Result<RawModeGuard> {
        crossterm::terminal::enable_raw_mode()?;
        Ok(RawModeGuard(()))
    }
}

impl Drop for RawModeGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Makes panics restore the terminal before the default hook prints the message.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// Watches SIGINT, SIGTERM and SIGHUP: the first asks the run loop to stop (it then returns
/// normally, restoring the terminal and printing statistics); if the loop has not stopped
/// within two seconds, or a second signal comes, the terminal is restored and the process exits
/// with 128 + the signal number, as a shell reports a death by signal.
///
/// # Errors
/// The signal handlers could not be installed.
pub fn spawn_signal_thread(stop: Arc<StopFlag>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut seen = false;
            for sig in signals.forever() {
                if seen {
                    restore_terminal();
                    std::process::exit(128 + sig);
                }
                seen = true;
                stop.request(StopCause::Signal(sig));
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(2));
                    restore_terminal();
                    std::process::exit(128 + sig);
                });
            }
        })?;
    Ok(())
}

/// Reads stdin on its own thread and sends the bytes for the guest to `keys`. When
/// `interactive`, bytes go through the Ctrl-A decoder: `Ctrl-A x` requests
/// [`StopCause::Quit`], `Ctrl-A h` prints the help on stdout. The thread ends at end of input.
pub fn spawn_stdin_reader(
    interactive: bool,
    stop: Arc<StopFlag>,
    keys: Sender<u8>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut decoder = CtrlADecoder::new();
            let mut buf = [0u8; 256];
            let mut stdin = std::io::stdin().lock();
            loop {
                let n = match stdin.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => return,
                };
                for &byte in &buf[..n] {
                    let action = if interactive {
                        decoder.feed(byte)
                    } else {
                        KeyAction::Send(byte)
                    };
                    match action {
                        KeyAction::Send(b) => {
                            if keys.send(b).is_err() {
                                return;
                            }
                        }
                        KeyAction::Pending => {}
                        KeyAction::Quit => stop.request(StopCause::Quit),
                        KeyAction::Help => {
                            let mut out = std::io::stdout().lock();
                            let _ = out.write_all(HELP.as_bytes()).and_then(|()| out.flush());
                        }
                    }
                }
            }
        })?;
    Ok(())
}

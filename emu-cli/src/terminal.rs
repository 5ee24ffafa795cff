//! The host terminal: raw input while a guest owns the console, restored on every exit path
//! (normal return and errors through [`RawModeGuard`]'s `Drop`, panics through a panic hook,
//! SIGINT/SIGTERM/SIGHUP through a signal thread), and the thread that reads stdin.
//!
//! The mode is QEMU's for its stdio console: `cfmakeraw` input (every key, Ctrl-C included,
//! reaches the guest; no local echo) but output post-processing kept on (`OPOST`, `ONLCR`), so
//! the guest's `\n` reaches the screen as CR LF whether emu-cli's stdout is the terminal itself
//! or a pipe (`emu-cli boot | tee boot.log`) whose reader writes to the terminal.

use std::io::{IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustix::termios::{self, OptionalActions, OutputModes, Termios};

use crate::console::{StopCause, StopFlag};
use crate::ctrl_a::{CtrlADecoder, KeyAction, HELP};

/// Whether stdin is a terminal (then the console is interactive: raw mode and Ctrl-A keys).
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Whether emu-cli's own messages (stderr) show where the guest's output does: stderr is a
/// terminal (the guest's output reaches it directly or through a pipe such as `| tee`), or
/// stderr and stdout are the same file. Then a message after unfinished guest output starts
/// with a line break of its own.
pub fn stderr_shares_stdout_screen() -> bool {
    if std::io::stderr().is_terminal() {
        return true;
    }
    match (
        rustix::fs::fstat(std::io::stdout()),
        rustix::fs::fstat(std::io::stderr()),
    ) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

/// stdout as an unbuffered file (a duplicate of its descriptor): the console writes each
/// round's output with one `write(2)`, where `std::io::stdout()` would split it at line ends.
///
/// # Errors
/// The descriptor could not be duplicated.
pub fn stdout_writer() -> std::io::Result<std::fs::File> {
    use std::os::fd::AsFd;
    Ok(std::fs::File::from(
        std::io::stdout().as_fd().try_clone_to_owned()?,
    ))
}

/// The terminal's mode before [`RawModeGuard::enable`] changed it.
static SAVED_MODE: OnceLock<Termios> = OnceLock::new();
/// Whether the terminal is in our mode (so [`restore_terminal`] has something to undo).
static RAW_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back in the mode it had before [`RawModeGuard::enable`]. Safe to call at
/// any time, from any thread, any number of times.
pub fn restore_terminal() {
    if RAW_ACTIVE.swap(false, Ordering::SeqCst) {
        if let Some(saved) = SAVED_MODE.get() {
            let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, saved);
        }
    }
}

/// The console mode derived from `cooked`: raw input (`cfmakeraw`) with output
/// post-processing (`OPOST | ONLCR`) left on, as QEMU sets up its stdio console.
pub fn console_mode(cooked: &Termios) -> Termios {
    let mut mode = cooked.clone();
    mode.make_raw();
    mode.output_modes |= OutputModes::OPOST | OutputModes::ONLCR;
    mode
}

/// Raw input for the lifetime of the guard: every key (Ctrl-C included) reaches the guest;
/// output keeps `\n` → CR LF (see the module docs).
pub struct RawModeGuard(());

impl RawModeGuard {
    /// Switches the terminal on stdin to [`console_mode`].
    ///
    /// # Errors
    /// stdin is not a terminal or refused the mode (the caller then runs with a cooked terminal).
    pub fn enable() -> std::io::Result<RawModeGuard> {
        let stdin = std::io::stdin();
        let cooked = termios::tcgetattr(&stdin)?;
        let mode = console_mode(&cooked);
        let _ = SAVED_MODE.set(cooked);
        RAW_ACTIVE.store(true, Ordering::SeqCst);
        if let Err(e) = termios::tcsetattr(&stdin, OptionalActions::Now, &mode) {
            RAW_ACTIVE.store(false, Ordering::SeqCst);
            return Err(e.into());
        }
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

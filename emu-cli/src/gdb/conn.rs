//! The gdb connection: the TCP stream, plus a note of whether the packet being received is a
//! legacy continue (`c` or `C`, not `vCont`).
//!
//! gdbstub turns a bare `c` into "continue the current resume thread, hold the others"
//! (scheduler locking), and its current resume thread is hart 0 until the client sends `Hc`.
//! QEMU's stub resumes every vCPU on a bare `c` (gdbstub.c, `gdb_continue` → `vm_start`).
//! xv6's `gradelib.py` (`make grade`) speaks to the stub with its own tiny client that sends
//! exactly `$c#63` and nothing else, so without this note the other harts stayed held, and the
//! machine ran one instruction at a time, as it does whenever a hart is held. Real gdb sends
//! `vCont;c`, which gdbstub already treats as "every hart".

use std::cell::Cell;
use std::net::TcpStream;
use std::rc::Rc;

use gdbstub::conn::{Connection, ConnectionExt};

/// A [`TcpStream`] that marks legacy continue packets in `legacy_continue` as they are read.
pub struct GdbConn {
    stream: TcpStream,
    /// The last byte read was a packet's `$`.
    after_dollar: bool,
    /// Whether the packet being received (the last one started) is `c` or `C`. Shared with the
    /// target, which reads it when gdbstub asks it to hold the harts not named.
    legacy_continue: Rc<Cell<bool>>,
}

impl GdbConn {
    /// Wrap `stream`; the returned cell says whether the current packet is a legacy continue.
    pub fn new(stream: TcpStream) -> (GdbConn, Rc<Cell<bool>>) {
        let legacy_continue = Rc::new(Cell::new(false));
        let conn = GdbConn {
            stream,
            after_dollar: false,
            legacy_continue: legacy_continue.clone(),
        };
        (conn, legacy_continue)
    }

    /// Follow the incoming bytes: a packet starts at a raw `$` (inside packet data `$` is
    /// always escaped, RSP "Overview"), and its first byte names the command.
    fn note(&mut self, byte: u8) {
        if self.after_dollar {
            self.legacy_continue.set(byte == b'c' || byte == b'C');
            self.after_dollar = false;
        } else if byte == b'$' {
            self.after_dollar = true;
        }
    }
}

impl Connection for GdbConn {
    type Error = std::io::Error;

    fn write(&mut self, byte: u8) -> Result<(), Self::Error> {
        Connection::write(&mut self.stream, byte)
    }

    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        Connection::write_all(&mut self.stream, buf)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Connection::flush(&mut self.stream)
    }

    fn on_session_start(&mut self) -> Result<(), Self::Error> {
        Connection::on_session_start(&mut self.stream)
    }
}

impl ConnectionExt for GdbConn {
    fn read(&mut self) -> Result<u8, Self::Error> {
        let byte = ConnectionExt::read(&mut self.stream)?;
        self.note(byte);
        Ok(byte)
    }

    fn peek(&mut self) -> Result<Option<u8>, Self::Error> {
        ConnectionExt::peek(&mut self.stream)
    }
}

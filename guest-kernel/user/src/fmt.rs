//! `printf!`/`fprintf!`: formatted output to a file descriptor via `core::fmt`, buffered per call
//! (one `write` per 128 bytes rather than xv6's one per character).

use core::fmt;

/// A `fmt::Write` sink that buffers and writes to `fd`.
pub struct FdWriter {
    fd: i32,
    buf: [u8; 128],
    len: usize,
}

impl FdWriter {
    /// A writer to `fd`.
    pub fn new(fd: i32) -> Self {
        FdWriter {
            fd,
            buf: [0; 128],
            len: 0,
        }
    }
    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        if self.len > 0 {
            crate::write(self.fd, &self.buf[..self.len]);
            self.len = 0;
        }
    }
}

impl fmt::Write for FdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

impl Drop for FdWriter {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Writes formatted text to `fd` (used by the macros).
pub fn write_fmt(fd: i32, args: fmt::Arguments) {
    let mut w = FdWriter::new(fd);
    let _ = fmt::write(&mut w, args);
}

/// Prints raw bytes (e.g. a file name that may not be UTF-8) as text.
pub struct Bytes<'a>(pub &'a [u8]);

impl fmt::Display for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for &b in self.0 {
            fmt::Write::write_char(f, b as char)?;
        }
        Ok(())
    }
}

/// `printf!(...)`: formatted output to fd 1.
#[macro_export]
macro_rules! printf {
    ($($arg:tt)*) => { $crate::fmt::write_fmt(1, format_args!($($arg)*)) };
}

/// `fprintf!(fd, ...)`: formatted output to `fd`.
#[macro_export]
macro_rules! fprintf {
    ($fd:expr, $($arg:tt)*) => { $crate::fmt::write_fmt($fd, format_args!($($arg)*)) };
}

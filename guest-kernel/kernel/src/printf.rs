//! Kernel formatted output (`print!`/`println!`) to the UART, serialised by a lock, and the
//! panic handler that stops every hart's output.

use crate::spinlock::{acquire, release, Spinlock};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

static PR: Spinlock = Spinlock::new("pr");
/// Set by a panic: other harts stop printing (and spin in `console`).
pub static PANICKED: AtomicBool = AtomicBool::new(false);
static PANICKING: AtomicBool = AtomicBool::new(false);

struct Uart;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            crate::console::consputc(b);
        }
        Ok(())
    }
}

/// Prints `args` atomically with respect to other printers.
pub fn _print(args: fmt::Arguments) {
    if PANICKING.load(Ordering::Relaxed) {
        let _ = Uart.write_fmt(args);
        return;
    }
    acquire(&PR);
    let _ = Uart.write_fmt(args);
    release(&PR);
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::printf::_print(format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::printf::_print(format_args!("{}\n", format_args!($($arg)*))) };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    PANICKING.store(true, Ordering::Relaxed);
    let _ = writeln!(Uart, "panic: {}", info);
    PANICKED.store(true, Ordering::Relaxed);
    loop {
        core::hint::spin_loop();
    }
}

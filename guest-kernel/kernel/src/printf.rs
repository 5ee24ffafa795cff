//! Kernel formatted output (`print!`/`println!`) to the UART, serialised by a lock, and the
//! panic handler that stops every hart's output and powers the machine off with a failure code.

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

/// Exit code a kernel panic powers the machine off with (through the test device).
pub const PANIC_EXIT_CODE: u32 = 1;

/// Prints the panic, stops the other harts' output, and powers the machine off with
/// [`PANIC_EXIT_CODE`] through the SiFive test device, so an emulator run (or QEMU's) ends at
/// once with a failure status instead of hanging. Spins if the device does not stop the hart.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    PANICKING.store(true, Ordering::Relaxed);
    // One line: the message, then where.
    let _ = write!(Uart, "panic: {}", info.message());
    match info.location() {
        Some(at) => {
            let _ = writeln!(Uart, " (at {}:{})", at.file(), at.line());
        }
        None => {
            let _ = writeln!(Uart);
        }
    }
    PANICKED.store(true, Ordering::Relaxed);
    // SAFETY: TEST is the test device's MMIO register, mapped 1:1 in the kernel page table
    // (and reached directly before paging is on).
    unsafe {
        core::ptr::write_volatile(
            crate::memlayout::TEST as *mut u32,
            crate::memlayout::TEST_FAIL | (PANIC_EXIT_CODE << 16),
        );
    }
    loop {
        core::hint::spin_loop();
    }
}

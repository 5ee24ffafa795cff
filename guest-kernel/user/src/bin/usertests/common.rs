//! Helpers shared by the tests: the big shared buffer, failure reporting, raw memory access.

use core::arch::asm;
use ulib::*;

/// A test: its function (given its own name) and name.
pub type Test = (fn(&str), &'static str);

/// xv6 usertests' BUFSZ: (MAXOPBLOCKS + 2) * BSIZE.
pub const BUFSZ: usize = (abi::param::MAXOPBLOCKS + 2) * abi::fs::BSIZE;
pub const PGSIZE: usize = 4096;
pub const KERNBASE: usize = 0x8000_0000;
pub const MAXVA: usize = 1 << (9 + 9 + 9 + 12 - 1);

struct Buf(core::cell::UnsafeCell<[u8; BUFSZ]>);
// SAFETY: each test runs single-threaded in its own process.
unsafe impl Sync for Buf {}
static BUF: Buf = Buf(core::cell::UnsafeCell::new([0; BUFSZ]));

/// The shared scratch buffer (too big for the one-page user stack).
pub fn buf() -> &'static mut [u8; BUFSZ] {
    // SAFETY: a test process uses the buffer from one place at a time.
    unsafe { &mut *BUF.0.get() }
}

/// Prints `name: msg` and exits with status 1.
pub fn fail(name: &str, msg: core::fmt::Arguments) -> ! {
    printf!("{}: {}\n", name, msg);
    exit(1)
}

/// `fail!(s, "fmt", args)`.
#[macro_export]
macro_rules! fail {
    ($s:expr, $($arg:tt)*) => { $crate::common::fail($s, format_args!($($arg)*)) };
}

/// Stores a byte at any address (may fault: the kernel then kills the process).
pub fn store_u8(addr: usize, v: u8) {
    // SAFETY: a raw user store; a bad address traps to the kernel, which kills us.
    unsafe { asm!("sb {v}, 0({a})", a = in(reg) addr, v = in(reg) v, options(nostack)) }
}

/// Loads a byte from any address (may fault: the kernel then kills the process).
pub fn load_u8(addr: usize) -> u8 {
    let v: u8;
    // SAFETY: a raw user load; a bad address traps to the kernel, which kills us.
    unsafe { asm!("lbu {v}, 0({a})", a = in(reg) addr, v = out(reg) v, options(nostack)) }
    v
}

/// Stores a word at any address.
pub fn store_u32(addr: usize, v: u32) {
    // SAFETY: as store_u8.
    unsafe { asm!("sw {v}, 0({a})", a = in(reg) addr, v = in(reg) v, options(nostack)) }
}

/// The stack pointer.
pub fn r_sp() -> usize {
    let sp: usize;
    // SAFETY: reads a register.
    unsafe { asm!("mv {0}, sp", out(reg) sp) }
    sp
}

/// Forks or fails the test.
pub fn fork_or_fail(s: &str) -> i32 {
    let pid = fork();
    if pid < 0 {
        fail!(s, "fork failed");
    }
    pid
}

/// Waits for a child and returns its exit status.
pub fn wait_status() -> i32 {
    let mut st = 0;
    wait(&mut st);
    st
}

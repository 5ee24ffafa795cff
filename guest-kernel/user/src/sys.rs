//! Raw system-call stubs: `ecall` with the number in `a7`, arguments in `a0..a2`, the result in
//! `a0` (xv6-riscv's ABI; the kernel preserves every other register). Pointers go to the
//! kernel unchecked — the kernel validates them and fails the call on a bad one.
#![allow(clippy::missing_safety_doc)]

use abi::syscall::*;
use abi::{CowStat, Stat};
use core::arch::asm;

#[inline(always)]
unsafe fn syscall3(n: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; ecall may read and write user memory,
    // which the default (non-`nomem`) asm options tell the compiler.
    unsafe {
        asm!("ecall", inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2, in("a7") n,
             options(nostack));
    }
    ret
}

macro_rules! stub {
    ($(#[$m:meta])* $name:ident, $num:expr, ($($a:ident : $t:ty),*) -> $r:ty) => {
        $(#[$m])*
        #[inline]
        pub unsafe fn $name($($a: $t),*) -> $r {
            let args = [$($a as usize,)* 0usize, 0, 0];
            // SAFETY: forwarded to the caller.
            unsafe { syscall3($num, args[0], args[1], args[2]) as $r }
        }
    };
}

stub!(fork, SYS_FORK, () -> i32);
stub!(wait, SYS_WAIT, (status: *mut i32) -> i32);
stub!(pipe, SYS_PIPE, (fds: *mut i32) -> i32);
stub!(read, SYS_READ, (fd: i32, buf: *mut u8, n: i32) -> i32);
stub!(write, SYS_WRITE, (fd: i32, buf: *const u8, n: i32) -> i32);
stub!(kill, SYS_KILL, (pid: i32) -> i32);
stub!(exec, SYS_EXEC, (path: *const u8, argv: *const *const u8) -> i32);
stub!(fstat, SYS_FSTAT, (fd: i32, st: *mut Stat) -> i32);
stub!(chdir, SYS_CHDIR, (path: *const u8) -> i32);
stub!(dup, SYS_DUP, (fd: i32) -> i32);
stub!(getpid, SYS_GETPID, () -> i32);
stub!(sbrk, SYS_SBRK, (n: i64) -> usize);
stub!(sleep, SYS_SLEEP, (ticks: i32) -> i32);
stub!(uptime, SYS_UPTIME, () -> i32);
stub!(open, SYS_OPEN, (path: *const u8, flags: i32) -> i32);
stub!(mknod, SYS_MKNOD, (path: *const u8, major: i16, minor: i16) -> i32);
stub!(unlink, SYS_UNLINK, (path: *const u8) -> i32);
stub!(link, SYS_LINK, (old: *const u8, new: *const u8) -> i32);
stub!(mkdir, SYS_MKDIR, (path: *const u8) -> i32);
stub!(close, SYS_CLOSE, (fd: i32) -> i32);
stub!(cowstat, SYS_COWSTAT, (st: *mut CowStat) -> i32);

/// Ends the process; never returns.
pub unsafe fn exit(status: i32) -> ! {
    // SAFETY: exit takes no pointer and does not return.
    unsafe {
        asm!("ecall", in("a0") status as isize, in("a7") SYS_EXIT, options(noreturn, nostack));
    }
}

/// Any system call by number, for tests of the kernel's argument checking.
pub unsafe fn syscall(n: usize, a0: usize, a1: usize, a2: usize) -> isize {
    // SAFETY: forwarded to the caller.
    unsafe { syscall3(n, a0, a1, a2) }
}

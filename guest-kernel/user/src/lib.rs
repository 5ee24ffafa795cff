//! ulib: the user library of rvcow's xv6-style user space.
//!
//! - [`sys`]: raw system-call stubs (`ecall`, number in `a7`, arguments in `a0..a2`, result in
//!   `a0`; xv6-riscv's ABI, numbers from the `abi` crate).
//! - Safe wrappers at the crate root (`fork`, `open`, `read`, …) in the style of xv6's user.h.
//! - [`printf!`]/[`fprintf!`] over `core::fmt`, a `#[global_allocator]` over `sbrk`
//!   (so programs can use `alloc`), string helpers, `gets`, `atoi`, `stat`.
//! - [`entry!`]: the `_start` entry point (argc in `a0`, argv in `a1`) that calls the program's
//!   `main(Args) -> i32` and then `exit`s with its result.
#![no_std]

extern crate alloc as alloc_crate;

pub mod fmt;
pub mod malloc;
pub mod string;
pub mod sys;

pub use abi;
pub use abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
pub use abi::{CowStat, Stat, T_DEVICE, T_DIR, T_FILE};
pub use alloc_crate::{boxed::Box, string::String, vec, vec::Vec};
pub use core::ffi::CStr;
pub use fmt::FdWriter;
pub use malloc::{free, malloc};
pub use string::*;

use abi::param::MAXARG;

/// The command-line arguments handed to `_start` by `exec`: argc strings, NUL-terminated.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const u8,
}

impl Args {
    /// Builds the view from `_start`'s registers.
    ///
    /// # Safety
    /// `argv` must point to `argc` valid NUL-terminated strings (exec guarantees it).
    pub unsafe fn new(argc: usize, argv: *const *const u8) -> Self {
        Args { argc, argv }
    }
    /// Number of arguments (argv[0] included).
    pub fn len(&self) -> usize {
        self.argc
    }
    /// Whether there are no arguments at all.
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }
    /// Argument `i` as a C string; panics if `i >= len()`.
    pub fn cstr(&self, i: usize) -> &'static CStr {
        assert!(i < self.argc);
        // SAFETY: exec placed argc valid NUL-terminated strings on the stack, which lives as
        // long as the process.
        unsafe { CStr::from_ptr(*self.argv.add(i) as *const core::ffi::c_char) }
    }
    /// Argument `i` as bytes (no NUL).
    pub fn bytes(&self, i: usize) -> &'static [u8] {
        self.cstr(i).to_bytes()
    }
    /// Argument `i` as text (`"?"` if not UTF-8).
    pub fn str(&self, i: usize) -> &'static str {
        core::str::from_utf8(self.bytes(i)).unwrap_or("?")
    }
    /// The raw argv array, NULL-terminated.
    pub fn raw(&self) -> *const *const u8 {
        self.argv
    }
}

/// Defines `_start` for a program whose `main` is `fn(Args) -> i32`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        #[link_section = ".text._start"]
        pub unsafe extern "C" fn _start(argc: usize, argv: *const *const u8) -> ! {
            // SAFETY: exec passes argc and a NULL-terminated argv of NUL-terminated strings.
            let args = unsafe { $crate::Args::new(argc, argv) };
            let f: fn($crate::Args) -> i32 = $main;
            $crate::exit(f(args))
        }
    };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    fprintf!(2, "panic: {}\n", info);
    exit(1)
}

/// Runs `f` with `path` as a NUL-terminated C string (on the stack if it fits in 128 bytes).
pub fn with_cstr<R>(path: &[u8], f: impl FnOnce(*const u8) -> R) -> R {
    let mut buf = [0u8; 128];
    if path.len() < buf.len() {
        buf[..path.len()].copy_from_slice(path);
        f(buf.as_ptr())
    } else {
        let mut v = Vec::with_capacity(path.len() + 1);
        v.extend_from_slice(path);
        v.push(0);
        f(v.as_ptr())
    }
}

// ---- System calls, as xv6's user.h declares them ----

/// Creates a process; 0 in the child, the child's pid in the parent, -1 on error.
pub fn fork() -> i32 {
    // SAFETY: no pointer arguments.
    unsafe { sys::fork() }
}
/// Ends the process with `status`.
pub fn exit(status: i32) -> ! {
    // SAFETY: no pointer arguments.
    unsafe { sys::exit(status) }
}
/// Waits for a child to exit and stores its exit status in `status`. Returns its pid or -1.
pub fn wait(status: &mut i32) -> i32 {
    // SAFETY: status is a valid i32.
    unsafe { sys::wait(status) }
}
/// Waits for any child, ignoring its status (xv6's `wait(0)`).
pub fn wait0() -> i32 {
    // SAFETY: a null status pointer is not written.
    unsafe { sys::wait(core::ptr::null_mut()) }
}
/// Creates a pipe: fds[0] read end, fds[1] write end.
pub fn pipe(fds: &mut [i32; 2]) -> i32 {
    // SAFETY: fds is a valid 8-byte buffer.
    unsafe { sys::pipe(fds.as_mut_ptr()) }
}
/// Writes `buf` to `fd`; bytes written or -1.
pub fn write(fd: i32, buf: &[u8]) -> i32 {
    // SAFETY: buf is valid for buf.len() bytes of reading.
    unsafe { sys::write(fd, buf.as_ptr(), buf.len() as i32) }
}
/// Reads up to `buf.len()` bytes from `fd`; bytes read, 0 at end of file, or -1.
pub fn read(fd: i32, buf: &mut [u8]) -> i32 {
    // SAFETY: buf is valid for buf.len() bytes of writing.
    unsafe { sys::read(fd, buf.as_mut_ptr(), buf.len() as i32) }
}
/// Closes `fd`.
pub fn close(fd: i32) -> i32 {
    // SAFETY: no pointer arguments.
    unsafe { sys::close(fd) }
}
/// Marks process `pid` killed.
pub fn kill(pid: i32) -> i32 {
    // SAFETY: no pointer arguments.
    unsafe { sys::kill(pid) }
}
/// Replaces the process image with program `path` and arguments `argv` (at most MAXARG).
/// Returns -1 on failure (it does not return on success). Arguments totalling up to 512 bytes
/// are staged on the stack, so exec works even when the heap cannot grow.
pub fn exec(path: &[u8], argv: &[&[u8]]) -> i32 {
    if argv.len() >= MAXARG {
        return -1;
    }
    // The strings need NULs: copy them into one buffer.
    let total: usize = argv.iter().map(|a| a.len() + 1).sum();
    let mut small = [0u8; 512];
    let mut big: Vec<u8> = Vec::new();
    let strs: &mut [u8] = if total <= small.len() {
        &mut small[..total]
    } else {
        big.resize(total, 0);
        &mut big[..]
    };
    let mut offs = [0usize; MAXARG];
    let mut off = 0;
    for (i, a) in argv.iter().enumerate() {
        strs[off..off + a.len()].copy_from_slice(a);
        strs[off + a.len()] = 0;
        offs[i] = off;
        off += a.len() + 1;
    }
    let base = strs.as_ptr();
    let mut ptrs = [core::ptr::null::<u8>(); MAXARG + 1];
    for i in 0..argv.len() {
        // SAFETY: offs[i] < total, inside strs.
        ptrs[i] = unsafe { base.add(offs[i]) };
    }
    // SAFETY: path is NUL-terminated by with_cstr, ptrs is a NULL-terminated array of C strings.
    with_cstr(path, |p| unsafe { sys::exec(p, ptrs.as_ptr()) })
}
/// Opens `path` with `O_*` flags; an fd or -1.
pub fn open(path: impl AsRef<[u8]>, flags: i32) -> i32 {
    // SAFETY: with_cstr hands a NUL-terminated string.
    with_cstr(path.as_ref(), |p| unsafe { sys::open(p, flags) })
}
/// Creates device node `path`.
pub fn mknod(path: impl AsRef<[u8]>, major: i16, minor: i16) -> i32 {
    // SAFETY: NUL-terminated path.
    with_cstr(path.as_ref(), |p| unsafe { sys::mknod(p, major, minor) })
}
/// Removes directory entry `path`.
pub fn unlink(path: impl AsRef<[u8]>) -> i32 {
    // SAFETY: NUL-terminated path.
    with_cstr(path.as_ref(), |p| unsafe { sys::unlink(p) })
}
/// Fills `st` with the metadata of open file `fd`.
pub fn fstat(fd: i32, st: &mut Stat) -> i32 {
    // SAFETY: st is a valid Stat.
    unsafe { sys::fstat(fd, st) }
}
/// Creates link `new` to existing file `old`.
pub fn link(old: impl AsRef<[u8]>, new: impl AsRef<[u8]>) -> i32 {
    // SAFETY: NUL-terminated paths.
    with_cstr(old.as_ref(), |o| {
        with_cstr(new.as_ref(), |n| unsafe { sys::link(o, n) })
    })
}
/// Creates directory `path`.
pub fn mkdir(path: impl AsRef<[u8]>) -> i32 {
    // SAFETY: NUL-terminated path.
    with_cstr(path.as_ref(), |p| unsafe { sys::mkdir(p) })
}
/// Changes the current directory.
pub fn chdir(path: impl AsRef<[u8]>) -> i32 {
    // SAFETY: NUL-terminated path.
    with_cstr(path.as_ref(), |p| unsafe { sys::chdir(p) })
}
/// Duplicates `fd` into the lowest free fd.
pub fn dup(fd: i32) -> i32 {
    // SAFETY: no pointer arguments.
    unsafe { sys::dup(fd) }
}
/// The caller's pid.
pub fn getpid() -> i32 {
    // SAFETY: no pointer arguments.
    unsafe { sys::getpid() }
}
/// Grows (or shrinks) memory by `n` bytes; the old break, or `usize::MAX` (xv6's (char*)-1).
pub fn sbrk(n: i64) -> usize {
    // SAFETY: no pointer arguments; the caller decides what to do with the memory.
    unsafe { sys::sbrk(n) }
}
/// Sleeps `ticks` clock ticks.
pub fn sleep(ticks: i32) -> i32 {
    // SAFETY: no pointer arguments.
    unsafe { sys::sleep(ticks) }
}
/// Clock ticks since boot.
pub fn uptime() -> i32 {
    // SAFETY: no pointer arguments.
    unsafe { sys::uptime() }
}
/// rvcow extension: reads the kernel's copy-on-write counters into `st`.
pub fn cowstat(st: &mut CowStat) -> i32 {
    // SAFETY: st is a valid CowStat.
    unsafe { sys::cowstat(st) }
}
/// Fills `st` with the metadata of `path`.
pub fn stat(path: impl AsRef<[u8]>, st: &mut Stat) -> i32 {
    let fd = open(path, O_RDONLY);
    if fd < 0 {
        return -1;
    }
    let r = fstat(fd, st);
    close(fd);
    r
}
/// Reads a line (up to and including `\n` or `\r`) into `buf`, one byte at a time, as xv6's
/// `gets`. Returns the number of bytes read (0 at end of input).
pub fn gets(buf: &mut [u8]) -> usize {
    let mut i = 0;
    while i < buf.len() {
        let mut c = [0u8; 1];
        if read(0, &mut c) < 1 {
            break;
        }
        buf[i] = c[0];
        i += 1;
        if c[0] == b'\n' || c[0] == b'\r' {
            break;
        }
    }
    i
}

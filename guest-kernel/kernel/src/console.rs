//! Console: input line discipline over the UART (xv6 console.c). Reads return whole lines;
//! backspace/DEL erase a byte, ^U erases the line, ^D is end-of-file, ^P lists processes.

use crate::printf::PANICKED;
use crate::proc::{either_copyin, either_copyout, killed, myproc, procdump, sleep, wakeup};
use crate::spinlock::{acquire, release, Spinlock};
use crate::uart::{uartinit, uartputc_sync};
use core::sync::atomic::Ordering;

const BACKSPACE: u16 = 0x100;
const INPUT_BUF_SIZE: usize = 128;

const fn ctrl(c: u8) -> u8 {
    c - b'@'
}

struct Cons {
    lock: Spinlock,
    buf: [u8; INPUT_BUF_SIZE],
    r: usize, // read index
    w: usize, // write index (end of the last complete line)
    e: usize, // edit index
}

static mut CONS: Cons = Cons {
    lock: Spinlock::new("cons"),
    buf: [0; INPUT_BUF_SIZE],
    r: 0,
    w: 0,
    e: 0,
};

/// The console state (fields guarded by its lock).
fn cons() -> *mut Cons {
    &raw mut CONS
}

/// Writes one byte to the UART; `\n` stays `\n` (QEMU's terminal handles it).
pub fn consputc(c: u8) {
    if PANICKED.load(Ordering::Relaxed) {
        loop {
            core::hint::spin_loop();
        }
    }
    uartputc_sync(c);
}

/// Echoes one input byte; BACKSPACE erases the previous character on the terminal.
fn consputc_edit(c: u16) {
    if c == BACKSPACE {
        uartputc_sync(8);
        uartputc_sync(b' ');
        uartputc_sync(8);
    } else {
        uartputc_sync(c as u8);
    }
}

/// write() on the console: copies `n` bytes from `src` (user if `user_src`) to the UART.
/// Returns the number of bytes written.
pub fn consolewrite(user_src: bool, src: usize, n: usize) -> i32 {
    for i in 0..n {
        let mut c = [0u8];
        if either_copyin(c.as_mut_ptr(), user_src, src + i, 1).is_err() {
            return i as i32;
        }
        uartputc_sync(c[0]);
    }
    n as i32
}

/// read() on the console: waits for a whole line (or ^D) and copies up to `n` bytes of it to
/// `dst`. Returns the count, or -1 if the process was killed while waiting.
pub fn consoleread(user_dst: bool, mut dst: usize, mut n: usize) -> i32 {
    let target = n;
    let c = cons();
    // SAFETY: CONS fields are guarded by CONS.lock.
    unsafe {
        acquire(&(*c).lock);
        while n > 0 {
            while core::ptr::read_volatile(&raw const (*c).r)
                == core::ptr::read_volatile(&raw const (*c).w)
            {
                if killed(myproc()) {
                    release(&(*c).lock);
                    return -1;
                }
                sleep(&raw const (*c).r as usize, &(*c).lock);
            }
            let ch = (*c).buf[(*c).r % INPUT_BUF_SIZE];
            (*c).r += 1;
            if ch == ctrl(b'D') {
                if n < target {
                    // Leave ^D for next time so the caller gets a 0-byte read.
                    (*c).r -= 1;
                }
                break;
            }
            let cbuf = [ch];
            if either_copyout(user_dst, dst, cbuf.as_ptr(), 1).is_err() {
                break;
            }
            dst += 1;
            n -= 1;
            if ch == b'\n' {
                break;
            }
        }
        release(&(*c).lock);
    }
    (target - n) as i32
}

/// Console input interrupt: one byte from the UART through the line discipline.
pub fn consoleintr(ch: u8) {
    let c = cons();
    // SAFETY: CONS fields are guarded by CONS.lock.
    unsafe {
        acquire(&(*c).lock);
        match ch {
            x if x == ctrl(b'P') => procdump(),
            x if x == ctrl(b'U') => {
                while (*c).e != (*c).w && (*c).buf[((*c).e - 1) % INPUT_BUF_SIZE] != b'\n' {
                    (*c).e -= 1;
                    consputc_edit(BACKSPACE);
                }
            }
            x if x == ctrl(b'H') || x == 0x7f => {
                if (*c).e != (*c).w {
                    (*c).e -= 1;
                    consputc_edit(BACKSPACE);
                }
            }
            _ => {
                if ch != 0 && (*c).e - (*c).r < INPUT_BUF_SIZE {
                    let ch = if ch == b'\r' { b'\n' } else { ch };
                    consputc_edit(ch as u16);
                    (*c).buf[(*c).e % INPUT_BUF_SIZE] = ch;
                    (*c).e += 1;
                    if ch == b'\n' || ch == ctrl(b'D') || (*c).e - (*c).r == INPUT_BUF_SIZE {
                        (*c).w = (*c).e;
                        wakeup(&raw const (*c).r as usize);
                    }
                }
            }
        }
        release(&(*c).lock);
    }
}

/// Initialises the UART behind the console.
pub fn consoleinit() {
    uartinit();
}

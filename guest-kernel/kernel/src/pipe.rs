//! Pipes (xv6 pipe.c): a PIPESIZE-byte ring in one kalloc'd page, with a reader and a writer
//! file. Readers sleep while empty, writers while full.

use crate::file::{filealloc, fileclose, File, FileType};
use crate::kalloc::{kalloc, kfree};
use crate::proc::{killed, myproc, sleep, wakeup};
use crate::spinlock::{acquire, release, Spinlock};
use crate::vm::{copyin, copyout};
use core::ptr::addr_of_mut;

const PIPESIZE: usize = 512;

pub struct Pipe {
    lock: Spinlock,
    data: [u8; PIPESIZE],
    /// Bytes read (wraps).
    nread: u32,
    /// Bytes written (wraps).
    nwrite: u32,
    readopen: bool,
    writeopen: bool,
}

const _: () = assert!(core::mem::size_of::<Pipe>() <= crate::riscv::PGSIZE);

/// Creates a pipe and its two files (read end, write end). Err if out of files or memory.
pub fn pipealloc() -> Result<(*mut File, *mut File), ()> {
    let f0 = filealloc();
    let f1 = if f0.is_null() {
        core::ptr::null_mut()
    } else {
        filealloc()
    };
    let page = if f1.is_null() { None } else { kalloc() };
    let Some(page) = page else {
        if !f0.is_null() {
            fileclose(f0);
        }
        if !f1.is_null() {
            fileclose(f1);
        }
        return Err(());
    };
    let pi = page as *mut Pipe;
    // SAFETY: a fresh page holding the Pipe; the files are ours.
    unsafe {
        core::ptr::write(
            pi,
            Pipe {
                lock: Spinlock::new("pipe"),
                data: [0; PIPESIZE],
                nread: 0,
                nwrite: 0,
                readopen: true,
                writeopen: true,
            },
        );
        (*f0).typ = FileType::Pipe;
        (*f0).readable = true;
        (*f0).writable = false;
        (*f0).pipe = pi;
        (*f1).typ = FileType::Pipe;
        (*f1).readable = false;
        (*f1).writable = true;
        (*f1).pipe = pi;
    }
    Ok((f0, f1))
}

/// Closes one end; frees the pipe when both are closed.
pub fn pipeclose(pi: *mut Pipe, writable: bool) {
    // SAFETY: fields under pi.lock; the last closer owns the page.
    unsafe {
        acquire(&(*pi).lock);
        if writable {
            (*pi).writeopen = false;
            wakeup(addr_of_mut!((*pi).nread) as usize);
        } else {
            (*pi).readopen = false;
            wakeup(addr_of_mut!((*pi).nwrite) as usize);
        }
        if !(*pi).readopen && !(*pi).writeopen {
            release(&(*pi).lock);
            kfree(pi as usize);
        } else {
            release(&(*pi).lock);
        }
    }
}

/// Writes n bytes from user `addr`; returns the count written (short if addr goes bad), or
/// -1 if the read end is closed or the writer is killed.
pub fn pipewrite(pi: *mut Pipe, addr: usize, n: i32) -> i32 {
    let pr = myproc();
    let mut i = 0;
    // SAFETY: fields under pi.lock.
    unsafe {
        acquire(&(*pi).lock);
        while i < n {
            if !(*pi).readopen || killed(pr) {
                release(&(*pi).lock);
                return -1;
            }
            if (*pi).nwrite == (*pi).nread.wrapping_add(PIPESIZE as u32) {
                wakeup(addr_of_mut!((*pi).nread) as usize);
                sleep(addr_of_mut!((*pi).nwrite) as usize, &(*pi).lock);
            } else {
                let mut ch = 0u8;
                if copyin((*pr).pagetable, &mut ch, addr + i as usize, 1).is_err() {
                    break;
                }
                (*pi).data[(*pi).nwrite as usize % PIPESIZE] = ch;
                (*pi).nwrite = (*pi).nwrite.wrapping_add(1);
                i += 1;
            }
        }
        wakeup(addr_of_mut!((*pi).nread) as usize);
        release(&(*pi).lock);
    }
    i
}

/// Reads up to n bytes into user `addr`, waiting while the pipe is empty and a writer
/// remains. Returns the count (0 at end of file), or -1 if killed while waiting.
pub fn piperead(pi: *mut Pipe, addr: usize, n: i32) -> i32 {
    let pr = myproc();
    let mut i = 0;
    // SAFETY: fields under pi.lock.
    unsafe {
        acquire(&(*pi).lock);
        while (*pi).nread == (*pi).nwrite && (*pi).writeopen {
            if killed(pr) {
                release(&(*pi).lock);
                return -1;
            }
            sleep(addr_of_mut!((*pi).nread) as usize, &(*pi).lock);
        }
        while i < n {
            if (*pi).nread == (*pi).nwrite {
                break;
            }
            let ch = (*pi).data[(*pi).nread as usize % PIPESIZE];
            if copyout((*pr).pagetable, addr + i as usize, &ch, 1).is_err() {
                break;
            }
            (*pi).nread = (*pi).nread.wrapping_add(1);
            i += 1;
        }
        wakeup(addr_of_mut!((*pi).nwrite) as usize);
        release(&(*pi).lock);
    }
    i
}

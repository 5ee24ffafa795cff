//! Open files (xv6 file.c): the system-wide file table (NFILE entries), shared by file
//! descriptors through reference counts; read/write/stat dispatch to pipes, inodes and the
//! console device.

use crate::fs::{ilock, iput, iunlock, readi, stati, writei, Inode};
use crate::log::{begin_op, end_op};
use crate::pipe::{pipeclose, piperead, pipewrite, Pipe};
use crate::proc::myproc;
use crate::spinlock::{acquire, release, Spinlock};
use crate::vm::copyout;
use abi::fs::BSIZE;
use abi::param::{MAXOPBLOCKS, NFILE};
use core::ptr::{addr_of_mut, null_mut};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    None,
    Pipe,
    Inode,
    Device,
}

pub struct File {
    pub typ: FileType,
    /// Reference count (FTABLE.lock).
    pub refcnt: i32,
    pub readable: bool,
    pub writable: bool,
    pub pipe: *mut Pipe,
    pub ip: *mut Inode,
    /// Byte offset (FD_INODE), guarded by ip's lock.
    pub off: u32,
    pub major: i16,
}

impl File {
    const fn new() -> Self {
        File {
            typ: FileType::None,
            refcnt: 0,
            readable: false,
            writable: false,
            pipe: null_mut(),
            ip: null_mut(),
            off: 0,
            major: 0,
        }
    }
}

struct Ftable {
    lock: Spinlock,
    file: [File; NFILE],
}

const FILE_INIT: File = File::new();
static mut FTABLE: Ftable = Ftable {
    lock: Spinlock::new("ftable"),
    file: [FILE_INIT; NFILE],
};

/// Allocates a file structure with one reference; null if the table is full.
pub fn filealloc() -> *mut File {
    // SAFETY: refcnt under FTABLE.lock.
    unsafe {
        let ft = addr_of_mut!(FTABLE);
        acquire(&(*ft).lock);
        for i in 0..NFILE {
            let f = addr_of_mut!((*ft).file[i]);
            if (*f).refcnt == 0 {
                (*f).refcnt = 1;
                release(&(*ft).lock);
                return f;
            }
        }
        release(&(*ft).lock);
    }
    null_mut()
}

/// Adds a reference to f; returns f.
pub fn filedup(f: *mut File) -> *mut File {
    // SAFETY: refcnt under FTABLE.lock.
    unsafe {
        acquire(&FTABLE.lock);
        if (*f).refcnt < 1 {
            panic!("filedup");
        }
        (*f).refcnt += 1;
        release(&FTABLE.lock);
    }
    f
}

/// Drops a reference to f; the last one closes the pipe end or releases the inode.
pub fn fileclose(f: *mut File) {
    // SAFETY: refcnt under FTABLE.lock; after it reaches 0 the copy is ours.
    unsafe {
        acquire(&FTABLE.lock);
        if (*f).refcnt < 1 {
            panic!("fileclose");
        }
        (*f).refcnt -= 1;
        if (*f).refcnt > 0 {
            release(&FTABLE.lock);
            return;
        }
        let (typ, pipe, ip, writable) = ((*f).typ, (*f).pipe, (*f).ip, (*f).writable);
        (*f).typ = FileType::None;
        (*f).pipe = null_mut();
        (*f).ip = null_mut();
        release(&FTABLE.lock);
        match typ {
            FileType::Pipe => pipeclose(pipe, writable),
            FileType::Inode | FileType::Device => {
                begin_op();
                iput(ip);
                end_op();
            }
            FileType::None => {}
        }
    }
}

/// Copies f's metadata (abi::Stat) to user address `addr`. -1 if f is a pipe or addr is bad.
pub fn filestat(f: *mut File, addr: usize) -> i32 {
    // SAFETY: f is referenced by the caller's descriptor.
    unsafe {
        if (*f).typ == FileType::Inode || (*f).typ == FileType::Device {
            ilock((*f).ip);
            let st = stati((*f).ip);
            iunlock((*f).ip);
            let p = myproc();
            if copyout(
                (*p).pagetable,
                addr,
                &st as *const abi::Stat as *const u8,
                core::mem::size_of::<abi::Stat>(),
            )
            .is_err()
            {
                return -1;
            }
            return 0;
        }
    }
    -1
}

/// Reads up to n bytes from f into user address `addr`. Returns the count or -1.
pub fn fileread(f: *mut File, addr: usize, n: i32) -> i32 {
    // SAFETY: f is referenced by the caller's descriptor.
    unsafe {
        if !(*f).readable {
            return -1;
        }
        match (*f).typ {
            FileType::Pipe => piperead((*f).pipe, addr, n),
            FileType::Device => {
                if (*f).major != abi::CONSOLE {
                    return -1;
                }
                crate::console::consoleread(true, addr, n as usize)
            }
            FileType::Inode => {
                ilock((*f).ip);
                let r = readi((*f).ip, true, addr, (*f).off, n as u32);
                if r > 0 {
                    (*f).off += r as u32;
                }
                iunlock((*f).ip);
                r
            }
            FileType::None => panic!("fileread"),
        }
    }
}

/// Writes n bytes from user address `addr` to f. Returns n, or -1 on any failure. Inode
/// writes are split into transactions that fit in the log.
pub fn filewrite(f: *mut File, addr: usize, n: i32) -> i32 {
    // SAFETY: f is referenced by the caller's descriptor.
    unsafe {
        if !(*f).writable {
            return -1;
        }
        match (*f).typ {
            FileType::Pipe => pipewrite((*f).pipe, addr, n),
            FileType::Device => {
                if (*f).major != abi::CONSOLE {
                    return -1;
                }
                crate::console::consolewrite(true, addr, n as usize)
            }
            FileType::Inode => {
                // inode, indirect block, allocation blocks, and 2 blocks of slop for
                // non-aligned writes.
                let max = ((MAXOPBLOCKS - 1 - 1 - 2) / 2 * BSIZE) as i32;
                let mut i = 0;
                while i < n {
                    let n1 = (n - i).min(max);
                    begin_op();
                    ilock((*f).ip);
                    let r = writei((*f).ip, true, addr + i as usize, (*f).off, n1 as u32);
                    if r > 0 {
                        (*f).off += r as u32;
                    }
                    iunlock((*f).ip);
                    end_op();
                    if r != n1 {
                        break;
                    }
                    i += r;
                }
                if i == n {
                    n
                } else {
                    -1
                }
            }
            FileType::None => panic!("filewrite"),
        }
    }
}

//! Write-ahead log for crash-safe file-system operations (xv6 log.c).
//!
//! A system call brackets its writes with begin_op/end_op; `log_write` records a modified
//! buffer (pinned in the cache). When the last outstanding operation ends, `commit` copies the
//! blocks to the log area, writes the header (the commit point), installs the blocks at their
//! homes and clears the header. `initlog` replays a committed log left by a crash.
//! On-disk header (block `start`): n (u32), then n block numbers (u32).

use crate::bio::{bpin, bread, brelse, bunpin, bwrite};
use crate::proc::{sleep, wakeup};
use crate::spinlock::{acquire, release, Spinlock};
use abi::fs::{Superblock, BSIZE};
use abi::param::{LOGSIZE, MAXOPBLOCKS};
use core::ptr::addr_of_mut;

#[derive(Clone, Copy)]
#[repr(C)]
struct LogHeader {
    n: u32,
    block: [u32; LOGSIZE],
}

struct Log {
    lock: Spinlock,
    start: u32,
    size: u32,
    /// File-system calls executing between begin_op and end_op.
    outstanding: u32,
    committing: bool,
    dev: u32,
    lh: LogHeader,
}

static mut LOG: Log = Log {
    lock: Spinlock::new("log"),
    start: 0,
    size: 0,
    outstanding: 0,
    committing: false,
    dev: 0,
    lh: LogHeader {
        n: 0,
        block: [0; LOGSIZE],
    },
};

/// The log state (fields guarded by its lock).
fn log() -> *mut Log {
    addr_of_mut!(LOG)
}

/// Sets up the log from the superblock and recovers a committed transaction (boot, in the
/// first process).
pub fn initlog(dev: u32, sb: &Superblock) {
    if core::mem::size_of::<LogHeader>() >= BSIZE {
        panic!("initlog: too big logheader");
    }
    // SAFETY: boot, first process only.
    unsafe {
        (*log()).start = sb.logstart;
        (*log()).size = sb.nlog;
        (*log()).dev = dev;
    }
    recover_from_log();
}

/// Copies committed blocks from the log to their home locations.
fn install_trans(recovering: bool) {
    let l = log();
    // SAFETY: only the committer (or boot) runs this; lh is stable.
    unsafe {
        for tail in 0..(*l).lh.n as usize {
            let lbuf = bread((*l).dev, (*l).start + tail as u32 + 1);
            let dbuf = bread((*l).dev, (*l).lh.block[tail]);
            (*dbuf).data = (*lbuf).data;
            bwrite(dbuf);
            if !recovering {
                bunpin(dbuf);
            }
            brelse(lbuf);
            brelse(dbuf);
        }
    }
}

/// Reads the on-disk log header into memory.
fn read_head() {
    let l = log();
    // SAFETY: boot; the buffer is locked.
    unsafe {
        let buf = bread((*l).dev, (*l).start);
        let hb = (*buf).data.as_ptr() as *const u32;
        let n = (*hb).min(LOGSIZE as u32);
        (*l).lh.n = n;
        for i in 0..n as usize {
            (*l).lh.block[i] = *hb.add(1 + i);
        }
        brelse(buf);
    }
}

/// Writes the in-memory header to disk: the commit point of a transaction.
fn write_head() {
    let l = log();
    // SAFETY: only the committer runs this.
    unsafe {
        let buf = bread((*l).dev, (*l).start);
        let hb = (*buf).data.as_mut_ptr() as *mut u32;
        *hb = (*l).lh.n;
        for i in 0..(*l).lh.n as usize {
            *hb.add(1 + i) = (*l).lh.block[i];
        }
        bwrite(buf);
        brelse(buf);
    }
}

/// Replays a committed transaction found at boot and clears the log.
fn recover_from_log() {
    read_head();
    install_trans(true);
    // SAFETY: boot.
    unsafe { (*log()).lh.n = 0 };
    write_head();
}

/// Starts a file-system operation, waiting while a commit runs or the log could overflow.
pub fn begin_op() {
    let l = log();
    // SAFETY: LOG fields under LOG.lock.
    unsafe {
        acquire(&(*l).lock);
        loop {
            if (*l).committing
                || (*l).lh.n as usize + ((*l).outstanding as usize + 1) * MAXOPBLOCKS > LOGSIZE
            {
                sleep(l as usize, &(*l).lock);
            } else {
                (*l).outstanding += 1;
                release(&(*l).lock);
                break;
            }
        }
    }
}

/// Ends a file-system operation; commits if it was the last outstanding one.
pub fn end_op() {
    let l = log();
    let mut do_commit = false;
    // SAFETY: LOG fields under LOG.lock; commit runs alone (committing set).
    unsafe {
        acquire(&(*l).lock);
        (*l).outstanding -= 1;
        if (*l).committing {
            panic!("log.committing");
        }
        if (*l).outstanding == 0 {
            do_commit = true;
            (*l).committing = true;
        } else {
            // begin_op may be waiting for log space.
            wakeup(l as usize);
        }
        release(&(*l).lock);
        if do_commit {
            // Commit without holding locks: it sleeps on disk I/O.
            commit();
            acquire(&(*l).lock);
            (*l).committing = false;
            wakeup(l as usize);
            release(&(*l).lock);
        }
    }
}

/// Copies modified blocks from the cache to the log area.
fn write_log() {
    let l = log();
    // SAFETY: only the committer runs this.
    unsafe {
        for tail in 0..(*l).lh.n as usize {
            let to = bread((*l).dev, (*l).start + tail as u32 + 1);
            let from = bread((*l).dev, (*l).lh.block[tail]);
            (*to).data = (*from).data;
            bwrite(to);
            brelse(from);
            brelse(to);
        }
    }
}

/// Writes the current transaction to the log, commits it, installs it and clears the log.
fn commit() {
    // SAFETY: only the committer runs this.
    if unsafe { (*log()).lh.n } > 0 {
        write_log();
        write_head();
        install_trans(false);
        // SAFETY: as above.
        unsafe { (*log()).lh.n = 0 };
        write_head();
    }
}

/// Records that buffer b (held, modified) belongs to the current transaction and pins it in
/// the cache until commit. Replaces bwrite inside an operation.
pub fn log_write(b: *mut crate::bio::Buf) {
    let l = log();
    // SAFETY: LOG fields under LOG.lock; b held by the caller.
    unsafe {
        acquire(&(*l).lock);
        if (*l).lh.n as usize >= LOGSIZE || (*l).lh.n >= (*l).size - 1 {
            panic!("too big a transaction");
        }
        if (*l).outstanding < 1 {
            panic!("log_write outside of trans");
        }
        let n = (*l).lh.n as usize;
        let mut i = 0;
        while i < n {
            if (*l).lh.block[i] == (*b).blockno {
                break; // log absorption
            }
            i += 1;
        }
        (*l).lh.block[i] = (*b).blockno;
        if i == n {
            bpin(b);
            (*l).lh.n += 1;
        }
        release(&(*l).lock);
    }
}

//! The xv6 file system (xv6 fs.c): superblock, block allocator, inodes, file contents,
//! directories and path names. Layout on disk (abi::fs): boot block, superblock, log, inode
//! blocks, free bitmap, data blocks.
//!
//! In-memory inodes (ITABLE, NINODE entries) are reference counted (`ref`, under the table
//! lock) and their contents guarded by each inode's sleep lock: iget → ilock → … → iunlock →
//! iput. Every write to disk happens inside a log transaction (begin_op/end_op).

use crate::bio::{bread, brelse};
use crate::log::{initlog, log_write};
use crate::proc::{either_copyin, either_copyout, myproc};
use crate::sleeplock::{acquiresleep, holdingsleep, releasesleep, Sleeplock};
use crate::spinlock::{acquire, release, Spinlock};
use abi::fs::*;
use abi::param::{NINODE, ROOTDEV};
use abi::{Stat, T_DIR};
use core::ptr::{addr_of_mut, null_mut};

static mut SB: Superblock = Superblock {
    magic: 0,
    size: 0,
    nblocks: 0,
    ninodes: 0,
    nlog: 0,
    logstart: 0,
    inodestart: 0,
    bmapstart: 0,
};

/// The mounted superblock (valid after fsinit).
fn sb() -> &'static Superblock {
    // SAFETY: written once by fsinit before any other use.
    unsafe { &*addr_of_mut!(SB) }
}

/// In-memory copy of an inode.
pub struct Inode {
    pub dev: u32,
    pub inum: u32,
    /// Reference count (ITABLE.lock).
    pub refcnt: i32,
    pub lock: Sleeplock,
    /// Has the on-disk inode been read?
    pub valid: bool,
    // Copy of the disk inode (under `lock`):
    pub typ: i16,
    pub major: i16,
    pub minor: i16,
    pub nlink: i16,
    pub size: u32,
    pub addrs: [u32; NDIRECT + 1],
}

impl Inode {
    const fn new() -> Self {
        Inode {
            dev: 0,
            inum: 0,
            refcnt: 0,
            lock: Sleeplock::new("inode"),
            valid: false,
            typ: 0,
            major: 0,
            minor: 0,
            nlink: 0,
            size: 0,
            addrs: [0; NDIRECT + 1],
        }
    }
}

struct Itable {
    lock: Spinlock,
    inode: [Inode; NINODE],
}

const INODE_INIT: Inode = Inode::new();
static mut ITABLE: Itable = Itable {
    lock: Spinlock::new("itable"),
    inode: [INODE_INIT; NINODE],
};

/// Reads the superblock, checks it and starts the log (recovering a crash). Runs in the first
/// process (it sleeps on disk I/O). Panics on a disk that is not an xv6 file system.
pub fn fsinit(dev: u32) {
    let bp = bread(dev, 1);
    // SAFETY: the buffer is locked and 8-byte aligned; Superblock is plain data.
    unsafe {
        SB = core::ptr::read((*bp).data.as_ptr() as *const Superblock);
    }
    brelse(bp);
    if sb().magic != FSMAGIC {
        panic!(
            "invalid file system (bad superblock magic {:#x})",
            sb().magic
        );
    }
    initlog(dev, sb());
}

/// Zeroes block bno (inside a transaction).
fn bzero(dev: u32, bno: u32) {
    let bp = bread(dev, bno);
    // SAFETY: locked buffer.
    unsafe { (*bp).data.fill(0) };
    log_write(bp);
    brelse(bp);
}

/// Allocates a zeroed disk block; 0 if the disk is full.
fn balloc(dev: u32) -> u32 {
    let s = sb();
    let mut b = 0;
    while b < s.size {
        let bp = bread(dev, s.bblock(b));
        let mut bi = 0;
        while bi < BPB as u32 && b + bi < s.size {
            let m = 1u8 << (bi % 8);
            // SAFETY: locked buffer.
            unsafe {
                if (*bp).data[(bi / 8) as usize] & m == 0 {
                    (*bp).data[(bi / 8) as usize] |= m;
                    log_write(bp);
                    brelse(bp);
                    bzero(dev, b + bi);
                    return b + bi;
                }
            }
            bi += 1;
        }
        brelse(bp);
        b += BPB as u32;
    }
    crate::println!("balloc: out of blocks");
    0
}

/// Frees disk block b. Panics if it is already free (file-system corruption).
fn bfree(dev: u32, b: u32) {
    let bp = bread(dev, sb().bblock(b));
    let bi = b % BPB as u32;
    let m = 1u8 << (bi % 8);
    // SAFETY: locked buffer.
    unsafe {
        if (*bp).data[(bi / 8) as usize] & m == 0 {
            panic!("freeing free block");
        }
        (*bp).data[(bi / 8) as usize] &= !m;
    }
    log_write(bp);
    brelse(bp);
}

/// Pointer to inode `inum` inside its (locked) inode block `bp`.
fn dinode_ptr(bp: *mut crate::bio::Buf, inum: u32) -> *mut Dinode {
    // SAFETY: the data is 8-aligned and holds IPB dinodes.
    unsafe { ((*bp).data.as_mut_ptr() as *mut Dinode).add(inum as usize % IPB) }
}

/// Allocates an on-disk inode of type `typ` and returns it referenced but unlocked; null if
/// none is free. Inside a transaction.
pub fn ialloc(dev: u32, typ: i16) -> *mut Inode {
    for inum in 1..sb().ninodes {
        let bp = bread(dev, sb().iblock(inum));
        let dip = dinode_ptr(bp, inum);
        // SAFETY: locked buffer.
        unsafe {
            if (*dip).typ == 0 {
                *dip = Dinode::default();
                (*dip).typ = typ;
                log_write(bp);
                brelse(bp);
                return iget(dev, inum);
            }
        }
        brelse(bp);
    }
    crate::println!("ialloc: no inodes");
    null_mut()
}

/// Writes a modified in-memory inode to disk. Caller holds ip's lock, inside a transaction.
pub fn iupdate(ip: *mut Inode) {
    // SAFETY: caller holds ip.lock.
    unsafe {
        let bp = bread((*ip).dev, sb().iblock((*ip).inum));
        let dip = dinode_ptr(bp, (*ip).inum);
        (*dip).typ = (*ip).typ;
        (*dip).major = (*ip).major;
        (*dip).minor = (*ip).minor;
        (*dip).nlink = (*ip).nlink;
        (*dip).size = (*ip).size;
        (*dip).addrs = (*ip).addrs;
        log_write(bp);
        brelse(bp);
    }
}

/// The in-memory inode for (dev, inum), referenced, not locked and not necessarily read from
/// disk. Panics if the inode table is full (as xv6).
fn iget(dev: u32, inum: u32) -> *mut Inode {
    // SAFETY: refcnt/dev/inum under ITABLE.lock.
    unsafe {
        let it = addr_of_mut!(ITABLE);
        acquire(&(*it).lock);
        let mut empty: *mut Inode = null_mut();
        for i in 0..NINODE {
            let ip = addr_of_mut!((*it).inode[i]);
            if (*ip).refcnt > 0 && (*ip).dev == dev && (*ip).inum == inum {
                (*ip).refcnt += 1;
                release(&(*it).lock);
                return ip;
            }
            if empty.is_null() && (*ip).refcnt == 0 {
                empty = ip;
            }
        }
        if empty.is_null() {
            panic!("iget: no inodes");
        }
        let ip = empty;
        (*ip).dev = dev;
        (*ip).inum = inum;
        (*ip).refcnt = 1;
        (*ip).valid = false;
        release(&(*it).lock);
        ip
    }
}

/// Adds a reference to ip; returns ip.
pub fn idup(ip: *mut Inode) -> *mut Inode {
    // SAFETY: refcnt under ITABLE.lock.
    unsafe {
        acquire(&ITABLE.lock);
        (*ip).refcnt += 1;
        release(&ITABLE.lock);
    }
    ip
}

/// Locks ip, reading it from disk if needed. Panics on a null/unreferenced inode or one whose
/// disk copy is free (corruption).
pub fn ilock(ip: *mut Inode) {
    // SAFETY: ip is referenced; contents under its sleep lock.
    unsafe {
        if ip.is_null() || (*ip).refcnt < 1 {
            panic!("ilock");
        }
        acquiresleep(addr_of_mut!((*ip).lock));
        if !(*ip).valid {
            let bp = bread((*ip).dev, sb().iblock((*ip).inum));
            let dip = dinode_ptr(bp, (*ip).inum);
            (*ip).typ = (*dip).typ;
            (*ip).major = (*dip).major;
            (*ip).minor = (*dip).minor;
            (*ip).nlink = (*dip).nlink;
            (*ip).size = (*dip).size;
            (*ip).addrs = (*dip).addrs;
            brelse(bp);
            (*ip).valid = true;
            if (*ip).typ == 0 {
                panic!("ilock: no type");
            }
        }
    }
}

/// Unlocks ip.
pub fn iunlock(ip: *mut Inode) {
    // SAFETY: ip is referenced.
    unsafe {
        if ip.is_null() || !holdingsleep(addr_of_mut!((*ip).lock)) || (*ip).refcnt < 1 {
            panic!("iunlock");
        }
        releasesleep(addr_of_mut!((*ip).lock));
    }
}

/// Drops a reference to ip; the last reference to an inode with no links frees it (and its
/// blocks) on disk. Inside a transaction.
pub fn iput(ip: *mut Inode) {
    // SAFETY: refcnt under ITABLE.lock; with ref == 1 nobody else can lock ip.
    unsafe {
        acquire(&ITABLE.lock);
        if (*ip).refcnt == 1 && (*ip).valid && (*ip).nlink == 0 {
            acquiresleep(addr_of_mut!((*ip).lock));
            release(&ITABLE.lock);
            itrunc(ip);
            (*ip).typ = 0;
            iupdate(ip);
            (*ip).valid = false;
            releasesleep(addr_of_mut!((*ip).lock));
            acquire(&ITABLE.lock);
        }
        (*ip).refcnt -= 1;
        release(&ITABLE.lock);
    }
}

/// iunlock then iput.
pub fn iunlockput(ip: *mut Inode) {
    iunlock(ip);
    iput(ip);
}

/// Disk address of block `bn` of ip's contents, allocating it if absent; 0 if the disk is
/// full. Caller holds ip's lock. Panics if bn >= MAXFILE (callers check).
fn bmap(ip: *mut Inode, bn: u32) -> u32 {
    // SAFETY: caller holds ip.lock.
    unsafe {
        let mut bn = bn as usize;
        if bn < NDIRECT {
            let mut addr = (*ip).addrs[bn];
            if addr == 0 {
                addr = balloc((*ip).dev);
                if addr == 0 {
                    return 0;
                }
                (*ip).addrs[bn] = addr;
            }
            return addr;
        }
        bn -= NDIRECT;
        if bn < NINDIRECT {
            let mut ind = (*ip).addrs[NDIRECT];
            if ind == 0 {
                ind = balloc((*ip).dev);
                if ind == 0 {
                    return 0;
                }
                (*ip).addrs[NDIRECT] = ind;
            }
            let bp = bread((*ip).dev, ind);
            let a = (*bp).data.as_mut_ptr() as *mut u32;
            let mut addr = *a.add(bn);
            if addr == 0 {
                addr = balloc((*ip).dev);
                if addr != 0 {
                    *a.add(bn) = addr;
                    log_write(bp);
                }
            }
            brelse(bp);
            return addr;
        }
    }
    panic!("bmap: out of range");
}

/// Frees all of ip's data blocks and sets its size to 0. Caller holds ip's lock, inside a
/// transaction.
pub fn itrunc(ip: *mut Inode) {
    // SAFETY: caller holds ip.lock.
    unsafe {
        for i in 0..NDIRECT {
            if (*ip).addrs[i] != 0 {
                bfree((*ip).dev, (*ip).addrs[i]);
                (*ip).addrs[i] = 0;
            }
        }
        if (*ip).addrs[NDIRECT] != 0 {
            let bp = bread((*ip).dev, (*ip).addrs[NDIRECT]);
            let a = (*bp).data.as_ptr() as *const u32;
            for j in 0..NINDIRECT {
                let x = *a.add(j);
                if x != 0 {
                    bfree((*ip).dev, x);
                }
            }
            brelse(bp);
            bfree((*ip).dev, (*ip).addrs[NDIRECT]);
            (*ip).addrs[NDIRECT] = 0;
        }
        (*ip).size = 0;
    }
    iupdate(ip);
}

/// Fills `st` from ip. Caller holds ip's lock.
pub fn stati(ip: *mut Inode) -> Stat {
    // SAFETY: caller holds ip.lock.
    unsafe {
        Stat {
            dev: (*ip).dev as i32,
            ino: (*ip).inum,
            typ: (*ip).typ,
            nlink: (*ip).nlink,
            size: (*ip).size as u64,
        }
    }
}

/// Reads up to n bytes at offset off of ip into dst (a user address if `user_dst`).
/// Returns the bytes read (short at end of file), or -1 if the copy to dst failed.
/// Caller holds ip's lock.
pub fn readi(ip: *mut Inode, user_dst: bool, mut dst: usize, mut off: u32, mut n: u32) -> i32 {
    // SAFETY: caller holds ip.lock.
    let size = unsafe { (*ip).size };
    if off > size || off.checked_add(n).is_none() {
        return 0;
    }
    if off + n > size {
        n = size - off;
    }
    let mut tot = 0u32;
    while tot < n {
        let addr = bmap(ip, off / BSIZE as u32);
        if addr == 0 {
            break;
        }
        // SAFETY: ip.dev under ip.lock.
        let bp = bread(unsafe { (*ip).dev }, addr);
        let m = (n - tot).min(BSIZE as u32 - off % BSIZE as u32);
        // SAFETY: locked buffer; the range is inside data.
        let src = unsafe { (*bp).data.as_ptr().add((off % BSIZE as u32) as usize) };
        if either_copyout(user_dst, dst, src, m as usize).is_err() {
            brelse(bp);
            return -1;
        }
        brelse(bp);
        tot += m;
        off += m;
        dst += m as usize;
    }
    tot as i32
}

/// Writes n bytes from src (a user address if `user_src`) at offset off of ip, growing the
/// file. Returns the bytes written (short if the disk fills or the copy fails), or -1 if off
/// is beyond the end or the result would exceed MAXFILE blocks. Caller holds ip's lock,
/// inside a transaction.
pub fn writei(ip: *mut Inode, user_src: bool, mut src: usize, mut off: u32, n: u32) -> i32 {
    // SAFETY: caller holds ip.lock.
    let size = unsafe { (*ip).size };
    if off > size || off.checked_add(n).is_none() {
        return -1;
    }
    if (off + n) as usize > MAXFILE * BSIZE {
        return -1;
    }
    let mut tot = 0u32;
    while tot < n {
        let addr = bmap(ip, off / BSIZE as u32);
        if addr == 0 {
            break;
        }
        // SAFETY: ip.dev under ip.lock.
        let bp = bread(unsafe { (*ip).dev }, addr);
        let m = (n - tot).min(BSIZE as u32 - off % BSIZE as u32);
        // SAFETY: locked buffer; the range is inside data.
        let dstp = unsafe { (*bp).data.as_mut_ptr().add((off % BSIZE as u32) as usize) };
        if either_copyin(dstp, user_src, src, m as usize).is_err() {
            brelse(bp);
            break;
        }
        log_write(bp);
        brelse(bp);
        tot += m;
        off += m;
        src += m as usize;
    }
    // SAFETY: caller holds ip.lock.
    unsafe {
        if off > (*ip).size {
            (*ip).size = off;
        }
    }
    // Write the inode back even if the size did not change: bmap may have added blocks.
    iupdate(ip);
    tot as i32
}

/// Compares two directory names (at most DIRSIZ bytes, NUL-terminated if shorter).
pub fn namecmp(s: &[u8], t: &[u8]) -> bool {
    for i in 0..DIRSIZ {
        let a = s.get(i).copied().unwrap_or(0);
        let b = t.get(i).copied().unwrap_or(0);
        if a != b {
            return false;
        }
        if a == 0 {
            return true;
        }
    }
    true
}

/// Reads the directory entry at byte `off` of locked directory dp; panics on a short read.
fn read_dirent(dp: *mut Inode, off: u32) -> Dirent {
    let mut de = Dirent::default();
    let n = readi(
        dp,
        false,
        &mut de as *mut Dirent as usize,
        off,
        core::mem::size_of::<Dirent>() as u32,
    );
    if n != core::mem::size_of::<Dirent>() as i32 {
        panic!("dirlookup read");
    }
    de
}

/// Looks `name` up in directory dp; returns its inode (referenced, unlocked) and sets
/// `*poff` to the entry's byte offset, or null. Caller holds dp's lock.
pub fn dirlookup(dp: *mut Inode, name: &[u8], poff: Option<&mut u32>) -> *mut Inode {
    // SAFETY: caller holds dp.lock.
    unsafe {
        if (*dp).typ != T_DIR {
            panic!("dirlookup not DIR");
        }
        let de_sz = core::mem::size_of::<Dirent>() as u32;
        let mut off = 0;
        while off < (*dp).size {
            let de = read_dirent(dp, off);
            if de.inum != 0 && namecmp(name, &de.name) {
                if let Some(p) = poff {
                    *p = off;
                }
                return iget((*dp).dev, de.inum as u32);
            }
            off += de_sz;
        }
    }
    null_mut()
}

/// Adds entry (name, inum) to directory dp. Err if the name is already present or the
/// directory cannot grow. Caller holds dp's lock, inside a transaction.
pub fn dirlink(dp: *mut Inode, name: &[u8], inum: u32) -> Result<(), ()> {
    let ip = dirlookup(dp, name, None);
    if !ip.is_null() {
        iput(ip);
        return Err(());
    }
    let de_sz = core::mem::size_of::<Dirent>() as u32;
    // SAFETY: caller holds dp.lock.
    let size = unsafe { (*dp).size };
    let mut off = 0;
    while off < size {
        let de = read_dirent(dp, off);
        if de.inum == 0 {
            break;
        }
        off += de_sz;
    }
    let mut de = Dirent {
        inum: inum as u16,
        name: [0; DIRSIZ],
    };
    let n = name
        .iter()
        .position(|&c| c == 0)
        .unwrap_or(name.len())
        .min(DIRSIZ);
    de.name[..n].copy_from_slice(&name[..n]);
    if writei(dp, false, &de as *const Dirent as usize, off, de_sz) != de_sz as i32 {
        return Err(());
    }
    Ok(())
}

/// Splits the next element off `path` into `name` (NUL-padded, truncated to DIRSIZ).
/// Returns the rest of the path (leading slashes removed), or None if there is no element.
fn skipelem<'a>(path: &'a [u8], name: &mut [u8; DIRSIZ]) -> Option<&'a [u8]> {
    let mut i = 0;
    while i < path.len() && path[i] == b'/' {
        i += 1;
    }
    if i == path.len() {
        return None;
    }
    let s = i;
    while i < path.len() && path[i] != b'/' {
        i += 1;
    }
    let len = i - s;
    *name = [0; DIRSIZ];
    let n = len.min(DIRSIZ);
    name[..n].copy_from_slice(&path[s..s + n]);
    while i < path.len() && path[i] == b'/' {
        i += 1;
    }
    Some(&path[i..])
}

/// Walks `path` (no NUL; a NUL ends it early). With `parent`, stops one level early and
/// copies the final element into `name`. Returns a referenced, unlocked inode or null.
/// Inside a transaction (it may iput).
fn namex(path: &[u8], parent: bool, name: &mut [u8; DIRSIZ]) -> *mut Inode {
    let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
    let mut path = &path[..end];
    let mut ip = if path.first() == Some(&b'/') {
        iget(ROOTDEV, ROOTINO)
    } else {
        // SAFETY: our own cwd.
        idup(unsafe { (*myproc()).cwd })
    };
    while let Some(rest) = skipelem(path, name) {
        path = rest;
        ilock(ip);
        // SAFETY: ip locked.
        if unsafe { (*ip).typ } != T_DIR {
            iunlockput(ip);
            return null_mut();
        }
        if parent && path.is_empty() {
            iunlock(ip);
            return ip;
        }
        let next = dirlookup(ip, &name[..], None);
        if next.is_null() {
            iunlockput(ip);
            return null_mut();
        }
        iunlockput(ip);
        ip = next;
    }
    if parent {
        iput(ip);
        return null_mut();
    }
    ip
}

/// The inode named by `path`, referenced and unlocked, or null.
pub fn namei(path: &[u8]) -> *mut Inode {
    let mut name = [0u8; DIRSIZ];
    namex(path, false, &mut name)
}

/// The parent directory of `path` (referenced, unlocked) with the last element in `name`,
/// or null.
pub fn nameiparent(path: &[u8], name: &mut [u8; DIRSIZ]) -> *mut Inode {
    namex(path, true, name)
}

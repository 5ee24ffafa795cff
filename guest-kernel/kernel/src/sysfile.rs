//! File-system system calls (xv6 sysfile.c): argument checking, then the file, fs and pipe
//! layers. Each returns the value for a0 (u64; -1 as u64::MAX). Every bad argument — a bad
//! fd, address or path, a path too long — gives -1.

use crate::exec::exec;
use crate::file::{filealloc, fileclose, filedup, fileread, filestat, filewrite, File, FileType};
use crate::fs::*;
use crate::kalloc::{kalloc, kfree};
use crate::log::{begin_op, end_op};
use crate::pipe::pipealloc;
use crate::proc::myproc;
use crate::riscv::PGSIZE;
use crate::syscall::{argaddr, argint, argstr, fetchaddr, fetchstr};
use crate::vm::copyout;
use abi::fcntl::*;
use abi::fs::{Dirent, DIRSIZ};
use abi::param::{MAXARG, MAXPATH, NDEV, NOFILE};
use abi::{T_DEVICE, T_DIR, T_FILE};
use core::ptr::null_mut;

const ERR: u64 = u64::MAX;

/// The open file for descriptor argument n, with the descriptor.
fn argfd(n: usize) -> Option<(usize, *mut File)> {
    let fd = argint(n);
    if fd < 0 || fd as usize >= NOFILE {
        return None;
    }
    // SAFETY: our own descriptor table.
    let f = unsafe { (*myproc()).ofile[fd as usize] };
    if f.is_null() {
        return None;
    }
    Some((fd as usize, f))
}

/// Gives f the lowest free descriptor of the current process.
fn fdalloc(f: *mut File) -> Option<usize> {
    let p = myproc();
    for fd in 0..NOFILE {
        // SAFETY: our own descriptor table.
        unsafe {
            if (*p).ofile[fd].is_null() {
                (*p).ofile[fd] = f;
                return Some(fd);
            }
        }
    }
    None
}

/// dup(fd) → a new descriptor for the same file.
pub fn sys_dup() -> u64 {
    let Some((_, f)) = argfd(0) else { return ERR };
    let Some(fd) = fdalloc(f) else { return ERR };
    filedup(f);
    fd as u64
}

/// read(fd, buf, n) → bytes read.
pub fn sys_read() -> u64 {
    let addr = argaddr(1);
    let n = argint(2);
    let Some((_, f)) = argfd(0) else { return ERR };
    if n < 0 {
        return ERR;
    }
    fileread(f, addr, n) as i64 as u64
}

/// write(fd, buf, n) → bytes written.
pub fn sys_write() -> u64 {
    let addr = argaddr(1);
    let n = argint(2);
    let Some((_, f)) = argfd(0) else { return ERR };
    if n < 0 {
        return ERR;
    }
    filewrite(f, addr, n) as i64 as u64
}

/// close(fd).
pub fn sys_close() -> u64 {
    let Some((fd, f)) = argfd(0) else { return ERR };
    // SAFETY: our own descriptor table.
    unsafe { (*myproc()).ofile[fd] = null_mut() };
    fileclose(f);
    0
}

/// fstat(fd, struct stat *st).
pub fn sys_fstat() -> u64 {
    let st = argaddr(1);
    let Some((_, f)) = argfd(0) else { return ERR };
    filestat(f, st) as i64 as u64
}

/// link(old, new): a new name for an existing (non-directory) inode.
pub fn sys_link() -> u64 {
    let mut old = [0u8; MAXPATH];
    let mut new = [0u8; MAXPATH];
    let (Ok(on), Ok(nn)) = (argstr(0, &mut old), argstr(1, &mut new)) else {
        return ERR;
    };
    let mut name = [0u8; DIRSIZ];
    begin_op();
    let ip = namei(&old[..on]);
    if ip.is_null() {
        end_op();
        return ERR;
    }
    ilock(ip);
    // SAFETY: ip locked.
    unsafe {
        if (*ip).typ == T_DIR {
            iunlockput(ip);
            end_op();
            return ERR;
        }
        (*ip).nlink += 1;
        iupdate(ip);
        iunlock(ip);
        let dp = nameiparent(&new[..nn], &mut name);
        if !dp.is_null() {
            ilock(dp);
            if (*dp).dev == (*ip).dev && dirlink(dp, &name, (*ip).inum).is_ok() {
                iunlockput(dp);
                iput(ip);
                end_op();
                return 0;
            }
            iunlockput(dp);
        }
        ilock(ip);
        (*ip).nlink -= 1;
        iupdate(ip);
        iunlockput(ip);
    }
    end_op();
    ERR
}

/// Is directory dp empty except for "." and ".."? Caller holds dp's lock.
fn isdirempty(dp: *mut Inode) -> bool {
    let sz = core::mem::size_of::<Dirent>() as u32;
    let mut off = 2 * sz;
    // SAFETY: dp locked.
    while off < unsafe { (*dp).size } {
        let mut de = Dirent::default();
        if readi(dp, false, &mut de as *mut Dirent as usize, off, sz) != sz as i32 {
            panic!("isdirempty: readi");
        }
        if de.inum != 0 {
            return false;
        }
        off += sz;
    }
    true
}

/// unlink(path): removes a directory entry; an empty directory may be removed, "." and ".."
/// may not.
pub fn sys_unlink() -> u64 {
    let mut path = [0u8; MAXPATH];
    let Ok(n) = argstr(0, &mut path) else {
        return ERR;
    };
    let mut name = [0u8; DIRSIZ];
    begin_op();
    let dp = nameiparent(&path[..n], &mut name);
    if dp.is_null() {
        end_op();
        return ERR;
    }
    ilock(dp);
    let mut off = 0u32;
    let ip = if namecmp(&name, b".") || namecmp(&name, b"..") {
        null_mut()
    } else {
        dirlookup(dp, &name, Some(&mut off))
    };
    if ip.is_null() {
        iunlockput(dp);
        end_op();
        return ERR;
    }
    ilock(ip);
    // SAFETY: dp and ip locked.
    unsafe {
        if (*ip).nlink < 1 {
            panic!("unlink: nlink < 1");
        }
        if (*ip).typ == T_DIR && !isdirempty(ip) {
            iunlockput(ip);
            iunlockput(dp);
            end_op();
            return ERR;
        }
        let de = Dirent::default();
        let sz = core::mem::size_of::<Dirent>() as u32;
        if writei(dp, false, &de as *const Dirent as usize, off, sz) != sz as i32 {
            panic!("unlink: writei");
        }
        if (*ip).typ == T_DIR {
            (*dp).nlink -= 1;
            iupdate(dp);
        }
        iunlockput(dp);
        (*ip).nlink -= 1;
        iupdate(ip);
        iunlockput(ip);
    }
    end_op();
    0
}

/// Creates `path` with type `typ` (or, for T_FILE, opens an existing file or device).
/// Returns it locked, or null. Inside a transaction.
fn create(path: &[u8], typ: i16, major: i16, minor: i16) -> *mut Inode {
    let mut name = [0u8; DIRSIZ];
    let dp = nameiparent(path, &mut name);
    if dp.is_null() {
        return null_mut();
    }
    ilock(dp);
    let ip = dirlookup(dp, &name, None);
    // SAFETY: inodes locked as they are used.
    unsafe {
        if !ip.is_null() {
            iunlockput(dp);
            ilock(ip);
            if typ == T_FILE && ((*ip).typ == T_FILE || (*ip).typ == T_DEVICE) {
                return ip;
            }
            iunlockput(ip);
            return null_mut();
        }
        let ip = ialloc((*dp).dev, typ);
        if ip.is_null() {
            iunlockput(dp);
            return null_mut();
        }
        ilock(ip);
        (*ip).major = major;
        (*ip).minor = minor;
        (*ip).nlink = 1;
        iupdate(ip);
        let ok = (typ != T_DIR
            || (dirlink(ip, b".", (*ip).inum).is_ok() && dirlink(ip, b"..", (*dp).inum).is_ok()))
            && dirlink(dp, &name, (*ip).inum).is_ok();
        if !ok {
            // Undo: the inode is freed by iput since nlink is 0.
            (*ip).nlink = 0;
            iupdate(ip);
            iunlockput(ip);
            iunlockput(dp);
            return null_mut();
        }
        if typ == T_DIR {
            (*dp).nlink += 1; // for ".."
            iupdate(dp);
        }
        iunlockput(dp);
        ip
    }
}

/// open(path, flags) → fd.
pub fn sys_open() -> u64 {
    let mut path = [0u8; MAXPATH];
    let omode = argint(1);
    let Ok(n) = argstr(0, &mut path) else {
        return ERR;
    };
    let path = &path[..n];
    begin_op();
    let ip = if omode & O_CREATE != 0 {
        let ip = create(path, T_FILE, 0, 0);
        if ip.is_null() {
            end_op();
            return ERR;
        }
        ip
    } else {
        let ip = namei(path);
        if ip.is_null() {
            end_op();
            return ERR;
        }
        ilock(ip);
        // SAFETY: ip locked.
        if unsafe { (*ip).typ } == T_DIR && omode != O_RDONLY {
            iunlockput(ip);
            end_op();
            return ERR;
        }
        ip
    };
    // SAFETY: ip locked; f is ours.
    unsafe {
        if (*ip).typ == T_DEVICE && ((*ip).major < 0 || (*ip).major as usize >= NDEV) {
            iunlockput(ip);
            end_op();
            return ERR;
        }
        let f = filealloc();
        let fd = if f.is_null() { None } else { fdalloc(f) };
        let Some(fd) = fd else {
            if !f.is_null() {
                fileclose(f);
            }
            iunlockput(ip);
            end_op();
            return ERR;
        };
        if (*ip).typ == T_DEVICE {
            (*f).typ = FileType::Device;
            (*f).major = (*ip).major;
        } else {
            (*f).typ = FileType::Inode;
            (*f).off = 0;
        }
        (*f).ip = ip;
        (*f).readable = omode & O_WRONLY == 0;
        (*f).writable = omode & O_WRONLY != 0 || omode & O_RDWR != 0;
        if omode & O_TRUNC != 0 && (*ip).typ == T_FILE {
            itrunc(ip);
        }
        iunlock(ip);
        end_op();
        fd as u64
    }
}

/// mkdir(path).
pub fn sys_mkdir() -> u64 {
    let mut path = [0u8; MAXPATH];
    begin_op();
    let Ok(n) = argstr(0, &mut path) else {
        end_op();
        return ERR;
    };
    let ip = create(&path[..n], T_DIR, 0, 0);
    if ip.is_null() {
        end_op();
        return ERR;
    }
    iunlockput(ip);
    end_op();
    0
}

/// mknod(path, major, minor): a device file.
pub fn sys_mknod() -> u64 {
    let mut path = [0u8; MAXPATH];
    begin_op();
    let major = argint(1) as i16;
    let minor = argint(2) as i16;
    let Ok(n) = argstr(0, &mut path) else {
        end_op();
        return ERR;
    };
    let ip = create(&path[..n], T_DEVICE, major, minor);
    if ip.is_null() {
        end_op();
        return ERR;
    }
    iunlockput(ip);
    end_op();
    0
}

/// chdir(path): must name a directory.
pub fn sys_chdir() -> u64 {
    let mut path = [0u8; MAXPATH];
    let p = myproc();
    begin_op();
    let ip = match argstr(0, &mut path) {
        Ok(n) => namei(&path[..n]),
        Err(()) => null_mut(),
    };
    if ip.is_null() {
        end_op();
        return ERR;
    }
    ilock(ip);
    // SAFETY: ip locked; our own cwd.
    unsafe {
        if (*ip).typ != T_DIR {
            iunlockput(ip);
            end_op();
            return ERR;
        }
        iunlock(ip);
        iput((*p).cwd);
        end_op();
        (*p).cwd = ip;
    }
    0
}

/// exec(path, argv): argv is a user array of at most MAXARG-1 string pointers ending in 0,
/// each string at most one page.
pub fn sys_exec() -> u64 {
    let mut path = [0u8; MAXPATH];
    let uargv = argaddr(1);
    let Ok(plen) = argstr(0, &mut path) else {
        return ERR;
    };
    let mut pages = [0usize; MAXARG];
    let mut lens = [0usize; MAXARG];
    let mut argc = 0;
    let mut ok = false;
    loop {
        if argc >= MAXARG {
            break;
        }
        let Ok(uarg) = fetchaddr(uargv + 8 * argc) else {
            break;
        };
        if uarg == 0 {
            ok = true;
            break;
        }
        let Some(page) = kalloc() else { break };
        pages[argc] = page;
        argc += 1;
        // SAFETY: a fresh page of ours.
        let buf = unsafe { core::slice::from_raw_parts_mut(page as *mut u8, PGSIZE) };
        match fetchstr(uarg, buf) {
            Ok(l) => lens[argc - 1] = l,
            Err(()) => break,
        }
    }
    let mut ret = ERR;
    if ok {
        let mut argv: [&[u8]; MAXARG] = [&[]; MAXARG];
        for i in 0..argc {
            // SAFETY: pages[i] holds lens[i] bytes of the argument.
            argv[i] = unsafe { core::slice::from_raw_parts(pages[i] as *const u8, lens[i]) };
        }
        ret = exec(&path[..plen], &argv[..argc]) as i64 as u64;
    }
    for &pg in &pages[..argc] {
        kfree(pg);
    }
    ret
}

/// pipe(int fds[2]): fds[0] the read end, fds[1] the write end.
pub fn sys_pipe() -> u64 {
    let fdarray = argaddr(0);
    let p = myproc();
    let Ok((rf, wf)) = pipealloc() else {
        return ERR;
    };
    let fd0 = fdalloc(rf);
    let fd1 = if fd0.is_some() { fdalloc(wf) } else { None };
    let (Some(fd0), Some(fd1)) = (fd0, fd1) else {
        if let Some(fd0) = fd0 {
            // SAFETY: our own descriptor table.
            unsafe { (*p).ofile[fd0] = null_mut() };
        }
        fileclose(rf);
        fileclose(wf);
        return ERR;
    };
    let fds = [fd0 as i32, fd1 as i32];
    // SAFETY: our own page table and descriptors.
    unsafe {
        if copyout((*p).pagetable, fdarray, fds.as_ptr() as *const u8, 8).is_err() {
            (*p).ofile[fd0] = null_mut();
            (*p).ofile[fd1] = null_mut();
            fileclose(rf);
            fileclose(wf);
            return ERR;
        }
    }
    0
}

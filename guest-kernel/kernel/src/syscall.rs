//! System-call dispatch (xv6 syscall.c): the number in a7, arguments in a0..a5, the result in
//! a0. Numbers are abi::syscall's (xv6's 1–21, plus SYS_COWSTAT 22). Helpers fetch arguments
//! and user memory safely: a bad address gives -1, never a kernel fault.

use crate::proc::myproc;
use crate::vm::{copyin, copyinstr};
use abi::syscall::*;

/// Raw argument register n (0..=5) of the current system call.
pub fn argraw(n: usize) -> usize {
    // SAFETY: our own trapframe.
    let tf = unsafe { &*(*myproc()).trapframe };
    match n {
        0 => tf.a0,
        1 => tf.a1,
        2 => tf.a2,
        3 => tf.a3,
        4 => tf.a4,
        5 => tf.a5,
        _ => panic!("argraw"),
    }
}

/// Argument n as a C int.
pub fn argint(n: usize) -> i32 {
    argraw(n) as i32
}

/// Argument n as a user address (checked later by copyin/copyout).
pub fn argaddr(n: usize) -> usize {
    argraw(n)
}

/// Fetches the u64 at user `addr`, which must lie inside the process's memory [0, sz).
pub fn fetchaddr(addr: usize) -> Result<usize, ()> {
    let p = myproc();
    // SAFETY: our own fields.
    let (sz, pt) = unsafe { ((*p).sz, (*p).pagetable) };
    if addr >= sz || addr.checked_add(8).is_none_or(|e| e > sz) {
        return Err(());
    }
    let mut v = 0usize;
    copyin(pt, &mut v as *mut usize as *mut u8, addr, 8)?;
    Ok(v)
}

/// Fetches the NUL-terminated string at user `addr` into `buf`; returns its length.
pub fn fetchstr(addr: usize, buf: &mut [u8]) -> Result<usize, ()> {
    // SAFETY: our own page table.
    copyinstr(unsafe { (*myproc()).pagetable }, buf, addr)
}

/// Argument n as a string copied into `buf`; returns its length.
pub fn argstr(n: usize, buf: &mut [u8]) -> Result<usize, ()> {
    fetchstr(argaddr(n), buf)
}

/// Runs the system call the current process asked for and stores its result in a0; an
/// unknown number prints a message and returns -1.
pub fn syscall() {
    use crate::sysfile::*;
    use crate::sysproc::*;
    let p = myproc();
    // SAFETY: our own trapframe.
    let num = unsafe { (*(*p).trapframe).a7 };
    let r: u64 = match num {
        SYS_FORK => sys_fork(),
        SYS_EXIT => sys_exit(),
        SYS_WAIT => sys_wait(),
        SYS_PIPE => sys_pipe(),
        SYS_READ => sys_read(),
        SYS_KILL => sys_kill(),
        SYS_EXEC => sys_exec(),
        SYS_FSTAT => sys_fstat(),
        SYS_CHDIR => sys_chdir(),
        SYS_DUP => sys_dup(),
        SYS_GETPID => sys_getpid(),
        SYS_SBRK => sys_sbrk(),
        SYS_SLEEP => sys_sleep(),
        SYS_UPTIME => sys_uptime(),
        SYS_OPEN => sys_open(),
        SYS_WRITE => sys_write(),
        SYS_MKNOD => sys_mknod(),
        SYS_UNLINK => sys_unlink(),
        SYS_LINK => sys_link(),
        SYS_MKDIR => sys_mkdir(),
        SYS_CLOSE => sys_close(),
        SYS_COWSTAT => sys_cowstat(),
        _ => {
            // SAFETY: our own fields.
            unsafe {
                let name = &(*p).name;
                let n = name.iter().position(|&c| c == 0).unwrap_or(16);
                crate::println!(
                    "{} {}: unknown sys call {}",
                    (*p).pid,
                    core::str::from_utf8(&name[..n]).unwrap_or("?"),
                    num
                );
            }
            u64::MAX
        }
    };
    // SAFETY: our own trapframe.
    unsafe { (*(*p).trapframe).a0 = r as usize };
}

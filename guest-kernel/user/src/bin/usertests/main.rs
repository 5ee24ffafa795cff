//! usertests [-q] [testname]: the xv6 user tests that apply to this kernel, in Rust.
//!
//! Each test runs in its own child process; a test passes when the child exits with status 0.
//! `-q` runs the quick tests only; a name runs just that test. Free memory is counted (with
//! sbrk) before and after, and a loss of pages fails the run. Prints `ALL TESTS PASSED` or
//! `SOME TESTS FAILED`. Some tests make the kernel print `usertrap(): ...`: that is expected.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

mod common;
mod dirs;
mod fs;
mod limits;
mod mem;
mod procs;

use common::Test;

/// The quick tests, in xv6's order.
const QUICK: &[Test] = &[
    (mem::copyin, "copyin"),
    (mem::copyout, "copyout"),
    (mem::copyinstr1, "copyinstr1"),
    (mem::copyinstr2, "copyinstr2"),
    (mem::copyinstr3, "copyinstr3"),
    (mem::rwsbrk, "rwsbrk"),
    (fs::truncate1, "truncate1"),
    (fs::truncate2, "truncate2"),
    (fs::truncate3, "truncate3"),
    (fs::openiput, "openiput"),
    (fs::exitiput, "exitiput"),
    (fs::iput, "iput"),
    (fs::opentest, "opentest"),
    (fs::writetest, "writetest"),
    (fs::writebig, "writebig"),
    (fs::createtest, "createtest"),
    (fs::dirtest, "dirtest"),
    (procs::exectest, "exectest"),
    (procs::pipe1, "pipe1"),
    (procs::killstatus, "killstatus"),
    (procs::preempt, "preempt"),
    (procs::exitwait, "exitwait"),
    (procs::reparent, "reparent"),
    (procs::twochildren, "twochildren"),
    (procs::forkfork, "forkfork"),
    (procs::forkforkfork, "forkforkfork"),
    (procs::reparent2, "reparent2"),
    (mem::mem, "mem"),
    (fs::sharedfd, "sharedfd"),
    (fs::fourfiles, "fourfiles"),
    (fs::createdelete, "createdelete"),
    (fs::unlinkread, "unlinkread"),
    (fs::linktest, "linktest"),
    (fs::concreate, "concreate"),
    (fs::linkunlink, "linkunlink"),
    (dirs::subdir, "subdir"),
    (limits::bigwrite, "bigwrite"),
    (limits::bigfile, "bigfile"),
    (dirs::fourteen, "fourteen"),
    (dirs::rmdot, "rmdot"),
    (dirs::dirfile, "dirfile"),
    (dirs::iref, "iref"),
    (procs::forktest, "forktest"),
    (mem::sbrkbasic, "sbrkbasic"),
    (mem::sbrkmuch, "sbrkmuch"),
    (mem::kernmem, "kernmem"),
    (mem::maxva_plus, "MAXVAplus"),
    (mem::sbrkfail, "sbrkfail"),
    (mem::sbrkarg, "sbrkarg"),
    (mem::validatetest, "validatetest"),
    (mem::bsstest, "bsstest"),
    (procs::bigargtest, "bigargtest"),
    (mem::argptest, "argptest"),
    (mem::stacktest, "stacktest"),
    (mem::textwrite, "textwrite"),
    (mem::pgbug, "pgbug"),
    (mem::sbrkbugs, "sbrkbugs"),
    (mem::sbrklast, "sbrklast"),
    (mem::sbrk8000, "sbrk8000"),
    (procs::badarg, "badarg"),
];

/// The slow tests, run without `-q`.
const SLOW: &[Test] = &[
    (dirs::bigdir, "bigdir"),
    (procs::manywrites, "manywrites"),
    (limits::badwrite, "badwrite"),
    (procs::execout, "execout"),
    (limits::diskfull, "diskfull"),
    (limits::outofinodes, "outofinodes"),
];

/// Runs test `f` in a child; true when the child exits with status 0.
fn run(f: fn(&str), name: &str) -> bool {
    printf!("test {}: ", name);
    let pid = fork();
    if pid < 0 {
        printf!("runtest: fork error\n");
        exit(1);
    }
    if pid == 0 {
        f(name);
        exit(0);
    }
    let mut xstatus = 0;
    wait(&mut xstatus);
    if xstatus != 0 {
        printf!("FAILED\n");
    } else {
        printf!("OK\n");
    }
    xstatus == 0
}

/// Runs `tests` (or only `justone`); false at the first failure.
fn runtests(tests: &[Test], justone: Option<&[u8]>) -> bool {
    for &(f, name) in tests {
        if justone.is_none_or(|j| j == name.as_bytes()) && !run(f, name) {
            printf!("SOME TESTS FAILED\n");
            return false;
        }
    }
    true
}

/// Counts free physical pages: a child grows with sbrk (touching each page) until it fails,
/// reporting through a pipe one byte per chunk, whose value is the chunk's page count (so a
/// child killed by a lazy-allocation fault has already reported what it touched).
fn countfree() -> i32 {
    let mut fds = [0i32; 2];
    if pipe(&mut fds) < 0 {
        printf!("pipe() failed in countfree()\n");
        exit(1);
    }
    let pid = fork();
    if pid < 0 {
        printf!("fork failed in countfree()\n");
        exit(1);
    }
    if pid == 0 {
        close(fds[0]);
        let mut chunk = 64usize;
        loop {
            let a = sbrk((chunk * 4096) as i64);
            if a == usize::MAX {
                if chunk == 1 {
                    break;
                }
                chunk = 1;
                continue;
            }
            for p in 0..chunk {
                common::store_u8(a + (p + 1) * 4096 - 1, 1);
            }
            if write(fds[1], &[chunk as u8]) != 1 {
                printf!("write() failed in countfree()\n");
                exit(1);
            }
        }
        exit(0);
    }
    close(fds[1]);
    let mut n = 0;
    let mut c = [0u8; 64];
    loop {
        let cc = read(fds[0], &mut c);
        if cc < 0 {
            printf!("read() failed in countfree()\n");
            exit(1);
        }
        if cc == 0 {
            break;
        }
        n += c[..cc as usize].iter().map(|&x| x as i32).sum::<i32>();
    }
    close(fds[0]);
    wait0();
    n
}

fn main(args: Args) -> i32 {
    let mut quick = false;
    let mut justone = None;
    if args.len() == 2 && args.bytes(1) == b"-q" {
        quick = true;
    } else if args.len() == 2 && !args.bytes(1).starts_with(b"-") {
        justone = Some(args.bytes(1));
    } else if args.len() > 1 {
        printf!("Usage: usertests [-q] [testname]\n");
        exit(1);
    }
    printf!("usertests starting\n");
    let free0 = countfree();
    if !runtests(QUICK, justone) {
        exit(1);
    }
    if !quick {
        if justone.is_none() {
            printf!("usertests slow tests starting\n");
        }
        if !runtests(SLOW, justone) {
            exit(1);
        }
    }
    let free1 = countfree();
    if free1 < free0 {
        printf!(
            "FAILED -- lost some free pages {} (out of {})\n",
            free1,
            free0
        );
        printf!("SOME TESTS FAILED\n");
        exit(1);
    }
    printf!("ALL TESTS PASSED\n");
    0
}

//! Process tests: exec, pipes, kill and exit status, preemption, exit/wait races,
//! reparenting, fork exhaustion, oversized exec arguments, exec out of memory.

use crate::common::*;
use crate::fail;
use abi::param::MAXARG;
use ulib::*;

/// exec with a redirected stdout.
pub fn exectest(s: &str) {
    unlink("echo-ok");
    let pid = fork_or_fail(s);
    if pid == 0 {
        close(1);
        let fd = open("echo-ok", O_CREATE | O_WRONLY);
        if fd < 0 {
            fail!(s, "create failed");
        }
        if fd != 1 {
            fail!(s, "wrong fd");
        }
        if exec(b"echo", &[b"echo", b"OK"]) < 0 {
            fail!(s, "exec echo failed");
        }
    }
    let mut st = 0;
    if wait(&mut st) != pid {
        printf!("{}: wait failed!\n", s);
    }
    if st != 0 {
        exit(st);
    }
    let fd = open("echo-ok", O_RDONLY);
    if fd < 0 {
        fail!(s, "open failed");
    }
    let mut b = [0u8; 3];
    if read(fd, &mut b[..2]) != 2 {
        fail!(s, "read failed");
    }
    unlink("echo-ok");
    if &b[..2] != b"OK" {
        fail!(s, "wrong output");
    }
    exit(0);
}

/// A byte sequence through a pipe, read with growing sizes.
pub fn pipe1(s: &str) {
    const N: usize = 5;
    const SZ: usize = 1033;
    let mut fds = [0; 2];
    if pipe(&mut fds) != 0 {
        fail!(s, "pipe() failed");
    }
    let pid = fork_or_fail(s);
    let b = buf();
    let mut seq: u32 = 0;
    if pid == 0 {
        close(fds[0]);
        for _ in 0..N {
            for c in b[..SZ].iter_mut() {
                *c = seq as u8;
                seq += 1;
            }
            if write(fds[1], &b[..SZ]) != SZ as i32 {
                fail!(s, "pipe1 oops 1");
            }
        }
        exit(0);
    }
    close(fds[1]);
    let mut total = 0;
    let mut cc = 1;
    loop {
        let n = read(fds[0], &mut b[..cc]);
        if n <= 0 {
            break;
        }
        for &c in &b[..n as usize] {
            if c != seq as u8 {
                fail!(s, "pipe1 oops 2");
            }
            seq += 1;
        }
        total += n as usize;
        cc = (cc * 2).min(b.len());
    }
    if total != N * SZ {
        fail!(s, "pipe1 oops 3 total {}", total);
    }
    close(fds[0]);
    exit(wait_status());
}

/// A killed child's exit status is -1.
pub fn killstatus(s: &str) {
    for _ in 0..100 {
        let pid1 = fork_or_fail(s);
        if pid1 == 0 {
            loop {
                getpid();
            }
        }
        sleep(1);
        kill(pid1);
        if wait_status() != -1 {
            fail!(s, "status should be -1");
        }
    }
    exit(0);
}

/// Processes spinning in user space must not keep the parent from running.
pub fn preempt(s: &str) {
    let pid1 = fork_or_fail(s);
    if pid1 == 0 {
        loop {
            core::hint::spin_loop();
        }
    }
    let pid2 = fork_or_fail(s);
    if pid2 == 0 {
        loop {
            core::hint::spin_loop();
        }
    }
    let mut pfds = [0; 2];
    pipe(&mut pfds);
    let pid3 = fork_or_fail(s);
    if pid3 == 0 {
        close(pfds[0]);
        if write(pfds[1], b"x") != 1 {
            printf!("{}: preempt write error", s);
        }
        close(pfds[1]);
        loop {
            core::hint::spin_loop();
        }
    }
    close(pfds[1]);
    if read(pfds[0], &mut buf()[..]) != 1 {
        printf!("{}: preempt read error", s);
        return;
    }
    close(pfds[0]);
    printf!("kill... ");
    kill(pid1);
    kill(pid2);
    kill(pid3);
    printf!("wait... ");
    wait0();
    wait0();
    wait0();
}

/// Races between exit and wait; exit statuses arrive intact.
pub fn exitwait(s: &str) {
    for i in 0..100 {
        let pid = fork_or_fail(s);
        if pid != 0 {
            let mut st = 0;
            if wait(&mut st) != pid {
                fail!(s, "wait wrong pid");
            }
            if st != i {
                fail!(s, "wait wrong exit status");
            }
        } else {
            exit(i);
        }
    }
}

/// Races in the reparenting of a dying parent's live children.
pub fn reparent(s: &str) {
    let master_pid = getpid();
    for _ in 0..200 {
        let pid = fork_or_fail(s);
        if pid != 0 {
            if wait0() != pid {
                fail!(s, "wait wrong pid");
            }
        } else {
            if fork() < 0 {
                kill(master_pid);
                exit(1);
            }
            exit(0);
        }
    }
    exit(0);
}

/// Two children exiting at the same time.
pub fn twochildren(s: &str) {
    for _ in 0..1000 {
        let pid1 = fork_or_fail(s);
        if pid1 == 0 {
            exit(0);
        }
        let pid2 = fork_or_fail(s);
        if pid2 == 0 {
            exit(0);
        }
        wait0();
        wait0();
    }
}

/// Concurrent forks, to expose locking bugs.
pub fn forkfork(s: &str) {
    const N: usize = 2;
    for _ in 0..N {
        let pid = fork_or_fail(s);
        if pid == 0 {
            for _ in 0..200 {
                let pid1 = fork();
                if pid1 < 0 {
                    exit(1);
                }
                if pid1 == 0 {
                    exit(0);
                }
                wait0();
            }
            exit(0);
        }
    }
    for _ in 0..N {
        if wait_status() != 0 {
            fail!(s, "fork in child failed");
        }
    }
}

/// Fork until fork fails, for two seconds.
pub fn forkforkfork(s: &str) {
    unlink("stopforking");
    let pid = fork_or_fail(s);
    if pid == 0 {
        loop {
            let fd = open("stopforking", O_RDONLY);
            if fd >= 0 {
                exit(0);
            }
            if fork() < 0 {
                close(open("stopforking", O_CREATE | O_RDWR));
            }
        }
    }
    sleep(20); // two seconds
    close(open("stopforking", O_CREATE | O_RDWR));
    wait0();
    sleep(10); // one second
}

/// Regression test: reparenting versus init's wait must not deadlock.
pub fn reparent2(_s: &str) {
    for _ in 0..800 {
        let pid1 = fork();
        if pid1 < 0 {
            printf!("fork failed\n");
            exit(1);
        }
        if pid1 == 0 {
            fork();
            fork();
            exit(0);
        }
        wait0();
    }
    exit(0);
}

/// fork fails gracefully when memory or the process table runs out.
pub fn forktest(s: &str) {
    const N: usize = 1000;
    let mut n = 0;
    while n < N {
        let pid = fork();
        if pid < 0 {
            break;
        }
        if pid == 0 {
            exit(0);
        }
        n += 1;
    }
    if n == 0 {
        fail!(s, "no fork at all!");
    }
    if n == N {
        fail!(s, "fork claimed to work 1000 times!");
    }
    while n > 0 {
        if wait0() < 0 {
            fail!(s, "wait stopped early");
        }
        n -= 1;
    }
    if wait0() != -1 {
        fail!(s, "wait got too many");
    }
}

/// exec must refuse arguments that do not fit on the stack page.
pub fn bigargtest(s: &str) {
    unlink("bigarg-ok");
    let pid = fork_or_fail(s);
    if pid == 0 {
        let mut arg = Vec::new();
        arg.extend_from_slice(b"bigargs test: failed\n");
        arg.resize(arg.len() + 199, b' ');
        let args: Vec<&[u8]> = (0..MAXARG - 1).map(|_| arg.as_slice()).collect();
        exec(b"echo", &args);
        close(open("bigarg-ok", O_CREATE));
        exit(0);
    }
    let st = wait_status();
    if st != 0 {
        exit(st);
    }
    let fd = open("bigarg-ok", O_RDONLY);
    if fd < 0 {
        fail!(s, "bigarg test failed!");
    }
    close(fd);
}

/// exec with an invalid argument pointer must not leak memory (or panic).
pub fn badarg(_s: &str) {
    for _ in 0..50000 {
        let argv = [0xffff_ffff_usize as *const u8, core::ptr::null()];
        // SAFETY: the kernel must reject the bad argument pointer.
        unsafe { sys::exec(c"echo".as_ptr(), argv.as_ptr()) };
    }
    exit(0);
}

/// Concurrent big writes, to provoke deadlock in the disk driver.
pub fn manywrites(s: &str) {
    let nchildren = 4;
    let howmany = 30;
    for ci in 0..nchildren {
        let pid = fork();
        if pid < 0 {
            printf!("fork failed\n");
            exit(1);
        }
        if pid == 0 {
            let name = [b'b', b'a' + ci as u8];
            unlink(name);
            let b = buf();
            for _ in 0..howmany {
                for _ in 0..ci + 1 {
                    let fd = open(name, O_CREATE | O_RDWR);
                    if fd < 0 {
                        fail!(s, "cannot create {}", fmt::Bytes(&name));
                    }
                    let cc = write(fd, &b[..]);
                    if cc != b.len() as i32 {
                        fail!(s, "write({}) ret {}", b.len(), cc);
                    }
                    close(fd);
                }
                unlink(name);
            }
            unlink(name);
            exit(0);
        }
    }
    for _ in 0..nchildren {
        let st = wait_status();
        if st != 0 {
            exit(st);
        }
    }
    exit(0);
}

/// exec when memory is (almost) exhausted must fail cleanly.
pub fn execout(_s: &str) {
    for avail in 0..15 {
        let pid = fork();
        if pid < 0 {
            printf!("fork failed\n");
            exit(1);
        }
        if pid == 0 {
            // Allocate all of memory.
            loop {
                let a = sbrk(4096);
                if a == usize::MAX {
                    break;
                }
                store_u8(a + 4096 - 1, 1);
            }
            // Free a few pages, to let exec make some progress.
            for _ in 0..avail {
                sbrk(-4096);
            }
            close(1);
            exec(b"echo", &[b"echo", b"x"]);
            exit(0);
        }
        wait0();
    }
    exit(0);
}

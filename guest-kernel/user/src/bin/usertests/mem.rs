//! Memory tests: bad pointers to system calls (copyin, copyout, copyinstr), sbrk growth and
//! shrinking, out-of-memory, kernel-memory and above-MAXVA accesses, stack guard, text writes.

use crate::common::*;
use crate::fail;
use ulib::*;

const BAD_ADDRS: [usize; 2] = [0x8000_0000, usize::MAX];

/// Ridiculous pointers to system calls that read user memory (copyin).
pub fn copyin(s: &str) {
    for addr in BAD_ADDRS {
        let fd = open("copyin1", O_CREATE | O_WRONLY);
        if fd < 0 {
            fail!(s, "open(copyin1) failed");
        }
        // SAFETY: the kernel must reject the bad pointer.
        let n = unsafe { sys::write(fd, addr as *const u8, 8192) };
        if n >= 0 {
            fail!(s, "write(fd, {:#x}, 8192) returned {}, not -1", addr, n);
        }
        close(fd);
        unlink("copyin1");
        // SAFETY: as above.
        let n = unsafe { sys::write(1, addr as *const u8, 8192) };
        if n > 0 {
            fail!(s, "write(1, {:#x}, 8192) returned {}, not -1 or 0", addr, n);
        }
        let mut fds = [0; 2];
        if pipe(&mut fds) < 0 {
            fail!(s, "pipe() failed");
        }
        // SAFETY: as above.
        let n = unsafe { sys::write(fds[1], addr as *const u8, 8192) };
        if n > 0 {
            fail!(
                s,
                "write(pipe, {:#x}, 8192) returned {}, not -1 or 0",
                addr,
                n
            );
        }
        close(fds[0]);
        close(fds[1]);
    }
}

/// Ridiculous pointers to system calls that write user memory (copyout).
pub fn copyout(s: &str) {
    for addr in BAD_ADDRS {
        let fd = open("README", O_RDONLY);
        if fd < 0 {
            fail!(s, "open(README) failed");
        }
        // SAFETY: the kernel must reject the bad pointer.
        let n = unsafe { sys::read(fd, addr as *mut u8, 8192) };
        if n > 0 {
            fail!(s, "read(fd, {:#x}, 8192) returned {}, not -1 or 0", addr, n);
        }
        close(fd);
        let mut fds = [0; 2];
        if pipe(&mut fds) < 0 {
            fail!(s, "pipe() failed");
        }
        if write(fds[1], b"x") != 1 {
            fail!(s, "pipe write failed");
        }
        // SAFETY: as above.
        let n = unsafe { sys::read(fds[0], addr as *mut u8, 8192) };
        if n > 0 {
            fail!(
                s,
                "read(pipe, {:#x}, 8192) returned {}, not -1 or 0",
                addr,
                n
            );
        }
        close(fds[0]);
        close(fds[1]);
    }
}

/// Ridiculous string pointers (copyinstr).
pub fn copyinstr1(s: &str) {
    for addr in BAD_ADDRS {
        // SAFETY: the kernel must reject the bad pointer.
        let fd = unsafe { sys::open(addr as *const u8, O_CREATE | O_WRONLY) };
        if fd >= 0 {
            fail!(s, "open({:#x}) returned {}, not -1", addr, fd);
        }
    }
}

/// A path of exactly MAXPATH bytes, whose NUL falls just past the kernel's buffer; and exec
/// arguments larger than a page.
pub fn copyinstr2(s: &str) {
    let b = [b'x'; abi::param::MAXPATH];
    if unlink(b) != -1 {
        fail!(s, "unlink(xxx...) did not return -1");
    }
    if open(b, O_CREATE | O_WRONLY) != -1 {
        fail!(s, "open(xxx...) did not return -1");
    }
    if link(b, b) != -1 {
        fail!(s, "link(xxx..., xxx...) did not return -1");
    }
    if exec(&b, &[b"xx"]) != -1 {
        fail!(s, "exec(xxx...) did not return -1");
    }
    let pid = fork_or_fail(s);
    if pid == 0 {
        let big = vec![b'x'; PGSIZE];
        if exec(b"echo", &[&big, &big, &big]) != -1 {
            fail!(s, "exec(echo, BIG) did not return -1");
        }
        exit(747); // OK
    }
    if wait_status() != 747 {
        fail!(s, "exec(echo, BIG) succeeded, should have failed");
    }
}

/// A string argument that runs over the end of the last user page.
pub fn copyinstr3(s: &str) {
    sbrk(8192);
    let top = sbrk(0);
    if !top.is_multiple_of(PGSIZE) {
        sbrk((PGSIZE - top % PGSIZE) as i64);
    }
    let top = sbrk(0);
    if !top.is_multiple_of(PGSIZE) {
        fail!(s, "oops");
    }
    let b = top - 1;
    store_u8(b, b'x');
    let p = b as *const u8;
    // SAFETY: the string runs into unmapped memory; the kernel must fail each call.
    unsafe {
        if sys::unlink(p) != -1 {
            fail!(s, "unlink(top-1) did not return -1");
        }
        if sys::open(p, O_CREATE | O_WRONLY) != -1 {
            fail!(s, "open(top-1) did not return -1");
        }
        if sys::link(p, p) != -1 {
            fail!(s, "link(top-1) did not return -1");
        }
        let argv = [c"xx".as_ptr(), core::ptr::null()];
        if sys::exec(p, argv.as_ptr()) != -1 {
            fail!(s, "exec(top-1) did not return -1");
        }
    }
}

/// The kernel must refuse to read or write memory the process gave back with sbrk.
pub fn rwsbrk(s: &str) {
    let a = sbrk(8192);
    if a == usize::MAX {
        fail!(s, "sbrk(rwsbrk) failed");
    }
    if sbrk(-8192) == usize::MAX {
        fail!(s, "sbrk(rwsbrk) shrink failed");
    }
    let fd = open("rwsbrk", O_CREATE | O_WRONLY);
    if fd < 0 {
        fail!(s, "open(rwsbrk) failed");
    }
    // SAFETY: the memory was returned; the kernel must fail the call.
    let n = unsafe { sys::write(fd, (a + 4096) as *const u8, 1024) };
    if n >= 0 {
        fail!(s, "write(fd, {:#x}, 1024) returned {}, not -1", a + 4096, n);
    }
    close(fd);
    unlink("rwsbrk");
    let fd = open("README", O_RDONLY);
    if fd < 0 {
        fail!(s, "open(README) failed");
    }
    // SAFETY: as above.
    let n = unsafe { sys::read(fd, (a + 4096) as *mut u8, 10) };
    if n >= 0 {
        fail!(s, "read(fd, {:#x}, 10) returned {}, not -1", a + 4096, n);
    }
    close(fd);
    exit(0);
}

/// Allocate all memory with malloc, free it, and allocate again.
pub fn mem(s: &str) {
    let pid = fork_or_fail(s);
    if pid == 0 {
        let mut m1: *mut u8 = core::ptr::null_mut();
        loop {
            let m2 = malloc(10001);
            if m2.is_null() {
                break;
            }
            // SAFETY: m2 is a fresh 10001-byte block: its first word links the list.
            unsafe { (m2 as *mut *mut u8).write(m1) };
            m1 = m2;
        }
        while !m1.is_null() {
            // SAFETY: each block's first word holds the next block.
            let m2 = unsafe { (m1 as *mut *mut u8).read() };
            // SAFETY: m1 came from malloc.
            unsafe { free(m1) };
            m1 = m2;
        }
        let m1 = malloc(1024 * 20);
        if m1.is_null() {
            fail!(s, "couldn't allocate mem?!!");
        }
        // SAFETY: m1 came from malloc.
        unsafe { free(m1) };
        exit(0);
    }
    let st = wait_status();
    // -1: probably a page fault under lazy allocation, which is fine.
    exit(if st == -1 { 0 } else { st });
}

/// sbrk basics: failure value, growth one byte at a time, fork of a grown process.
pub fn sbrkbasic(s: &str) {
    const TOOMUCH: usize = 1024 * 1024 * 1024;
    let pid = fork_or_fail(s);
    if pid == 0 {
        let a = sbrk(TOOMUCH as i64);
        if a == usize::MAX {
            exit(0); // it's OK if this fails
        }
        for b in (a..a + TOOMUCH).step_by(4096) {
            store_u8(b, 99);
        }
        // Either sbrk should have failed or a page fault should have killed us.
        exit(1);
    }
    if wait_status() == 1 {
        fail!(s, "too much memory allocated!");
    }
    // Can one sbrk less than a page?
    let mut a = sbrk(0);
    for i in 0..5000 {
        let b = sbrk(1);
        if b != a {
            fail!(s, "sbrk test failed {} {:#x} {:#x}", i, a, b);
        }
        store_u8(b, 1);
        a = b + 1;
    }
    let pid = fork_or_fail(s);
    sbrk(1);
    let c = sbrk(1);
    if c != a + 1 {
        fail!(s, "sbrk test failed post-fork");
    }
    if pid == 0 {
        exit(0);
    }
    exit(wait_status());
}

/// Grow to 100 MiB, touch it, shrink and regrow.
pub fn sbrkmuch(s: &str) {
    const BIG: usize = 100 * 1024 * 1024;
    let oldbrk = sbrk(0);
    let a = sbrk(0);
    let amt = BIG - a;
    let p = sbrk(amt as i64);
    if p != a {
        fail!(
            s,
            "sbrk test failed to grow big address space; enough phys mem?"
        );
    }
    let eee = sbrk(0);
    for pp in (a..eee).step_by(4096) {
        store_u8(pp, 1);
    }
    let lastaddr = BIG - 1;
    store_u8(lastaddr, 99);
    // Can one de-allocate?
    let a = sbrk(0);
    let c = sbrk(-(PGSIZE as i64));
    if c == usize::MAX {
        fail!(s, "sbrk could not deallocate");
    }
    let c = sbrk(0);
    if c != a - PGSIZE {
        fail!(
            s,
            "sbrk deallocation produced wrong address, a {:#x} c {:#x}",
            a,
            c
        );
    }
    // Can one re-allocate that page?
    let a = sbrk(0);
    let c = sbrk(PGSIZE as i64);
    if c != a || sbrk(0) != a + PGSIZE {
        fail!(s, "sbrk re-allocation failed, a {:#x} c {:#x}", a, c);
    }
    if load_u8(lastaddr) == 99 {
        fail!(s, "sbrk de-allocation didn't really deallocate");
    }
    let a = sbrk(0);
    let c = sbrk(-((sbrk(0) - oldbrk) as i64));
    if c != a {
        fail!(s, "sbrk downsize failed, a {:#x} c {:#x}", a, c);
    }
}

/// User code must not read kernel memory.
pub fn kernmem(s: &str) {
    for a in (KERNBASE..KERNBASE + 2_000_000).step_by(50_000) {
        let pid = fork_or_fail(s);
        if pid == 0 {
            let v = load_u8(a);
            fail!(s, "oops could read {:#x} = {:#x}", a, v);
        }
        if wait_status() != -1 {
            exit(1); // the kernel should have killed the child
        }
    }
}

/// User code must not write at or above MAXVA.
pub fn maxva_plus(s: &str) {
    let mut a = MAXVA;
    while a != 0 {
        let pid = fork_or_fail(s);
        if pid == 0 {
            store_u8(a, 99);
            fail!(s, "oops wrote {:#x}", a);
        }
        if wait_status() != -1 {
            exit(1);
        }
        a <<= 1;
    }
}

/// Run the system out of memory: failed allocations must give back what they took.
pub fn sbrkfail(s: &str) {
    const BIG: usize = 100 * 1024 * 1024;
    let mut fds = [0; 2];
    if pipe(&mut fds) != 0 {
        fail!(s, "pipe() failed");
    }
    let mut pids = [0i32; 10];
    for pid in pids.iter_mut() {
        *pid = fork();
        if *pid == 0 {
            // Allocate a lot of memory, then sit around until killed.
            sbrk((BIG - sbrk(0)) as i64);
            write(fds[1], b"x");
            loop {
                sleep(1000);
            }
        }
        if *pid != -1 {
            let mut scratch = [0u8; 1];
            read(fds[0], &mut scratch);
        }
    }
    // If those failed allocations freed the pages they did allocate, we can allocate here.
    let c = sbrk(PGSIZE as i64);
    for &pid in &pids {
        if pid == -1 {
            continue;
        }
        kill(pid);
        wait0();
    }
    if c == usize::MAX {
        fail!(s, "failed sbrk leaked memory");
    }
    // Fork with the page just allocated; the child tries to use far too much memory.
    let pid = fork_or_fail(s);
    if pid == 0 {
        let a = sbrk(0);
        sbrk(10 * BIG as i64);
        let mut n = 0u32;
        for i in (0..10 * BIG).step_by(PGSIZE) {
            n += load_u8(a + i) as u32;
        }
        fail!(s, "allocate a lot of memory succeeded {}", n);
    }
    let st = wait_status();
    if st != -1 && st != 2 {
        exit(1);
    }
}

/// Reads and writes from and to sbrk'd memory through system calls.
pub fn sbrkarg(s: &str) {
    let a = sbrk(PGSIZE as i64);
    let fd = open("sbrk", O_CREATE | O_WRONLY);
    unlink("sbrk");
    if fd < 0 {
        fail!(s, "open sbrk failed");
    }
    // SAFETY: [a, a + PGSIZE) was just allocated.
    if unsafe { sys::write(fd, a as *const u8, PGSIZE as i32) } < 0 {
        fail!(s, "write sbrk failed");
    }
    close(fd);
    let a = sbrk(PGSIZE as i64);
    // SAFETY: the kernel writes two ints into the fresh page.
    if unsafe { sys::pipe(a as *mut i32) } != 0 {
        fail!(s, "pipe() failed");
    }
}

/// Bad string pointers at every page of the low address space.
pub fn validatetest(s: &str) {
    let hi = 1100 * 1024;
    for p in (0..=hi).step_by(PGSIZE) {
        // SAFETY: the kernel must cope with any pointer.
        if unsafe { sys::link(c"nosuchfile".as_ptr(), p as *const u8) } != -1 {
            fail!(s, "link should not succeed");
        }
    }
}

struct Uninit(core::cell::UnsafeCell<[u8; 10000]>);
// SAFETY: single-threaded test process.
unsafe impl Sync for Uninit {}
static UNINIT: Uninit = Uninit(core::cell::UnsafeCell::new([0; 10000]));

/// Uninitialised data (bss) must start out zero.
pub fn bsstest(s: &str) {
    let base = UNINIT.0.get() as usize;
    for i in 0..10000 {
        if load_u8(base + i) != 0 {
            fail!(s, "bss test failed");
        }
    }
}

/// A read whose buffer starts one byte below the break, with length -1.
pub fn argptest(s: &str) {
    let fd = open("init", O_RDONLY);
    if fd < 0 {
        fail!(s, "open failed");
    }
    // SAFETY: the kernel must stop at the end of our memory.
    unsafe { sys::read(fd, (sbrk(0) - 1) as *mut u8, -1) };
    close(fd);
}

/// There must be an invalid guard page below the user stack.
pub fn stacktest(s: &str) {
    let pid = fork_or_fail(s);
    if pid == 0 {
        let sp = r_sp() - PGSIZE;
        let v = load_u8(sp);
        fail!(s, "stacktest: read below stack {:#x}", v);
    }
    let st = wait_status();
    exit(if st == -1 { 0 } else { st });
}

/// Writes to the text segment must fault.
pub fn textwrite(s: &str) {
    let pid = fork_or_fail(s);
    if pid == 0 {
        store_u32(0, 10);
        exit(1);
    }
    let st = wait_status();
    exit(if st == -1 { 0 } else { st });
}

/// Wild pointers to exec and pipe (the kernel once truncated page addresses).
pub fn pgbug(_s: &str) {
    let big = 0xeaeb_0b5b_0000_2f5e_usize;
    let argv = [core::ptr::null::<u8>()];
    // SAFETY: the kernel must reject the pointers.
    unsafe {
        sys::exec(big as *const u8, argv.as_ptr());
        sys::pipe(big as *mut i32);
    }
    exit(0);
}

/// sbrk to less than a page, to zero, or down by less than a page must not panic the kernel.
pub fn sbrkbugs(_s: &str) {
    let pid = fork_or_fail("sbrkbugs");
    if pid == 0 {
        let sz = sbrk(0);
        // Free all user memory; returning to user space then faults.
        sbrk(-(sz as i64));
        exit(0);
    }
    wait0();
    let pid = fork_or_fail("sbrkbugs");
    if pid == 0 {
        let sz = sbrk(0);
        // Set the break inside the very first page.
        sbrk(-(sz as i64 - 3500));
        exit(0);
    }
    wait0();
    let pid = fork_or_fail("sbrkbugs");
    if pid == 0 {
        // Set the break in the middle of a page, then lower it a little.
        sbrk((10 * 4096 + 2048) - sbrk(0) as i64);
        sbrk(-10);
        exit(0);
    }
    wait0();
    exit(0);
}

/// After growing past a page boundary and shrinking below it, copyin from the last page.
pub fn sbrklast(_s: &str) {
    let top = sbrk(0);
    if !top.is_multiple_of(4096) {
        sbrk((4096 - top % 4096) as i64);
    }
    sbrk(4096);
    sbrk(10);
    sbrk(-20);
    let top = sbrk(0);
    let p = top - 64;
    store_u8(p, b'x');
    store_u8(p + 1, 0);
    // SAFETY: p is a NUL-terminated string in our memory.
    unsafe {
        let fd = sys::open(p as *const u8, O_RDWR | O_CREATE);
        sys::write(fd, p as *const u8, 1);
        close(fd);
        let fd = sys::open(p as *const u8, O_RDWR);
        store_u8(p, 0);
        sys::read(fd, p as *mut u8, 1);
        close(fd);
    }
    if load_u8(p) != b'x' {
        exit(1);
    }
}

/// sbrk with an argument that wraps a signed 32-bit int.
pub fn sbrk8000(_s: &str) {
    sbrk(0x8000_0004);
    let top = sbrk(0);
    store_u8(top - 1, load_u8(top - 1).wrapping_add(1));
}

//! cowtest: the MIT 6.1810 copy-on-write lab's tests, same sizes and order: `simple` twice,
//! `three` three times, `file`, `forkfork`. Prints `ok` per test and `ALL COW TESTS PASSED`;
//! on a failure prints what failed and exits with status 1.
//!
//! Without COW, `simple` cannot pass: it forks a process holding two thirds of physical memory.
#![no_std]
#![no_main]
use core::ptr::{read_volatile, write_volatile};
use ulib::*;
entry!(main);

const PGSIZE: usize = 4096;
const MIB: usize = 1024 * 1024;

/// Physical memory the kernel manages, in bytes: the lab's PHYSTOP - KERNBASE. The kernel sizes
/// RAM from the device tree, so this is `cowstat`'s `total_pages` rounded up to a whole MiB
/// (128 MiB on the default board, as the lab's constant); 128 MiB if `cowstat` fails.
fn phys_size() -> usize {
    let mut st = CowStat::default();
    if cowstat(&mut st) < 0 || st.total_pages == 0 {
        return 128 * MIB;
    }
    (st.total_pages as usize * PGSIZE).div_ceil(MIB) * MIB
}

fn fail(msg: &str) -> ! {
    printf!("{}\n", msg);
    exit(1)
}

fn sbrk_or_fail(n: i64) -> usize {
    let p = sbrk(n);
    if p == usize::MAX {
        printf!("sbrk({}) failed\n", n);
        exit(1);
    }
    p
}

fn poke(addr: usize, v: i32) {
    // SAFETY: addr lies in memory this process obtained with sbrk.
    unsafe { write_volatile(addr as *mut i32, v) }
}

fn peek(addr: usize) -> i32 {
    // SAFETY: addr lies in memory this process obtained with sbrk.
    unsafe { read_volatile(addr as *const i32) }
}

/// Allocate more than half of physical memory, then fork: only COW makes that possible.
fn simpletest() {
    let sz = ((phys_size() / 3) * 2) as i64;
    printf!("simple: ");
    let p = sbrk_or_fail(sz);
    let pid0 = getpid();
    for q in (p..p + sz as usize).step_by(PGSIZE) {
        poke(q, pid0);
    }
    let pid = fork();
    if pid < 0 {
        fail("fork() failed");
    }
    if pid == 0 {
        exit(0);
    }
    wait0();
    sbrk_or_fail(-sz);
    printf!("ok\n");
}

/// Three processes write to a quarter of memory each and check what they read back.
fn threetest() {
    let sz = phys_size() / 4;
    printf!("three: ");
    let p = sbrk_or_fail(sz as i64);
    let pid1 = fork();
    if pid1 < 0 {
        fail("fork failed");
    }
    if pid1 == 0 {
        let pid2 = fork();
        if pid2 < 0 {
            fail("fork failed");
        }
        if pid2 == 0 {
            let me = getpid();
            let end = p + (sz / 5) * 4;
            for q in (p..end).step_by(PGSIZE) {
                poke(q, me);
            }
            for q in (p..end).step_by(PGSIZE) {
                if peek(q) != me {
                    fail("wrong content");
                }
            }
            exit(-1);
        }
        for q in (p..p + sz / 2).step_by(PGSIZE) {
            poke(q, 9999);
        }
        exit(0);
    }
    let me = getpid();
    for q in (p..p + sz).step_by(PGSIZE) {
        poke(q, me);
    }
    wait0();
    sleep(1);
    for q in (p..p + sz).step_by(PGSIZE) {
        if peek(q) != me {
            fail("wrong content");
        }
    }
    sbrk_or_fail(-(sz as i64));
    printf!("ok\n");
}

/// Page-sized, page-aligned buffer in .bss with neighbours on other pages, as the lab's
/// `junk1 fds junk2 buf junk3` globals.
#[repr(C, align(4096))]
struct Pages {
    _junk1: [u8; PGSIZE],
    buf: [u8; PGSIZE],
    _junk3: [u8; PGSIZE],
}

static mut PAGES: Pages = Pages {
    _junk1: [0; PGSIZE],
    buf: [0; PGSIZE],
    _junk3: [0; PGSIZE],
};

fn buf_ptr() -> *mut u8 {
    // SAFETY: only the address is taken; accesses below are volatile and single-threaded.
    unsafe { (&raw mut PAGES.buf) as *mut u8 }
}

/// A pipe `read` into a COW page: the kernel's copyout must break COW, not write the shared page.
fn filetest() {
    printf!("file: ");
    let buf = buf_ptr();
    // SAFETY: buf points to a 4096-byte static page owned by this process.
    unsafe { write_volatile(buf, 99) };
    for i in 0..4i32 {
        let mut fds = [0i32; 2];
        if pipe(&mut fds) != 0 {
            fail("pipe() failed");
        }
        let pid = fork();
        if pid < 0 {
            fail("fork failed");
        }
        if pid == 0 {
            sleep(1);
            // SAFETY: the kernel writes 4 bytes into our static page (COW-shared with the parent).
            if unsafe { sys::read(fds[0], buf, 4) } != 4 {
                fail("error: read failed");
            }
            sleep(1);
            // SAFETY: as above.
            let j = unsafe { read_volatile(buf as *const i32) };
            if j != i {
                fail("error: read the wrong value");
            }
            exit(0);
        }
        if write(fds[1], &i.to_ne_bytes()) != 4 {
            fail("error: write failed");
        }
    }
    let mut xstatus = 0;
    for _ in 0..4 {
        wait(&mut xstatus);
        if xstatus != 0 {
            exit(1);
        }
    }
    // SAFETY: our own static page.
    if unsafe { read_volatile(buf) } != 99 {
        fail("error: child overwrote parent");
    }
    printf!("ok\n");
}

/// Nested forks on a shared heap, to expose races in page reference counting.
fn forkforktest() {
    let sz = 256 * PGSIZE;
    printf!("forkfork: ");
    let p = sbrk_or_fail(sz as i64);
    // SAFETY: [p, p + sz) was just obtained with sbrk.
    unsafe { core::ptr::write_bytes(p as *mut u8, 27, sz) };
    let children = 3;
    for _ in 0..100 {
        for _ in 0..children {
            if fork() == 0 {
                sleep(2);
                fork();
                fork();
                exit(0);
            }
        }
        for _ in 0..children {
            let mut st = 0;
            wait(&mut st);
        }
    }
    sleep(5);
    for i in (0..sz).step_by(PGSIZE) {
        // SAFETY: inside the sbrk'd region.
        let v = unsafe { read_volatile((p + i) as *const u8) };
        if v != 27 {
            printf!("{} {}\n", i, v);
            exit(1);
        }
    }
    sbrk_or_fail(-(sz as i64));
    printf!("ok\n");
}

fn main(_args: Args) -> i32 {
    simpletest();
    // Check that the first simpletest() freed the physical memory.
    simpletest();
    threetest();
    threetest();
    threetest();
    filetest();
    forkforktest();
    printf!("ALL COW TESTS PASSED\n");
    0
}

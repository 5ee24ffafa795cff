//! Size and capacity tests: big writes and files, bad user pointers to write(), a full disk, no
//! free inodes.

use crate::common::*;
use crate::fail;
use abi::fs::{BSIZE, MAXFILE};
use abi::param::MAXOPBLOCKS;
use ulib::*;

/// Writes larger than the log.
pub fn bigwrite(s: &str) {
    unlink("bigwrite");
    let b = buf();
    let mut sz = 499;
    while sz < (MAXOPBLOCKS + 2) * BSIZE {
        let fd = open("bigwrite", O_CREATE | O_RDWR);
        if fd < 0 {
            fail!(s, "cannot create bigwrite");
        }
        for _ in 0..2 {
            let cc = write(fd, &b[..sz]);
            if cc != sz as i32 {
                fail!(s, "write({}) ret {}", sz, cc);
            }
        }
        close(fd);
        unlink("bigwrite");
        sz += 471;
    }
}

pub fn bigfile(s: &str) {
    const N: usize = 20;
    const SZ: usize = 600;
    unlink("bigfile.dat");
    let fd = open("bigfile.dat", O_CREATE | O_RDWR);
    if fd < 0 {
        fail!(s, "cannot create bigfile");
    }
    let b = buf();
    for i in 0..N {
        b[..SZ].fill(i as u8);
        if write(fd, &b[..SZ]) != SZ as i32 {
            fail!(s, "write bigfile failed");
        }
    }
    close(fd);
    let fd = open("bigfile.dat", O_RDONLY);
    if fd < 0 {
        fail!(s, "cannot open bigfile");
    }
    let mut total = 0;
    let mut i = 0;
    loop {
        let cc = read(fd, &mut b[..SZ / 2]);
        if cc < 0 {
            fail!(s, "read bigfile failed");
        }
        if cc == 0 {
            break;
        }
        if cc != (SZ / 2) as i32 {
            fail!(s, "short read bigfile");
        }
        if b[0] as usize != i / 2 || b[SZ / 2 - 1] as usize != i / 2 {
            fail!(s, "read bigfile wrong data");
        }
        total += cc as usize;
        i += 1;
    }
    close(fd);
    if total != N * SZ {
        fail!(s, "read bigfile wrong total");
    }
    unlink("bigfile.dat");
}

/// A write from a bad pointer must not leak the block it allocated.
pub fn badwrite(_s: &str) {
    let assumed_free = 600;
    unlink("junk");
    for _ in 0..assumed_free {
        let fd = open("junk", O_CREATE | O_WRONLY);
        if fd < 0 {
            printf!("open junk failed\n");
            exit(1);
        }
        // SAFETY: the kernel must reject the bad pointer.
        unsafe { sys::write(fd, 0xff_ffff_ffff_usize as *const u8, 1) };
        close(fd);
        unlink("junk");
    }
    let fd = open("junk", O_CREATE | O_WRONLY);
    if fd < 0 {
        printf!("open junk failed\n");
        exit(1);
    }
    if write(fd, b"x") != 1 {
        printf!("write failed\n");
        exit(1);
    }
    close(fd);
    unlink("junk");
    exit(0);
}

fn zz_name(i: usize) -> [u8; 4] {
    [b'z', b'z', b'0' + (i / 32) as u8, b'0' + (i % 32) as u8]
}

/// Running out of disk blocks must fail calls, not panic the kernel.
pub fn diskfull(s: &str) {
    unlink("diskfulldir");
    let mut done = false;
    let mut fi = 0;
    let block = [0u8; BSIZE];
    while !done {
        let name = [b'b', b'i', b'g', b'0' + fi as u8];
        unlink(name);
        let fd = open(name, O_CREATE | O_RDWR | O_TRUNC);
        if fd < 0 {
            printf!("{}: could not create file {}\n", s, fmt::Bytes(&name));
            break;
        }
        for _ in 0..MAXFILE {
            if write(fd, &block) != BSIZE as i32 {
                done = true;
                break;
            }
        }
        close(fd);
        fi += 1;
    }
    // With no free blocks, dirlink() must merely fail when it cannot grow the directory.
    let nzz = 128;
    for i in 0..nzz {
        let name = zz_name(i);
        unlink(name);
        let fd = open(name, O_CREATE | O_RDWR | O_TRUNC);
        if fd < 0 {
            break;
        }
        close(fd);
    }
    if mkdir("diskfulldir") == 0 {
        printf!("{}: mkdir(diskfulldir) unexpectedly succeeded!\n", s);
    }
    unlink("diskfulldir");
    for i in 0..nzz {
        unlink(zz_name(i));
    }
    for i in 0..fi {
        unlink([b'b', b'i', b'g', b'0' + i as u8]);
    }
}

/// Running out of inodes must fail open(O_CREATE), not panic.
pub fn outofinodes(_s: &str) {
    let nzz = 32 * 32;
    for i in 0..nzz {
        let name = zz_name(i);
        unlink(name);
        let fd = open(name, O_CREATE | O_RDWR | O_TRUNC);
        if fd < 0 {
            break; // failure is eventually expected
        }
        close(fd);
    }
    for i in 0..nzz {
        unlink(zz_name(i));
    }
}

//! File-system tests: truncation, inode reference counting, big files, many files,
//! concurrent create/link/unlink, directory edge cases, running out of blocks and inodes.

use crate::common::*;
use crate::fail;
use abi::fs::{BSIZE, MAXFILE};
use abi::param::{MAXOPBLOCKS, NINODE};
use ulib::*;

/// O_TRUNC with several descriptors open on the file.
pub fn truncate1(s: &str) {
    let mut b = [0u8; 32];
    unlink("truncfile");
    let fd1 = open("truncfile", O_CREATE | O_WRONLY | O_TRUNC);
    write(fd1, b"abcd");
    close(fd1);
    let fd2 = open("truncfile", O_RDONLY);
    let n = read(fd2, &mut b);
    if n != 4 {
        fail!(s, "read {} bytes, wanted 4", n);
    }
    let fd1 = open("truncfile", O_WRONLY | O_TRUNC);
    let fd3 = open("truncfile", O_RDONLY);
    let n = read(fd3, &mut b);
    if n != 0 {
        fail!(s, "read {} bytes, wanted 0 (fd3={})", n, fd3);
    }
    let n = read(fd2, &mut b);
    if n != 0 {
        fail!(s, "read {} bytes, wanted 0 (fd2={})", n, fd2);
    }
    write(fd1, b"abcdef");
    let n = read(fd3, &mut b);
    if n != 6 {
        fail!(s, "read {} bytes, wanted 6", n);
    }
    let n = read(fd2, &mut b);
    if n != 2 {
        fail!(s, "read {} bytes, wanted 2", n);
    }
    unlink("truncfile");
    close(fd1);
    close(fd2);
    close(fd3);
}

/// A write through a descriptor whose file was truncated under it (offset beyond the end)
/// fails on xv6, but must not crash.
pub fn truncate2(s: &str) {
    unlink("truncfile");
    let fd1 = open("truncfile", O_CREATE | O_TRUNC | O_WRONLY);
    write(fd1, b"abcd");
    let fd2 = open("truncfile", O_TRUNC | O_WRONLY);
    let n = write(fd1, b"x");
    if n != -1 {
        fail!(s, "write returned {}, expected -1", n);
    }
    unlink("truncfile");
    close(fd1);
    close(fd2);
}

/// Concurrent truncating opens and writes.
pub fn truncate3(s: &str) {
    close(open("truncfile", O_CREATE | O_TRUNC | O_WRONLY));
    let pid = fork_or_fail(s);
    if pid == 0 {
        let mut b = [0u8; 32];
        for _ in 0..100 {
            let fd = open("truncfile", O_WRONLY);
            if fd < 0 {
                fail!(s, "open failed");
            }
            let n = write(fd, b"1234567890");
            if n != 10 {
                fail!(s, "write got {}, expected 10", n);
            }
            close(fd);
            let fd = open("truncfile", O_RDONLY);
            read(fd, &mut b);
            close(fd);
        }
        exit(0);
    }
    for _ in 0..150 {
        let fd = open("truncfile", O_CREATE | O_WRONLY | O_TRUNC);
        if fd < 0 {
            fail!(s, "open failed");
        }
        let n = write(fd, b"xxx");
        if n != 3 {
            fail!(s, "write got {}, expected 3", n);
        }
        close(fd);
    }
    let st = wait_status();
    unlink("truncfile");
    exit(st);
}

/// The error path of open() on a directory being removed.
pub fn openiput(s: &str) {
    if mkdir("oidir") < 0 {
        fail!(s, "mkdir oidir failed");
    }
    let pid = fork_or_fail(s);
    if pid == 0 {
        if open("oidir", O_RDWR) >= 0 {
            fail!(s, "open directory for write succeeded");
        }
        exit(0);
    }
    sleep(1);
    if unlink("oidir") != 0 {
        fail!(s, "unlink failed");
    }
    exit(wait_status());
}

/// exit() drops the cwd of a removed directory (iput inside a transaction).
pub fn exitiput(s: &str) {
    let pid = fork_or_fail(s);
    if pid == 0 {
        if mkdir("iputdir") < 0 {
            fail!(s, "mkdir failed");
        }
        if chdir("iputdir") < 0 {
            fail!(s, "child chdir failed");
        }
        if unlink("../iputdir") < 0 {
            fail!(s, "unlink ../iputdir failed");
        }
        exit(0);
    }
    exit(wait_status());
}

/// chdir() away from a removed directory.
pub fn iput(s: &str) {
    if mkdir("iputdir") < 0 {
        fail!(s, "mkdir failed");
    }
    if chdir("iputdir") < 0 {
        fail!(s, "chdir iputdir failed");
    }
    if unlink("../iputdir") < 0 {
        fail!(s, "unlink ../iputdir failed");
    }
    if chdir("/") < 0 {
        fail!(s, "chdir / failed");
    }
}

pub fn opentest(s: &str) {
    let fd = open("echo", O_RDONLY);
    if fd < 0 {
        fail!(s, "open echo failed!");
    }
    close(fd);
    if open("doesnotexist", O_RDONLY) >= 0 {
        fail!(s, "open doesnotexist succeeded!");
    }
}

pub fn writetest(s: &str) {
    const N: usize = 100;
    const SZ: usize = 10;
    let fd = open("small", O_CREATE | O_RDWR);
    if fd < 0 {
        fail!(s, "error: creat small failed!");
    }
    for i in 0..N {
        if write(fd, b"aaaaaaaaaa") != SZ as i32 {
            fail!(s, "error: write aa {} new file failed", i);
        }
        if write(fd, b"bbbbbbbbbb") != SZ as i32 {
            fail!(s, "error: write bb {} new file failed", i);
        }
    }
    close(fd);
    let fd = open("small", O_RDONLY);
    if fd < 0 {
        fail!(s, "error: open small failed!");
    }
    let b = buf();
    if read(fd, &mut b[..N * SZ * 2]) != (N * SZ * 2) as i32 {
        fail!(s, "read failed");
    }
    for i in 0..N * 2 {
        let want = if i % 2 == 0 { b'a' } else { b'b' };
        if b[i * SZ..(i + 1) * SZ].iter().any(|&c| c != want) {
            fail!(s, "wrong content in chunk {}", i);
        }
    }
    close(fd);
    if unlink("small") < 0 {
        fail!(s, "unlink small failed");
    }
}

/// A file of MAXFILE blocks (direct and indirect).
pub fn writebig(s: &str) {
    let fd = open("big", O_CREATE | O_RDWR);
    if fd < 0 {
        fail!(s, "error: creat big failed!");
    }
    let b = buf();
    for i in 0..MAXFILE {
        b[..4].copy_from_slice(&(i as u32).to_le_bytes());
        if write(fd, &b[..BSIZE]) != BSIZE as i32 {
            fail!(s, "error: write big file failed {}", i);
        }
    }
    close(fd);
    let fd = open("big", O_RDONLY);
    if fd < 0 {
        fail!(s, "error: open big failed!");
    }
    let mut n = 0;
    loop {
        let i = read(fd, &mut b[..BSIZE]);
        if i == 0 {
            if n != MAXFILE {
                fail!(s, "read only {} blocks from big", n);
            }
            break;
        } else if i != BSIZE as i32 {
            fail!(s, "read failed {}", i);
        }
        let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if v != n {
            fail!(s, "read content of block {} is {}", n, v);
        }
        n += 1;
    }
    close(fd);
    if unlink("big") < 0 {
        fail!(s, "unlink big failed");
    }
}

/// Many creates, then unlinks.
pub fn createtest(_s: &str) {
    const N: u8 = 52;
    let mut name = [b'a', 0];
    for i in 0..N {
        name[1] = b'0' + i;
        let fd = open(name, O_CREATE | O_RDWR);
        close(fd);
    }
    for i in 0..N {
        name[1] = b'0' + i;
        unlink(name);
    }
}

pub fn dirtest(s: &str) {
    if mkdir("dir0") < 0 {
        fail!(s, "mkdir failed");
    }
    if chdir("dir0") < 0 {
        fail!(s, "chdir dir0 failed");
    }
    if chdir("..") < 0 {
        fail!(s, "chdir .. failed");
    }
    if unlink("dir0") < 0 {
        fail!(s, "unlink dir0 failed");
    }
}

/// Two processes write through one shared descriptor: the offset is shared.
pub fn sharedfd(s: &str) {
    const N: usize = 1000;
    const SZ: usize = 10;
    unlink("sharedfd");
    let fd = open("sharedfd", O_CREATE | O_RDWR);
    if fd < 0 {
        fail!(s, "cannot open sharedfd for writing");
    }
    let pid = fork();
    let b = [if pid == 0 { b'c' } else { b'p' }; SZ];
    for _ in 0..N {
        if write(fd, &b) != SZ as i32 {
            fail!(s, "write sharedfd failed");
        }
    }
    if pid == 0 {
        exit(0);
    }
    let st = wait_status();
    if st != 0 {
        exit(st);
    }
    close(fd);
    let fd = open("sharedfd", O_RDONLY);
    if fd < 0 {
        fail!(s, "cannot open sharedfd for reading");
    }
    let (mut nc, mut np) = (0, 0);
    let mut b = [0u8; SZ];
    while read(fd, &mut b) > 0 {
        nc += b.iter().filter(|&&c| c == b'c').count();
        np += b.iter().filter(|&&c| c == b'p').count();
    }
    close(fd);
    unlink("sharedfd");
    if nc != N * SZ || np != N * SZ {
        fail!(s, "nc/np test fails");
    }
}

/// Four processes write four files at once (block allocation).
pub fn fourfiles(s: &str) {
    const N: usize = 12;
    const NCHILD: u8 = 4;
    const SZ: usize = 500;
    for pi in 0..NCHILD {
        let name = [b'f', b'0' + pi];
        unlink(name);
        let pid = fork_or_fail(s);
        if pid == 0 {
            let fd = open(name, O_CREATE | O_RDWR);
            if fd < 0 {
                fail!(s, "create failed");
            }
            let b = [b'0' + pi; SZ];
            for _ in 0..N {
                let n = write(fd, &b);
                if n != SZ as i32 {
                    fail!(s, "write failed {}", n);
                }
            }
            exit(0);
        }
    }
    for _ in 0..NCHILD {
        let st = wait_status();
        if st != 0 {
            exit(st);
        }
    }
    let b = buf();
    for i in 0..NCHILD {
        let name = [b'f', b'0' + i];
        let fd = open(name, O_RDONLY);
        let mut total = 0;
        loop {
            let n = read(fd, &mut b[..]);
            if n <= 0 {
                break;
            }
            if b[..n as usize].iter().any(|&c| c != b'0' + i) {
                fail!(s, "wrong char");
            }
            total += n as usize;
        }
        close(fd);
        if total != N * SZ {
            fail!(s, "wrong length {}", total);
        }
        unlink(name);
    }
}

/// Four processes create and delete different files in one directory.
pub fn createdelete(s: &str) {
    const N: u8 = 20;
    const NCHILD: u8 = 4;
    for pi in 0..NCHILD {
        let pid = fork_or_fail(s);
        if pid == 0 {
            let mut name = [b'p' + pi, 0];
            for i in 0..N {
                name[1] = b'0' + i;
                let fd = open(name, O_CREATE | O_RDWR);
                if fd < 0 {
                    fail!(s, "create failed");
                }
                close(fd);
                if i > 0 && i % 2 == 0 {
                    name[1] = b'0' + i / 2;
                    if unlink(name) < 0 {
                        fail!(s, "unlink failed");
                    }
                }
            }
            exit(0);
        }
    }
    for _ in 0..NCHILD {
        if wait_status() != 0 {
            exit(1);
        }
    }
    for i in 0..N {
        for pi in 0..NCHILD {
            let name = [b'p' + pi, b'0' + i];
            let fd = open(name, O_RDONLY);
            if (i == 0 || i >= N / 2) && fd < 0 {
                fail!(s, "oops createdelete {} didn't exist", fmt::Bytes(&name));
            } else if (1..N / 2).contains(&i) && fd >= 0 {
                fail!(s, "oops createdelete {} did exist", fmt::Bytes(&name));
            }
            if fd >= 0 {
                close(fd);
            }
        }
    }
    for i in 0..N {
        for pi in 0..NCHILD {
            unlink([b'p' + pi, b'0' + i]);
        }
    }
}

/// An unlinked file stays readable and writable through an open descriptor.
pub fn unlinkread(s: &str) {
    let fd = open("unlinkread", O_CREATE | O_RDWR);
    if fd < 0 {
        fail!(s, "create unlinkread failed");
    }
    write(fd, b"hello");
    close(fd);
    let fd = open("unlinkread", O_RDWR);
    if fd < 0 {
        fail!(s, "open unlinkread failed");
    }
    if unlink("unlinkread") != 0 {
        fail!(s, "unlink unlinkread failed");
    }
    let fd1 = open("unlinkread", O_CREATE | O_RDWR);
    write(fd1, b"yyy");
    close(fd1);
    let b = buf();
    if read(fd, &mut b[..]) != 5 {
        fail!(s, "unlinkread read failed");
    }
    if b[0] != b'h' {
        fail!(s, "unlinkread wrong data");
    }
    if write(fd, &b[..10]) != 10 {
        fail!(s, "unlinkread write failed");
    }
    close(fd);
    unlink("unlinkread");
}

pub fn linktest(s: &str) {
    unlink("lf1");
    unlink("lf2");
    let fd = open("lf1", O_CREATE | O_RDWR);
    if fd < 0 {
        fail!(s, "create lf1 failed");
    }
    if write(fd, b"hello") != 5 {
        fail!(s, "write lf1 failed");
    }
    close(fd);
    if link("lf1", "lf2") < 0 {
        fail!(s, "link lf1 lf2 failed");
    }
    unlink("lf1");
    if open("lf1", O_RDONLY) >= 0 {
        fail!(s, "unlinked lf1 but it is still there!");
    }
    let fd = open("lf2", O_RDONLY);
    if fd < 0 {
        fail!(s, "open lf2 failed");
    }
    if read(fd, &mut buf()[..]) != 5 {
        fail!(s, "read lf2 failed");
    }
    close(fd);
    if link("lf2", "lf2") >= 0 {
        fail!(s, "link lf2 lf2 succeeded! oops");
    }
    unlink("lf2");
    if link("lf2", "lf1") >= 0 {
        fail!(s, "link non-existent succeeded! oops");
    }
    if link(".", "lf1") >= 0 {
        fail!(s, "link . lf1 succeeded! oops");
    }
}

/// Concurrent create/link/unlink of the same names.
pub fn concreate(s: &str) {
    const N: u8 = 40;
    let mut file = [b'C', 0];
    for i in 0..N {
        file[1] = b'0' + i;
        unlink(file);
        let pid = fork();
        if (pid != 0 && i % 3 == 1) || (pid == 0 && i % 5 == 1) {
            link("C0", file);
        } else {
            let fd = open(file, O_CREATE | O_RDWR);
            if fd < 0 {
                fail!(s, "concreate create {} failed", fmt::Bytes(&file));
            }
            close(fd);
        }
        if pid == 0 {
            exit(0);
        }
        if wait_status() != 0 {
            exit(1);
        }
    }
    let mut fa = [false; N as usize];
    let fd = open(".", O_RDONLY);
    let mut n = 0;
    let mut de = [0u8; 16];
    while read(fd, &mut de) > 0 {
        let inum = u16::from_le_bytes([de[0], de[1]]);
        if inum == 0 {
            continue;
        }
        let name = &de[2..];
        if name[0] == b'C' && name[2] == 0 {
            let i = name[1].wrapping_sub(b'0') as usize;
            if i >= fa.len() {
                fail!(s, "concreate weird file {}", fmt::Bytes(until_nul(name)));
            }
            if fa[i] {
                fail!(
                    s,
                    "concreate duplicate file {}",
                    fmt::Bytes(until_nul(name))
                );
            }
            fa[i] = true;
            n += 1;
        }
    }
    close(fd);
    if n != N {
        fail!(s, "concreate not enough files in directory listing");
    }
    for i in 0..N {
        file[1] = b'0' + i;
        let pid = fork_or_fail(s);
        if (i % 3 == 0 && pid == 0) || (i % 3 == 1 && pid != 0) {
            for _ in 0..6 {
                close(open(file, O_RDONLY));
            }
        } else {
            for _ in 0..6 {
                unlink(file);
            }
        }
        if pid == 0 {
            exit(0);
        }
        wait0();
    }
}

/// Another concurrent link/unlink/create test, looking for deadlocks.
pub fn linkunlink(s: &str) {
    unlink("x");
    let pid = fork_or_fail(s);
    let mut x: u32 = if pid != 0 { 1 } else { 97 };
    for _ in 0..100 {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        match x % 3 {
            0 => {
                close(open("x", O_RDWR | O_CREATE));
            }
            1 => {
                link("cat", "x");
            }
            _ => {
                unlink("x");
            }
        }
    }
    if pid != 0 {
        wait0();
    } else {
        exit(0);
    }
}

/// Subdirectories: creation, `..`, links, and every operation that must fail.
pub fn subdir(s: &str) {
    unlink("ff");
    if mkdir("dd") != 0 {
        fail!(s, "mkdir dd failed");
    }
    let fd = open("dd/ff", O_CREATE | O_RDWR);
    if fd < 0 {
        fail!(s, "create dd/ff failed");
    }
    write(fd, b"ff");
    close(fd);
    if unlink("dd") >= 0 {
        fail!(s, "unlink dd (non-empty dir) succeeded!");
    }
    if mkdir("/dd/dd") != 0 {
        fail!(s, "subdir mkdir dd/dd failed");
    }
    let fd = open("dd/dd/ff", O_CREATE | O_RDWR);
    if fd < 0 {
        fail!(s, "create dd/dd/ff failed");
    }
    write(fd, b"FF");
    close(fd);
    let fd = open("dd/dd/../ff", O_RDONLY);
    if fd < 0 {
        fail!(s, "open dd/dd/../ff failed");
    }
    let b = buf();
    let cc = read(fd, &mut b[..]);
    if cc != 2 || b[0] != b'f' {
        fail!(s, "dd/dd/../ff wrong content");
    }
    close(fd);
    if link("dd/dd/ff", "dd/dd/ffff") != 0 {
        fail!(s, "link dd/dd/ff dd/dd/ffff failed");
    }
    if unlink("dd/dd/ff") != 0 {
        fail!(s, "unlink dd/dd/ff failed");
    }
    if open("dd/dd/ff", O_RDONLY) >= 0 {
        fail!(s, "open (unlinked) dd/dd/ff succeeded");
    }
    if chdir("dd") != 0 {
        fail!(s, "chdir dd failed");
    }
    if chdir("dd/../../dd") != 0 {
        fail!(s, "chdir dd/../../dd failed");
    }
    if chdir("dd/../../../dd") != 0 {
        fail!(s, "chdir dd/../../../dd failed");
    }
    if chdir("./..") != 0 {
        fail!(s, "chdir ./.. failed");
    }
    let fd = open("dd/dd/ffff", O_RDONLY);
    if fd < 0 {
        fail!(s, "open dd/dd/ffff failed");
    }
    if read(fd, &mut b[..]) != 2 {
        fail!(s, "read dd/dd/ffff wrong len");
    }
    close(fd);
    if open("dd/dd/ff", O_RDONLY) >= 0 {
        fail!(s, "open (unlinked) dd/dd/ff succeeded!");
    }
    let must_fail_open: [(&str, i32); 5] = [
        ("dd/ff/ff", O_CREATE | O_RDWR),
        ("dd/xx/ff", O_CREATE | O_RDWR),
        ("dd", O_CREATE),
        ("dd", O_RDWR),
        ("dd", O_WRONLY),
    ];
    for (p, m) in must_fail_open {
        if open(p, m) >= 0 {
            fail!(s, "open {} (mode {:#x}) succeeded!", p, m);
        }
    }
    for (a, b) in [
        ("dd/ff/ff", "dd/dd/xx"),
        ("dd/xx/ff", "dd/dd/xx"),
        ("dd/ff", "dd/dd/ffff"),
    ] {
        if link(a, b) == 0 {
            fail!(s, "link {} {} succeeded!", a, b);
        }
    }
    for p in ["dd/ff/ff", "dd/xx/ff", "dd/dd/ffff"] {
        if mkdir(p) == 0 {
            fail!(s, "mkdir {} succeeded!", p);
        }
    }
    for p in ["dd/xx/ff", "dd/ff/ff"] {
        if unlink(p) == 0 {
            fail!(s, "unlink {} succeeded!", p);
        }
    }
    for p in ["dd/ff", "dd/xx"] {
        if chdir(p) == 0 {
            fail!(s, "chdir {} succeeded!", p);
        }
    }
    if unlink("dd/dd/ffff") != 0 {
        fail!(s, "unlink dd/dd/ffff failed");
    }
    if unlink("dd/ff") != 0 {
        fail!(s, "unlink dd/ff failed");
    }
    if unlink("dd") == 0 {
        fail!(s, "unlink non-empty dd succeeded!");
    }
    if unlink("dd/dd") < 0 {
        fail!(s, "unlink dd/dd failed");
    }
    if unlink("dd") < 0 {
        fail!(s, "unlink dd failed");
    }
}

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

/// Names of DIRSIZ (14) bytes, and longer names truncated to 14.
pub fn fourteen(s: &str) {
    if mkdir("12345678901234") != 0 {
        fail!(s, "mkdir 12345678901234 failed");
    }
    if mkdir("12345678901234/123456789012345") != 0 {
        fail!(s, "mkdir 12345678901234/123456789012345 failed");
    }
    let fd = open("123456789012345/123456789012345/123456789012345", O_CREATE);
    if fd < 0 {
        fail!(
            s,
            "create 123456789012345/123456789012345/123456789012345 failed"
        );
    }
    close(fd);
    let fd = open("12345678901234/12345678901234/12345678901234", O_RDONLY);
    if fd < 0 {
        fail!(
            s,
            "open 12345678901234/12345678901234/12345678901234 failed"
        );
    }
    close(fd);
    if mkdir("12345678901234/12345678901234") == 0 {
        fail!(s, "mkdir 12345678901234/12345678901234 succeeded!");
    }
    if mkdir("123456789012345/12345678901234") == 0 {
        fail!(s, "mkdir 123456789012345/12345678901234 succeeded!");
    }
    unlink("123456789012345/12345678901234");
    unlink("12345678901234/12345678901234");
    unlink("12345678901234/12345678901234/12345678901234");
    unlink("123456789012345/123456789012345/123456789012345");
    unlink("12345678901234/123456789012345");
    unlink("12345678901234");
}

/// `.` and `..` cannot be unlinked.
pub fn rmdot(s: &str) {
    if mkdir("dots") != 0 {
        fail!(s, "mkdir dots failed");
    }
    if chdir("dots") != 0 {
        fail!(s, "chdir dots failed");
    }
    if unlink(".") == 0 {
        fail!(s, "rm . worked!");
    }
    if unlink("..") == 0 {
        fail!(s, "rm .. worked!");
    }
    if chdir("/") != 0 {
        fail!(s, "chdir / failed");
    }
    if unlink("dots/.") == 0 {
        fail!(s, "unlink dots/. worked!");
    }
    if unlink("dots/..") == 0 {
        fail!(s, "unlink dots/.. worked!");
    }
    if unlink("dots") != 0 {
        fail!(s, "unlink dots failed!");
    }
}

/// A plain file used as a directory, and a directory opened for writing.
pub fn dirfile(s: &str) {
    let fd = open("dirfile", O_CREATE);
    if fd < 0 {
        fail!(s, "create dirfile failed");
    }
    close(fd);
    if chdir("dirfile") == 0 {
        fail!(s, "chdir dirfile succeeded!");
    }
    if open("dirfile/xx", O_RDONLY) >= 0 {
        fail!(s, "open dirfile/xx succeeded!");
    }
    if open("dirfile/xx", O_CREATE) >= 0 {
        fail!(s, "create dirfile/xx succeeded!");
    }
    if mkdir("dirfile/xx") == 0 {
        fail!(s, "mkdir dirfile/xx succeeded!");
    }
    if unlink("dirfile/xx") == 0 {
        fail!(s, "unlink dirfile/xx succeeded!");
    }
    if link("README", "dirfile/xx") == 0 {
        fail!(s, "link to dirfile/xx succeeded!");
    }
    if unlink("dirfile") != 0 {
        fail!(s, "unlink dirfile failed!");
    }
    if open(".", O_RDWR) >= 0 {
        fail!(s, "open . for writing succeeded!");
    }
    let fd = open(".", O_RDONLY);
    if write(fd, b"x") > 0 {
        fail!(s, "write . succeeded!");
    }
    close(fd);
}

/// namei() must drop its inode references (more nested directories than NINODE), and empty
/// names must fail cleanly.
pub fn iref(s: &str) {
    for _ in 0..NINODE + 1 {
        if mkdir("irefd") != 0 {
            fail!(s, "mkdir irefd failed");
        }
        if chdir("irefd") != 0 {
            fail!(s, "chdir irefd failed");
        }
        mkdir("");
        link("README", "");
        let fd = open("", O_CREATE);
        if fd >= 0 {
            close(fd);
        }
        let fd = open("xx", O_CREATE);
        if fd >= 0 {
            close(fd);
        }
        unlink("xx");
    }
    for _ in 0..NINODE + 1 {
        chdir("..");
        unlink("irefd");
    }
    chdir("/");
}

fn bigdir_name(i: usize) -> [u8; 3] {
    [b'x', b'0' + (i / 64) as u8, b'0' + (i % 64) as u8]
}

/// A directory big enough to use its indirect block.
pub fn bigdir(s: &str) {
    const N: usize = 500;
    unlink("bd");
    let fd = open("bd", O_CREATE);
    if fd < 0 {
        fail!(s, "bigdir create failed");
    }
    close(fd);
    for i in 0..N {
        let name = bigdir_name(i);
        if link("bd", name) != 0 {
            fail!(s, "bigdir link(bd, {}) failed", fmt::Bytes(&name));
        }
    }
    unlink("bd");
    for i in 0..N {
        if unlink(bigdir_name(i)) != 0 {
            fail!(s, "bigdir unlink failed");
        }
    }
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

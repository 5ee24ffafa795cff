//! File-system tests: truncation, inode reference counting, opening and writing files,
//! shared descriptors, concurrent create/link/unlink (directories: dirs.rs; limits: limits.rs).

use crate::common::*;
use crate::fail;
use abi::fs::{BSIZE, MAXFILE};

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

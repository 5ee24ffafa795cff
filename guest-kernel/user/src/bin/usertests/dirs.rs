//! Directory tests: nested directories, long names, `.` and `..`, files used as directories,
//! inode references held by a working directory, big directories.

use crate::common::*;
use crate::fail;
use abi::param::NINODE;
use ulib::*;

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

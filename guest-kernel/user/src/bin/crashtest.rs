//! crashtest TAG [STEPS]: a write-heavy file-system workload for the host's kill test (the
//! emulator is killed at a random moment; after a reboot every step reported done must be on
//! the disk). In a new directory `cTAG` it repeats STEPS times (default 1000): create and write
//! a file `fI` (100 bytes to 14 KB, so direct and indirect blocks), rename it to `gI` (link +
//! unlink), delete `gI-3`; every fourth step it makes a directory `sI` holding a file `x`, and
//! two steps later removes both.
//!
//! Before each operation it prints `ct begin OP ARGS`, after it `ct done OP ARGS`, where OP is
//! `mkdir P`, `create P LEN FNV` (length and FNV-1a hash of what it wrote), `rename P Q`,
//! `unlink P`. A failed operation prints `ct fail OP ARGS` and ends the program with status 1.
#![no_std]
#![no_main]
extern crate alloc;
use alloc::format;
use alloc::string::String;
use ulib::*;
entry!(main);

/// FNV-1a, 32 bits.
fn fnv(data: &[u8]) -> u32 {
    let mut h = 0x811c_9dc5u32;
    for &b in data {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The contents of file `i` of run `tag`: 100 to 14,099 lowercase letters.
fn content(tag: u32, i: u32) -> Vec<u8> {
    let len = 100 + ((tag.wrapping_mul(7919) ^ i.wrapping_mul(104_729)) % 14_000) as usize;
    (0..len)
        .map(|j| b'a' + ((j as u32 + i * 7 + tag) % 26) as u8)
        .collect()
}

fn fail(what: &str) -> ! {
    printf!("ct fail {}\n", what);
    exit(1)
}

fn step(what: String, ok: bool) {
    if !ok {
        fail(&what);
    }
    printf!("ct done {}\n", what);
}

fn do_mkdir(p: &str) {
    let what = format!("mkdir {p}");
    printf!("ct begin {}\n", what);
    step(what, mkdir(p) == 0);
}

fn do_unlink(p: &str) {
    let what = format!("unlink {p}");
    printf!("ct begin {}\n", what);
    step(what, unlink(p) == 0);
}

fn do_create(p: &str, data: &[u8]) {
    printf!("ct begin create {}\n", p);
    let fd = open(p, O_CREATE | O_WRONLY);
    let ok = fd >= 0 && write(fd, data) == data.len() as i32;
    if fd >= 0 {
        close(fd);
    }
    step(format!("create {p} {} {:08x}", data.len(), fnv(data)), ok);
}

fn do_rename(p: &str, q: &str) {
    let what = format!("rename {p} {q}");
    printf!("ct begin {}\n", what);
    step(what, link(p, q) == 0 && unlink(p) == 0);
}

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        fprintf!(2, "usage: crashtest TAG [STEPS]\n");
        return 1;
    }
    let tag = atoi(args.bytes(1)) as u32;
    let steps = if args.len() > 2 {
        atoi(args.bytes(2)) as u32
    } else {
        1000
    };
    let dir = format!("c{tag}");
    printf!("ct start {}\n", tag);
    do_mkdir(&dir);
    for i in 0..steps {
        let f = format!("{dir}/f{i}");
        let g = format!("{dir}/g{i}");
        do_create(&f, &content(tag, i));
        do_rename(&f, &g);
        if i >= 3 {
            do_unlink(&format!("{dir}/g{}", i - 3));
        }
        if i % 4 == 0 {
            let s = format!("{dir}/s{i}");
            do_mkdir(&s);
            do_create(&format!("{s}/x"), &content(tag, i + 1000));
        }
        if i % 4 == 2 {
            let s = format!("{dir}/s{}", i - 2);
            do_unlink(&format!("{s}/x"));
            do_unlink(&s);
        }
    }
    printf!("ct end {}\n", tag);
    0
}

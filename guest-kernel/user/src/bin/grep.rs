//! grep: prints the lines matching a simple regular expression (`^`, `$`, `.`, `c*`), after
//! Kernighan and Pike's matcher, as xv6's grep.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn matchhere(re: &[u8], text: &[u8]) -> bool {
    match re {
        [] => true,
        [c, b'*', rest @ ..] => matchstar(*c, rest, text),
        [b'$'] => text.is_empty(),
        [c, rest @ ..] => match text.first() {
            Some(&t) if *c == b'.' || *c == t => matchhere(rest, &text[1..]),
            _ => false,
        },
    }
}

fn matchstar(c: u8, re: &[u8], mut text: &[u8]) -> bool {
    loop {
        if matchhere(re, text) {
            return true;
        }
        match text.first() {
            Some(&t) if t == c || c == b'.' => text = &text[1..],
            _ => return false,
        }
    }
}

fn matches(re: &[u8], text: &[u8]) -> bool {
    if let Some(rest) = re.strip_prefix(b"^") {
        return matchhere(rest, text);
    }
    let mut t = text;
    loop {
        if matchhere(re, t) {
            return true;
        }
        if t.is_empty() {
            return false;
        }
        t = &t[1..];
    }
}

fn grep(pattern: &[u8], fd: i32) {
    let mut buf = vec![0u8; 1024];
    let mut m = 0;
    loop {
        let cap = buf.len() - 1;
        let n = read(fd, &mut buf[m..cap]);
        if n <= 0 {
            break;
        }
        m += n as usize;
        let mut start = 0;
        while let Some(nl) = buf[start..m].iter().position(|&c| c == b'\n') {
            let line = &buf[start..start + nl];
            if matches(pattern, line) {
                write(1, &buf[start..start + nl + 1]);
            }
            start += nl + 1;
        }
        if start > 0 {
            buf.copy_within(start..m, 0);
            m -= start;
        } else if m == buf.len() - 1 {
            m = 0; // a line longer than the buffer: drop it, as xv6 does
        }
    }
}

fn main(args: Args) -> i32 {
    if args.len() <= 1 {
        fprintf!(2, "usage: grep pattern [file ...]\n");
        exit(1);
    }
    let pattern = args.bytes(1);
    if args.len() <= 2 {
        grep(pattern, 0);
        return 0;
    }
    for i in 2..args.len() {
        let fd = open(args.bytes(i), O_RDONLY);
        if fd < 0 {
            printf!("grep: cannot open {}\n", args.str(i));
            exit(1);
        }
        grep(pattern, fd);
        close(fd);
    }
    0
}

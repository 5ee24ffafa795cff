//! wc: counts lines, words and bytes.
#![no_std]
#![no_main]
use ulib::fmt::Bytes;
use ulib::*;
entry!(main);

fn wc(fd: i32, name: &[u8]) {
    let mut buf = vec![0u8; 512];
    let (mut l, mut w, mut c) = (0, 0, 0);
    let mut inword = false;
    loop {
        let n = read(fd, &mut buf);
        if n == 0 {
            break;
        }
        if n < 0 {
            printf!("wc: read error\n");
            exit(1);
        }
        for &ch in &buf[..n as usize] {
            c += 1;
            if ch == b'\n' {
                l += 1;
            }
            if b" \r\t\n\x0b".contains(&ch) {
                inword = false;
            } else if !inword {
                w += 1;
                inword = true;
            }
        }
    }
    printf!("{} {} {} {}\n", l, w, c, Bytes(name));
}

fn main(args: Args) -> i32 {
    if args.len() <= 1 {
        wc(0, b"");
        return 0;
    }
    for i in 1..args.len() {
        let fd = open(args.bytes(i), O_RDONLY);
        if fd < 0 {
            printf!("wc: cannot open {}\n", args.str(i));
            exit(1);
        }
        wc(fd, args.bytes(i));
        close(fd);
    }
    0
}

//! cat: copies each named file (or standard input) to standard output.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn cat(fd: i32) {
    let mut buf = vec![0u8; 512];
    loop {
        let n = read(fd, &mut buf);
        if n == 0 {
            return;
        }
        if n < 0 {
            fprintf!(2, "cat: read error\n");
            exit(1);
        }
        if write(1, &buf[..n as usize]) != n {
            fprintf!(2, "cat: write error\n");
            exit(1);
        }
    }
}

fn main(args: Args) -> i32 {
    if args.len() <= 1 {
        cat(0);
        return 0;
    }
    for i in 1..args.len() {
        let fd = open(args.bytes(i), O_RDONLY);
        if fd < 0 {
            fprintf!(2, "cat: cannot open {}\n", args.str(i));
            exit(1);
        }
        cat(fd);
        close(fd);
    }
    0
}

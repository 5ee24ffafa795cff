//! ln: creates a (hard) link.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn main(args: Args) -> i32 {
    if args.len() != 3 {
        fprintf!(2, "Usage: ln old new\n");
        exit(1);
    }
    if link(args.bytes(1), args.bytes(2)) < 0 {
        fprintf!(2, "link {} {}: failed\n", args.str(1), args.str(2));
    }
    0
}

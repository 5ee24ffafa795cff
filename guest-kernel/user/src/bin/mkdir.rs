//! mkdir: creates directories.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        fprintf!(2, "Usage: mkdir files...\n");
        exit(1);
    }
    for i in 1..args.len() {
        if mkdir(args.bytes(i)) < 0 {
            fprintf!(2, "mkdir: {} failed to create\n", args.str(i));
            break;
        }
    }
    0
}

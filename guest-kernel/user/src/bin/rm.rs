//! rm: removes files.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        fprintf!(2, "Usage: rm files...\n");
        exit(1);
    }
    for i in 1..args.len() {
        if unlink(args.bytes(i)) < 0 {
            fprintf!(2, "rm: {} failed to delete\n", args.str(i));
            break;
        }
    }
    0
}

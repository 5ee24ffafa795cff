//! kill: kills the processes whose pids are given.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        fprintf!(2, "usage: kill pid...\n");
        exit(1);
    }
    for i in 1..args.len() {
        kill(atoi(args.bytes(i)));
    }
    0
}

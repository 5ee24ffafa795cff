//! echo: prints its arguments separated by spaces.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn main(args: Args) -> i32 {
    for i in 1..args.len() {
        write(1, args.bytes(i));
        write(1, if i + 1 < args.len() { b" " } else { b"\n" });
    }
    0
}

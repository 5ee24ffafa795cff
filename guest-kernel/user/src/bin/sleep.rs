//! sleep: waits the given number of seconds (the kernel's clock ticks every 0.1 s, as xv6's on
//! QEMU, so one second is 10 ticks). The process sleeps in the kernel: the harts wait in `wfi`.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

/// Kernel clock ticks per second (the timer interrupts every 1,000,000 cycles of 10 MHz).
const TICKS_PER_SECOND: i32 = 10;

fn main(args: Args) -> i32 {
    if args.len() != 2 || !args.bytes(1).iter().all(u8::is_ascii_digit) {
        fprintf!(2, "usage: sleep seconds\n");
        exit(1);
    }
    let seconds = atoi(args.bytes(1));
    if sleep(seconds.saturating_mul(TICKS_PER_SECOND)) < 0 {
        fprintf!(2, "sleep: interrupted\n");
        exit(1);
    }
    0
}

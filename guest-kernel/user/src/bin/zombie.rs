//! zombie: leaves a zombie child behind (the parent exits without waiting).
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn main(_args: Args) -> i32 {
    if fork() > 0 {
        sleep(5); // let the child exit before the parent
    }
    0
}

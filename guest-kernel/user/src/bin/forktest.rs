//! forktest: forks until the process table is full, then reaps every child.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

const N: i32 = 1000;

fn main(_args: Args) -> i32 {
    printf!("fork test\n");
    let mut n = 0;
    while n < N {
        let pid = fork();
        if pid < 0 {
            break;
        }
        if pid == 0 {
            exit(0);
        }
        n += 1;
    }
    if n == N {
        printf!("fork claimed to work N times!\n");
        exit(1);
    }
    while n > 0 {
        if wait0() < 0 {
            printf!("wait stopped early\n");
            exit(1);
        }
        n -= 1;
    }
    if wait0() != -1 {
        printf!("wait got too many\n");
        exit(1);
    }
    printf!("fork test OK\n");
    0
}

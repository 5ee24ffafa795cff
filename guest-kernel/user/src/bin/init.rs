//! init: the first user process. Opens the console as fds 0, 1 and 2, then starts `sh` and
//! restarts it whenever it exits, reaping orphaned children meanwhile.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn main(_args: Args) -> i32 {
    if open("console", O_RDWR) < 0 {
        mknod("console", abi::CONSOLE, 0);
        open("console", O_RDWR);
    }
    dup(0); // stdout
    dup(0); // stderr
    loop {
        printf!("init: starting sh\n");
        let pid = fork();
        if pid < 0 {
            printf!("init: fork failed\n");
            exit(1);
        }
        if pid == 0 {
            exec(b"sh", &[b"sh"]);
            printf!("init: exec sh failed\n");
            exit(1);
        }
        loop {
            // Returns when the shell exits, or when a parentless process exits.
            let wpid = wait0();
            if wpid == pid {
                break;
            }
            if wpid < 0 {
                printf!("init: wait returned an error\n");
                exit(1);
            }
        }
    }
}

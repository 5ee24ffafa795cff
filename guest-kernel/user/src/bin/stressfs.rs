//! stressfs: four processes each write and read back a file of 20 blocks at the same time.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn main(_args: Args) -> i32 {
    let mut path = *b"stressfs0";
    let data = [b'a'; 512];
    printf!("stressfs starting\n");
    let mut i = 0;
    while i < 4 {
        if fork() > 0 {
            break;
        }
        i += 1;
    }
    printf!("write {}\n", i);
    path[8] += i as u8;
    let fd = open(path, O_CREATE | O_RDWR);
    for _ in 0..20 {
        write(fd, &data);
    }
    close(fd);
    printf!("read\n");
    let fd = open(path, O_RDONLY);
    let mut buf = [0u8; 512];
    for _ in 0..20 {
        read(fd, &mut buf);
    }
    close(fd);
    wait0();
    0
}

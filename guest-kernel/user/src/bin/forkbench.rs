//! forkbench SIZE_MIB [exit|exec|write] [FORKS]: grows the process by SIZE_MIB MiB (every page
//! touched, so every page is mapped and writable), then forks it FORKS times (default 3), the
//! child each time exiting at once (`exit`, the default), calling exec (`exec`), or writing one
//! byte to every page of the SIZE_MIB MiB and then exiting (`write`). One line per fork:
//!
//! `forkbench size_mib=N case=C fork_cycles=F reap_cycles=R`
//!
//! preceded, once the process has its memory, by `forkbench size_mib=N case=C ready`.
//! F: the parent's cycles inside fork(); R: cycles from the call to fork() until wait() has
//! reaped the child. Cycles are `rdcycle` (on one hart the guest's retired instructions);
//! where user mode may not read it (probed in a child) the lines say `fork_ticks`/`reap_ticks`
//! and count `rdtime` instead. SIZE_MIB is at most 2047 (sbrk takes an int). Exit status 1,
//! with a `forkbench:` line on stderr, when sbrk, fork, exec or a child fails.
#![no_std]
#![no_main]
use core::arch::asm;
use ulib::*;
entry!(main);

const PGSIZE: usize = 4096;

fn rdcycle() -> u64 {
    let v: u64;
    // SAFETY: reading a counter CSR has no side effects (or traps, killing only the reader).
    unsafe { asm!("rdcycle {0}", out(reg) v) };
    v
}

fn rdtime() -> u64 {
    let v: u64;
    // SAFETY: as above.
    unsafe { asm!("rdtime {0}", out(reg) v) };
    v
}

/// Whether user mode may read `cycle`: try it in a child (a forbidden read kills only it).
fn cycle_permitted() -> bool {
    let pid = fork();
    if pid < 0 {
        return false;
    }
    if pid == 0 {
        exit(if rdcycle() == u64::MAX { 2 } else { 0 });
    }
    let mut st = -1;
    wait(&mut st);
    st == 0
}

fn fail(what: &str) -> i32 {
    fprintf!(2, "forkbench: {}\n", what);
    1
}

fn main(args: Args) -> i32 {
    if args.len() == 2 && args.bytes(1) == b"-exit" {
        return 0; // the exec target of case `exec`
    }
    if !(2..=4).contains(&args.len()) {
        fprintf!(2, "usage: forkbench SIZE_MIB [exit|exec|write] [FORKS]\n");
        return 1;
    }
    let mib = atoi(args.bytes(1)).clamp(0, 2047) as usize;
    let case = if args.len() >= 3 {
        args.bytes(2)
    } else {
        b"exit"
    };
    let (case_name, mode) = match case {
        b"exit" => ("exit", 0),
        b"exec" => ("exec", 1),
        b"write" => ("write", 2),
        _ => return fail("the case is one of exit, exec, write"),
    };
    let forks = if args.len() == 4 {
        atoi(args.bytes(3)).max(1)
    } else {
        3
    };
    let size = mib * 1024 * 1024;
    let base = sbrk(size as i64);
    if base == usize::MAX {
        return fail("sbrk failed (give the machine more RAM: emu-cli boot --mem)");
    }
    for a in (base..base + size).step_by(PGSIZE) {
        // SAFETY: inside the sbrk'd region.
        unsafe { core::ptr::write_volatile(a as *mut u8, 1) };
    }
    let cycles = cycle_permitted();
    let (read, unit): (fn() -> u64, &str) = if cycles {
        (rdcycle, "cycles")
    } else {
        (rdtime, "ticks")
    };
    // Set-up done: drivers (benches/fork.rs) time the host from here.
    printf!("forkbench size_mib={} case={} ready\n", mib, case_name);
    for _ in 0..forks {
        let t0 = read();
        let pid = fork();
        if pid < 0 {
            return fail("fork failed");
        }
        if pid == 0 {
            match mode {
                0 => exit(0),
                1 => {
                    exec(b"/forkbench", &[b"forkbench", b"-exit"]);
                    fprintf!(2, "forkbench: exec failed\n");
                    exit(1)
                }
                _ => {
                    for a in (base..base + size).step_by(PGSIZE) {
                        // SAFETY: inside the region inherited from the parent.
                        unsafe { core::ptr::write_volatile(a as *mut u8, 2) };
                    }
                    exit(0)
                }
            }
        }
        let t1 = read();
        let mut st = 0;
        wait(&mut st);
        let t2 = read();
        if st != 0 {
            return fail("the child failed");
        }
        printf!(
            "forkbench size_mib={} case={} fork_{}={} reap_{}={}\n",
            mib,
            case_name,
            unit,
            t1 - t0,
            unit,
            t2 - t0
        );
    }
    0
}

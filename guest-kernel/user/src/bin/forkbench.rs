//! forkbench N M: grows the process to N MiB (every page touched), then forks it M times in
//! each of three modes, the child (a) exiting at once, (b) writing one byte per page then
//! exiting, (c) calling exec. Per mode it prints one machine-readable line:
//!
//! `forkbench mode=<exit|touch|exec> mib=N forks=M counter=<time|cycle|ticks> fork=<avg> total=<avg>
//!  fork_sum=<sum> total_sum=<sum>`
//!
//! `fork` is the parent's average time inside fork(), `total` the average from fork to the
//! child's reaping by wait; both in counter units. Counters are `rdtime` and, when user mode
//! may read it, `rdcycle` (probed in a child: a forbidden read kills only the child). Without
//! either, `counter=ticks` uses uptime().
#![no_std]
#![no_main]
use core::arch::asm;
use ulib::*;
entry!(main);

const PGSIZE: usize = 4096;

#[derive(Clone, Copy, PartialEq)]
enum Counter {
    Time,
    Cycle,
    Ticks,
}

fn read_counter(c: Counter) -> u64 {
    let v: u64;
    match c {
        // SAFETY: reading a user-readable counter CSR has no side effects.
        Counter::Time => unsafe { asm!("rdtime {0}", out(reg) v) },
        // SAFETY: as above.
        Counter::Cycle => unsafe { asm!("rdcycle {0}", out(reg) v) },
        Counter::Ticks => v = uptime() as u64,
    }
    v
}

/// Whether user mode may read counter `c`: try it in a child.
fn permitted(c: Counter) -> bool {
    let pid = fork();
    if pid < 0 {
        return false;
    }
    if pid == 0 {
        let v = read_counter(c);
        exit(if v == u64::MAX { 2 } else { 0 });
    }
    let mut st = -1;
    wait(&mut st);
    st == 0
}

fn main(args: Args) -> i32 {
    if args.len() == 2 && args.bytes(1) == b"-exit" {
        return 0; // the exec target of mode (c)
    }
    if args.len() != 3 {
        fprintf!(2, "usage: forkbench MiB forks\n");
        return 1;
    }
    let mib = atoi(args.bytes(1)).max(0) as usize;
    let forks = atoi(args.bytes(2)).max(1) as u64;
    let size = mib * 1024 * 1024;
    let base = sbrk(size as i64);
    if base == usize::MAX {
        fprintf!(2, "forkbench: sbrk({}) failed\n", size);
        return 1;
    }
    for a in (base..base + size).step_by(PGSIZE) {
        // SAFETY: inside the sbrk'd region.
        unsafe { core::ptr::write_volatile(a as *mut u8, 1) };
    }
    let mut counters = [Counter::Time, Counter::Cycle, Counter::Ticks];
    let mut ncounters = 0;
    for c in [Counter::Time, Counter::Cycle] {
        if permitted(c) {
            counters[ncounters] = c;
            ncounters += 1;
        }
    }
    if ncounters == 0 {
        ncounters = 1; // Ticks
        counters[0] = Counter::Ticks;
    }
    for (mode, name) in [(0, "exit"), (1, "touch"), (2, "exec")] {
        let mut fork_sum = [0u64; 2];
        let mut total_sum = [0u64; 2];
        for _ in 0..forks {
            let mut t0 = [0u64; 2];
            for k in 0..ncounters {
                t0[k] = read_counter(counters[k]);
            }
            let pid = fork();
            if pid < 0 {
                fprintf!(2, "forkbench: fork failed\n");
                return 1;
            }
            if pid == 0 {
                match mode {
                    0 => exit(0),
                    1 => {
                        for a in (base..base + size).step_by(PGSIZE) {
                            // SAFETY: inside the region inherited from the parent.
                            unsafe { core::ptr::write_volatile(a as *mut u8, 2) };
                        }
                        exit(0)
                    }
                    _ => {
                        exec(b"/forkbench", &[b"forkbench", b"-exit"]);
                        fprintf!(2, "forkbench: exec failed\n");
                        exit(1)
                    }
                }
            }
            for k in 0..ncounters {
                fork_sum[k] += read_counter(counters[k]).wrapping_sub(t0[k]);
            }
            let mut st = 0;
            wait(&mut st);
            if st != 0 {
                fprintf!(2, "forkbench: child failed with status {}\n", st);
                return 1;
            }
            for k in 0..ncounters {
                total_sum[k] += read_counter(counters[k]).wrapping_sub(t0[k]);
            }
        }
        for k in 0..ncounters {
            let cname = match counters[k] {
                Counter::Time => "time",
                Counter::Cycle => "cycle",
                Counter::Ticks => "ticks",
            };
            printf!(
                "forkbench mode={} mib={} forks={} counter={} fork={} total={} fork_sum={} total_sum={}\n",
                name,
                mib,
                forks,
                cname,
                fork_sum[k] / forks,
                total_sum[k] / forks,
                fork_sum[k],
                total_sum[k]
            );
        }
    }
    0
}

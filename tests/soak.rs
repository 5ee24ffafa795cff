//! Soak (issue 12): `usertests -q` five times in one boot, then `cowstat`: the free page count
//! is back to what it was after boot — no page leaked by fork, COW faults, exec, pipes or exit.
//! Slow (five usertests runs, several minutes): `cargo test --test soak -- --ignored`.

mod common;

use common::{Guest, COMMAND_BUDGET};

/// `free_pages N` from cowstat's output.
fn free_pages(out: &str) -> u64 {
    out.lines()
        .find_map(|l| l.strip_prefix("free_pages "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no free_pages in cowstat output:\n{out}"))
}

#[test]
#[ignore = "slow: five usertests -q runs; run with --ignored"]
fn usertests_five_times_leak_no_page() {
    let mut g = Guest::boot(images::KERNEL_IMG, 3, Some(7));
    let after_boot = free_pages(&g.run_command("cowstat", COMMAND_BUDGET));
    for run in 1..=5 {
        let out = g.run_command("usertests -q", 4 * COMMAND_BUDGET);
        assert!(out.contains("ALL TESTS PASSED"), "run {run}:\n{out}");
    }
    let after_soak = free_pages(&g.run_command("cowstat", COMMAND_BUDGET));
    assert_eq!(
        after_soak, after_boot,
        "free pages after five usertests runs vs after boot"
    );
}

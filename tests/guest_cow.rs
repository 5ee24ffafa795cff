//! Issue 5: copy-on-write fork. cowtest passes on 1 and 3 harts; usertests -q passes on 3; and
//! on the eager-copying kernel cowtest's `simple` fails (the test has teeth).
mod common;
use common::{Guest, COMMAND_BUDGET};

fn cowtest(harts: usize) {
    let mut g = Guest::boot(images::KERNEL_IMG, harts, None);
    let out = g.run_command("cowtest", COMMAND_BUDGET);
    assert!(
        out.contains("ALL COW TESTS PASSED"),
        "cowtest on {harts} hart(s):\n{out}"
    );
    for t in ["simple: ok", "three: ok", "file: ok", "forkfork: ok"] {
        assert!(out.contains(t), "cowtest lacks `{t}`:\n{out}");
    }
    // The counters moved: faults were taken, and both kinds of resolution happened.
    let stat = g.run_command("cowstat", 100_000_000);
    let field = |name: &str| -> u64 {
        let line = stat
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("cowstat lacks {name}:\n{stat}"));
        line.split_whitespace()
            .rev()
            .find_map(|w| w.parse().ok())
            .unwrap()
    };
    assert!(field("faults") > 0, "{stat}");
    assert!(field("copied") > 0, "{stat}");
}

#[test]
fn cowtest_passes_on_one_hart() {
    cowtest(1);
}

#[test]
fn cowtest_passes_on_three_harts() {
    cowtest(3);
}

#[test]
fn usertests_quick_pass_on_three_harts() {
    let mut g = Guest::boot(images::KERNEL_IMG, 3, None);
    let out = g.run_command("usertests -q", 4 * COMMAND_BUDGET);
    assert!(out.contains("ALL TESTS PASSED"), "usertests -q:\n{out}");
}

#[test]
fn eager_fork_kernel_fails_cowtest_simple() {
    let mut g = Guest::boot(images::KERNEL_EAGER_IMG, 1, None);
    let out = g.run_command("cowtest", COMMAND_BUDGET);
    assert!(
        !out.contains("ALL COW TESTS PASSED"),
        "eager fork passed cowtest:\n{out}"
    );
    assert!(
        !out.contains("simple: ok"),
        "eager fork passed simple:\n{out}"
    );
    assert!(out.contains("simple"), "cowtest did not run simple:\n{out}");
}

/// cowtest sizes `simple` from the RAM the kernel manages (as the lab sizes it from PHYSTOP), so
/// with more RAM than the default board's eager fork still cannot pass and COW fork still does.
#[test]
fn cowtest_simple_scales_with_ram() {
    const RAM: u64 = 384 << 20;
    let mut eager = Guest::boot_with_ram(images::KERNEL_EAGER_IMG, 1, None, RAM);
    let out = eager.run_command("cowtest", COMMAND_BUDGET);
    assert!(out.contains("simple"), "cowtest did not run simple:\n{out}");
    assert!(
        !out.contains("simple: ok"),
        "eager fork passed simple with 384 MiB:\n{out}"
    );
    let mut cow = Guest::boot_with_ram(images::KERNEL_IMG, 1, None, RAM);
    let out = cow.run_command("cowtest", COMMAND_BUDGET);
    assert!(
        out.contains("ALL COW TESTS PASSED"),
        "COW fork failed cowtest with 384 MiB:\n{out}"
    );
}

#[test]
fn same_seed_gives_byte_identical_console_output() {
    let run = || {
        let mut g = Guest::boot(images::KERNEL_IMG, 3, Some(42));
        g.run_command("forktest", 2_000_000_000);
        g.console.output()
    };
    let (a, b) = (run(), run());
    assert!(
        String::from_utf8_lossy(&a).contains("fork test OK"),
        "{}",
        String::from_utf8_lossy(&a)
    );
    assert_eq!(a, b, "two runs with seed 42 differ");
}

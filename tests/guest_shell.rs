//! Issue 4: the bundled kernel boots on emu-core, and its shell runs echo, ls, a pipeline and a
//! redirection; the same with 3 harts.
mod common;
use common::Guest;

#[test]
fn shell_echo_ls_pipeline_redirection_on_one_hart() {
    let mut g = Guest::boot(images::KERNEL_IMG, 1, None);

    let out = g.run_command("echo hello rvcow", 100_000_000);
    assert!(out.contains("hello rvcow\n"), "echo: {out}");

    let out = g.run_command("ls", 200_000_000);
    for name in ["README", "cowtest", "usertests", "sh", "init", "console"] {
        assert!(out.contains(name), "ls lacks {name}: {out}");
    }

    // A pipeline: three words through wc → "1 3 14" (lines words bytes).
    let out = g.run_command("echo one two three | wc", 200_000_000);
    assert!(out.contains("1 3 14"), "pipeline: {out}");

    // Redirection out and back in.
    let out = g.run_command("echo written > f.txt ; cat < f.txt", 200_000_000);
    assert!(out.contains("written\n"), "redirection: {out}");
    let out = g.run_command("grep writ f.txt", 200_000_000);
    assert!(out.contains("written"), "grep of redirected file: {out}");
}

#[test]
fn three_harts_boot_and_run_commands() {
    let mut g = Guest::boot(images::KERNEL_IMG, 3, None);
    let out = g.run_command("echo a b | wc ; ls README", 300_000_000);
    assert!(out.contains("1 2 4"), "pipeline on 3 harts: {out}");
    assert!(out.contains("README"), "ls on 3 harts: {out}");
    let instret = g.machine.stats().instret;
    assert_eq!(instret.len(), 3);
    assert!(
        instret.iter().all(|&n| n > 0),
        "every hart ran: {instret:?}"
    );
}

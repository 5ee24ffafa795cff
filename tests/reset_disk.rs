//! A machine reset (what a guest reset request does) reboots the bundled kernel from scratch —
//! harts, devices and RAM to power-on, the kernel loaded again — while the disk and what the
//! guest wrote to it stay.
mod common;
use common::Guest;

#[test]
fn reset_reboots_the_kernel_and_keeps_the_disk() {
    let mut g = Guest::boot(images::KERNEL_IMG, 2, None);
    let out = g.run_command(
        "echo kept across reset > keep.txt ; cat keep.txt",
        200_000_000,
    );
    assert!(out.contains("kept across reset\n"), "{out}");
    g.machine.reset().expect("reset reloads the kernel");
    assert_eq!(g.machine.hart(0).pc, 0x1000);
    assert_eq!(g.machine.hart(1).pc, 0x1000);
    let out = g.wait_for("$ ", 2_000_000_000);
    assert!(
        out.contains("rvcow kernel is booting"),
        "no second boot: {out}"
    );
    let out = g.run_command("cat keep.txt", 200_000_000);
    assert!(
        out.contains("kept across reset\n"),
        "disk lost the file: {out}"
    );
}

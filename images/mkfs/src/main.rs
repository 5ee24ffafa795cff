//! `mkfs fs.img FILE...`: writes an xv6-format file-system image holding FILEs in its root
//! directory, like xv6's mkfs (the directory part of each path and one leading `_` are dropped).
//!
//! `mkfs --check IMG`: checks an xv6 file system (see `mkfs::check`); prints one line per
//! problem and exits 0 when the file system is consistent, 1 when it is not, 2 when the image
//! cannot be read.

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "--check" {
        std::process::exit(check(&args[2]));
    }
    if args.len() < 2 || args[1].starts_with("--") {
        bail!("usage: mkfs fs.img FILE...  |  mkfs --check fs.img");
    }
    let mut contents = Vec::new();
    for path in &args[2..] {
        let data = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
        contents.push((mkfs::image_name(path), data));
    }
    let files: Vec<(&str, &[u8])> = contents.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    let img = mkfs::make_fs_image(&files).context("cannot build the image")?;
    std::fs::write(&args[1], img).with_context(|| format!("cannot write {}", args[1]))?;
    let sb = mkfs::superblock();
    println!(
        "nmeta {} (boot, super, log blocks {} inode blocks {}, bitmap blocks {}) blocks {} total {}",
        mkfs::NMETA,
        sb.nlog,
        mkfs::NINODEBLOCKS,
        mkfs::NBITMAP,
        sb.nblocks,
        sb.size
    );
    Ok(())
}

/// `mkfs --check IMG`: the exit status.
fn check(path: &str) -> i32 {
    let img = match std::fs::read(path) {
        Ok(img) => img,
        Err(e) => {
            eprintln!("mkfs: {path}: {e}; give an xv6 file-system image");
            return 2;
        }
    };
    let report = mkfs::check::check(&img);
    for p in &report.problems {
        println!("{path}: {p}");
    }
    if report.consistent() {
        let log = match report.log_replayed {
            0 => "log empty".to_string(),
            n => format!("log holds a committed transaction of {n} blocks (replayed in memory; the kernel installs it at boot)"),
        };
        println!(
            "{path}: consistent: {} inodes and {} data blocks in use, {log}",
            report.inodes_used, report.blocks_used
        );
        0
    } else {
        println!("{path}: {} problems", report.problems.len());
        1
    }
}

//! `mkfs fs.img FILE...`: writes an xv6-format file-system image holding FILEs in its root
//! directory, like xv6's mkfs (the directory part of each path and one leading `_` are dropped).

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        bail!("usage: mkfs fs.img FILE...");
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

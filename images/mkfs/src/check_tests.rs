//! The checker on images corrupted on purpose: each corruption is found and named.

use super::check::{check, Problem};
use super::reader::FsReader;
use super::*;
use abi::fs::BSIZE;

/// A consistent image with a subdirectory and a hard link:
/// `/d` (inode 2, a directory holding `.`, `..`, `x`), `/x` (inode 3, also `/d/x`), `/big`
/// (inode 4, using the indirect block).
fn sample() -> Vec<u8> {
    let mut dir = Vec::new();
    dir.extend(encode_dirent(2, b"."));
    dir.extend(encode_dirent(1, b".."));
    dir.extend(encode_dirent(3, b"x"));
    let big: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
    let mut img = make_fs_image(&[("d", &dir), ("x", b"hello\n"), ("big", &big)]).unwrap();
    edit_inode(&mut img, 2, |d| d.typ = T_DIR);
    edit_inode(&mut img, 3, |d| d.nlink = 2);
    edit_inode(&mut img, 1, |d| d.nlink = 2); // for d's ".."
    img
}

fn edit_inode(img: &mut [u8], inum: u32, f: impl FnOnce(&mut Dinode)) {
    let r = FsReader::new(img).unwrap();
    let mut d = r.inode(inum).unwrap();
    let at = r.sb.iblock(inum) as usize * BSIZE + (inum as usize % IPB) * 64;
    f(&mut d);
    img[at..at + 64].copy_from_slice(&encode_dinode(&d));
}

/// Byte offset of entry `index` of directory `inum` (its first block).
fn dirent_at(img: &[u8], inum: u32, index: usize) -> usize {
    let r = FsReader::new(img).unwrap();
    r.inode(inum).unwrap().addrs[0] as usize * BSIZE + 16 * index
}

fn set_bit(img: &mut [u8], b: u32, on: bool) {
    let at = superblock().bmapstart as usize * BSIZE + b as usize / 8;
    if on {
        img[at] |= 1 << (b % 8);
    } else {
        img[at] &= !(1 << (b % 8));
    }
}

fn assert_found(img: &[u8], want: Problem) {
    let r = check(img);
    assert!(
        r.problems.contains(&want),
        "wanted {want:?} ({want}); found {:?}",
        r.problems
    );
    // The message names it, on one line.
    assert!(!want.to_string().contains('\n'));
}

#[test]
fn fresh_images_are_consistent() {
    let r = check(&make_fs_image(&[("a", b"x"), ("b", &[7u8; 30_000])]).unwrap());
    assert_eq!(r.problems, vec![]);
    assert_eq!((r.inodes_used, r.log_replayed), (3, 0));
    let r = check(&sample());
    assert_eq!(r.problems, vec![]);
    assert_eq!(r.inodes_used, 4);
}

#[test]
fn superblock_corruptions() {
    let mut img = sample();
    img[BSIZE] ^= 1;
    assert_found(&img, Problem::BadMagic(FSMAGIC ^ 1));
    let mut img = sample();
    img[BSIZE + 8] += 1; // nblocks
    assert!(
        matches!(check(&img).problems[..], [Problem::BadLayout(ref w)] if w.contains("nblocks"))
    );
    let mut img = sample();
    img[BSIZE + 4..BSIZE + 8].copy_from_slice(&3000u32.to_le_bytes()); // size
    assert!(
        matches!(check(&img).problems[..], [Problem::BadLayout(ref w)] if w.contains("size 3000"))
    );
    let mut img = sample();
    img[BSIZE + 24..BSIZE + 28].copy_from_slice(&10u32.to_le_bytes()); // inodestart in the log
    assert!(
        matches!(check(&img).problems[..], [Problem::BadLayout(ref w)] if w.contains("inside the log"))
    );
    assert_found(&sample()[..1500], Problem::ImageSize(1500));
}

#[test]
fn log_header_corruptions_and_replay() {
    let logstart = superblock().logstart as usize;
    let mut img = sample();
    img[logstart * BSIZE..logstart * BSIZE + 4].copy_from_slice(&40u32.to_le_bytes());
    assert_found(&img, Problem::LogCount { n: 40, nlog: NLOG });

    let mut img = sample();
    let head = logstart * BSIZE;
    img[head..head + 4].copy_from_slice(&1u32.to_le_bytes());
    img[head + 4..head + 8].copy_from_slice(&3u32.to_le_bytes());
    assert_found(&img, Problem::LogBlock { slot: 0, block: 3 });

    // A committed transaction that rewrites x's data block: replayed before checking.
    let mut img = sample();
    let xblock = FsReader::new(&img).unwrap().inode(3).unwrap().addrs[0];
    img[head..head + 8].copy_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    img[head + 4..head + 8].copy_from_slice(&xblock.to_le_bytes());
    img[head + BSIZE..head + BSIZE + 6].copy_from_slice(b"HELLO\n");
    let r = check(&img);
    assert_eq!((r.problems.clone(), r.log_replayed), (vec![], 1));
    // A committed transaction that frees a block the bitmap still marks (the log holds the
    // new bitmap block): replayed, the bitmap agrees.
    let mut img = sample();
    let bmap = superblock().bmapstart;
    let mut newmap = img[bmap as usize * BSIZE..(bmap as usize + 1) * BSIZE].to_vec();
    newmap[(xblock / 8) as usize] &= !(1 << (xblock % 8));
    edit_inode(&mut img, 3, |d| d.addrs[0] = 0);
    img[head..head + 4].copy_from_slice(&1u32.to_le_bytes());
    img[head + 4..head + 8].copy_from_slice(&bmap.to_le_bytes());
    img[head + BSIZE..head + 2 * BSIZE].copy_from_slice(&newmap);
    assert_eq!(check(&img).problems, vec![]);
}

#[test]
fn inode_and_block_corruptions() {
    let mut img = sample();
    edit_inode(&mut img, 3, |d| d.typ = 7);
    assert_found(&img, Problem::BadType { inum: 3, typ: 7 });

    let mut img = sample();
    edit_inode(&mut img, 3, |d| d.size = 300_000);
    assert_found(
        &img,
        Problem::BadSize {
            inum: 3,
            size: 300_000,
        },
    );

    let mut img = sample();
    edit_inode(&mut img, 3, |d| d.addrs[1] = 5);
    assert_found(&img, Problem::BadBlock { inum: 3, block: 5 });

    let mut img = sample();
    let xblock = FsReader::new(&img).unwrap().inode(3).unwrap().addrs[0];
    edit_inode(&mut img, 4, |d| d.addrs[2] = xblock);
    assert_found(
        &img,
        Problem::DupBlock {
            block: xblock,
            first: 3,
            second: 4,
        },
    );

    let mut img = sample();
    set_bit(&mut img, xblock, false);
    assert_found(
        &img,
        Problem::BlockNotMarked {
            block: xblock,
            inum: 3,
        },
    );

    let mut img = sample();
    set_bit(&mut img, 1500, true);
    assert_found(&img, Problem::BlockLeaked(1500));

    let mut img = sample();
    set_bit(&mut img, 33, false);
    assert_found(&img, Problem::MetaNotMarked(33));

    // An indirect entry outside the data area.
    let mut img = sample();
    let ind = FsReader::new(&img).unwrap().inode(4).unwrap().addrs[NDIRECT] as usize;
    img[ind * BSIZE..ind * BSIZE + 4].copy_from_slice(&1u32.to_le_bytes());
    assert_found(&img, Problem::BadBlock { inum: 4, block: 1 });
}

#[test]
fn directory_corruptions() {
    let mut img = sample();
    edit_inode(&mut img, 1, |d| d.typ = T_FILE);
    assert_found(&img, Problem::RootNotDir(T_FILE));

    let mut img = sample();
    edit_inode(&mut img, 2, |d| d.size = 40);
    assert_found(&img, Problem::DirSize { inum: 2, size: 40 });

    let mut img = sample();
    let at = dirent_at(&img, 2, 2);
    img[at..at + 2].copy_from_slice(&500u16.to_le_bytes());
    assert_found(
        &img,
        Problem::EntryOutOfRange {
            dir: 2,
            name: "x".into(),
            inum: 500,
        },
    );

    let mut img = sample();
    img[at..at + 2].copy_from_slice(&9u16.to_le_bytes());
    assert_found(
        &img,
        Problem::EntryFreeInode {
            dir: 2,
            name: "x".into(),
            inum: 9,
        },
    );

    let mut img = sample();
    img[at + 2..at + 5].copy_from_slice(b"a/b");
    assert_found(
        &img,
        Problem::BadName {
            dir: 2,
            name: "a/b".into(),
        },
    );

    let mut img = sample();
    let root_x = dirent_at(&img, 1, 3);
    img[root_x + 2] = b'd'; // root's "x" renamed "d": a second "d"
    assert_found(
        &img,
        Problem::DupName {
            dir: 1,
            name: "d".into(),
        },
    );

    let mut img = sample();
    let dot = dirent_at(&img, 2, 0);
    img[dot..dot + 2].copy_from_slice(&3u16.to_le_bytes());
    assert_found(&img, Problem::BadDot { dir: 2 });

    let mut img = sample();
    img[dot + 16..dot + 18].copy_from_slice(&3u16.to_le_bytes());
    assert_found(&img, Problem::BadDotDot { dir: 2, parent: 1 });

    // Root's "x" made to name directory d: d entered twice (and x is now unreachable).
    let mut img = sample();
    img[root_x..root_x + 2].copy_from_slice(&2u16.to_le_bytes());
    assert_found(&img, Problem::DirLinkedTwice { inum: 2 });
}

#[test]
fn link_count_corruptions() {
    let mut img = sample();
    edit_inode(&mut img, 3, |d| d.nlink = 1);
    assert_found(
        &img,
        Problem::LinkCount {
            inum: 3,
            nlink: 1,
            refs: 2,
        },
    );

    let mut img = sample();
    edit_inode(&mut img, 1, |d| d.nlink = 1); // d's ".." not counted
    assert_found(
        &img,
        Problem::LinkCount {
            inum: 1,
            nlink: 1,
            refs: 2,
        },
    );

    let mut img = sample();
    edit_inode(&mut img, 20, |d| {
        d.typ = T_FILE;
        d.nlink = 1
    });
    assert_found(&img, Problem::Unreachable { inum: 20, nlink: 1 });
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let mut img = sample();
    edit_inode(&mut img, 3, |d| d.typ = 7);
    set_bit(&mut img, 1500, true);
    edit_inode(&mut img, 20, |d| d.typ = T_FILE);
    assert_eq!(check(&img).problems.len(), 3, "{:?}", check(&img).problems);
}

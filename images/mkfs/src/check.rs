//! `mkfs --check`: a host-side consistency checker for xv6 file systems (ours and stock
//! xv6's), in the spirit of fsck. It replays a committed log in memory first (as the kernel's
//! `recover_from_log` does at boot), then checks:
//!
//! - the superblock: magic, sizes, and a layout `[boot | super | log | inodes | bitmap | data]`
//!   that fits the image;
//! - the log header: count below `nlog`, every logged block a block of the file system outside
//!   the log;
//! - inodes: known types (0, T_DIR, T_FILE, T_DEVICE), sizes within MAXFILE blocks;
//! - blocks: every block an inode points at (direct, indirect, and the indirect block itself) a
//!   data block, referenced exactly once; the free bitmap marks exactly the metadata blocks and
//!   the referenced blocks;
//! - directories: sizes a multiple of 16, entries naming allocated inodes with non-empty names
//!   without `/`, no name twice, `.` first naming the directory, `..` second naming its parent
//!   (the root's parent is itself), no directory entered from two places;
//! - links: every allocated inode reachable from the root, and `nlink` equal to the number of
//!   directory entries naming it (`.` entries not counted, as xv6 counts links).
//!
//! Every problem is reported, each on its own line, naming the inode or block concerned.
//! Allocations are bounded by the image size, whatever the image says.

use std::collections::{HashSet, VecDeque};
use std::fmt;

use abi::fs::{BPB, BSIZE, DIRSIZ, FSMAGIC, IPB, MAXFILE, NDIRECT, NINDIRECT, ROOTINO};
use abi::{T_DEVICE, T_DIR, T_FILE};

/// One inconsistency, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The image is smaller than two blocks or not a whole number of blocks.
    ImageSize(usize),
    /// The superblock's magic number is wrong.
    BadMagic(u32),
    /// The superblock's sizes or layout do not fit together or the image (what is wrong).
    BadLayout(String),
    /// The log header counts more blocks than the log holds.
    LogCount { n: u32, nlog: u32 },
    /// The log header names a block that is not a file-system block outside the log.
    LogBlock { slot: u32, block: u32 },
    /// An inode has an unknown type.
    BadType { inum: u32, typ: i16 },
    /// An inode's size is larger than MAXFILE blocks.
    BadSize { inum: u32, size: u32 },
    /// An inode points at a block outside the data area.
    BadBlock { inum: u32, block: u32 },
    /// A data block is referenced twice.
    DupBlock { block: u32, first: u32, second: u32 },
    /// A referenced block is free in the bitmap.
    BlockNotMarked { block: u32, inum: u32 },
    /// A block is marked in use in the bitmap but nothing references it.
    BlockLeaked(u32),
    /// A metadata block (boot, superblock, log, inodes, bitmap) is free in the bitmap.
    MetaNotMarked(u32),
    /// The root inode is not a directory.
    RootNotDir(i16),
    /// A directory's size is not a multiple of the 16-byte entry.
    DirSize { inum: u32, size: u32 },
    /// A directory entry names an inode number beyond the inode table.
    EntryOutOfRange { dir: u32, name: String, inum: u32 },
    /// A directory entry names a free inode.
    EntryFreeInode { dir: u32, name: String, inum: u32 },
    /// A directory entry's name is empty or contains `/`.
    BadName { dir: u32, name: String },
    /// A name appears twice in one directory.
    DupName { dir: u32, name: String },
    /// `.` is missing, not the first entry, or does not name the directory.
    BadDot { dir: u32 },
    /// `..` is missing, not the second entry, or does not name the parent.
    BadDotDot { dir: u32, parent: u32 },
    /// A directory is entered from more than one directory entry.
    DirLinkedTwice { inum: u32 },
    /// An allocated inode no directory entry reaches.
    Unreachable { inum: u32, nlink: i16 },
    /// An inode's link count differs from the entries naming it.
    LinkCount { inum: u32, nlink: i16, refs: u32 },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Problem::*;
        match self {
            ImageSize(n) => write!(f, "image size {n} bytes: not a whole number of {BSIZE}-byte blocks, or under two"),
            BadMagic(m) => write!(f, "superblock: magic {m:#x}, not {FSMAGIC:#x}"),
            BadLayout(what) => write!(f, "superblock: {what}"),
            LogCount { n, nlog } => write!(f, "log header: {n} blocks logged, but the log holds {}", nlog.saturating_sub(1)),
            LogBlock { slot, block } => write!(f, "log header: slot {slot} names block {block}, not a file-system block outside the log"),
            BadType { inum, typ } => write!(f, "inode {inum}: unknown type {typ}"),
            BadSize { inum, size } => write!(f, "inode {inum}: size {size} bytes is over MAXFILE ({} bytes)", MAXFILE * BSIZE),
            BadBlock { inum, block } => write!(f, "inode {inum}: block {block} is outside the data area"),
            DupBlock { block, first, second } => write!(f, "block {block}: used by inode {first} and again by inode {second}"),
            BlockNotMarked { block, inum } => write!(f, "bitmap: block {block} is used by inode {inum} but marked free"),
            BlockLeaked(b) => write!(f, "bitmap: block {b} is marked in use but no inode uses it"),
            MetaNotMarked(b) => write!(f, "bitmap: metadata block {b} is marked free"),
            RootNotDir(t) => write!(f, "inode {ROOTINO} (root): type {t}, not a directory"),
            DirSize { inum, size } => write!(f, "directory inode {inum}: size {size} is not a multiple of 16"),
            EntryOutOfRange { dir, name, inum } => write!(f, "directory inode {dir}: entry {name:?} names inode {inum}, beyond the inode table"),
            EntryFreeInode { dir, name, inum } => write!(f, "directory inode {dir}: entry {name:?} names free inode {inum}"),
            BadName { dir, name } => write!(f, "directory inode {dir}: bad entry name {name:?}"),
            DupName { dir, name } => write!(f, "directory inode {dir}: name {name:?} appears twice"),
            BadDot { dir } => write!(f, "directory inode {dir}: first entry is not \".\" naming itself"),
            BadDotDot { dir, parent } => write!(f, "directory inode {dir}: second entry is not \"..\" naming its parent {parent}"),
            DirLinkedTwice { inum } => write!(f, "directory inode {inum}: entered from more than one directory entry"),
            Unreachable { inum, nlink } => write!(f, "inode {inum}: allocated (nlink {nlink}) but no directory entry reaches it"),
            LinkCount { inum, nlink, refs } => write!(f, "inode {inum}: nlink {nlink}, but {refs} directory entries name it"),
        }
    }
}

/// What the checker found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Inconsistencies; empty when the file system is consistent.
    pub problems: Vec<Problem>,
    /// Blocks a committed log transaction held (replayed in memory before checking; the
    /// kernel installs them at its next boot).
    pub log_replayed: u32,
    /// Allocated inodes.
    pub inodes_used: u32,
    /// Referenced data blocks.
    pub blocks_used: u32,
}

impl Report {
    /// Whether no problem was found.
    pub fn consistent(&self) -> bool {
        self.problems.is_empty()
    }
}

fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

fn le16(b: &[u8], off: usize) -> i16 {
    i16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}

/// The parts of an on-disk inode the checker reads.
#[derive(Debug, Clone, Copy)]
struct Inode {
    typ: i16,
    nlink: i16,
    size: u32,
    addrs: [u32; NDIRECT + 1],
}

/// The checked layout: every field within the image.
struct Fs {
    img: Vec<u8>,
    size: u32,
    ninodes: u32,
    nlog: u32,
    logstart: u32,
    inodestart: u32,
    bmapstart: u32,
    datastart: u32,
}

impl Fs {
    fn block(&self, b: u32) -> &[u8] {
        &self.img[b as usize * BSIZE..(b as usize + 1) * BSIZE]
    }

    fn inode(&self, inum: u32) -> Inode {
        let b = self.block(self.inodestart + inum / IPB as u32);
        let o = (inum as usize % IPB) * 64;
        let mut addrs = [0u32; NDIRECT + 1];
        for (i, a) in addrs.iter_mut().enumerate() {
            *a = le32(b, o + 12 + 4 * i);
        }
        Inode {
            typ: le16(b, o),
            nlink: le16(b, o + 6),
            size: le32(b, o + 8),
            addrs,
        }
    }

    fn marked(&self, b: u32) -> bool {
        let bm = self.block(self.bmapstart + b / BPB as u32);
        let bi = b as usize % BPB;
        bm[bi / 8] & (1 << (bi % 8)) != 0
    }

    fn is_data(&self, b: u32) -> bool {
        (self.datastart..self.size).contains(&b)
    }

    /// File block `fbn` of `ino` (0: a hole, or a block outside the data area).
    fn bmap(&self, ino: &Inode, fbn: usize) -> u32 {
        let b = if fbn < NDIRECT {
            ino.addrs[fbn]
        } else if fbn < MAXFILE && self.is_data(ino.addrs[NDIRECT]) {
            le32(self.block(ino.addrs[NDIRECT]), (fbn - NDIRECT) * 4)
        } else {
            0
        };
        if self.is_data(b) {
            b
        } else {
            0
        }
    }

    /// The contents of `ino` up to its size (capped at MAXFILE blocks; bad blocks read as 0).
    fn contents(&self, ino: &Inode) -> Vec<u8> {
        let size = (ino.size as usize).min(MAXFILE * BSIZE);
        let mut out = Vec::with_capacity(size);
        let mut fbn = 0;
        while out.len() < size {
            let n = (size - out.len()).min(BSIZE);
            match self.bmap(ino, fbn) {
                0 => out.resize(out.len() + n, 0),
                b => out.extend_from_slice(&self.block(b)[..n]),
            }
            fbn += 1;
        }
        out
    }
}

/// Checks the superblock and returns the layout, or the problems that stop the check.
fn layout(img: &[u8]) -> Result<Fs, Vec<Problem>> {
    if img.len() < 2 * BSIZE || !img.len().is_multiple_of(BSIZE) {
        return Err(vec![Problem::ImageSize(img.len())]);
    }
    let sb = &img[BSIZE..2 * BSIZE];
    let f = |i: usize| le32(sb, 4 * i);
    let (magic, size, nblocks, ninodes, nlog, logstart, inodestart, bmapstart) =
        (f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7));
    if magic != FSMAGIC {
        return Err(vec![Problem::BadMagic(magic)]);
    }
    let bad = |what: String| Err(vec![Problem::BadLayout(what)]);
    let image_blocks = (img.len() / BSIZE) as u64;
    if size as u64 > image_blocks {
        return bad(format!(
            "size {size} blocks, but the image has {image_blocks}"
        ));
    }
    let ninodeblocks = ninodes as u64 / IPB as u64 + 1;
    let nbitmap = size as u64 / BPB as u64 + 1;
    if ninodes < 2 {
        return bad(format!("{ninodes} inodes; the root is inode {ROOTINO}"));
    }
    if nlog < 2 || logstart < 2 {
        return bad(format!("log of {nlog} blocks at block {logstart}"));
    }
    if (inodestart as u64) < logstart as u64 + nlog as u64 {
        return bad(format!(
            "inodes start at block {inodestart}, inside the log (blocks {logstart}..{})",
            logstart as u64 + nlog as u64
        ));
    }
    if (bmapstart as u64) < inodestart as u64 + ninodeblocks {
        return bad(format!(
            "bitmap starts at block {bmapstart}, inside the inode table (blocks {inodestart}..{})",
            inodestart as u64 + ninodeblocks
        ));
    }
    let datastart = bmapstart as u64 + nbitmap;
    if datastart > size as u64 {
        return bad(format!(
            "metadata ends at block {datastart}, beyond the size {size}"
        ));
    }
    if nblocks as u64 != size as u64 - datastart {
        return bad(format!(
            "nblocks {nblocks}, but blocks {datastart}..{size} are {} data blocks",
            size as u64 - datastart
        ));
    }
    Ok(Fs {
        img: img.to_vec(),
        size,
        ninodes,
        nlog,
        logstart,
        inodestart,
        bmapstart,
        datastart: datastart as u32,
    })
}

/// Checks the log header and replays a committed transaction into the in-memory image.
/// Returns the number of blocks replayed.
fn replay_log(fs: &mut Fs, problems: &mut Vec<Problem>) -> u32 {
    let head = fs.block(fs.logstart);
    let n = le32(head, 0);
    if n >= fs.nlog || n as usize > (BSIZE - 4) / 4 {
        problems.push(Problem::LogCount { n, nlog: fs.nlog });
        return 0;
    }
    let targets: Vec<u32> = (0..n as usize).map(|i| le32(head, 4 + 4 * i)).collect();
    let log_area = fs.logstart..fs.logstart + fs.nlog;
    let mut ok = true;
    for (slot, &block) in targets.iter().enumerate() {
        if block < 2 || block >= fs.size || log_area.contains(&block) {
            problems.push(Problem::LogBlock {
                slot: slot as u32,
                block,
            });
            ok = false;
        }
    }
    if !ok {
        return 0;
    }
    for (slot, &block) in targets.iter().enumerate() {
        let from = (fs.logstart as usize + 1 + slot) * BSIZE;
        let to = block as usize * BSIZE;
        fs.img.copy_within(from..from + BSIZE, to);
    }
    n
}

/// Checks an xv6 file-system image (see the module documentation). The image is not
/// modified: a committed log is replayed on a copy.
pub fn check(img: &[u8]) -> Report {
    let mut fs = match layout(img) {
        Ok(fs) => fs,
        Err(problems) => {
            return Report {
                problems,
                ..Report::default()
            }
        }
    };
    let mut report = Report::default();
    let problems = &mut report.problems;
    report.log_replayed = replay_log(&mut fs, problems);

    // Inodes and the blocks they own: owner[b] = inode number + 1 (0: none). `size` is within
    // the image (checked by `layout`), so this is at most one word per image block.
    let mut owner = vec![0u32; fs.size as usize];
    let mut blocks_used = 0;
    let mut inodes = Vec::with_capacity(fs.ninodes as usize);
    for inum in 0..fs.ninodes {
        let ino = fs.inode(inum);
        inodes.push(ino);
        if inum == 0 || ino.typ == 0 {
            continue;
        }
        report.inodes_used += 1;
        if ![T_DIR, T_FILE, T_DEVICE].contains(&ino.typ) {
            problems.push(Problem::BadType { inum, typ: ino.typ });
        }
        if ino.size as usize > MAXFILE * BSIZE {
            problems.push(Problem::BadSize {
                inum,
                size: ino.size,
            });
        }
        let mut blocks: Vec<u32> = ino.addrs.iter().copied().filter(|&b| b != 0).collect();
        let ind = ino.addrs[NDIRECT];
        if fs.is_data(ind) {
            let ib = fs.block(ind);
            blocks.extend((0..NINDIRECT).map(|i| le32(ib, 4 * i)).filter(|&b| b != 0));
        }
        for block in blocks {
            if !fs.is_data(block) {
                problems.push(Problem::BadBlock { inum, block });
            } else if owner[block as usize] != 0 {
                problems.push(Problem::DupBlock {
                    block,
                    first: owner[block as usize] - 1,
                    second: inum,
                });
            } else {
                owner[block as usize] = inum + 1;
                blocks_used += 1;
            }
        }
    }
    report.blocks_used = blocks_used;

    // The bitmap against what is referenced.
    for b in 0..fs.size {
        let marked = fs.marked(b);
        if b < fs.datastart {
            if !marked {
                problems.push(Problem::MetaNotMarked(b));
            }
        } else {
            match (marked, owner[b as usize]) {
                (false, owned) if owned != 0 => problems.push(Problem::BlockNotMarked {
                    block: b,
                    inum: owned - 1,
                }),
                (true, 0) => problems.push(Problem::BlockLeaked(b)),
                _ => {}
            }
        }
    }

    // Directories, from the root.
    let root = inodes[ROOTINO as usize];
    if root.typ != T_DIR {
        problems.push(Problem::RootNotDir(root.typ));
        return report;
    }
    let mut refs = vec![0u32; fs.ninodes as usize];
    let mut entered = vec![false; fs.ninodes as usize];
    entered[ROOTINO as usize] = true;
    let mut queue = VecDeque::from([(ROOTINO, ROOTINO)]);
    while let Some((dir, parent)) = queue.pop_front() {
        let ino = inodes[dir as usize];
        if ino.size % 16 != 0 {
            problems.push(Problem::DirSize {
                inum: dir,
                size: ino.size,
            });
        }
        let data = fs.contents(&ino);
        // Names seen in this directory (a set: a directory may hold thousands of entries).
        let mut names: HashSet<&[u8]> = HashSet::new();
        let mut live = 0;
        for e in data.chunks_exact(16) {
            let inum = u16::from_le_bytes([e[0], e[1]]) as u32;
            if inum == 0 {
                continue;
            }
            let raw = &e[2..2 + DIRSIZ];
            let name = &raw[..raw.iter().position(|&c| c == 0).unwrap_or(DIRSIZ)];
            let shown = String::from_utf8_lossy(name).into_owned();
            let index = live;
            live += 1;
            if name.is_empty() || name.contains(&b'/') {
                problems.push(Problem::BadName { dir, name: shown });
                continue;
            }
            if !names.insert(name) {
                problems.push(Problem::DupName {
                    dir,
                    name: shown.clone(),
                });
            }
            match (name, index) {
                (b".", 0) if inum == dir => continue,
                (b".", _) | (_, 0) => {
                    problems.push(Problem::BadDot { dir });
                    if name == b"." {
                        continue;
                    }
                }
                (b"..", 1) if inum == parent => {}
                (b"..", _) | (_, 1) => problems.push(Problem::BadDotDot { dir, parent }),
                _ => {}
            }
            if inum >= fs.ninodes {
                problems.push(Problem::EntryOutOfRange {
                    dir,
                    name: shown,
                    inum,
                });
                continue;
            }
            let target = inodes[inum as usize];
            if target.typ == 0 {
                problems.push(Problem::EntryFreeInode {
                    dir,
                    name: shown,
                    inum,
                });
                continue;
            }
            refs[inum as usize] += 1;
            if name == b".." {
                continue;
            }
            if target.typ == T_DIR {
                if entered[inum as usize] {
                    problems.push(Problem::DirLinkedTwice { inum });
                } else {
                    entered[inum as usize] = true;
                    queue.push_back((inum, dir));
                }
            } else {
                entered[inum as usize] = true;
            }
        }
        if live < 2 {
            if live == 0 {
                problems.push(Problem::BadDot { dir });
            }
            problems.push(Problem::BadDotDot { dir, parent });
        }
    }

    // Reachability and link counts.
    for inum in 1..fs.ninodes {
        let ino = inodes[inum as usize];
        if ino.typ == 0 {
            continue;
        }
        if !entered[inum as usize] {
            problems.push(Problem::Unreachable {
                inum,
                nlink: ino.nlink,
            });
        } else if ino.nlink as i64 != refs[inum as usize] as i64 {
            problems.push(Problem::LinkCount {
                inum,
                nlink: ino.nlink,
                refs: refs[inum as usize],
            });
        }
    }
    report
}

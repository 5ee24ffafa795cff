//! mkfs: builds an xv6-format file-system image in memory.
//!
//! The layout is exactly the one stock xv6-riscv's `mkfs/mkfs.c` writes, so images are
//! interchangeable between xv6 and rvcow's kernel:
//!
//! ```text
//! [ boot block | superblock | log (LOGSIZE) | inodes (NINODES/IPB + 1) | bitmap | data ]
//!   block 0      block 1      2..32           32..45                     45       46..2000
//! ```
//!
//! Inode 1 is the root directory holding `.`, `..` and one entry per file, in the order given.
//! Data blocks are handed out in order from the first data block; the bitmap marks every block
//! below the first unused one as allocated. All integers are little-endian (xv6 kernel/fs.h).

use abi::fs::{Dinode, Superblock, BPB, BSIZE, DIRSIZ, FSMAGIC, IPB, MAXFILE, NDIRECT, ROOTINO};
use abi::param::{FSSIZE, LOGSIZE};
use abi::{T_DIR, T_FILE};

pub mod check;
pub mod reader;

/// Number of inodes in the image (xv6 mkfs.c `NINODES`).
pub const NINODES: u32 = 200;
/// Blocks of the free-block bitmap.
pub const NBITMAP: u32 = (FSSIZE / BPB + 1) as u32;
/// Blocks of the inode table.
pub const NINODEBLOCKS: u32 = NINODES / IPB as u32 + 1;
/// Blocks of the log.
pub const NLOG: u32 = LOGSIZE as u32;
/// Metadata blocks: boot, superblock, log, inodes, bitmap.
pub const NMETA: u32 = 2 + NLOG + NINODEBLOCKS + NBITMAP;

/// Why an image could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MkfsError {
    /// The file name is empty, longer than DIRSIZ (14) bytes, contains `/`, or is `.`/`..`.
    #[error("bad file name {0:?}: names must be 1..=14 bytes, without '/', and not . or ..")]
    BadName(String),
    /// Two files have the same name.
    #[error("duplicate file name {0:?}")]
    Duplicate(String),
    /// A file is larger than MAXFILE blocks (268 KiB).
    #[error("file {name:?} is {size} bytes; the xv6 maximum is {max} bytes")]
    FileTooBig {
        name: String,
        size: usize,
        max: usize,
    },
    /// More files than inodes.
    #[error("too many files: the image holds {} inodes", NINODES - 1)]
    OutOfInodes,
    /// The files do not fit in the image's data blocks.
    #[error("the files do not fit in a {} block image", FSSIZE)]
    DiskFull,
}

/// The superblock every image this crate makes carries.
pub fn superblock() -> Superblock {
    Superblock {
        magic: FSMAGIC,
        size: FSSIZE as u32,
        nblocks: FSSIZE as u32 - NMETA,
        ninodes: NINODES,
        nlog: NLOG,
        logstart: 2,
        inodestart: 2 + NLOG,
        bmapstart: 2 + NLOG + NINODEBLOCKS,
    }
}

/// Encodes a superblock as its 32 on-disk bytes.
pub fn encode_superblock(sb: &Superblock) -> [u8; 32] {
    let mut out = [0u8; 32];
    let fields = [
        sb.magic,
        sb.size,
        sb.nblocks,
        sb.ninodes,
        sb.nlog,
        sb.logstart,
        sb.inodestart,
        sb.bmapstart,
    ];
    for (i, f) in fields.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&f.to_le_bytes());
    }
    out
}

/// Encodes an on-disk inode as its 64 bytes.
pub fn encode_dinode(d: &Dinode) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[0..2].copy_from_slice(&d.typ.to_le_bytes());
    out[2..4].copy_from_slice(&d.major.to_le_bytes());
    out[4..6].copy_from_slice(&d.minor.to_le_bytes());
    out[6..8].copy_from_slice(&d.nlink.to_le_bytes());
    out[8..12].copy_from_slice(&d.size.to_le_bytes());
    for (i, a) in d.addrs.iter().enumerate() {
        out[12 + i * 4..16 + i * 4].copy_from_slice(&a.to_le_bytes());
    }
    out
}

/// Encodes a directory entry as its 16 bytes.
pub fn encode_dirent(inum: u16, name: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[0..2].copy_from_slice(&inum.to_le_bytes());
    let n = name.len().min(DIRSIZ);
    out[2..2 + n].copy_from_slice(&name[..n]);
    out
}

/// The image under construction: xv6 mkfs.c's `wsect`/`ialloc`/`iappend`, in memory.
struct Builder {
    img: Vec<u8>,
    sb: Superblock,
    inodes: Vec<Dinode>,
    freeblock: u32,
}

impl Builder {
    fn new() -> Self {
        let sb = superblock();
        let mut img = vec![0u8; FSSIZE * BSIZE];
        img[BSIZE..BSIZE + 32].copy_from_slice(&encode_superblock(&sb));
        Builder {
            img,
            sb,
            inodes: vec![Dinode::default(); NINODES as usize],
            freeblock: NMETA,
        }
    }

    fn block(&mut self, b: u32) -> &mut [u8] {
        let off = b as usize * BSIZE;
        &mut self.img[off..off + BSIZE]
    }

    /// Allocates the next free inode (inodes are handed out from 1 in order).
    fn ialloc(&mut self, typ: i16) -> Result<u32, MkfsError> {
        let inum = self
            .inodes
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, d)| d.typ == 0)
            .map(|(i, _)| i as u32)
            .ok_or(MkfsError::OutOfInodes)?;
        self.inodes[inum as usize] = Dinode {
            typ,
            nlink: 1,
            ..Dinode::default()
        };
        Ok(inum)
    }

    fn balloc(&mut self) -> Result<u32, MkfsError> {
        if self.freeblock as usize >= FSSIZE {
            return Err(MkfsError::DiskFull);
        }
        self.freeblock += 1;
        Ok(self.freeblock - 1)
    }

    /// Appends `data` to inode `inum`, allocating blocks as xv6 mkfs's `iappend` does.
    fn iappend(&mut self, inum: u32, mut data: &[u8]) -> Result<(), MkfsError> {
        let mut din = self.inodes[inum as usize];
        let mut off = din.size as usize;
        while !data.is_empty() {
            let fbn = off / BSIZE;
            if fbn >= MAXFILE {
                return Err(MkfsError::DiskFull);
            }
            let bn = if fbn < NDIRECT {
                if din.addrs[fbn] == 0 {
                    din.addrs[fbn] = self.balloc()?;
                }
                din.addrs[fbn]
            } else {
                if din.addrs[NDIRECT] == 0 {
                    din.addrs[NDIRECT] = self.balloc()?;
                }
                let ind = din.addrs[NDIRECT];
                let slot = (fbn - NDIRECT) * 4;
                let cur = u32::from_le_bytes(self.block(ind)[slot..slot + 4].try_into().unwrap());
                if cur == 0 {
                    let nb = self.balloc()?;
                    self.block(ind)[slot..slot + 4].copy_from_slice(&nb.to_le_bytes());
                    nb
                } else {
                    cur
                }
            };
            let start = off - fbn * BSIZE;
            let n = data.len().min(BSIZE - start);
            self.block(bn)[start..start + n].copy_from_slice(&data[..n]);
            data = &data[n..];
            off += n;
        }
        din.size = off as u32;
        self.inodes[inum as usize] = din;
        Ok(())
    }

    /// Writes the inode table and the bitmap and returns the image.
    fn finish(mut self) -> Vec<u8> {
        for inum in 0..NINODES {
            let d = encode_dinode(&self.inodes[inum as usize]);
            let b = self.sb.iblock(inum);
            let off = (inum as usize % IPB) * 64;
            self.block(b)[off..off + 64].copy_from_slice(&d);
        }
        let used = self.freeblock as usize;
        let bmap = self.sb.bmapstart;
        let blk = self.block(bmap);
        for i in 0..used {
            blk[i / 8] |= 1 << (i % 8);
        }
        self.img
    }
}

fn check_name(name: &str) -> Result<(), MkfsError> {
    if name.is_empty()
        || name.len() > DIRSIZ
        || name.contains('/')
        || name.contains('\0')
        || name == "."
        || name == ".."
    {
        return Err(MkfsError::BadName(name.to_string()));
    }
    Ok(())
}

/// Builds an xv6 file-system image of FSSIZE (2000) blocks of BSIZE (1024) bytes holding `files`
/// (name, contents) in the root directory, in the given order, laid out as stock xv6's mkfs does.
///
/// Errors: a name that is empty, longer than DIRSIZ (14) bytes, contains `/` or is `.`/`..`
/// ([`MkfsError::BadName`]); a repeated name; a file over MAXFILE blocks; more than 199 files;
/// files that do not fit in the data blocks.
pub fn make_fs_image(files: &[(&str, &[u8])]) -> Result<Vec<u8>, MkfsError> {
    for (i, (name, data)) in files.iter().enumerate() {
        check_name(name)?;
        if files[..i].iter().any(|(n, _)| n == name) {
            return Err(MkfsError::Duplicate(name.to_string()));
        }
        if data.len() > MAXFILE * BSIZE {
            return Err(MkfsError::FileTooBig {
                name: name.to_string(),
                size: data.len(),
                max: MAXFILE * BSIZE,
            });
        }
    }
    let mut b = Builder::new();
    let root = b.ialloc(T_DIR)?;
    debug_assert_eq!(root, ROOTINO);
    b.iappend(root, &encode_dirent(root as u16, b"."))?;
    b.iappend(root, &encode_dirent(root as u16, b".."))?;
    for (name, data) in files {
        let inum = b.ialloc(T_FILE)?;
        b.iappend(root, &encode_dirent(inum as u16, name.as_bytes()))?;
        b.iappend(inum, data)?;
    }
    // Like xv6 mkfs: round the root directory's size up to the next whole block.
    let r = &mut b.inodes[root as usize];
    r.size = ((r.size / BSIZE as u32) + 1) * BSIZE as u32;
    Ok(b.finish())
}

/// The name a host path gets in the image: its last component, with one leading `_` removed
/// (xv6 names its user binaries `_cat`, `_ls`, … on the host).
pub fn image_name(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.strip_prefix('_').unwrap_or(base)
}

#[cfg(test)]
mod check_tests;
#[cfg(test)]
mod tests;

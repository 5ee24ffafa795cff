//! A minimal read-only xv6 file-system reader, used to check images (ours or stock xv6's).

use abi::fs::{Dinode, Superblock, BPB, BSIZE, DIRSIZ, IPB, MAXFILE, NDIRECT, NINDIRECT, ROOTINO};

/// Why an image could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    /// The image is shorter than a block the file system refers to.
    #[error("image truncated: block {0} is beyond its end")]
    Truncated(u32),
    /// Inode number out of range.
    #[error("inode {0} out of range")]
    BadInode(u32),
    /// An inode's size is beyond MAXFILE blocks (a corrupt inode).
    #[error("inode {0}: size {1} is over the xv6 maximum")]
    TooBig(u32, u32),
    /// The name is not in the directory.
    #[error("{0:?} not found")]
    NotFound(String),
}

fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}
fn le16(b: &[u8], off: usize) -> i16 {
    i16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}

/// Read-only view of an image.
pub struct FsReader<'a> {
    img: &'a [u8],
    /// The image's superblock.
    pub sb: Superblock,
}

impl<'a> FsReader<'a> {
    /// Parses the superblock in block 1.
    pub fn new(img: &'a [u8]) -> Result<Self, ReadError> {
        if img.len() < 2 * BSIZE {
            return Err(ReadError::Truncated(1));
        }
        let b = &img[BSIZE..2 * BSIZE];
        let sb = Superblock {
            magic: le32(b, 0),
            size: le32(b, 4),
            nblocks: le32(b, 8),
            ninodes: le32(b, 12),
            nlog: le32(b, 16),
            logstart: le32(b, 20),
            inodestart: le32(b, 24),
            bmapstart: le32(b, 28),
        };
        Ok(FsReader { img, sb })
    }

    /// Block `b` of the image.
    pub fn block(&self, b: u32) -> Result<&'a [u8], ReadError> {
        let off = b as usize * BSIZE;
        self.img
            .get(off..off + BSIZE)
            .ok_or(ReadError::Truncated(b))
    }

    /// Whether block `b` is marked allocated in the bitmap.
    pub fn block_used(&self, b: u32) -> Result<bool, ReadError> {
        let bb = (b / BPB as u32)
            .checked_add(self.sb.bmapstart)
            .ok_or(ReadError::Truncated(u32::MAX))?;
        let bm = self.block(bb)?;
        let bi = b as usize % (BSIZE * 8);
        Ok(bm[bi / 8] & (1 << (bi % 8)) != 0)
    }

    /// On-disk inode `inum`.
    pub fn inode(&self, inum: u32) -> Result<Dinode, ReadError> {
        if inum >= self.sb.ninodes {
            return Err(ReadError::BadInode(inum));
        }
        let ib = (inum / IPB as u32)
            .checked_add(self.sb.inodestart)
            .ok_or(ReadError::Truncated(u32::MAX))?;
        let b = self.block(ib)?;
        let o = (inum as usize % IPB) * 64;
        let mut addrs = [0u32; NDIRECT + 1];
        for (i, a) in addrs.iter_mut().enumerate() {
            *a = le32(b, o + 12 + i * 4);
        }
        Ok(Dinode {
            typ: le16(b, o),
            major: le16(b, o + 2),
            minor: le16(b, o + 4),
            nlink: le16(b, o + 6),
            size: le32(b, o + 8),
            addrs,
        })
    }

    /// Disk block holding file block `fbn` of `din` (0 = a hole).
    pub fn bmap(&self, din: &Dinode, fbn: usize) -> Result<u32, ReadError> {
        if fbn < NDIRECT {
            return Ok(din.addrs[fbn]);
        }
        let fbn = fbn - NDIRECT;
        if fbn >= NINDIRECT || din.addrs[NDIRECT] == 0 {
            return Ok(0);
        }
        Ok(le32(self.block(din.addrs[NDIRECT])?, fbn * 4))
    }

    /// Every data block (and the indirect block) `din` uses.
    pub fn blocks_of(&self, din: &Dinode) -> Result<Vec<u32>, ReadError> {
        let mut v = Vec::new();
        let nblk = (din.size as usize).div_ceil(BSIZE).min(MAXFILE);
        for fbn in 0..nblk {
            let b = self.bmap(din, fbn)?;
            if b != 0 {
                v.push(b);
            }
        }
        if din.addrs[NDIRECT] != 0 {
            v.push(din.addrs[NDIRECT]);
        }
        Ok(v)
    }

    /// The contents of inode `inum` (holes read as zeros); a size over MAXFILE blocks is an
    /// error, so a corrupt inode never sizes a large allocation.
    pub fn read_inode(&self, inum: u32) -> Result<Vec<u8>, ReadError> {
        let din = self.inode(inum)?;
        let size = din.size as usize;
        if size > MAXFILE * BSIZE {
            return Err(ReadError::TooBig(inum, din.size));
        }
        let mut out = Vec::with_capacity(size);
        let mut fbn = 0;
        while out.len() < size {
            let n = (size - out.len()).min(BSIZE);
            match self.bmap(&din, fbn)? {
                0 => out.extend(std::iter::repeat_n(0u8, n)),
                b => out.extend_from_slice(&self.block(b)?[..n]),
            }
            fbn += 1;
        }
        Ok(out)
    }

    /// Entries (inum, name) of directory `inum`, free entries skipped.
    pub fn dir_entries(&self, inum: u32) -> Result<Vec<(u16, String)>, ReadError> {
        let data = self.read_inode(inum)?;
        Ok(data
            .chunks_exact(16)
            .filter_map(|e| {
                let ino = u16::from_le_bytes([e[0], e[1]]);
                let raw = &e[2..2 + DIRSIZ];
                let end = raw.iter().position(|&c| c == 0).unwrap_or(DIRSIZ);
                (ino != 0).then(|| (ino, String::from_utf8_lossy(&raw[..end]).into_owned()))
            })
            .collect())
    }

    /// Contents of the file called `name` in the root directory.
    pub fn read_root_file(&self, name: &str) -> Result<Vec<u8>, ReadError> {
        let (ino, _) = self
            .dir_entries(ROOTINO)?
            .into_iter()
            .find(|(_, n)| n == name)
            .ok_or_else(|| ReadError::NotFound(name.to_string()))?;
        self.read_inode(ino as u32)
    }
}

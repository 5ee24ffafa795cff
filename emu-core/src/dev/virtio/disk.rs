//! The backing store of a virtio block device: a raw image file written through, a read-only
//! image, or an in-memory overlay — and the image locking that keeps one writer per file.
//!
//! Locking follows QEMU's image locking (QEMU `block/file-posix.c`): open-file-description
//! (OFD) `fcntl` locks, which belong to the open file rather than the process, vanish when the
//! process dies (even by SIGKILL), and conflict with QEMU's own locks on the same file. A
//! writer holds a write lock on the whole file; a reader (`--snapshot`, `readonly`) holds a read
//! lock, so readers share an image and a writer excludes everyone. When a lock is refused, the
//! holder's pid is found by scanning `/proc/*/fdinfo/*` for the lock (as `lslocks` does: OFD
//! locks are listed with pid -1 in `/proc/locks`).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{fcntl, FcntlArg};
use nix::libc;

use crate::error::EmuError;

/// Sector size of virtio-blk in bytes (capacity and request sectors are in these units).
pub const SECTOR_SIZE: u64 = 512;

/// How a disk image file is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskMode {
    /// Opened read-write under an exclusive lock; guest writes reach the file in request order
    /// before they complete; FLUSH calls fsync.
    WriteThrough,
    /// Read from the file under a shared lock; guest writes stay in memory, in 4 KiB chunks
    /// copied from the file when first written, and the file is never modified (QEMU's
    /// `-snapshot`). Memory grows with what the guest writes, not with the image.
    Overlay,
    /// Opened read-only under a shared lock; the device offers `VIRTIO_BLK_F_RO` and answers
    /// writes with an I/O error (QEMU's `readonly=on`).
    ReadOnly,
}

enum Backing {
    File(File),
    Memory(Vec<u8>),
    /// The image file, and the chunks the guest wrote (`OVERLAY_CHUNK` bytes at
    /// `index * OVERLAY_CHUNK`; the last may reach past the capacity, that tail unused).
    Overlay(File, HashMap<u64, Box<[u8]>>),
}

/// Bytes per chunk of an overlay's written data.
const OVERLAY_CHUNK: u64 = 4096;

/// The pieces of `len` bytes at byte `offset` that fall in one overlay chunk each: (chunk
/// index, offset within the chunk, range within the caller's buffer).
fn overlay_spans(
    offset: u64,
    len: usize,
) -> impl Iterator<Item = (u64, usize, std::ops::Range<usize>)> {
    let mut done = 0;
    std::iter::from_fn(move || {
        (done < len).then(|| {
            let at = offset + done as u64;
            let within = (at % OVERLAY_CHUNK) as usize;
            let n = (OVERLAY_CHUNK as usize - within).min(len - done);
            done += n;
            (at / OVERLAY_CHUNK, within, done - n..done)
        })
    })
}

/// A block device's backing store. Its capacity is a whole number of 512-byte sectors.
pub struct Disk {
    backing: Backing,
    sectors: u64,
    path: Option<PathBuf>,
    warning: Option<String>,
    read_only: bool,
    syncs: u64,
}

impl std::fmt::Debug for Disk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disk")
            .field("path", &self.path)
            .field("sectors", &self.sectors)
            .field("read_only", &self.read_only)
            .finish()
    }
}

fn rounding_warning(name: &str, len: u64) -> Option<String> {
    (len & (SECTOR_SIZE - 1) != 0).then(|| {
        format!(
            "warning: disk image {name} is {len} bytes, not a multiple of {SECTOR_SIZE}; \
             the last {} bytes are not visible to the guest",
            len % SECTOR_SIZE
        )
    })
}

/// A whole-file OFD lock request of type `l_type` (`F_RDLCK`/`F_WRLCK`).
fn whole_file(l_type: libc::c_int) -> libc::flock {
    libc::flock {
        l_type: l_type as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    }
}

/// Takes a whole-file OFD lock on `file` without waiting: exclusive for a writer, shared for
/// a reader. `Err(true)` when another open file holds a conflicting lock, `Err(false)` when
/// the file system does not support locks (the image is then used unlocked).
fn lock(file: &File, exclusive: bool) -> Result<(), bool> {
    let kind = if exclusive {
        libc::F_WRLCK
    } else {
        libc::F_RDLCK
    };
    match fcntl(file, FcntlArg::F_OFD_SETLK(&whole_file(kind))) {
        Ok(_) => Ok(()),
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EACCES) => Err(true),
        Err(_) => Err(false),
    }
}

/// The `MAJOR:MINOR:INODE` key under which Linux lists locks on `meta`'s file in
/// `/proc/locks` and `/proc/PID/fdinfo/FD` (major and minor as `%02x`, glibc's dev_t split).
fn lock_key(meta: &std::fs::Metadata) -> String {
    let dev = meta.dev();
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
    format!("{major:02x}:{minor:02x}:{}", meta.ino())
}

/// A process that holds a lock on a disk image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    /// Its process ID.
    pub pid: u32,
    /// Its command name (`/proc/PID/comm`), e.g. `emu-cli` or `qemu-system-ris`.
    pub command: String,
    /// Whether it holds a write lock (it writes the image) rather than only read locks.
    pub writing: bool,
}

/// The process holding a lock on the file `meta` describes, other than the open file
/// description `own_fd` of this process. Scans `/proc/*/fdinfo/*`; processes of other users
/// cannot be seen and yield `None`.
pub fn lock_holder(meta: &std::fs::Metadata, own_fd: Option<i32>) -> Option<LockHolder> {
    let key = format!(" {} ", lock_key(meta));
    let me = std::process::id();
    for proc_entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = proc_entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(proc_entry.path().join("fdinfo")) else {
            continue;
        };
        for fd_entry in fds.flatten() {
            let fd = fd_entry.file_name().to_str().and_then(|s| s.parse().ok());
            if pid == me && fd.is_some() && fd == own_fd {
                continue;
            }
            let Ok(info) = std::fs::read_to_string(fd_entry.path()) else {
                continue;
            };
            let mut locks = info
                .lines()
                .filter(|l| l.starts_with("lock:") && l.contains(&key))
                .peekable();
            if locks.peek().is_some() {
                let writing = locks.any(lock_line_writes);
                let command = std::fs::read_to_string(proc_entry.path().join("comm"))
                    .map(|c| c.trim().to_string())
                    .unwrap_or_default();
                return Some(LockHolder {
                    pid,
                    command,
                    writing,
                });
            }
        }
    }
    None
}

/// Whether a `/proc` lock line (`lock:\t1: OFDLCK ADVISORY  READ -1 fe:00:1234 100 101`) shows
/// a writer: a write lock (an emu-cli writer locks the whole file), or a byte-range read lock
/// over byte 101, where QEMU's image locking marks that it holds the write permission (QEMU
/// `block/file-posix.c`: byte 100 + permission bit 1). A whole-file read lock is a reader.
fn lock_line_writes(line: &str) -> bool {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.contains(&"WRITE") {
        return true;
    }
    let [.., start, end] = fields[..] else {
        return false;
    };
    let start: u64 = start.parse().unwrap_or(u64::MAX);
    let end: u64 = if end == "EOF" {
        u64::MAX
    } else {
        end.parse().unwrap_or(0)
    };
    start > 0 && (start..=end).contains(&101)
}

impl Disk {
    /// Open the raw image at `path` and lock it: exclusively for [`DiskMode::WriteThrough`],
    /// shared for [`DiskMode::Overlay`] and [`DiskMode::ReadOnly`]. A size that is not a
    /// multiple of 512 bytes is rounded down, with a warning on stderr and in
    /// [`Disk::warning`].
    ///
    /// # Errors
    /// [`EmuError::Disk`] when the file cannot be opened (missing, unreadable, or not writable
    /// for a writer); [`EmuError::DiskLocked`] when another open file holds a conflicting lock
    /// (another emu-cli or QEMU using the image), naming its process when it can be found.
    pub fn open(path: &Path, mode: DiskMode) -> Result<Disk, EmuError> {
        use std::os::fd::AsRawFd;
        let err = |source: std::io::Error| EmuError::Disk {
            path: path.to_path_buf(),
            source,
        };
        let writer = mode == DiskMode::WriteThrough;
        let file = OpenOptions::new()
            .read(true)
            .write(writer)
            .open(path)
            .map_err(err)?;
        let meta = file.metadata().map_err(err)?;
        if let Err(true) = lock(&file, writer) {
            return Err(EmuError::DiskLocked {
                path: path.to_path_buf(),
                holder: lock_holder(&meta, Some(file.as_raw_fd())),
                wanted_write: writer,
            });
        }
        let len = meta.len();
        // The open file holds the lock as long as the disk lives.
        let backing = match mode {
            DiskMode::WriteThrough | DiskMode::ReadOnly => Backing::File(file),
            DiskMode::Overlay => Backing::Overlay(file, HashMap::new()),
        };
        let warning = rounding_warning(&path.display().to_string(), len);
        if let Some(w) = &warning {
            eprintln!("{w}");
        }
        Ok(Disk {
            backing,
            sectors: len / SECTOR_SIZE,
            path: Some(path.to_path_buf()),
            warning,
            read_only: mode == DiskMode::ReadOnly,
            syncs: 0,
        })
    }

    /// An in-memory disk holding `bytes` (an overlay with no file behind it). A length that is
    /// not a multiple of 512 is rounded down (see [`Disk::warning`]).
    pub fn from_bytes(bytes: Vec<u8>) -> Disk {
        let len = bytes.len() as u64;
        Disk {
            warning: rounding_warning("(in memory)", len),
            backing: Backing::Memory(bytes),
            sectors: len / SECTOR_SIZE,
            path: None,
            read_only: false,
            syncs: 0,
        }
    }

    /// Capacity in 512-byte sectors.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }

    /// Whether the guest may not write ([`DiskMode::ReadOnly`]).
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// The warning given when the image size was rounded down, if it was.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// The image file, if the disk came from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The disk's contents when they live in memory ([`Disk::from_bytes`]), rounded down to
    /// whole sectors.
    pub fn memory_bytes(&self) -> Option<&[u8]> {
        match &self.backing {
            Backing::Memory(v) => Some(&v[..(self.sectors * SECTOR_SIZE) as usize]),
            Backing::File(_) | Backing::Overlay(..) => None,
        }
    }

    /// Bytes of guest writes an overlay holds in memory (whole 4 KiB chunks); 0 otherwise.
    pub fn overlay_bytes(&self) -> u64 {
        match &self.backing {
            Backing::Overlay(_, chunks) => chunks.len() as u64 * OVERLAY_CHUNK,
            _ => 0,
        }
    }

    /// Whether `len` bytes at byte `offset` lie within the capacity.
    pub fn in_range(&self, offset: u64, len: u64) -> bool {
        offset
            .checked_add(len)
            .is_some_and(|end| end <= self.sectors * SECTOR_SIZE)
    }

    /// Read `buf.len()` bytes at byte `offset` (within capacity).
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        if !self.in_range(offset, buf.len() as u64) {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        match &mut self.backing {
            Backing::File(f) => f.read_exact_at(buf, offset),
            Backing::Memory(v) => {
                buf.copy_from_slice(&v[offset as usize..offset as usize + buf.len()]);
                Ok(())
            }
            Backing::Overlay(f, chunks) => {
                // Chunk by chunk: the guest's bytes where it wrote, the file's elsewhere.
                for (index, within, span) in overlay_spans(offset, buf.len()) {
                    let part = &mut buf[span];
                    match chunks.get(&index) {
                        Some(c) => part.copy_from_slice(&c[within..within + part.len()]),
                        None => f.read_exact_at(part, index * OVERLAY_CHUNK + within as u64)?,
                    }
                }
                Ok(())
            }
        }
    }

    /// Write `buf` at byte `offset` (within capacity). When this returns `Ok` for a
    /// write-through disk, the bytes are in the file (`pwrite` done; durable after
    /// [`Disk::flush`]).
    ///
    /// # Errors
    /// `InvalidInput` beyond the capacity, `PermissionDenied` on a read-only disk, or the
    /// host's I/O error.
    pub fn write_at(&mut self, offset: u64, buf: &[u8]) -> std::io::Result<()> {
        if !self.in_range(offset, buf.len() as u64) {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        if self.read_only {
            return Err(std::io::ErrorKind::PermissionDenied.into());
        }
        let capacity = self.sectors * SECTOR_SIZE;
        match &mut self.backing {
            Backing::File(f) => f.write_all_at(buf, offset),
            Backing::Memory(v) => {
                v[offset as usize..offset as usize + buf.len()].copy_from_slice(buf);
                Ok(())
            }
            Backing::Overlay(f, chunks) => {
                for (index, within, span) in overlay_spans(offset, buf.len()) {
                    let chunk = match chunks.entry(index) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            // First write to this chunk: start from the file's bytes (up to
                            // the capacity; the rest of the last chunk is never read).
                            let start = index * OVERLAY_CHUNK;
                            let mut c = vec![0u8; OVERLAY_CHUNK as usize].into_boxed_slice();
                            let have = (capacity - start).min(OVERLAY_CHUNK) as usize;
                            f.read_exact_at(&mut c[..have], start)?;
                            e.insert(c)
                        }
                    };
                    chunk[within..within + span.len()].copy_from_slice(&buf[span]);
                }
                Ok(())
            }
        }
    }

    /// Make written data durable: `fdatasync` for a file; nothing for memory.
    pub fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.backing {
            Backing::File(f) if !self.read_only => {
                f.sync_data()?;
                self.syncs += 1;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// How many `fdatasync` calls [`Disk::flush`] has completed on the file.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_reads_the_file_and_holds_only_written_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.img");
        let f = File::create(&path).unwrap();
        f.set_len(64 << 20).unwrap(); // sparse: 64 MiB of zeros
        f.write_all_at(&[0x11; 8192], 3 * 4096).unwrap();
        drop(f);
        let mut d = Disk::open(&path, DiskMode::Overlay).unwrap();
        assert_eq!(d.overlay_bytes(), 0, "opening reads nothing into memory");
        // 600 bytes across the boundary of chunks 3 and 4.
        let at = 3 * 4096 + 3800;
        d.write_at(at, &[0x22; 600]).unwrap();
        assert_eq!(d.overlay_bytes(), 2 * 4096);
        let mut got = vec![0u8; 4096 * 3];
        d.read_at(3 * 4096, &mut got).unwrap();
        assert!(got[..3800].iter().all(|&b| b == 0x11), "file bytes before");
        assert!(got[3800..4400].iter().all(|&b| b == 0x22), "the write");
        assert!(
            got[4400..8192].iter().all(|&b| b == 0x11),
            "file bytes after"
        );
        assert!(
            got[8192..].iter().all(|&b| b == 0),
            "beyond the file's data"
        );
        // The last sector of the image.
        d.write_at((64 << 20) - 512, &[0x33; 512]).unwrap();
        let mut last = [0u8; 1024];
        d.read_at((64 << 20) - 1024, &mut last).unwrap();
        assert_eq!((last[511], last[512], last[1023]), (0, 0x33, 0x33));
        drop(d);
        let mut file = [0u8; 4096];
        File::open(&path)
            .unwrap()
            .read_exact_at(&mut file, 3 * 4096)
            .unwrap();
        assert!(file.iter().all(|&b| b == 0x11), "the file is unchanged");
    }

    #[test]
    fn disk_files_write_through_overlay_and_rounding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.img");
        std::fs::write(&path, vec![1u8; 1030]).unwrap();
        let mut d = Disk::open(&path, DiskMode::Overlay).unwrap();
        assert_eq!(d.sectors(), 2);
        assert!(d.warning().unwrap().contains("d.img"));
        d.write_at(0, &[9; 512]).unwrap();
        assert!(d.write_at(1024, &[0; 1]).is_err());
        assert_eq!(
            std::fs::read(&path).unwrap()[0],
            1,
            "overlay leaves the file alone"
        );
        drop(d);

        let mut d = Disk::open(&path, DiskMode::WriteThrough).unwrap();
        d.write_at(512, &[7; 512]).unwrap();
        d.flush().unwrap();
        let f = std::fs::read(&path).unwrap();
        assert_eq!((f[511], f[512], f[1023], f.len()), (1, 7, 7, 1030));
        let mut b = [0u8; 2];
        d.read_at(1022, &mut b).unwrap();
        assert_eq!(b, [7, 7]);

        let e = Disk::open(&dir.path().join("missing.img"), DiskMode::Overlay).unwrap_err();
        assert!(e.to_string().contains("missing.img"), "{e}");
    }

    #[test]
    fn lock_lines_of_writers() {
        let line = |t: &str| {
            let (kind, range) = t.split_once(' ').unwrap();
            format!("lock:\t1: OFDLCK ADVISORY  {kind} -1 fe:00:1234 {range}")
        };
        assert!(lock_line_writes(&line("WRITE 0 EOF")));
        assert!(!lock_line_writes(&line("READ 0 EOF")));
        // QEMU, writing: read locks on 100-101 and 201. QEMU -snapshot: 100, 201, 203.
        assert!(lock_line_writes(&line("READ 100 101")));
        assert!(!lock_line_writes(&line("READ 100 100")));
        assert!(!lock_line_writes(&line("READ 201 201")));
    }

    #[test]
    fn one_writer_or_many_readers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.img");
        std::fs::write(&path, vec![0u8; 1024]).unwrap();
        // OFD locks belong to the open file, so two opens in one process conflict.
        let writer = Disk::open(&path, DiskMode::WriteThrough).unwrap();
        for mode in [
            DiskMode::WriteThrough,
            DiskMode::Overlay,
            DiskMode::ReadOnly,
        ] {
            let e = Disk::open(&path, mode).unwrap_err();
            match &e {
                EmuError::DiskLocked { holder, .. } => {
                    assert_eq!(
                        holder.as_ref().map(|h| (h.pid, h.writing)),
                        Some((std::process::id(), true))
                    )
                }
                other => panic!("{other}"),
            }
            let text = e.to_string();
            assert!(text.contains("d.img") && text.contains(&std::process::id().to_string()));
        }
        drop(writer);
        let r1 = Disk::open(&path, DiskMode::Overlay).unwrap();
        let mut r2 = Disk::open(&path, DiskMode::ReadOnly).unwrap();
        assert!(r2.read_only());
        assert_eq!(
            r2.write_at(0, &[1; 512]).unwrap_err().kind(),
            std::io::ErrorKind::PermissionDenied
        );
        assert!(matches!(
            Disk::open(&path, DiskMode::WriteThrough),
            Err(EmuError::DiskLocked {
                wanted_write: true,
                ..
            })
        ));
        drop((r1, r2));
        Disk::open(&path, DiskMode::WriteThrough).unwrap();
    }
}

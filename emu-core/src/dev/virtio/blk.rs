//! virtio-blk (VIRTIO 1.1, §5.2): requests IN (read), OUT (write), FLUSH and GET_ID on one
//! request queue, with any descriptor layout (§2.6.4.3 "Message Framing"), backed by a
//! [`Disk`]: a raw image written through to its file, or an in-memory overlay.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::queue::{DescChain, QueueError, Virtqueue};
use super::VirtioDevice;
use crate::bus::Ram;
use crate::error::EmuError;

/// Sector size of virtio-blk in bytes (capacity and request sectors are in these units).
pub const SECTOR_SIZE: u64 = 512;
/// virtio device ID of a block device.
pub const VIRTIO_ID_BLOCK: u32 = 2;
/// Feature: the device supports FLUSH (§5.2.3).
pub const VIRTIO_BLK_F_FLUSH: u64 = 1 << 9;

/// Request type: read sectors into the driver's buffers.
pub const VIRTIO_BLK_T_IN: u32 = 0;
/// Request type: write the driver's buffers to sectors.
pub const VIRTIO_BLK_T_OUT: u32 = 1;
/// Request type: make earlier writes durable.
pub const VIRTIO_BLK_T_FLUSH: u32 = 4;
/// Request type: read the 20-byte device ID string.
pub const VIRTIO_BLK_T_GET_ID: u32 = 8;
/// Status: success.
pub const VIRTIO_BLK_S_OK: u8 = 0;
/// Status: the request failed (bad sector range, host I/O error, unreachable buffer).
pub const VIRTIO_BLK_S_IOERR: u8 = 1;
/// Status: the request type is not supported.
pub const VIRTIO_BLK_S_UNSUPP: u8 = 2;

/// The device ID string returned by GET_ID (at most 20 bytes, zero-padded).
pub const BLK_ID: &[u8] = b"rvcow-virtio-blk";

/// How a disk image file is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskMode {
    /// Opened read-write; guest writes reach the file in request order; FLUSH calls fsync.
    WriteThrough,
    /// Read into memory; guest writes stay there and the file is never modified (like QEMU's
    /// `-snapshot`).
    Overlay,
}

enum Backing {
    File(File),
    Memory(Vec<u8>),
}

/// A block device's backing store. Its capacity is a whole number of 512-byte sectors.
pub struct Disk {
    backing: Backing,
    sectors: u64,
    path: Option<PathBuf>,
    warning: Option<String>,
}

impl std::fmt::Debug for Disk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disk")
            .field("path", &self.path)
            .field("sectors", &self.sectors)
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

impl Disk {
    /// Open the raw image at `path`. Errors name the file: missing, unreadable, or (for
    /// [`DiskMode::WriteThrough`]) not writable. A size that is not a multiple of 512 bytes is
    /// rounded down, with a warning on stderr and in [`Disk::warning`].
    pub fn open(path: &Path, mode: DiskMode) -> Result<Disk, EmuError> {
        let err = |source: std::io::Error| EmuError::Disk {
            path: path.to_path_buf(),
            source,
        };
        let name = path.display().to_string();
        let (backing, len) = match mode {
            DiskMode::WriteThrough => {
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)
                    .map_err(err)?;
                let len = file.metadata().map_err(err)?.len();
                (Backing::File(file), len)
            }
            DiskMode::Overlay => {
                let bytes = std::fs::read(path).map_err(err)?;
                let len = bytes.len() as u64;
                (Backing::Memory(bytes), len)
            }
        };
        let warning = rounding_warning(&name, len);
        if let Some(w) = &warning {
            eprintln!("{w}");
        }
        Ok(Disk {
            backing,
            sectors: len / SECTOR_SIZE,
            path: Some(path.to_path_buf()),
            warning,
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
        }
    }

    /// Capacity in 512-byte sectors.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }

    /// The warning given when the image size was rounded down, if it was.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// The image file, if the disk came from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The disk's contents when they live in memory (overlay or [`Disk::from_bytes`]), rounded
    /// down to whole sectors.
    pub fn memory_bytes(&self) -> Option<&[u8]> {
        match &self.backing {
            Backing::Memory(v) => Some(&v[..(self.sectors * SECTOR_SIZE) as usize]),
            Backing::File(_) => None,
        }
    }

    /// Whether `len` bytes at byte `offset` lie within the capacity.
    fn in_range(&self, offset: u64, len: u64) -> bool {
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
        }
    }

    /// Write `buf` at byte `offset` (within capacity).
    pub fn write_at(&mut self, offset: u64, buf: &[u8]) -> std::io::Result<()> {
        if !self.in_range(offset, buf.len() as u64) {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        match &mut self.backing {
            Backing::File(f) => f.write_all_at(buf, offset),
            Backing::Memory(v) => {
                v[offset as usize..offset as usize + buf.len()].copy_from_slice(buf);
                Ok(())
            }
        }
    }

    /// Make written data durable (fsync for a file; nothing for memory).
    pub fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.backing {
            Backing::File(f) => f.sync_data(),
            Backing::Memory(_) => Ok(()),
        }
    }
}

/// The virtio block device.
#[derive(Debug)]
pub struct Blk {
    /// The backing store.
    pub disk: Disk,
}

/// Gather up to `buf.len()` device-readable bytes starting `skip` bytes into the readable
/// part of `chain`. Returns the number copied, or `None` if a buffer is outside RAM.
fn gather(ram: &Ram, chain: &DescChain, mut skip: u64, buf: &mut [u8]) -> Option<usize> {
    let mut done = 0;
    for d in chain.descs.iter().filter(|d| !d.write) {
        if done == buf.len() {
            break;
        }
        let len = d.len as u64;
        if skip >= len {
            skip -= len;
            continue;
        }
        let n = ((len - skip) as usize).min(buf.len() - done);
        ram.read_bytes(d.addr.wrapping_add(skip), &mut buf[done..done + n])
            .ok()?;
        done += n;
        skip = 0;
    }
    Some(done)
}

/// Scatter `data` into the device-writable part of `chain`, from its start. Returns `None` if
/// a buffer is outside RAM.
fn scatter(ram: &mut Ram, chain: &DescChain, data: &[u8]) -> Option<()> {
    let mut done = 0;
    for d in chain.descs.iter().filter(|d| d.write) {
        if done == data.len() {
            break;
        }
        let n = (d.len as usize).min(data.len() - done);
        ram.write_bytes(d.addr, &data[done..done + n]).ok()?;
        done += n;
    }
    Some(())
}

impl Blk {
    /// A block device over `disk`.
    pub fn new(disk: Disk) -> Blk {
        Blk { disk }
    }

    /// Carry out one request. Returns the number of bytes written into the chain (for the used
    /// ring), or `None` when there is no writable status byte to report through.
    fn handle(&mut self, ram: &mut Ram, chain: &DescChain) -> Option<u32> {
        let readable: u64 = chain
            .descs
            .iter()
            .filter(|d| !d.write)
            .map(|d| d.len as u64)
            .sum();
        let writable: u64 = chain
            .descs
            .iter()
            .filter(|d| d.write)
            .map(|d| d.len as u64)
            .sum();
        if writable == 0 {
            return None;
        }
        // The status byte is the last writable byte of the chain.
        let data_in = writable - 1;
        let mut header = [0u8; 16];
        let (status, written) = if gather(ram, chain, 0, &mut header) != Some(16) {
            (VIRTIO_BLK_S_IOERR, 0)
        } else {
            let kind = u32::from_le_bytes(header[0..4].try_into().unwrap());
            let sector = u64::from_le_bytes(header[8..16].try_into().unwrap());
            let offset = sector.checked_mul(SECTOR_SIZE);
            match kind {
                VIRTIO_BLK_T_IN => self.read_request(ram, chain, offset, data_in),
                VIRTIO_BLK_T_OUT => self.write_request(ram, chain, offset, readable - 16),
                VIRTIO_BLK_T_FLUSH => match self.disk.flush() {
                    Ok(()) => (VIRTIO_BLK_S_OK, 0),
                    Err(_) => (VIRTIO_BLK_S_IOERR, 0),
                },
                VIRTIO_BLK_T_GET_ID => {
                    let mut id = [0u8; 20];
                    id[..BLK_ID.len()].copy_from_slice(BLK_ID);
                    let n = (data_in as usize).min(20);
                    match scatter(ram, chain, &id[..n]) {
                        Some(()) => (VIRTIO_BLK_S_OK, n as u64),
                        None => (VIRTIO_BLK_S_IOERR, 0),
                    }
                }
                _ => (VIRTIO_BLK_S_UNSUPP, 0),
            }
        };
        // Write the status byte.
        let mut left = writable - 1;
        for d in chain.descs.iter().filter(|d| d.write) {
            if left < d.len as u64 {
                ram.write_bytes(d.addr.wrapping_add(left), &[status]).ok()?;
                break;
            }
            left -= d.len as u64;
        }
        Some((written + 1) as u32)
    }

    /// The byte offset of an IN/OUT request whose data (`len` bytes) is a whole number of
    /// sectors lying inside the disk; `None` otherwise (the request fails with IOERR).
    fn request_range(&self, offset: Option<u64>, len: u64) -> Option<u64> {
        offset.filter(|&o| len & (SECTOR_SIZE - 1) == 0 && self.disk.in_range(o, len))
    }

    fn read_request(
        &mut self,
        ram: &mut Ram,
        chain: &DescChain,
        offset: Option<u64>,
        len: u64,
    ) -> (u8, u64) {
        let Some(offset) = self.request_range(offset, len) else {
            return (VIRTIO_BLK_S_IOERR, 0);
        };
        let mut data = vec![0u8; len as usize];
        if self.disk.read_at(offset, &mut data).is_err() {
            return (VIRTIO_BLK_S_IOERR, 0);
        }
        match scatter(ram, chain, &data) {
            Some(()) => (VIRTIO_BLK_S_OK, len),
            None => (VIRTIO_BLK_S_IOERR, 0),
        }
    }

    fn write_request(
        &mut self,
        ram: &mut Ram,
        chain: &DescChain,
        offset: Option<u64>,
        len: u64,
    ) -> (u8, u64) {
        let Some(offset) = self.request_range(offset, len) else {
            return (VIRTIO_BLK_S_IOERR, 0);
        };
        let mut data = vec![0u8; len as usize];
        if gather(ram, chain, 16, &mut data) != Some(len as usize) {
            return (VIRTIO_BLK_S_IOERR, 0);
        }
        match self.disk.write_at(offset, &data) {
            Ok(()) => (VIRTIO_BLK_S_OK, 0),
            Err(_) => (VIRTIO_BLK_S_IOERR, 0),
        }
    }
}

impl VirtioDevice for Blk {
    fn device_id(&self) -> u32 {
        VIRTIO_ID_BLOCK
    }
    fn features(&self) -> u64 {
        VIRTIO_BLK_F_FLUSH
    }
    fn num_queues(&self) -> usize {
        1
    }
    /// Config space (§5.2.4): `capacity` (u64 sectors) at 0; the rest reads 0.
    fn read_config(&self, offset: u64, size: u8) -> u64 {
        let mut cfg = [0u8; 16];
        cfg[..8].copy_from_slice(&self.disk.sectors.to_le_bytes());
        let mut b = [0u8; 8];
        for (i, byte) in b.iter_mut().take(size as usize).enumerate() {
            *byte = cfg.get(offset as usize + i).copied().unwrap_or(0);
        }
        u64::from_le_bytes(b)
    }
    fn process_queue(
        &mut self,
        _index: usize,
        queue: &mut Virtqueue,
        ram: &mut Ram,
    ) -> Result<bool, QueueError> {
        let mut used = false;
        while let Some(chain) = queue.pop(ram)? {
            // A chain with no writable byte cannot carry a status: the driver broke §5.2.6.
            let len = self
                .handle(ram, &chain)
                .ok_or(QueueError::BadIndex(chain.head as u32))?;
            queue.push_used(ram, chain.head, len)?;
            used = true;
        }
        Ok(used)
    }
}

#[cfg(test)]
mod tests {
    use super::super::queue::Descriptor;
    use super::*;

    const BASE: u64 = 0x8000_0000;

    fn chain(descs: &[(u64, u32, bool)]) -> DescChain {
        DescChain {
            head: 0,
            descs: descs
                .iter()
                .map(|&(addr, len, write)| Descriptor { addr, len, write })
                .collect(),
        }
    }

    fn header(ram: &mut Ram, at: u64, kind: u32, sector: u64) {
        ram.write(at, 4, kind as u64).unwrap();
        ram.write(at + 8, 8, sector).unwrap();
    }

    #[test]
    fn read_write_flush_getid_any_layout() {
        let mut ram = Ram::new(BASE, 0x10000);
        let mut img = vec![0u8; 4 * 512];
        img[512..1024].fill(0xab);
        let mut blk = Blk::new(Disk::from_bytes(img));
        assert_eq!(blk.read_config(0, 8), 4);
        assert_eq!(blk.read_config(4, 4), 0);

        // IN of sector 1: header split over two descriptors, data split, status separate.
        header(&mut ram, BASE, VIRTIO_BLK_T_IN, 1);
        let c = chain(&[
            (BASE, 10, false),
            (BASE + 10, 6, false),
            (BASE + 0x1000, 100, true),
            (BASE + 0x2000, 412, true),
            (BASE + 0x3000, 1, true),
        ]);
        ram.write(BASE + 0x3000, 1, 0xff).unwrap();
        assert_eq!(blk.handle(&mut ram, &c), Some(513));
        assert_eq!(ram.read(BASE + 0x3000, 1).unwrap(), 0);
        assert_eq!(ram.read(BASE + 0x1000, 1).unwrap(), 0xab);
        assert_eq!(ram.read(BASE + 0x2000 + 411, 1).unwrap(), 0xab);

        // OUT of sector 3 with header and data in one descriptor, status with nothing else.
        header(&mut ram, BASE + 0x4000, VIRTIO_BLK_T_OUT, 3);
        ram.write_bytes(BASE + 0x4010, &[0x5a; 512]).unwrap();
        let c = chain(&[(BASE + 0x4000, 16 + 512, false), (BASE + 0x3000, 1, true)]);
        assert_eq!(blk.handle(&mut ram, &c), Some(1));
        assert_eq!(ram.read(BASE + 0x3000, 1).unwrap(), 0);
        assert_eq!(blk.disk.memory_bytes().unwrap()[3 * 512], 0x5a);

        header(&mut ram, BASE, VIRTIO_BLK_T_FLUSH, 0);
        let c = chain(&[(BASE, 16, false), (BASE + 0x3000, 1, true)]);
        assert_eq!(blk.handle(&mut ram, &c), Some(1));
        assert_eq!(ram.read(BASE + 0x3000, 1).unwrap(), 0);

        header(&mut ram, BASE, VIRTIO_BLK_T_GET_ID, 0);
        let c = chain(&[(BASE, 16, false), (BASE + 0x5000, 21, true)]);
        assert_eq!(blk.handle(&mut ram, &c), Some(21));
        let mut id = [0u8; 20];
        ram.read_bytes(BASE + 0x5000, &mut id).unwrap();
        assert_eq!(&id[..BLK_ID.len()], BLK_ID);
        assert_eq!(ram.read(BASE + 0x5000 + 20, 1).unwrap(), 0);
    }

    #[test]
    fn bad_requests_get_error_status() {
        let mut ram = Ram::new(BASE, 0x10000);
        let mut blk = Blk::new(Disk::from_bytes(vec![0u8; 1024]));
        let status = BASE + 0x3000;
        let run = |blk: &mut Blk, ram: &mut Ram, c: &DescChain| {
            ram.write(status, 1, 0xff).unwrap();
            blk.handle(ram, c).unwrap();
            ram.read(status, 1).unwrap() as u8
        };
        // Beyond capacity.
        header(&mut ram, BASE, VIRTIO_BLK_T_IN, 2);
        let c = chain(&[
            (BASE, 16, false),
            (BASE + 0x1000, 512, true),
            (status, 1, true),
        ]);
        assert_eq!(run(&mut blk, &mut ram, &c), VIRTIO_BLK_S_IOERR);
        // Sector number overflowing a byte offset.
        header(&mut ram, BASE, VIRTIO_BLK_T_IN, u64::MAX);
        assert_eq!(run(&mut blk, &mut ram, &c), VIRTIO_BLK_S_IOERR);
        // Data not a multiple of 512.
        header(&mut ram, BASE, VIRTIO_BLK_T_IN, 0);
        let c2 = chain(&[
            (BASE, 16, false),
            (BASE + 0x1000, 100, true),
            (status, 1, true),
        ]);
        assert_eq!(run(&mut blk, &mut ram, &c2), VIRTIO_BLK_S_IOERR);
        // Data buffer outside RAM.
        let c3 = chain(&[(BASE, 16, false), (0x1000, 512, true), (status, 1, true)]);
        assert_eq!(run(&mut blk, &mut ram, &c3), VIRTIO_BLK_S_IOERR);
        // Huge lengths are refused before any allocation.
        let c4 = chain(&[(BASE, 16, false), (BASE, u32::MAX, true), (status, 1, true)]);
        assert_eq!(run(&mut blk, &mut ram, &c4), VIRTIO_BLK_S_IOERR);
        // Unknown type.
        header(&mut ram, BASE, 77, 0);
        assert_eq!(run(&mut blk, &mut ram, &c), VIRTIO_BLK_S_UNSUPP);
        // Short header.
        let c5 = chain(&[(BASE, 8, false), (status, 1, true)]);
        assert_eq!(run(&mut blk, &mut ram, &c5), VIRTIO_BLK_S_IOERR);
        // No writable byte: no status can be given.
        let c6 = chain(&[(BASE, 16, false)]);
        assert_eq!(blk.handle(&mut ram, &c6), None);
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
}

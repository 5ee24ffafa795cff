//! virtio-blk (VIRTIO 1.1, §5.2): requests IN (read), OUT (write), FLUSH and GET_ID on one
//! request queue, with any descriptor layout (§2.6.4.3 "Message Framing"), backed by a
//! [`Disk`] (see [`super::disk`]): a raw image written through to its file, a read-only image
//! (`VIRTIO_BLK_F_RO`), or an in-memory overlay. Every OUT request's data is in the file before
//! its used-ring entry is written; FLUSH is `fdatasync`.

use super::queue::{DescChain, QueueError, Virtqueue};
use super::VirtioDevice;
use crate::bus::Ram;

pub use super::disk::{Disk, DiskMode, SECTOR_SIZE};

/// virtio device ID of a block device.
pub const VIRTIO_ID_BLOCK: u32 = 2;
/// Feature: the device supports FLUSH (§5.2.3).
pub const VIRTIO_BLK_F_FLUSH: u64 = 1 << 9;
/// Feature: the device is read-only; writes fail (§5.2.3).
pub const VIRTIO_BLK_F_RO: u64 = 1 << 5;
/// Largest host buffer one request's data passes through (IN and OUT are carried out in
/// pieces of at most this size, so a guest-chosen length never sizes a host allocation).
pub const CHUNK: usize = 64 << 10;

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

/// Scatter `data` into the device-writable part of `chain`, starting `skip` bytes into it.
/// Returns `None` if a buffer is outside RAM.
fn scatter(ram: &mut Ram, chain: &DescChain, mut skip: u64, data: &[u8]) -> Option<()> {
    let mut done = 0;
    for d in chain.descs.iter().filter(|d| d.write) {
        if done == data.len() {
            break;
        }
        let len = d.len as u64;
        if skip >= len {
            skip -= len;
            continue;
        }
        let n = ((len - skip) as usize).min(data.len() - done);
        ram.write_bytes(d.addr.wrapping_add(skip), &data[done..done + n])
            .ok()?;
        done += n;
        skip = 0;
    }
    Some(())
}

/// Whether every buffer of `chain` the device reads (`write == false`) or writes lies in RAM:
/// checked before a request touches the disk, so that a bad buffer fails it as a whole.
fn buffers_in_ram(ram: &Ram, chain: &DescChain, write: bool) -> bool {
    chain
        .descs
        .iter()
        .filter(|d| d.write == write)
        .all(|d| ram.contains(d.addr, d.len as u64))
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
                    match scatter(ram, chain, 0, &id[..n]) {
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

    /// IN: `len` bytes from the disk at `offset` into the chain's writable buffers, through a
    /// host buffer of at most [`CHUNK`] bytes.
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
        if !buffers_in_ram(ram, chain, true) {
            return (VIRTIO_BLK_S_IOERR, 0);
        }
        let mut buf = vec![0u8; (len as usize).min(CHUNK)];
        let mut done = 0u64;
        while done < len {
            let n = ((len - done) as usize).min(CHUNK);
            if self.disk.read_at(offset + done, &mut buf[..n]).is_err()
                || scatter(ram, chain, done, &buf[..n]).is_none()
            {
                return (VIRTIO_BLK_S_IOERR, 0);
            }
            done += n as u64;
        }
        (VIRTIO_BLK_S_OK, len)
    }

    /// OUT: the chain's readable data (`len` bytes after the header) to the disk at `offset`,
    /// through a host buffer of at most [`CHUNK`] bytes. On `VIRTIO_BLK_S_OK` every byte is in
    /// the backing file (written through), before the caller updates the used ring.
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
        if self.disk.read_only() || !buffers_in_ram(ram, chain, false) {
            return (VIRTIO_BLK_S_IOERR, 0);
        }
        let mut buf = vec![0u8; (len as usize).min(CHUNK)];
        let mut done = 0u64;
        while done < len {
            let n = ((len - done) as usize).min(CHUNK);
            if gather(ram, chain, 16 + done, &mut buf[..n]) != Some(n)
                || self.disk.write_at(offset + done, &buf[..n]).is_err()
            {
                return (VIRTIO_BLK_S_IOERR, 0);
            }
            done += n as u64;
        }
        (VIRTIO_BLK_S_OK, 0)
    }
}

impl VirtioDevice for Blk {
    fn device_id(&self) -> u32 {
        VIRTIO_ID_BLOCK
    }
    fn features(&self) -> u64 {
        if self.disk.read_only() {
            VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_RO
        } else {
            VIRTIO_BLK_F_FLUSH
        }
    }
    fn num_queues(&self) -> usize {
        1
    }
    /// Config space (§5.2.4): `capacity` (u64 sectors) at 0; the rest reads 0.
    fn read_config(&self, offset: u64, size: u8) -> u64 {
        let mut cfg = [0u8; 16];
        cfg[..8].copy_from_slice(&self.disk.sectors().to_le_bytes());
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
        // At most `num` chains per notification: a driver cannot have more outstanding, and a
        // used ring laid over the available ring (each used-index write moving the available
        // index on) would otherwise keep this loop going forever (found by fuzzing).
        for _ in 0..queue.num {
            let Some(chain) = queue.pop(ram)? else { break };
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
    fn large_requests_pass_in_chunks_across_descriptors() {
        // 3 × CHUNK + 1024 bytes, split over descriptors whose boundaries do not line up with
        // the chunks: every byte lands where it should, both ways.
        let len = 3 * CHUNK + 1024;
        let mut ram = Ram::new(BASE, 0x100000);
        let img: Vec<u8> = (0..len + 1024).map(|i| (i * 7 + i / 512) as u8).collect();
        let mut blk = Blk::new(Disk::from_bytes(img.clone()));
        let data = BASE + 0x1000;
        let cut = [1000u32, 70000, 50000];
        let rest = len as u32 - cut.iter().sum::<u32>();
        let mut descs = vec![(BASE, 16, false)];
        let mut at = data;
        for n in cut.iter().chain([rest].iter()) {
            descs.push((at, *n, true));
            at += *n as u64;
        }
        let status = BASE + 0xf0000;
        descs.push((status, 1, true));
        header(&mut ram, BASE, VIRTIO_BLK_T_IN, 2);
        assert_eq!(blk.handle(&mut ram, &chain(&descs)), Some(len as u32 + 1));
        let mut got = vec![0u8; len];
        ram.read_bytes(data, &mut got).unwrap();
        assert!(got == img[1024..1024 + len], "IN data differs");
        // Write it back one sector lower.
        for d in descs.iter_mut().skip(1) {
            d.2 = false;
        }
        let last = descs.len() - 1;
        descs[last].2 = true;
        header(&mut ram, BASE, VIRTIO_BLK_T_OUT, 0);
        assert_eq!(blk.handle(&mut ram, &chain(&descs)), Some(1));
        assert_eq!(ram.read(status, 1).unwrap(), 0);
        assert!(blk.disk.memory_bytes().unwrap()[..len] == img[1024..1024 + len]);
    }

    #[test]
    fn read_only_disks_offer_ro_and_fail_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.img");
        std::fs::write(&path, vec![3u8; 2048]).unwrap();
        let mut blk = Blk::new(Disk::open(&path, DiskMode::ReadOnly).unwrap());
        assert_ne!(blk.features() & VIRTIO_BLK_F_RO, 0);
        let mut ram = Ram::new(BASE, 0x10000);
        let status = BASE + 0x3000;
        header(&mut ram, BASE, VIRTIO_BLK_T_OUT, 0);
        let c = chain(&[
            (BASE, 16, false),
            (BASE + 0x1000, 512, false),
            (status, 1, true),
        ]);
        assert_eq!(blk.handle(&mut ram, &c), Some(1));
        assert_eq!(ram.read(status, 1).unwrap() as u8, VIRTIO_BLK_S_IOERR);
        header(&mut ram, BASE, VIRTIO_BLK_T_IN, 1);
        let c = chain(&[
            (BASE, 16, false),
            (BASE + 0x1000, 512, true),
            (status, 1, true),
        ]);
        assert_eq!(blk.handle(&mut ram, &c), Some(513));
        assert_eq!(ram.read(BASE + 0x1000, 1).unwrap(), 3);
        assert_eq!(std::fs::read(&path).unwrap(), vec![3u8; 2048]);
        let rw = Blk::new(Disk::from_bytes(vec![0; 512]));
        assert_eq!(rw.features() & VIRTIO_BLK_F_RO, 0);
    }

    /// Through the queue, on a file: when the used ring shows a write complete, its data is in
    /// the file (another reader of the file sees it); a FLUSH completes after an fdatasync.
    #[test]
    fn completed_writes_are_in_the_file_and_flush_syncs() {
        use super::super::queue::{VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.img");
        std::fs::write(&path, vec![0u8; 4096]).unwrap();
        let mut blk = Blk::new(Disk::open(&path, DiskMode::WriteThrough).unwrap());
        let mut ram = Ram::new(BASE, 0x10000);
        let mut q = Virtqueue {
            num: 8,
            ready: true,
            desc: BASE + 0x8000,
            driver: BASE + 0x9000,
            device: BASE + 0xa000,
            ..Default::default()
        };
        let desc = |ram: &mut Ram, i: u64, addr: u64, len: u32, flags: u16, next: u16| {
            let at = BASE + 0x8000 + 16 * i;
            ram.write(at, 8, addr).unwrap();
            ram.write(at + 8, 4, len as u64).unwrap();
            ram.write(at + 12, 2, flags as u64).unwrap();
            ram.write(at + 14, 2, next as u64).unwrap();
        };
        // OUT of sector 3 (0x5a bytes), then FLUSH.
        header(&mut ram, BASE, VIRTIO_BLK_T_OUT, 3);
        ram.write_bytes(BASE + 0x1000, &[0x5a; 512]).unwrap();
        desc(&mut ram, 0, BASE, 16, VIRTQ_DESC_F_NEXT, 1);
        desc(&mut ram, 1, BASE + 0x1000, 512, VIRTQ_DESC_F_NEXT, 2);
        desc(&mut ram, 2, BASE + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
        header(&mut ram, BASE + 0x100, VIRTIO_BLK_T_FLUSH, 0);
        desc(&mut ram, 3, BASE + 0x100, 16, VIRTQ_DESC_F_NEXT, 4);
        desc(&mut ram, 4, BASE + 0x3001, 1, VIRTQ_DESC_F_WRITE, 0);
        ram.write(q.driver + 4, 2, 0).unwrap();
        ram.write(q.driver + 2, 2, 1).unwrap();
        assert!(blk.process_queue(0, &mut q, &mut ram).unwrap());
        assert_eq!(ram.read(q.device + 2, 2).unwrap(), 1, "used ring advanced");
        assert_eq!(ram.read(BASE + 0x3000, 1).unwrap(), 0);
        assert_eq!(
            std::fs::read(&path).unwrap()[3 * 512..4 * 512],
            [0x5a; 512],
            "a write the guest sees complete is in the file"
        );
        assert_eq!(blk.disk.syncs(), 0);
        ram.write(q.driver + 6, 2, 3).unwrap();
        ram.write(q.driver + 2, 2, 2).unwrap();
        assert!(blk.process_queue(0, &mut q, &mut ram).unwrap());
        assert_eq!(ram.read(BASE + 0x3001, 1).unwrap(), 0);
        assert_eq!(blk.disk.syncs(), 1, "FLUSH ended in fdatasync");
    }

    /// Fuzzing found a host hang: with the used ring laid over the available ring, every
    /// used-index write offered one more chain. A notification now handles at most `num`.
    #[test]
    fn used_ring_over_available_ring_does_not_hang() {
        use super::super::queue::VIRTQ_DESC_F_WRITE;
        let mut ram = Ram::new(BASE, 0x10000);
        let mut blk = Blk::new(Disk::from_bytes(vec![0u8; 4096]));
        let mut q = Virtqueue {
            num: 8,
            ready: true,
            desc: BASE,
            driver: BASE + 0x300,
            device: BASE + 0x300,
            ..Default::default()
        };
        // Every descriptor: one writable status byte (a request without a header).
        for i in 0..8 {
            ram.write(BASE + 16 * i, 8, BASE + 0x1000).unwrap();
            ram.write(BASE + 16 * i + 8, 4, 1).unwrap();
            ram.write(BASE + 16 * i + 12, 2, VIRTQ_DESC_F_WRITE as u64)
                .unwrap();
        }
        // The used index runs 5 ahead of the available one: each completion offers a chain.
        q.next_used = 5;
        ram.write(q.driver + 2, 2, 6).unwrap();
        assert!(blk.process_queue(0, &mut q, &mut ram).unwrap());
        assert_eq!(q.next_used, 5 + 8, "stopped after num chains");
    }
}

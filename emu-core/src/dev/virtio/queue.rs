//! Split virtqueues (VIRTIO 1.1, §2.6): descriptor table, available ring, used ring, and the
//! walking of descriptor chains (direct and indirect, §2.6.5.3). All guest memory is reached
//! through [`Ram`]; anything out of bounds is a [`QueueError`], never a host panic.

use crate::bus::Ram;

/// Descriptor flag: the chain continues at `next`.
pub const VIRTQ_DESC_F_NEXT: u16 = 1;
/// Descriptor flag: the buffer is device-writable.
pub const VIRTQ_DESC_F_WRITE: u16 = 2;
/// Descriptor flag: the buffer holds a table of indirect descriptors.
pub const VIRTQ_DESC_F_INDIRECT: u16 = 4;
/// Largest queue the device offers (QueueNumMax).
pub const QUEUE_NUM_MAX: u32 = 256;
/// Most descriptors an indirect table may hold.
const INDIRECT_MAX: u64 = 1024;

/// How a driver broke the virtqueue rules; the device answers with DEVICE_NEEDS_RESET.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// A ring or descriptor table lies (partly) outside RAM.
    #[error("virtqueue ring outside RAM at {0:#x}")]
    RingOutsideRam(u64),
    /// The available ring advanced by more than the queue size.
    #[error("available index jumped by {0}")]
    AvailOverrun(u16),
    /// A descriptor index is not below the queue (or indirect table) size.
    #[error("descriptor index {0} out of range")]
    BadIndex(u32),
    /// A chain is longer than its table: it loops.
    #[error("descriptor chain loops or is too long")]
    ChainTooLong,
    /// An indirect descriptor is malformed (nested, empty, misaligned length, or too big).
    #[error("malformed indirect descriptor")]
    BadIndirect,
    /// The queue is used before it was set up.
    #[error("virtqueue not ready")]
    NotReady,
}

/// One buffer of a descriptor chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    /// Guest-physical address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u32,
    /// Whether the device writes it (else it reads it).
    pub write: bool,
}

/// A descriptor chain taken from the available ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescChain {
    /// Index of the head descriptor (returned in the used ring).
    pub head: u16,
    /// The buffers in chain order (indirect tables flattened).
    pub descs: Vec<Descriptor>,
}

/// The state of one split virtqueue as the transport configured it.
#[derive(Debug, Clone, Default)]
pub struct Virtqueue {
    /// Queue size (number of descriptors).
    pub num: u32,
    /// Whether the driver enabled the queue.
    pub ready: bool,
    /// Guest-physical address of the descriptor table.
    pub desc: u64,
    /// Guest-physical address of the available ("driver") ring.
    pub driver: u64,
    /// Guest-physical address of the used ("device") ring.
    pub device: u64,
    /// Next available-ring slot the device will look at.
    pub last_avail: u16,
    /// Next used-ring index the device will write.
    pub next_used: u16,
}

fn read_u16(ram: &Ram, addr: u64) -> Result<u16, QueueError> {
    ram.read(addr, 2)
        .map(|v| v as u16)
        .map_err(|_| QueueError::RingOutsideRam(addr))
}

fn read_desc(ram: &Ram, table: u64, index: u64) -> Result<(u64, u32, u16, u16), QueueError> {
    let addr = table.wrapping_add(16 * index);
    let mut b = [0u8; 16];
    ram.read_bytes(addr, &mut b)
        .map_err(|_| QueueError::RingOutsideRam(addr))?;
    Ok((
        u64::from_le_bytes(b[0..8].try_into().unwrap()),
        u32::from_le_bytes(b[8..12].try_into().unwrap()),
        u16::from_le_bytes(b[12..14].try_into().unwrap()),
        u16::from_le_bytes(b[14..16].try_into().unwrap()),
    ))
}

impl Virtqueue {
    /// Take the next available chain, or `None` when the driver has offered nothing new.
    pub fn pop(&mut self, ram: &Ram) -> Result<Option<DescChain>, QueueError> {
        if !self.ready || self.num == 0 {
            return Err(QueueError::NotReady);
        }
        let avail_idx = read_u16(ram, self.driver.wrapping_add(2))?;
        let outstanding = avail_idx.wrapping_sub(self.last_avail);
        if outstanding == 0 {
            return Ok(None);
        }
        if outstanding as u32 > self.num {
            return Err(QueueError::AvailOverrun(outstanding));
        }
        let slot = self.last_avail as u64 % self.num as u64;
        let head = read_u16(ram, self.driver.wrapping_add(4 + 2 * slot))?;
        self.last_avail = self.last_avail.wrapping_add(1);
        let descs = self.walk(ram, head)?;
        Ok(Some(DescChain { head, descs }))
    }

    fn walk(&self, ram: &Ram, head: u16) -> Result<Vec<Descriptor>, QueueError> {
        let mut out = Vec::new();
        let mut index = head as u32;
        let mut seen = 0;
        loop {
            if index >= self.num {
                return Err(QueueError::BadIndex(index));
            }
            seen += 1;
            if seen > self.num {
                return Err(QueueError::ChainTooLong);
            }
            let (addr, len, flags, next) = read_desc(ram, self.desc, index as u64)?;
            if flags & VIRTQ_DESC_F_INDIRECT != 0 {
                // §2.6.5.3.1: an indirect descriptor is the only one of its chain entry.
                if flags & VIRTQ_DESC_F_NEXT != 0 {
                    return Err(QueueError::BadIndirect);
                }
                walk_indirect(ram, addr, len, &mut out)?;
                return Ok(out);
            }
            out.push(Descriptor {
                addr,
                len,
                write: flags & VIRTQ_DESC_F_WRITE != 0,
            });
            if flags & VIRTQ_DESC_F_NEXT == 0 {
                return Ok(out);
            }
            index = next as u32;
        }
    }

    /// Return chain `head` to the driver with `len` bytes written into it (§2.6.8).
    pub fn push_used(&mut self, ram: &mut Ram, head: u16, len: u32) -> Result<(), QueueError> {
        let slot = self.next_used as u64 % self.num as u64;
        let elem = self.device.wrapping_add(4 + 8 * slot);
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&(head as u32).to_le_bytes());
        b[4..].copy_from_slice(&len.to_le_bytes());
        ram.write_bytes(elem, &b)
            .map_err(|_| QueueError::RingOutsideRam(elem))?;
        self.next_used = self.next_used.wrapping_add(1);
        let idx = self.device.wrapping_add(2);
        ram.write(idx, 2, self.next_used as u64)
            .map_err(|_| QueueError::RingOutsideRam(idx))
    }
}

fn walk_indirect(
    ram: &Ram,
    table: u64,
    len: u32,
    out: &mut Vec<Descriptor>,
) -> Result<(), QueueError> {
    let count = len as u64 / 16;
    if len & 15 != 0 || count == 0 || count > INDIRECT_MAX {
        return Err(QueueError::BadIndirect);
    }
    let mut index = 0u64;
    for _ in 0..count {
        let (addr, len, flags, next) = read_desc(ram, table, index)?;
        if flags & VIRTQ_DESC_F_INDIRECT != 0 {
            return Err(QueueError::BadIndirect);
        }
        out.push(Descriptor {
            addr,
            len,
            write: flags & VIRTQ_DESC_F_WRITE != 0,
        });
        if flags & VIRTQ_DESC_F_NEXT == 0 {
            return Ok(());
        }
        index = next as u64;
        if index >= count {
            return Err(QueueError::BadIndex(next as u32));
        }
    }
    Err(QueueError::ChainTooLong)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0x8000_0000;

    fn put_desc(ram: &mut Ram, table: u64, i: u64, addr: u64, len: u32, flags: u16, next: u16) {
        let mut b = [0u8; 16];
        b[0..8].copy_from_slice(&addr.to_le_bytes());
        b[8..12].copy_from_slice(&len.to_le_bytes());
        b[12..14].copy_from_slice(&flags.to_le_bytes());
        b[14..16].copy_from_slice(&next.to_le_bytes());
        ram.write_bytes(table + 16 * i, &b).unwrap();
    }

    fn setup() -> (Ram, Virtqueue) {
        let ram = Ram::new(BASE, 0x10000);
        let q = Virtqueue {
            num: 4,
            ready: true,
            desc: BASE,
            driver: BASE + 0x100,
            device: BASE + 0x200,
            ..Default::default()
        };
        (ram, q)
    }

    fn offer(ram: &mut Ram, q: &Virtqueue, slot: u64, head: u16, idx: u16) {
        ram.write(q.driver + 4 + 2 * slot, 2, head as u64).unwrap();
        ram.write(q.driver + 2, 2, idx as u64).unwrap();
    }

    #[test]
    fn chain_pop_and_used() {
        let (mut ram, mut q) = setup();
        assert_eq!(q.pop(&ram).unwrap(), None);
        put_desc(&mut ram, q.desc, 2, BASE + 0x1000, 16, VIRTQ_DESC_F_NEXT, 0);
        put_desc(&mut ram, q.desc, 0, BASE + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
        offer(&mut ram, &q, 0, 2, 1);
        let c = q.pop(&ram).unwrap().unwrap();
        assert_eq!(c.head, 2);
        assert_eq!(c.descs.len(), 2);
        assert!(!c.descs[0].write && c.descs[1].write);
        assert_eq!(q.pop(&ram).unwrap(), None);
        q.push_used(&mut ram, 2, 1).unwrap();
        assert_eq!(ram.read(q.device + 2, 2).unwrap(), 1);
        assert_eq!(ram.read(q.device + 4, 4).unwrap(), 2);
        assert_eq!(ram.read(q.device + 8, 4).unwrap(), 1);
    }

    #[test]
    fn loops_bad_indices_and_rings_outside_ram_are_errors() {
        let (mut ram, mut q) = setup();
        put_desc(&mut ram, q.desc, 0, BASE, 1, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&mut ram, q.desc, 1, BASE, 1, VIRTQ_DESC_F_NEXT, 0);
        offer(&mut ram, &q, 0, 0, 1);
        assert_eq!(q.pop(&ram), Err(QueueError::ChainTooLong));
        offer(&mut ram, &q, 1, 9, 2);
        assert_eq!(q.pop(&ram), Err(QueueError::BadIndex(9)));
        ram.write(q.driver + 2, 2, 100).unwrap();
        assert!(matches!(q.pop(&ram), Err(QueueError::AvailOverrun(_))));
        q.driver = 0x1000;
        assert!(matches!(q.pop(&ram), Err(QueueError::RingOutsideRam(_))));
        q.ready = false;
        assert_eq!(q.pop(&ram), Err(QueueError::NotReady));
    }

    #[test]
    fn indirect_tables() {
        let (mut ram, mut q) = setup();
        let table = BASE + 0x3000;
        put_desc(&mut ram, table, 0, BASE + 0x4000, 16, VIRTQ_DESC_F_NEXT, 1);
        put_desc(
            &mut ram,
            table,
            1,
            BASE + 0x5000,
            513,
            VIRTQ_DESC_F_WRITE,
            0,
        );
        put_desc(&mut ram, q.desc, 3, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
        offer(&mut ram, &q, 0, 3, 1);
        let c = q.pop(&ram).unwrap().unwrap();
        assert_eq!(c.descs.len(), 2);
        assert_eq!(c.descs[1].len, 513);
        // A looping indirect table.
        put_desc(&mut ram, table, 1, BASE, 1, VIRTQ_DESC_F_NEXT, 0);
        offer(&mut ram, &q, 1, 3, 2);
        assert_eq!(q.pop(&ram), Err(QueueError::ChainTooLong));
        put_desc(&mut ram, q.desc, 3, table, 33, VIRTQ_DESC_F_INDIRECT, 0);
        offer(&mut ram, &q, 2, 3, 3);
        assert_eq!(q.pop(&ram), Err(QueueError::BadIndirect));
    }
}

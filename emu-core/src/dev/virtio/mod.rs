//! virtio over MMIO (Virtual I/O Device (VIRTIO) Version 1.1, §2 "Basic Facilities", §4.2
//! "Virtio Over MMIO", §5.2 "Block Device"): the transport ([`mmio`]), split virtqueues
//! ([`queue`]) the block device ([`blk`]) and its backing
//! store with image locking ([`disk`]).
pub mod blk;
pub mod disk;
pub mod mmio;
pub mod queue;

use crate::bus::Ram;
use queue::Virtqueue;

/// A virtio device behind a transport: its identity, features, config space and request
/// handling. The transport owns the queues and the status state machine.
pub trait VirtioDevice {
    /// virtio device ID (§5: 2 = block).
    fn device_id(&self) -> u32;
    /// Device-specific feature bits offered (transport bits such as VERSION_1 are added by
    /// the transport).
    fn features(&self) -> u64;
    /// Number of virtqueues.
    fn num_queues(&self) -> usize;
    /// Read `size` bytes of device configuration space at `offset` (little-endian).
    fn read_config(&self, offset: u64, size: u8) -> u64;
    /// Handle every available buffer on `queue` (the one numbered `index`). Returns whether
    /// used buffers were added (an interrupt is due), or `Err` when the driver broke the
    /// queue's rules and the device needs a reset (§2.1.2).
    fn process_queue(
        &mut self,
        index: usize,
        queue: &mut Virtqueue,
        ram: &mut Ram,
    ) -> Result<bool, queue::QueueError>;
}

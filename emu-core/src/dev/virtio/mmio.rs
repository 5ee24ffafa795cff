//! The virtio-mmio transport (VIRTIO 1.1, §4.2.2 "MMIO Device Register Layout"; legacy
//! interface §4.2.4). One transport per slot at 0x1000_1000 + 0x1000·n on QEMU `virt`; an
//! empty slot answers with DeviceID 0, as QEMU's do.
//!
//! Version 2 ("modern"): QueueDesc/Driver/Device Low/High and QueueReady, feature negotiation
//! with FEATURES_OK and VIRTIO_F_VERSION_1 (offered; a driver that does not accept it is
//! tolerated, as by QEMU). Version 1 ("legacy"): GuestPageSize, QueueAlign
//! and QueuePFN, the rings laid out contiguously (§2.6.2 "Legacy Interfaces").
//!
//! A driver that breaks the queue rules gets DEVICE_NEEDS_RESET in Status and a configuration
//! change interrupt (§2.1.2); the device then ignores notifications until reset.

use super::queue::{Virtqueue, QUEUE_NUM_MAX};
use super::VirtioDevice;
use crate::bus::Ram;
use crate::dev::{BusFault, Size};

/// Size of one virtio-mmio slot's register window in bytes.
pub const VIRTIO_MMIO_SIZE: u64 = 0x1000;
/// Bytes of a slot the transport decodes (QEMU's region); the rest of the slot faults.
pub const VIRTIO_MMIO_REGS: u64 = 0x200;
/// "virt" in little-endian ASCII.
pub const VIRTIO_MMIO_MAGIC: u32 = 0x7472_6976;
/// Vendor ID reported ("QEMU", as QEMU's devices report, so drivers that check it are happy).
pub const VIRTIO_VENDOR_ID: u32 = 0x554d_4551;
/// Feature bit 32: the device complies with VIRTIO 1.x (modern only).
pub const VIRTIO_F_VERSION_1: u64 = 1 << 32;
/// Feature bit 28: indirect descriptors.
pub const VIRTIO_F_INDIRECT_DESC: u64 = 1 << 28;

/// Device status bits (§2.1).
pub mod status {
    pub const ACKNOWLEDGE: u32 = 1;
    pub const DRIVER: u32 = 2;
    pub const DRIVER_OK: u32 = 4;
    pub const FEATURES_OK: u32 = 8;
    pub const DEVICE_NEEDS_RESET: u32 = 64;
    pub const FAILED: u32 = 128;
}

/// InterruptStatus bit: the device used a buffer.
pub const INT_USED_BUFFER: u32 = 1;
/// InterruptStatus bit: the configuration (or device status) changed.
pub const INT_CONFIG_CHANGE: u32 = 2;

const MAGIC: u64 = 0x000;
const VERSION: u64 = 0x004;
const DEVICE_ID: u64 = 0x008;
const VENDOR_ID: u64 = 0x00c;
const DEVICE_FEATURES: u64 = 0x010;
const DEVICE_FEATURES_SEL: u64 = 0x014;
const DRIVER_FEATURES: u64 = 0x020;
const DRIVER_FEATURES_SEL: u64 = 0x024;
const GUEST_PAGE_SIZE: u64 = 0x028;
const QUEUE_SEL: u64 = 0x030;
const QUEUE_NUM_MAX_REG: u64 = 0x034;
const QUEUE_NUM: u64 = 0x038;
const QUEUE_ALIGN: u64 = 0x03c;
const QUEUE_PFN: u64 = 0x040;
const QUEUE_READY: u64 = 0x044;
const QUEUE_NOTIFY: u64 = 0x050;
const INTERRUPT_STATUS: u64 = 0x060;
const INTERRUPT_ACK: u64 = 0x064;
const STATUS: u64 = 0x070;
const QUEUE_DESC_LOW: u64 = 0x080;
const QUEUE_DESC_HIGH: u64 = 0x084;
const QUEUE_DRIVER_LOW: u64 = 0x090;
const QUEUE_DRIVER_HIGH: u64 = 0x094;
const QUEUE_DEVICE_LOW: u64 = 0x0a0;
const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
const CONFIG_GENERATION: u64 = 0x0fc;
const CONFIG: u64 = 0x100;

/// Per-queue transport state beyond the ring addresses (legacy layout inputs).
#[derive(Debug, Clone, Default)]
struct QueueSlot {
    vq: Virtqueue,
    pfn: u32,
    align: u32,
}

/// One virtio-mmio slot, holding a device or empty.
pub struct VirtioMmio {
    legacy: bool,
    device: Option<Box<dyn VirtioDevice>>,
    status: u32,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    guest_page_size: u32,
    queue_sel: u32,
    queues: Vec<QueueSlot>,
    interrupt_status: u32,
    notified: bool,
}

impl VirtioMmio {
    /// A slot with `device` (or empty), speaking version 1 (`legacy`) or version 2.
    pub fn new(device: Option<Box<dyn VirtioDevice>>, legacy: bool) -> VirtioMmio {
        let n = device.as_ref().map_or(0, |d| d.num_queues());
        VirtioMmio {
            legacy,
            device,
            status: 0,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: 0,
            guest_page_size: 4096,
            queue_sel: 0,
            queues: vec![
                QueueSlot {
                    align: 4096,
                    ..Default::default()
                };
                n
            ],
            interrupt_status: 0,
            notified: false,
        }
    }

    /// Replace the device (a reset of the transport).
    pub fn set_device(&mut self, device: Option<Box<dyn VirtioDevice>>) {
        *self = VirtioMmio::new(device, self.legacy);
    }

    /// The device in the slot.
    pub fn device(&self) -> Option<&dyn VirtioDevice> {
        self.device.as_deref()
    }

    /// The level of the slot's interrupt line.
    pub fn irq(&self) -> bool {
        self.interrupt_status != 0
    }

    /// The device status register.
    pub fn status(&self) -> u32 {
        self.status
    }

    /// Reset the transport (as a Status write of 0 does), keeping the device.
    pub fn reset(&mut self) {
        let device = self.device.take();
        *self = VirtioMmio::new(device, self.legacy);
    }

    fn offered_features(&self) -> u64 {
        let Some(dev) = &self.device else { return 0 };
        let mut f = dev.features() | VIRTIO_F_INDIRECT_DESC;
        if !self.legacy {
            f |= VIRTIO_F_VERSION_1;
        }
        f
    }

    fn queue(&mut self) -> Option<&mut QueueSlot> {
        self.queues.get_mut(self.queue_sel as usize)
    }

    /// Recompute a legacy queue's ring addresses from PFN, page size, size and alignment.
    fn legacy_layout(slot: &mut QueueSlot, page_size: u32) {
        let q = &mut slot.vq;
        q.ready = slot.pfn != 0 && q.num != 0;
        // Guest-chosen values: wrap rather than overflow (the rings then lie outside RAM).
        q.desc = slot.pfn as u64 * page_size as u64;
        q.driver = q.desc.wrapping_add(16 * q.num as u64);
        let align = (slot.align as u64).max(1);
        let avail_end = q.driver.wrapping_add(6 + 2 * q.num as u64);
        q.device = avail_end.div_ceil(align).wrapping_mul(align);
    }

    /// Register read (§4.2.2). Unknown offsets read 0. As QEMU 7.2's transport: the registers
    /// decode 0x200 bytes (past them: access fault); an 8-byte access below the configuration
    /// space is two 4-byte accesses; other widths than 4 read 0 there, except that an empty
    /// slot answers its magic, version and vendor at any width (truncated).
    pub fn read(&mut self, offset: u64, size: Size) -> Result<u64, BusFault> {
        if offset >= VIRTIO_MMIO_REGS {
            return Err(BusFault { addr: offset });
        }
        if size == 8 && offset < CONFIG {
            let lo = self.read(offset, 4)?;
            let hi = self.read(offset + 4, 4)?;
            return Ok(lo | hi << 32);
        }
        if self.device.is_none() && size != 4 && offset < CONFIG {
            let v = match offset {
                MAGIC | VERSION | VENDOR_ID => self.read(offset, 4)?,
                _ => 0,
            };
            return Ok(v & (u64::MAX >> (64 - 8 * size as u32)));
        }
        if size != 4 && offset < CONFIG {
            return Ok(0);
        }
        if offset >= CONFIG {
            return Ok(self
                .device
                .as_ref()
                .map_or(0, |d| d.read_config(offset - CONFIG, size)));
        }
        let version = if self.legacy { 1 } else { 2 };
        let v: u32 = match offset {
            MAGIC => VIRTIO_MMIO_MAGIC,
            VERSION => version,
            DEVICE_ID => self.device.as_ref().map_or(0, |d| d.device_id()),
            VENDOR_ID => VIRTIO_VENDOR_ID,
            _ if self.device.is_none() => 0,
            DEVICE_FEATURES => match self.device_features_sel {
                0 => self.offered_features() as u32,
                1 if !self.legacy => (self.offered_features() >> 32) as u32,
                _ => 0,
            },
            QUEUE_NUM_MAX_REG => {
                let legacy = self.legacy;
                match self.queue() {
                    // Modern: 0 once the queue is live.
                    Some(q) if legacy || !q.vq.ready => QUEUE_NUM_MAX,
                    _ => 0,
                }
            }
            QUEUE_PFN if self.legacy => self.queue().map_or(0, |q| q.pfn),
            QUEUE_READY if !self.legacy => self.queue().map_or(0, |q| q.vq.ready as u32),
            INTERRUPT_STATUS => self.interrupt_status,
            STATUS => self.status,
            CONFIG_GENERATION => 0,
            _ => 0,
        };
        Ok(v as u64)
    }

    /// Register write (§4.2.2). A QueueNotify is remembered for [`VirtioMmio::process`].
    pub fn write(&mut self, offset: u64, size: Size, value: u64) -> Result<(), BusFault> {
        if offset >= VIRTIO_MMIO_REGS {
            return Err(BusFault { addr: offset });
        }
        if size == 8 && offset < CONFIG {
            self.write(offset, 4, value & 0xffff_ffff)?;
            return self.write(offset + 4, 4, value >> 32);
        }
        if self.device.is_none() || offset >= CONFIG || size != 4 {
            return Ok(());
        }
        let v = value as u32;
        let legacy = self.legacy;
        let page = self.guest_page_size;
        match offset {
            DEVICE_FEATURES_SEL => self.device_features_sel = v,
            DRIVER_FEATURES => {
                let shift = match self.driver_features_sel {
                    0 => 0,
                    1 if !legacy => 32,
                    _ => return Ok(()),
                };
                self.driver_features =
                    (self.driver_features & !(0xffff_ffffu64 << shift)) | ((v as u64) << shift);
            }
            DRIVER_FEATURES_SEL => self.driver_features_sel = v,
            GUEST_PAGE_SIZE if legacy => self.guest_page_size = v,
            QUEUE_SEL => self.queue_sel = v,
            QUEUE_NUM => {
                if let Some(q) = self.queue() {
                    // Sizes above the maximum are clamped to it rather than trusted.
                    q.vq.num = v.min(QUEUE_NUM_MAX);
                    if legacy {
                        Self::legacy_layout(q, page);
                    }
                }
            }
            QUEUE_ALIGN if legacy => {
                if let Some(q) = self.queue() {
                    q.align = v;
                    Self::legacy_layout(q, page);
                }
            }
            QUEUE_PFN if legacy => {
                if let Some(q) = self.queue() {
                    q.pfn = v;
                    if v == 0 {
                        q.vq = Virtqueue::default();
                    } else {
                        q.vq.last_avail = 0;
                        q.vq.next_used = 0;
                        Self::legacy_layout(q, page);
                    }
                }
            }
            QUEUE_READY if !legacy => {
                if let Some(q) = self.queue() {
                    q.vq.ready = v & 1 != 0 && q.vq.num != 0;
                }
            }
            QUEUE_DESC_LOW | QUEUE_DESC_HIGH | QUEUE_DRIVER_LOW | QUEUE_DRIVER_HIGH
            | QUEUE_DEVICE_LOW | QUEUE_DEVICE_HIGH
                if !legacy =>
            {
                if let Some(q) = self.queue() {
                    let field = match offset & !7 {
                        QUEUE_DESC_LOW => &mut q.vq.desc,
                        QUEUE_DRIVER_LOW => &mut q.vq.driver,
                        _ => &mut q.vq.device,
                    };
                    let shift = if offset & 4 != 0 { 32 } else { 0 };
                    *field = (*field & !(0xffff_ffffu64 << shift)) | ((v as u64) << shift);
                }
            }
            QUEUE_NOTIFY if (v as usize) < self.queues.len() => self.notified = true,
            INTERRUPT_ACK => self.interrupt_status &= !v,
            STATUS => self.write_status(v),
            _ => {}
        }
        Ok(())
    }

    fn write_status(&mut self, v: u32) {
        if v == 0 {
            self.reset();
            return;
        }
        let mut v = v & !status::DEVICE_NEEDS_RESET;
        if v & status::FEATURES_OK != 0 && self.status & status::FEATURES_OK == 0 {
            // §2.2.2: accept only offered features. A modern driver that leaves out
            // VERSION_1 is tolerated, as QEMU does (the spec lets the device choose): xv6
            // never writes the high feature word.
            let offered = self.offered_features();
            let ok = self.driver_features & !offered == 0;
            if !ok {
                v &= !status::FEATURES_OK;
            }
        }
        self.status = v | (self.status & status::DEVICE_NEEDS_RESET);
    }

    /// Service queues after a QueueNotify: hand every available request to the device and
    /// raise the used-buffer interrupt. A queue-rule violation sets DEVICE_NEEDS_RESET.
    pub fn process(&mut self, ram: &mut Ram) {
        if !std::mem::take(&mut self.notified) {
            return;
        }
        let Some(dev) = self.device.as_mut() else {
            return;
        };
        if self.status & status::DRIVER_OK == 0 || self.status & status::DEVICE_NEEDS_RESET != 0 {
            return;
        }
        for (i, slot) in self.queues.iter_mut().enumerate() {
            if !slot.vq.ready {
                continue;
            }
            match dev.process_queue(i, &mut slot.vq, ram) {
                Ok(true) => self.interrupt_status |= INT_USED_BUFFER,
                Ok(false) => {}
                Err(_) => {
                    self.status |= status::DEVICE_NEEDS_RESET;
                    self.interrupt_status |= INT_CONFIG_CHANGE;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::blk::{Blk, Disk};
    use super::*;

    fn blk(legacy: bool) -> VirtioMmio {
        let disk = Disk::from_bytes(vec![0u8; 8 * 512]);
        VirtioMmio::new(Some(Box::new(Blk::new(disk))), legacy)
    }

    #[test]
    fn identity_and_empty_slot() {
        let mut m = blk(false);
        assert_eq!(m.read(MAGIC, 4).unwrap(), VIRTIO_MMIO_MAGIC as u64);
        assert_eq!(m.read(VERSION, 4).unwrap(), 2);
        assert_eq!(m.read(DEVICE_ID, 4).unwrap(), 2);
        assert_eq!(m.read(CONFIG, 8).unwrap(), 8);
        assert_eq!(blk(true).read(VERSION, 4).unwrap(), 1);
        let mut e = VirtioMmio::new(None, false);
        assert_eq!(e.read(MAGIC, 4).unwrap(), VIRTIO_MMIO_MAGIC as u64);
        assert_eq!(e.read(DEVICE_ID, 4).unwrap(), 0);
        assert_eq!(e.read(QUEUE_NUM_MAX_REG, 4).unwrap(), 0);
        e.write(QUEUE_NOTIFY, 4, 0).unwrap();
        assert!(!e.irq());
    }

    #[test]
    fn modern_feature_negotiation() {
        let mut m = blk(false);
        m.write(DEVICE_FEATURES_SEL, 4, 1).unwrap();
        assert_eq!(m.read(DEVICE_FEATURES, 4).unwrap(), 1, "VERSION_1");
        m.write(STATUS, 4, 3).unwrap();
        m.write(DRIVER_FEATURES_SEL, 4, 1).unwrap();
        m.write(DRIVER_FEATURES, 4, 1).unwrap();
        // An unoffered feature is refused too.
        m.write(DRIVER_FEATURES_SEL, 4, 0).unwrap();
        m.write(DRIVER_FEATURES, 4, 1 << 5).unwrap();
        m.write(STATUS, 4, 11).unwrap();
        assert_eq!(m.read(STATUS, 4).unwrap(), 3);
        m.write(DRIVER_FEATURES, 4, 1 << 9).unwrap();
        m.write(STATUS, 4, 11).unwrap();
        assert_eq!(m.read(STATUS, 4).unwrap(), 11);
        // Without VERSION_1 (xv6 never writes the high word) FEATURES_OK still sticks.
        m.write(STATUS, 4, 0).unwrap();
        m.write(STATUS, 4, 3).unwrap();
        m.write(DRIVER_FEATURES, 4, 1 << 9).unwrap();
        m.write(STATUS, 4, 11).unwrap();
        assert_eq!(m.read(STATUS, 4).unwrap(), 11);
        // Reset.
        m.write(STATUS, 4, 0).unwrap();
        assert_eq!(m.read(STATUS, 4).unwrap(), 0);
    }

    #[test]
    fn queue_registers_both_versions() {
        let mut m = blk(false);
        assert_eq!(m.read(QUEUE_NUM_MAX_REG, 4).unwrap(), QUEUE_NUM_MAX as u64);
        m.write(QUEUE_NUM, 4, 8).unwrap();
        m.write(QUEUE_DESC_LOW, 4, 0x8000_1000).unwrap();
        m.write(QUEUE_DESC_HIGH, 4, 0).unwrap();
        m.write(QUEUE_DRIVER_LOW, 4, 0x8000_2000).unwrap();
        m.write(QUEUE_DEVICE_LOW, 4, 0x8000_3000).unwrap();
        m.write(QUEUE_READY, 4, 1).unwrap();
        assert_eq!(m.read(QUEUE_READY, 4).unwrap(), 1);
        let q = &m.queues[0].vq;
        assert_eq!(
            (q.desc, q.driver, q.device, q.num),
            (0x8000_1000, 0x8000_2000, 0x8000_3000, 8)
        );
        // Legacy registers are absent in modern mode.
        assert_eq!(m.read(QUEUE_PFN, 4).unwrap(), 0);

        let mut l = blk(true);
        l.write(GUEST_PAGE_SIZE, 4, 4096).unwrap();
        l.write(QUEUE_NUM, 4, 8).unwrap();
        l.write(QUEUE_PFN, 4, 0x80001).unwrap();
        let q = &l.queues[0].vq;
        assert!(q.ready);
        assert_eq!(q.desc, 0x8000_1000);
        assert_eq!(q.driver, 0x8000_1000 + 128);
        assert_eq!(q.device, 0x8000_2000);
        assert_eq!(l.read(QUEUE_PFN, 4).unwrap(), 0x80001);
        l.write(QUEUE_ALIGN, 4, 256).unwrap();
        assert_eq!(l.queues[0].vq.device, 0x8000_1000 + 256);
        // Features: only the low word exists in legacy.
        l.write(DEVICE_FEATURES_SEL, 4, 1).unwrap();
        assert_eq!(l.read(DEVICE_FEATURES, 4).unwrap(), 0);
    }

    #[test]
    fn broken_queue_sets_needs_reset() {
        let mut ram = Ram::new(0x8000_0000, 0x4000);
        let mut m = blk(false);
        m.write(STATUS, 4, 3).unwrap();
        m.write(DRIVER_FEATURES_SEL, 4, 1).unwrap();
        m.write(DRIVER_FEATURES, 4, 1).unwrap();
        m.write(STATUS, 4, 15).unwrap();
        m.write(QUEUE_NUM, 4, 4).unwrap();
        m.write(QUEUE_DESC_LOW, 4, 0x8000_0000).unwrap();
        m.write(QUEUE_DRIVER_LOW, 4, 0x8000_0100).unwrap();
        m.write(QUEUE_DEVICE_LOW, 4, 0x8000_0200).unwrap();
        m.write(QUEUE_READY, 4, 1).unwrap();
        // avail idx = 1, ring[0] = 7 (out of range).
        ram.write(0x8000_0104, 2, 7).unwrap();
        ram.write(0x8000_0102, 2, 1).unwrap();
        m.write(QUEUE_NOTIFY, 4, 0).unwrap();
        m.process(&mut ram);
        assert_ne!(m.status() & status::DEVICE_NEEDS_RESET, 0);
        assert_eq!(
            m.read(INTERRUPT_STATUS, 4).unwrap() as u32,
            INT_CONFIG_CHANGE
        );
        assert!(m.irq());
        m.write(INTERRUPT_ACK, 4, INT_CONFIG_CHANGE as u64).unwrap();
        assert!(!m.irq());
        m.write(STATUS, 4, 0).unwrap();
        assert_eq!(m.status(), 0);
    }
}

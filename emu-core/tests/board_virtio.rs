//! virtio-blk through the bus, driven at register level by a driver written here (no hart):
//! both transport versions, on a temporary image file written through, plus the PLIC
//! interrupt path (source 1, claim/complete).

use emu_core::bus::{Bus, PLIC_BASE, RAM_BASE, VIRTIO_BASE};
use emu_core::dev::virtio::blk::{Blk, Disk, DiskMode, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT};
use emu_core::dev::virtio::mmio::status;

const DESC: u64 = RAM_BASE + 0x1000;
const NUM: u64 = 8;

struct Driver {
    bus: Bus,
    legacy: bool,
    avail_idx: u16,
}

impl Driver {
    fn reg(&mut self, off: u64) -> u32 {
        self.bus.read(VIRTIO_BASE + off, 4).unwrap() as u32
    }
    fn set(&mut self, off: u64, v: u32) {
        self.bus.write(VIRTIO_BASE + off, 4, v as u64).unwrap();
    }

    /// The xv6 `virtio_disk_init` sequence, for either transport.
    fn new(disk: Disk, legacy: bool) -> Driver {
        let mut bus = Bus::with_harts(1 << 20, 1, legacy);
        bus.virtio[0].set_device(Some(Box::new(Blk::new(disk))));
        let mut d = Driver {
            bus,
            legacy,
            avail_idx: 0,
        };
        assert_eq!(d.reg(0x000), 0x7472_6976);
        assert_eq!(d.reg(0x004), if legacy { 1 } else { 2 });
        assert_eq!(d.reg(0x008), 2);
        d.set(0x070, 0);
        d.set(0x070, status::ACKNOWLEDGE | status::DRIVER);
        d.set(0x014, 0);
        let features = d.reg(0x010);
        assert_ne!(features & (1 << 9), 0, "FLUSH offered");
        d.set(0x024, 0);
        d.set(0x020, 1 << 9);
        if !legacy {
            d.set(0x024, 1);
            d.set(0x020, 1);
        }
        d.set(
            0x070,
            status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK,
        );
        assert_ne!(d.reg(0x070) & status::FEATURES_OK, 0);
        d.set(0x030, 0);
        assert!(d.reg(0x034) as u64 >= NUM);
        d.set(0x038, NUM as u32);
        if legacy {
            d.set(0x028, 4096);
            d.set(0x040, (DESC >> 12) as u32);
        } else {
            d.set(0x080, DESC as u32);
            d.set(0x084, (DESC >> 32) as u32);
            d.set(0x090, d.avail() as u32);
            d.set(0x094, 0);
            d.set(0x0a0, d.used() as u32);
            d.set(0x0a4, 0);
            d.set(0x044, 1);
        }
        d.set(
            0x070,
            status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK,
        );
        // PLIC: source 1 priority 1, enabled for hart 0's S context (1).
        d.bus.write(PLIC_BASE + 4, 4, 1).unwrap();
        d.bus.write(PLIC_BASE + 0x2080, 4, 1 << 1).unwrap();
        d
    }
    fn avail(&self) -> u64 {
        DESC + 16 * NUM
    }
    fn used(&self) -> u64 {
        if self.legacy {
            // Legacy layout: used ring on the next 4096 boundary.
            (self.avail() + 6 + 2 * NUM).div_ceil(4096) * 4096
        } else {
            RAM_BASE + 0x3000
        }
    }
    fn desc(&mut self, i: u64, addr: u64, len: u32, flags: u16, next: u16) {
        let ram = &mut self.bus.ram;
        let at = DESC + 16 * i;
        ram.write(at, 8, addr).unwrap();
        ram.write(at + 8, 4, len as u64).unwrap();
        ram.write(at + 12, 2, flags as u64).unwrap();
        ram.write(at + 14, 2, next as u64).unwrap();
    }
    /// Submit a 3-descriptor request (header, data, status) and service the interrupt.
    /// Returns the status byte.
    fn request(&mut self, kind: u32, sector: u64, data: u64, len: u32) -> u8 {
        let hdr = RAM_BASE + 0x8000;
        let st = RAM_BASE + 0x8100;
        self.bus.ram.write(hdr, 4, kind as u64).unwrap();
        self.bus.ram.write(hdr + 8, 8, sector).unwrap();
        self.bus.ram.write(st, 1, 0xff).unwrap();
        let data_flags = if kind == VIRTIO_BLK_T_IN { 1 | 2 } else { 1 };
        self.desc(0, hdr, 16, 1, 1);
        self.desc(1, data, len, data_flags, 2);
        self.desc(2, st, 1, 2, 0);
        let avail = self.avail();
        self.bus
            .ram
            .write(avail + 4 + 2 * (self.avail_idx as u64 % NUM), 2, 0)
            .unwrap();
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.bus
            .ram
            .write(avail + 2, 2, self.avail_idx as u64)
            .unwrap();
        self.bus.event = false;
        self.set(0x050, 0);
        assert!(
            self.bus.event,
            "the notify raised an interrupt: the machine must look"
        );
        assert!(self.bus.plic.context_irq(1));
        assert!(!self.bus.plic.context_irq(0), "not enabled for M");
        // Claim, ack, complete.
        let claim = PLIC_BASE + 0x20_1004;
        assert_eq!(self.bus.read(claim, 4).unwrap(), 1);
        let used = self.used();
        assert_eq!(
            self.bus.ram.read(used + 2, 2).unwrap(),
            self.avail_idx as u64
        );
        let isr = self.reg(0x060);
        assert_eq!(isr, 1);
        self.set(0x064, isr);
        self.bus.write(claim, 4, 1).unwrap();
        assert!(!self.bus.plic.context_irq(1));
        self.bus.ram.read(st, 1).unwrap() as u8
    }
}

fn round_trip(legacy: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk.img");
    let mut image = vec![0u8; 64 * 512];
    image[5 * 512..6 * 512].fill(0x11);
    std::fs::write(&path, &image).unwrap();

    let mut d = Driver::new(Disk::open(&path, DiskMode::WriteThrough).unwrap(), legacy);
    let buf = RAM_BASE + 0x10000;
    // Read sector 5.
    assert_eq!(d.request(VIRTIO_BLK_T_IN, 5, buf, 512), 0);
    assert_eq!(d.bus.ram.read(buf + 511, 1).unwrap(), 0x11);
    // Write sectors 9..11 and read them back.
    let pattern: Vec<u8> = (0..1024).map(|i| (i * 7 % 251) as u8).collect();
    d.bus.ram.write_bytes(buf, &pattern).unwrap();
    assert_eq!(d.request(VIRTIO_BLK_T_OUT, 9, buf, 1024), 0);
    d.bus.ram.write_bytes(buf, &[0; 1024]).unwrap();
    assert_eq!(d.request(VIRTIO_BLK_T_IN, 9, buf, 1024), 0);
    let mut back = vec![0u8; 1024];
    d.bus.ram.read_bytes(buf, &mut back).unwrap();
    assert_eq!(back, pattern);
    // Written through to the file.
    assert_eq!(
        &std::fs::read(&path).unwrap()[9 * 512..11 * 512],
        &pattern[..]
    );
    // Beyond the end: an error status, the device stays usable.
    assert_eq!(d.request(VIRTIO_BLK_T_IN, 64, buf, 512), 1);
    assert_eq!(d.request(VIRTIO_BLK_T_IN, 63, buf, 512), 0);
    // Data pointing outside RAM: error status, never a panic.
    assert_eq!(d.request(VIRTIO_BLK_T_IN, 0, 0x4000_0000, 512), 1);
    for _ in 0..20 {
        // Ring wrap-around.
        assert_eq!(d.request(VIRTIO_BLK_T_IN, 1, buf, 512), 0);
    }
}

#[test]
fn blk_round_trip_modern() {
    round_trip(false);
}

#[test]
fn blk_round_trip_legacy() {
    round_trip(true);
}

#[test]
fn empty_slots_have_device_id_zero() {
    let mut bus = Bus::new(1 << 20);
    for n in 0..8 {
        let base = VIRTIO_BASE + 0x1000 * n;
        assert_eq!(bus.read(base, 4).unwrap(), 0x7472_6976);
        assert_eq!(bus.read(base + 8, 4).unwrap(), 0);
    }
    assert!(bus.read(VIRTIO_BASE + 0x8000, 4).is_err());
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        /// Whatever the driver writes to the registers and the rings, the device answers with
        /// statuses or DEVICE_NEEDS_RESET, never a host panic.
        #[test]
        fn arbitrary_rings_never_panic(
            legacy: bool,
            regs in proptest::collection::vec((0u64..0x40, any::<u32>()), 0..24),
            ring_words in proptest::collection::vec(any::<u64>(), 64),
            addrs in proptest::collection::vec(
                prop_oneof![Just(RAM_BASE), any::<u64>(), (RAM_BASE..RAM_BASE + 0x2000)], 3),
            num in 0u32..300,
            notifies in 1usize..4,
        ) {
            let mut bus = Bus::with_harts(1 << 20, 1, legacy);
            bus.virtio[0].set_device(Some(Box::new(Blk::new(Disk::from_bytes(vec![0; 4096])))));
            for (i, w) in ring_words.iter().enumerate() {
                bus.ram.write(RAM_BASE + 8 * i as u64, 8, *w).unwrap();
            }
            let w = |bus: &mut Bus, off: u64, v: u64| bus.write(VIRTIO_BASE + off, 4, v).unwrap();
            w(&mut bus, 0x070, 3);
            w(&mut bus, 0x020, 1 << 9);
            w(&mut bus, 0x024, 1);
            w(&mut bus, 0x020, 1);
            w(&mut bus, 0x070, 11);
            w(&mut bus, 0x038, num as u64);
            if legacy {
                w(&mut bus, 0x040, addrs[0] >> 12);
            } else {
                for (k, a) in addrs.iter().enumerate() {
                    w(&mut bus, 0x080 + 0x10 * k as u64, *a & 0xffff_ffff);
                    w(&mut bus, 0x084 + 0x10 * k as u64, *a >> 32);
                }
                w(&mut bus, 0x044, 1);
            }
            w(&mut bus, 0x070, 15);
            for (off, v) in regs {
                // Random register writes, but not a reset of Status (which would be a test of
                // nothing).
                if off * 4 != 0x70 {
                    w(&mut bus, off * 4, v as u64);
                }
            }
            for _ in 0..notifies {
                w(&mut bus, 0x050, 0);
            }
            let st = bus.read(VIRTIO_BASE + 0x070, 4).unwrap() as u32;
            // Either the device is still healthy or it asked for a reset and interrupted.
            if st & status::DEVICE_NEEDS_RESET != 0 {
                prop_assert!(bus.read(VIRTIO_BASE + 0x060, 4).unwrap() & 2 != 0);
            }
        }
    }
}

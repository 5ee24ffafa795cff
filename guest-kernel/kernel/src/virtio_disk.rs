//! virtio-blk driver over the modern (Version 2) virtio-mmio transport, one request queue of
//! NUM descriptors, interrupt-driven (xv6 virtio_disk.c). Virtio 1.1: §4.2.2 (MMIO registers),
//! §2.6 (split virtqueues), §5.2 (block device).

use crate::bio::Buf;
use crate::kalloc::kalloc;
use crate::memlayout::VIRTIO0;
use crate::proc::{sleep, wakeup};
use crate::riscv::PGSIZE;
use crate::spinlock::{acquire, release, Spinlock};
use abi::fs::BSIZE;
use core::ptr::{addr_of_mut, null_mut, read_volatile, write_volatile};
use core::sync::atomic::{fence, Ordering};

const MMIO_MAGIC_VALUE: usize = 0x000;
const MMIO_VERSION: usize = 0x004;
const MMIO_DEVICE_ID: usize = 0x008;
const MMIO_DEVICE_FEATURES: usize = 0x010;
const MMIO_DRIVER_FEATURES: usize = 0x020;
const MMIO_QUEUE_SEL: usize = 0x030;
const MMIO_QUEUE_NUM_MAX: usize = 0x034;
const MMIO_QUEUE_NUM: usize = 0x038;
const MMIO_QUEUE_READY: usize = 0x044;
const MMIO_QUEUE_NOTIFY: usize = 0x050;
const MMIO_INTERRUPT_STATUS: usize = 0x060;
const MMIO_INTERRUPT_ACK: usize = 0x064;
const MMIO_STATUS: usize = 0x070;
const MMIO_QUEUE_DESC_LOW: usize = 0x080;
const MMIO_QUEUE_DESC_HIGH: usize = 0x084;
const MMIO_DRIVER_DESC_LOW: usize = 0x090;
const MMIO_DRIVER_DESC_HIGH: usize = 0x094;
const MMIO_DEVICE_DESC_LOW: usize = 0x0a0;
const MMIO_DEVICE_DESC_HIGH: usize = 0x0a4;

const STATUS_ACKNOWLEDGE: u32 = 1;
const STATUS_DRIVER: u32 = 2;
const STATUS_DRIVER_OK: u32 = 4;
const STATUS_FEATURES_OK: u32 = 8;

const BLK_F_RO: u32 = 5;
const BLK_F_SCSI: u32 = 7;
const BLK_F_CONFIG_WCE: u32 = 11;
const BLK_F_MQ: u32 = 12;
const F_ANY_LAYOUT: u32 = 27;
const RING_F_INDIRECT_DESC: u32 = 28;
const RING_F_EVENT_IDX: u32 = 29;

/// Descriptors in the queue (a power of two).
const NUM: usize = 8;

const VRING_DESC_F_NEXT: u16 = 1;
const VRING_DESC_F_WRITE: u16 = 2;
const BLK_T_IN: u32 = 0;
const BLK_T_OUT: u32 = 1;

#[repr(C)]
struct VirtqDesc {
    addr: u64,
    len: u32,
    flags: u16,
    next: u16,
}

#[repr(C)]
struct VirtqAvail {
    flags: u16,
    idx: u16,
    ring: [u16; NUM],
    unused: u16,
}

#[repr(C)]
struct VirtqUsedElem {
    id: u32,
    len: u32,
}

#[repr(C)]
struct VirtqUsed {
    flags: u16,
    idx: u16,
    ring: [VirtqUsedElem; NUM],
}

#[repr(C)]
#[derive(Clone, Copy)]
struct BlkReq {
    typ: u32,
    reserved: u32,
    sector: u64,
}

#[derive(Clone, Copy)]
struct Info {
    b: *mut Buf,
    status: u8,
}

struct Disk {
    desc: *mut VirtqDesc,
    avail: *mut VirtqAvail,
    used: *mut VirtqUsed,
    free: [bool; NUM],
    used_idx: u16,
    info: [Info; NUM],
    ops: [BlkReq; NUM],
    lock: Spinlock,
}

static mut DISK: Disk = Disk {
    desc: null_mut(),
    avail: null_mut(),
    used: null_mut(),
    free: [false; NUM],
    used_idx: 0,
    info: [Info {
        b: null_mut(),
        status: 0,
    }; NUM],
    ops: [BlkReq {
        typ: 0,
        reserved: 0,
        sector: 0,
    }; NUM],
    lock: Spinlock::new("virtio_disk"),
};

/// Reads the virtio-mmio register at `off`.
fn r(off: usize) -> u32 {
    // SAFETY: virtio-mmio registers, mapped one-to-one.
    unsafe { read_volatile((VIRTIO0 + off) as *const u32) }
}

/// Writes the virtio-mmio register at `off`.
fn w(off: usize, v: u32) {
    // SAFETY: virtio-mmio registers, mapped one-to-one.
    unsafe { write_volatile((VIRTIO0 + off) as *mut u32, v) }
}

/// A zeroed page for a virtqueue area; panics if none (boot only).
fn zeroed_page() -> usize {
    let pa = kalloc().expect("virtio disk kalloc");
    // SAFETY: fresh page.
    unsafe { core::ptr::write_bytes(pa as *mut u8, 0, PGSIZE) };
    pa
}

/// Finds and initialises the disk (virtio 1.1 §3.1.1 driver initialisation): negotiates
/// features, sets up queue 0. Panics if no modern virtio-blk device is at VIRTIO0.
pub fn virtio_disk_init() {
    if r(MMIO_MAGIC_VALUE) != 0x7472_6976 || r(MMIO_VERSION) != 2 || r(MMIO_DEVICE_ID) != 2 {
        panic!(
            "could not find a virtio disk (modern virtio-mmio v2 blk at {:#x}); \
             with QEMU add -global virtio-mmio.force-legacy=false",
            VIRTIO0
        );
    }
    let mut status = 0;
    w(MMIO_STATUS, status);
    status |= STATUS_ACKNOWLEDGE;
    w(MMIO_STATUS, status);
    status |= STATUS_DRIVER;
    w(MMIO_STATUS, status);
    let mut features = r(MMIO_DEVICE_FEATURES);
    for f in [
        BLK_F_RO,
        BLK_F_SCSI,
        BLK_F_CONFIG_WCE,
        BLK_F_MQ,
        F_ANY_LAYOUT,
        RING_F_EVENT_IDX,
        RING_F_INDIRECT_DESC,
    ] {
        features &= !(1 << f);
    }
    w(MMIO_DRIVER_FEATURES, features);
    status |= STATUS_FEATURES_OK;
    w(MMIO_STATUS, status);
    if r(MMIO_STATUS) & STATUS_FEATURES_OK == 0 {
        panic!("virtio disk FEATURES_OK unset");
    }
    w(MMIO_QUEUE_SEL, 0);
    if r(MMIO_QUEUE_READY) != 0 {
        panic!("virtio disk should not be ready");
    }
    let max = r(MMIO_QUEUE_NUM_MAX);
    if max == 0 {
        panic!("virtio disk has no queue 0");
    }
    if (max as usize) < NUM {
        panic!("virtio disk max queue too short");
    }
    // SAFETY: boot, single hart.
    unsafe {
        let d = addr_of_mut!(DISK);
        (*d).desc = zeroed_page() as *mut VirtqDesc;
        (*d).avail = zeroed_page() as *mut VirtqAvail;
        (*d).used = zeroed_page() as *mut VirtqUsed;
        w(MMIO_QUEUE_NUM, NUM as u32);
        let (desc, avail, used) = ((*d).desc as u64, (*d).avail as u64, (*d).used as u64);
        w(MMIO_QUEUE_DESC_LOW, desc as u32);
        w(MMIO_QUEUE_DESC_HIGH, (desc >> 32) as u32);
        w(MMIO_DRIVER_DESC_LOW, avail as u32);
        w(MMIO_DRIVER_DESC_HIGH, (avail >> 32) as u32);
        w(MMIO_DEVICE_DESC_LOW, used as u32);
        w(MMIO_DEVICE_DESC_HIGH, (used >> 32) as u32);
        w(MMIO_QUEUE_READY, 1);
        (*d).free = [true; NUM];
    }
    status |= STATUS_DRIVER_OK;
    w(MMIO_STATUS, status);
}

/// Claims a free descriptor. DISK.lock held.
fn alloc_desc(d: *mut Disk) -> Option<usize> {
    // SAFETY: under DISK.lock.
    unsafe {
        for i in 0..NUM {
            if (*d).free[i] {
                (*d).free[i] = false;
                return Some(i);
            }
        }
    }
    None
}

/// Returns descriptor i to the free set. DISK.lock held.
fn free_desc(d: *mut Disk, i: usize) {
    // SAFETY: under DISK.lock.
    unsafe {
        if (*d).free[i] {
            panic!("free_desc");
        }
        let desc = (*d).desc.add(i);
        (*desc).addr = 0;
        (*desc).len = 0;
        (*desc).flags = 0;
        (*desc).next = 0;
        (*d).free[i] = true;
        wakeup(addr_of_mut!((*d).free) as usize);
    }
}

/// Frees a descriptor chain starting at i. DISK.lock held.
fn free_chain(d: *mut Disk, mut i: usize) {
    loop {
        // SAFETY: under DISK.lock.
        let (flags, next) = unsafe { ((*(*d).desc.add(i)).flags, (*(*d).desc.add(i)).next) };
        free_desc(d, i);
        if flags & VRING_DESC_F_NEXT != 0 {
            i = next as usize;
        } else {
            break;
        }
    }
}

/// Claims three descriptors (one request), or none. DISK.lock held.
fn alloc3_desc(d: *mut Disk) -> Option<[usize; 3]> {
    let mut idx = [0; 3];
    for i in 0..3 {
        match alloc_desc(d) {
            Some(x) => idx[i] = x,
            None => {
                for &j in &idx[..i] {
                    free_desc(d, j);
                }
                return None;
            }
        }
    }
    Some(idx)
}

/// Reads (write = false) or writes buffer b's block, sleeping until the device completes.
/// The caller holds b's sleep lock.
pub fn virtio_disk_rw(b: *mut Buf, write: bool) {
    // SAFETY: disk state under DISK.lock; b is held by the caller.
    unsafe {
        let d = addr_of_mut!(DISK);
        let sector = (*b).blockno as u64 * (BSIZE / 512) as u64;
        acquire(&(*d).lock);
        let idx = loop {
            if let Some(idx) = alloc3_desc(d) {
                break idx;
            }
            sleep(addr_of_mut!((*d).free) as usize, &(*d).lock);
        };
        let req = addr_of_mut!((*d).ops[idx[0]]);
        (*req).typ = if write { BLK_T_OUT } else { BLK_T_IN };
        (*req).reserved = 0;
        (*req).sector = sector;

        let d0 = (*d).desc.add(idx[0]);
        (*d0).addr = req as u64;
        (*d0).len = core::mem::size_of::<BlkReq>() as u32;
        (*d0).flags = VRING_DESC_F_NEXT;
        (*d0).next = idx[1] as u16;

        let d1 = (*d).desc.add(idx[1]);
        (*d1).addr = addr_of_mut!((*b).data) as u64;
        (*d1).len = BSIZE as u32;
        (*d1).flags = if write { 0 } else { VRING_DESC_F_WRITE } | VRING_DESC_F_NEXT;
        (*d1).next = idx[2] as u16;

        (*d).info[idx[0]].status = 0xff; // the device writes 0 on success
        let d2 = (*d).desc.add(idx[2]);
        (*d2).addr = addr_of_mut!((*d).info[idx[0]].status) as u64;
        (*d2).len = 1;
        (*d2).flags = VRING_DESC_F_WRITE;
        (*d2).next = 0;

        write_volatile(addr_of_mut!((*b).disk), true);
        (*d).info[idx[0]].b = b;

        let avail = (*d).avail;
        let aidx = read_volatile(addr_of_mut!((*avail).idx));
        write_volatile(
            addr_of_mut!((*avail).ring[aidx as usize % NUM]),
            idx[0] as u16,
        );
        fence(Ordering::SeqCst);
        write_volatile(addr_of_mut!((*avail).idx), aidx.wrapping_add(1));
        fence(Ordering::SeqCst);
        w(MMIO_QUEUE_NOTIFY, 0);

        while read_volatile(addr_of_mut!((*b).disk)) {
            sleep(b as usize, &(*d).lock);
        }
        (*d).info[idx[0]].b = null_mut();
        free_chain(d, idx[0]);
        release(&(*d).lock);
    }
}

/// Disk interrupt: acknowledges it and completes every request the device has used.
pub fn virtio_disk_intr() {
    // SAFETY: disk state under DISK.lock.
    unsafe {
        let d = addr_of_mut!(DISK);
        acquire(&(*d).lock);
        w(MMIO_INTERRUPT_ACK, r(MMIO_INTERRUPT_STATUS) & 0x3);
        fence(Ordering::SeqCst);
        let used = (*d).used;
        while (*d).used_idx != read_volatile(addr_of_mut!((*used).idx)) {
            fence(Ordering::SeqCst);
            let id =
                read_volatile(addr_of_mut!((*used).ring[(*d).used_idx as usize % NUM].id)) as usize;
            if id >= NUM {
                panic!("virtio_disk_intr: bad id");
            }
            if read_volatile(addr_of_mut!((*d).info[id].status)) != 0 {
                panic!("virtio_disk_intr status");
            }
            let b = (*d).info[id].b;
            write_volatile(addr_of_mut!((*b).disk), false);
            wakeup(b as usize);
            (*d).used_idx = (*d).used_idx.wrapping_add(1);
        }
        release(&(*d).lock);
    }
}

//! The fuzz harnesses: one function per target, taking the fuzzer's bytes. They are shared by
//! the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, nightly, libFuzzer) and by the stable
//! corpus test (`tests/fuzz_corpus.rs`, which feeds every file of `fuzz/corpus/<target>/` to
//! the same function), so a crash found by the fuzzer becomes a regression test by saving its
//! input in the corpus. Each harness must return normally on any input: a panic is a bug.

use emu_core::bus::{Bus, Ram, RAM_BASE};
use emu_core::dev::virtio::blk::{Blk, Disk};
use emu_core::dev::virtio::queue::Virtqueue;
use emu_core::dev::virtio::VirtioDevice;
use emu_core::hart::{Hart, Privilege};

/// RAM of the hart target: code in its first half, a page table at +60 KiB, trap vectors in it.
const HART_RAM: usize = 64 << 10;

/// Instruction decoder and executor: a hart in the privilege mode, FP state and paging mode
/// chosen by the first byte runs the rest of the input as code (random words, short
/// programs), with registers seeded from the input, for up to 1000 instructions. Sv39 maps
/// RAM with one identity gigapage (U, R, W, X), so every access mode is exercised.
pub fn hart(data: &[u8]) {
    // One hart per thread, reset between inputs: a fresh `Hart::new` zeroes 512 KiB of TLB
    // arrays, which was a fifth of an execution. `Hart::reset` keeps the memory and empties it,
    // so every input still starts from the reset state.
    thread_local! {
        static HART: std::cell::RefCell<Hart> = std::cell::RefCell::new(Hart::new(0));
    }
    if let Some(mut bus) = hart_bus(data) {
        HART.with(|h| {
            let h = &mut h.borrow_mut();
            h.set_jit(false);
            setup_hart(h, data);
            h.run(&mut bus, HART_STEPS);
        });
    }
}

/// Steps (instructions and traps) one input of the hart targets runs.
const HART_STEPS: u64 = 1000;

/// The JIT tier against the interpreter: the `hart` input run twice, once interpreted and once
/// with the JIT compiling every block head at its first visit; the run's result, the
/// architectural state (pc, x, f, privilege, instret, trap CSRs) and RAM must agree. Returns
/// the blocks the JIT compiled (0 for an empty input).
pub fn jit(data: &[u8]) -> u64 {
    thread_local! {
        static HARTS: std::cell::RefCell<(Hart, Hart)> =
            std::cell::RefCell::new((Hart::new(0), Hart::new(0)));
    }
    let (Some(mut bus_a), Some(mut bus_b)) = (hart_bus(data), hart_bus(data)) else {
        return 0;
    };
    HARTS.with(|p| {
        let (a, b) = &mut *p.borrow_mut();
        a.set_jit(false);
        b.set_jit(true);
        b.set_jit_threshold(1);
        setup_hart(a, data);
        setup_hart(b, data);
        let ra = a.run(&mut bus_a, HART_STEPS);
        let rb = b.run(&mut bus_b, HART_STEPS);
        assert_eq!(ra, rb, "run result (interpreter, jit)");
        assert_eq!(a.pc, b.pc, "pc");
        assert_eq!(a.x, b.x, "x registers");
        assert_eq!(a.f, b.f, "f registers");
        assert_eq!(a.privilege, b.privilege, "privilege");
        assert_eq!(a.instret(), b.instret(), "instret");
        let csrs = |h: &Hart| {
            let c = &h.csr;
            [
                c.mstatus, c.mepc, c.mcause, c.mtval, c.sepc, c.scause, c.stval,
            ]
        };
        assert_eq!(csrs(a), csrs(b), "trap CSRs");
        let mut ram_a = vec![0u8; HART_RAM];
        let mut ram_b = vec![0u8; HART_RAM];
        bus_a.ram.read_bytes(RAM_BASE, &mut ram_a).unwrap();
        bus_b.ram.read_bytes(RAM_BASE, &mut ram_b).unwrap();
        assert!(ram_a == ram_b, "RAM differs (interpreter, jit)");
        b.jit_stats().blocks
    })
}

/// The hart targets' RAM: the input's code in the first half, a page table at +60 KiB mapping
/// RAM with one identity gigapage. `None` for an empty input.
fn hart_bus(data: &[u8]) -> Option<Bus> {
    let (_, rest) = data.split_first()?;
    let code = &rest[rest.len().min(64)..];
    let mut bus = Bus::new(HART_RAM);
    let code = &code[..code.len().min(HART_RAM / 2)];
    bus.ram.write_bytes(RAM_BASE, code).unwrap();
    let pte = (RAM_BASE >> 12) << 10 | 0xdf; // V R W X U A D
    bus.ram.write(HART_ROOT + 8 * 2, 8, pte).unwrap();
    Some(bus)
}

/// Physical address of the hart targets' Sv39 root page table.
const HART_ROOT: u64 = RAM_BASE + 0xf000;

/// Reset `h` and set it up as the input's first byte says (privilege, trap vectors and
/// delegation, FP on, Sv39 on), with registers seeded from the next 64 bytes.
fn setup_hart(h: &mut Hart, data: &[u8]) {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let regs = &rest[..rest.len().min(64)];
    let root = HART_ROOT;
    h.reset();
    h.privilege = match ctl & 3 {
        0 => Privilege::User,
        1 => Privilege::Supervisor,
        _ => Privilege::Machine,
    };
    h.pc = RAM_BASE;
    h.csr.mtvec = RAM_BASE + 0x100 * (ctl as u64 >> 5);
    h.csr.stvec = RAM_BASE + 0x180;
    h.csr.medeleg = if ctl & 16 != 0 { 0xb1ff } else { 0 };
    if ctl & 4 != 0 {
        h.csr.mstatus |= 1 << 13; // FS = initial
    }
    if ctl & 8 != 0 {
        h.csr.satp = 8 << 60 | root >> 12;
        h.csr.mstatus |= 1 << 18; // SUM
    }
    for (i, r) in regs.chunks(8).enumerate() {
        let mut b = [0u8; 8];
        b[..r.len()].copy_from_slice(r);
        let v = u64::from_le_bytes(b);
        // Half the registers point into RAM, so loads and stores reach it.
        h.x[i + 1] = if i % 2 == 0 {
            v
        } else {
            RAM_BASE + v % HART_RAM as u64
        };
    }
    for i in 9..32 {
        h.x[i] = RAM_BASE + (i as u64) * 0x1000;
    }
}

fn u16_at(d: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([
        d.get(i).copied().unwrap_or(0),
        d.get(i + 1).copied().unwrap_or(0),
    ])
}

fn u64_at(d: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    for (k, x) in b.iter_mut().enumerate() {
        *x = d.get(i + k).copied().unwrap_or(0);
    }
    u64::from_le_bytes(b)
}

/// The virtio-blk request path: guest RAM (64 KiB) holds the input (descriptor tables, rings,
/// indirect tables, headers, data); the queue's size, ring addresses and start index come from
/// its first 32 bytes (addresses mostly inside RAM, sometimes anywhere). The device processes
/// the queue four times over a 16 KiB in-memory disk, as if notified.
pub fn virtio_blk(data: &[u8]) {
    const RAM: u64 = 64 << 10;
    let mut ram = Ram::new(RAM_BASE, RAM as usize);
    let body = data.get(32..).unwrap_or(&[]);
    ram.write_bytes(RAM_BASE, &body[..body.len().min(RAM as usize)])
        .unwrap();
    let addr = |i: usize| {
        let v = u64_at(data, i);
        if v >> 63 != 0 {
            v << 1 // anywhere, including outside RAM and wrapping
        } else {
            RAM_BASE + v % RAM
        }
    };
    let mut q = Virtqueue {
        num: u16_at(data, 0) as u32 % 300,
        ready: data.first().is_some_and(|b| b & 0x80 == 0) || data.is_empty(),
        desc: addr(2),
        driver: addr(10),
        device: addr(18),
        last_avail: u16_at(data, 26),
        next_used: u16_at(data, 28),
    };
    let mut blk = Blk::new(Disk::from_bytes(vec![0u8; 16 << 10]));
    for _ in 0..4 {
        let _ = blk.process_queue(0, &mut q, &mut ram);
    }
    for off in 0..20u64 {
        let _ = blk.read_config(off, 1 << (off % 4));
    }
}

/// The ELF and raw-image loaders: the first byte chooses raw (the rest as a raw image), ELF
/// (the rest as a file), or ELF with a valid RV64 header forced over its first 20 bytes (so
/// the program headers are parsed), loaded into 1 MiB of RAM.
pub fn loader(data: &[u8]) {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let mut ram = Ram::new(RAM_BASE, 1 << 20);
    let mut bytes = rest.to_vec();
    match ctl % 3 {
        0 => {
            let _ = emu_core::loader::load(&mut ram, &bytes, "fuzz.bin");
            return;
        }
        1 => {}
        _ => {
            let ident = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\xf3\0";
            if bytes.len() < 64 {
                bytes.resize(64, 0);
            }
            bytes[..ident.len()].copy_from_slice(ident);
        }
    }
    let _ = emu_core::loader::load(&mut ram, &bytes, "fuzz.elf");
}

/// mkfs's reader and checker: the first byte chooses the input as a whole image, or as
/// patches (offset, length, bytes) over a real image with a few files (so the checker gets
/// past the superblock). The checker and the reader's walks must not panic or allocate
/// beyond the image's size.
pub fn mkfs(data: &[u8]) {
    use std::sync::OnceLock;
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let img = if ctl & 1 == 0 {
        rest.to_vec()
    } else {
        let base = BASE.get_or_init(|| {
            let big: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
            let mut img =
                mkfs::make_fs_image(&[("a", b"hello"), ("big", &big), ("c", b"")]).unwrap();
            // Cut to 200 blocks (the files use fewer), so an execution is fast.
            let mut sb = mkfs::superblock();
            sb.size = 200;
            sb.nblocks = 200 - mkfs::NMETA;
            img[1024..1056].copy_from_slice(&mkfs::encode_superblock(&sb));
            img.truncate(200 * 1024);
            img
        });
        let mut img = base.clone();
        let mut p = rest;
        // Patches land mostly in the metadata and the first data blocks.
        while p.len() >= 3 {
            let off = (u16::from_le_bytes([p[0], p[1]]) as usize * 4) % (img.len() - 32);
            let n = (p[2] as usize % 32).min(p.len() - 3);
            img[off..off + n].copy_from_slice(&p[3..3 + n]);
            p = &p[3 + n..];
        }
        img
    };
    let report = mkfs::check::check(&img);
    let _ = report.consistent();
    if let Ok(r) = mkfs::reader::FsReader::new(&img) {
        let _ = r.dir_entries(abi::fs::ROOTINO);
        let _ = r.read_root_file("big");
        for inum in 0..8 {
            if let Ok(d) = r.inode(inum) {
                let _ = r.blocks_of(&d);
                let _ = r.read_inode(inum);
            }
        }
    }
}

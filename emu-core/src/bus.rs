//! The physical address map: RAM and the memory-mapped devices of the QEMU `virt` board.
//!
//! Layout (QEMU 7.2 hw/riscv/virt.c), each region behaving as QEMU's does (checked by
//! tests/regions_qemu.rs): reset ROM 0x1000 (0xf000), test device 0x10_0000, goldfish RTC
//! 0x10_1000, CLINT 0x200_0000, PCIe PIO 0x300_0000 (0x1_0000), PLIC 0xc00_0000 (0x60_0000),
//! UART 0x1000_0000, virtio-mmio 0x1000_1000 + 0x1000·n (n < 8), fw_cfg 0x1010_0000, flash
//! 0x2000_0000 (two 32 MiB banks), PCIe ECAM 0x3000_0000, PCIe MMIO 0x4000_0000, RAM
//! 0x8000_0000, the 64-bit PCIe MMIO window after RAM. Anything else (DEBUG at 0x0 included:
//! QEMU maps nothing there) is an access fault.

use crate::console::NullConsole;
use crate::dev::clint::{Clint, CLINT_SIZE};
use crate::dev::flash::{Flash, FLASH_BANKS, FLASH_BANK_SIZE, FLASH_BASE};
use crate::dev::fw_cfg::{FwCfg, FW_CFG_SIZE};
use crate::dev::pcie::{
    high_mmio_base, Ecam, EmptyWindow, ECAM_BASE, ECAM_SIZE, HIGH_MMIO_SIZE, MMIO_BASE, MMIO_SIZE,
    PIO_BASE, PIO_SIZE,
};
use crate::dev::plic::{Plic, PLIC_SIZE};
use crate::dev::rom::{ResetRom, ROM_BASE, ROM_SIZE};
use crate::dev::rtc::{Rtc, RTC_IRQ, RTC_SIZE};
use crate::dev::test_finisher::{TestFinisher, TEST_FINISHER_SIZE};
use crate::dev::uart::{Uart, UART_IRQ, UART_SIZE};
use crate::dev::virtio::mmio::{VirtioMmio, VIRTIO_MMIO_SIZE};
pub use crate::dev::{BusFault, Device, Size};
use crate::trace::UnimpAccess;

/// Guest RAM: `size` bytes at physical `base` (0x8000_0000 on `virt`).
///
/// All writes into RAM — hart stores and device DMA alike — go through [`Ram::write`] or
/// [`Ram::write_bytes`], so that decoded-instruction caches can be invalidated when code changes.
pub struct Ram {
    base: u64,
    data: Vec<u8>,
    /// Per 4 KiB page: `WATCH_CODE` when some hart holds decoded instructions from it,
    /// `WATCH_RESERVATION` when some hart holds an LR reservation in it, `WATCH_PT` when some
    /// hart's TLB holds translations whose page-table walk read it.
    code_page: Vec<u8>,
    /// Per 4 KiB page: bumped by every write to a page marked in `code_page`.
    page_gen: Vec<u32>,
    /// Bumped with any `page_gen` entry: harts compare it to notice code changes cheaply.
    code_gen: u64,
    /// Bumped by every write to a page marked `WATCH_PT`: harts compare it to notice
    /// page-table changes cheaply (at `sfence.vma` and `satp` writes).
    pt_gen: u64,
}

const WATCH_CODE: u8 = 1;
const WATCH_RESERVATION: u8 = 2;
const WATCH_PT: u8 = 4;

/// Size of a page for decode-cache invalidation (and of an Sv39 base page).
pub const PAGE_SIZE: u64 = 4096;

impl Ram {
    /// `size` bytes of zeroed RAM at physical address `base`.
    pub fn new(base: u64, size: usize) -> Ram {
        let pages = size.div_ceil(PAGE_SIZE as usize);
        Ram {
            base,
            data: vec![0; size],
            code_page: vec![0; pages],
            page_gen: vec![0; pages],
            code_gen: 0,
            pt_gen: 0,
        }
    }
    /// For the JIT tier's inline accesses: the RAM bytes and the per-page watch bytes (a store
    /// may go straight to a page whose watch byte is 0, as in [`Ram::store_pa`]). The pointers
    /// stay valid as long as the `Ram` lives (neither vector is ever resized).
    pub(crate) fn raw_parts(&mut self) -> (*mut u8, *const u8) {
        (self.data.as_mut_ptr(), self.code_page.as_ptr())
    }
    /// Physical base address.
    pub fn base(&self) -> u64 {
        self.base
    }
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }
    /// Whether `[paddr, paddr + len)` lies wholly in RAM.
    #[inline]
    pub fn contains(&self, paddr: u64, len: u64) -> bool {
        paddr >= self.base
            && paddr
                .checked_add(len)
                .is_some_and(|end| end - self.base <= self.data.len() as u64)
    }
    /// Copy RAM at `paddr` into `buf`. `Err` if any byte lies outside RAM (nothing is copied).
    pub fn read_bytes(&self, paddr: u64, buf: &mut [u8]) -> Result<(), BusFault> {
        if !self.contains(paddr, buf.len() as u64) {
            return Err(BusFault { addr: paddr });
        }
        let off = (paddr - self.base) as usize;
        buf.copy_from_slice(&self.data[off..off + buf.len()]);
        Ok(())
    }
    /// Copy `buf` into RAM at `paddr` (device DMA uses this). `Err` if any byte lies outside RAM
    /// (nothing is written).
    pub fn write_bytes(&mut self, paddr: u64, buf: &[u8]) -> Result<(), BusFault> {
        if !self.contains(paddr, buf.len() as u64) {
            return Err(BusFault { addr: paddr });
        }
        let off = (paddr - self.base) as usize;
        self.data[off..off + buf.len()].copy_from_slice(buf);
        if !buf.is_empty() {
            self.note_write(off, buf.len());
        }
        Ok(())
    }
    /// Zero all of RAM, as at power-on (a machine reset). Decoded code and LR reservations
    /// on every page are invalidated. The memory is given back and allocated anew (zeroed
    /// lazily by the host), so a reset costs no time or resident memory for RAM the guest
    /// never touches again.
    pub fn clear(&mut self) {
        let len = self.data.len();
        self.data = Vec::new();
        self.data = vec![0; len];
        if len > 0 {
            self.note_write(0, len);
        }
    }
    /// Read a little-endian value of `size` bytes.
    pub fn read(&self, paddr: u64, size: Size) -> Result<u64, BusFault> {
        let mut b = [0u8; 8];
        self.read_bytes(paddr, &mut b[..size as usize])?;
        Ok(u64::from_le_bytes(b))
    }
    /// Write the low `size` bytes of `value`, little-endian.
    pub fn write(&mut self, paddr: u64, size: Size, value: u64) -> Result<(), BusFault> {
        self.write_bytes(paddr, &value.to_le_bytes()[..size as usize])
    }

    /// Invalidate decoded code in the pages of the `len` (> 0) bytes at RAM offset `off`, and
    /// break LR reservations on them. Returns whether any page held decoded code.
    #[inline]
    fn note_write(&mut self, off: usize, len: usize) -> bool {
        let first = off >> 12;
        let last = (off + len - 1) >> 12;
        let mut code = false;
        for page in first..=last {
            let watch = self.code_page[page];
            if watch != 0 {
                self.code_page[page] = 0;
                self.page_gen[page] = self.page_gen[page].wrapping_add(1);
                if watch & WATCH_CODE != 0 {
                    self.code_gen = self.code_gen.wrapping_add(1);
                    code = true;
                }
                if watch & WATCH_PT != 0 {
                    self.pt_gen = self.pt_gen.wrapping_add(1);
                }
            }
        }
        code
    }

    /// Mark the page holding `paddr` (in RAM) as holding decoded instructions and return its
    /// current generation. A later write to the page bumps the generation and [`Ram::code_gen`].
    pub fn mark_code_page(&mut self, paddr: u64) -> u32 {
        let page = ((paddr - self.base) >> 12) as usize;
        self.code_page[page] |= WATCH_CODE;
        self.page_gen[page]
    }
    /// Watch the page holding `paddr` (in RAM) for an LR reservation and return its current
    /// generation: a later write to the page (by any hart or device) bumps the generation,
    /// which breaks the reservation.
    pub fn watch_page(&mut self, paddr: u64) -> u32 {
        let page = ((paddr - self.base) >> 12) as usize;
        self.code_page[page] |= WATCH_RESERVATION;
        self.page_gen[page]
    }
    /// Watch the page holding `paddr` (in RAM) as a page-table page that a cached translation
    /// depends on, and return its current generation: a later write to the page (by any hart
    /// or device) bumps the generation and [`Ram::pt_gen`].
    pub fn watch_pt_page(&mut self, paddr: u64) -> u32 {
        let page = ((paddr - self.base) >> 12) as usize;
        self.code_page[page] |= WATCH_PT;
        self.page_gen[page]
    }
    /// Page-table generation: changes whenever any page marked by [`Ram::watch_pt_page`] is
    /// written, so a hart can tell in one compare whether its TLB may depend on changed PTEs.
    #[inline]
    pub fn pt_gen(&self) -> u64 {
        self.pt_gen
    }
    /// Generation of the page holding `paddr` (in RAM): changes whenever a marked page is written.
    pub fn page_gen(&self, paddr: u64) -> u32 {
        self.page_gen[((paddr - self.base) >> 12) as usize]
    }
    /// Global code generation: changes whenever any marked code page is written (by a hart or
    /// by DMA), so a hart can tell in one compare whether its decode cache may be stale.
    #[inline]
    pub fn code_gen(&self) -> u64 {
        self.code_gen
    }

    /// Hot-path load of `N` bytes at RAM offset `off` (caller checked `off + N <= size`).
    #[inline(always)]
    pub(crate) fn load<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut b = [0u8; N];
        b.copy_from_slice(&self.data[off..off + N]);
        b
    }
    /// Hot-path store of `bytes` at RAM offset `off` (caller checked bounds). Returns true when
    /// the store hit a page holding decoded code (which it invalidated).
    #[inline(always)]
    pub(crate) fn store(&mut self, off: usize, bytes: &[u8]) -> bool {
        self.data[off..off + bytes.len()].copy_from_slice(bytes);
        let page = off >> 12;
        if self.code_page[page] != 0 || ((off + bytes.len() - 1) >> 12) != page {
            return self.note_write(off, bytes.len());
        }
        false
    }
    /// Hot-path load: the `N` bytes (1, 2, 4, 8) at physical `paddr`, little-endian and
    /// zero-extended, or `None` when they do not lie wholly in RAM.
    #[inline(always)]
    pub(crate) fn load_pa<const N: usize>(&self, paddr: u64) -> Option<u64> {
        let off = paddr.wrapping_sub(self.base);
        if off > (self.data.len() as u64).wrapping_sub(N as u64) || self.data.len() < N {
            return None;
        }
        let mut w = [0u8; 8];
        // SAFETY: `off + N <= data.len()` was checked just above (and `N <= data.len()`, so
        // the subtraction did not wrap). Measured hot path: one compare instead of two
        // bounds checks per guest load.
        unsafe {
            std::ptr::copy_nonoverlapping(self.data.as_ptr().add(off as usize), w.as_mut_ptr(), N)
        };
        Some(u64::from_le_bytes(w))
    }
    /// Hot-path store of the low `N` bytes (1, 2, 4, 8) of `value` at physical `paddr`:
    /// `None` when they do not lie wholly in RAM (nothing written), else whether the store hit
    /// a page holding decoded code (which it invalidated, see [`Ram::note_write`]).
    #[inline(always)]
    pub(crate) fn store_pa<const N: usize>(&mut self, paddr: u64, value: u64) -> Option<bool> {
        let off = paddr.wrapping_sub(self.base);
        if off > (self.data.len() as u64).wrapping_sub(N as u64) || self.data.len() < N {
            return None;
        }
        let off = off as usize;
        let bytes = value.to_le_bytes();
        // SAFETY: `off + N <= data.len()` was checked above. Measured hot path.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.data.as_mut_ptr().add(off), N)
        };
        let page = off >> 12;
        // `page < code_page.len()` since `off < data.len()` and `code_page` has one entry per
        // started page; a page-crossing store takes `note_write` for both pages.
        if (off & 0xfff) > 0x1000 - N || self.code_page[page] != 0 {
            return Some(self.note_write(off, N));
        }
        Some(false)
    }
    /// A batched guest fill loop (`hart/loops.rs`): `count` elements of `width` bytes (1, 2, 4,
    /// 8), each the low bytes of `value` (little-endian), from RAM offset `off` up (the caller
    /// checked `off + count * width <= size`). The same bytes and invalidations as that many
    /// stores; returns whether a page held decoded code.
    pub(crate) fn fill_elems(
        &mut self,
        off: usize,
        count: usize,
        width: usize,
        value: u64,
    ) -> bool {
        let len = count * width;
        let dst = &mut self.data[off..off + len];
        if width == 1 {
            dst.fill(value as u8);
        } else {
            let bytes = value.to_le_bytes();
            for e in dst.chunks_exact_mut(width) {
                e.copy_from_slice(&bytes[..width]);
            }
        }
        self.note_write(off, len)
    }
    /// A batched guest copy loop (`hart/loops.rs`): `count` elements of `width` bytes, each
    /// read and then written in turn, between the ranges of `count * width` bytes at RAM
    /// offsets `src` and `dst` (checked by the caller); lowest element first when `ascending`,
    /// else highest first. Overlapping ranges behave as the element-by-element loop does.
    /// Returns whether a page held decoded code and the last element read (zero-extended).
    pub(crate) fn copy_elems(
        &mut self,
        src: usize,
        dst: usize,
        count: usize,
        width: usize,
        ascending: bool,
    ) -> (bool, u64) {
        let len = count * width;
        let last_at = |i: usize| if ascending { i } else { count - 1 - i };
        let mut last = [0u8; 8];
        if src + len <= dst || dst + len <= src {
            let l = src + last_at(count - 1) * width;
            last[..width].copy_from_slice(&self.data[l..l + width]);
            self.data.copy_within(src..src + len, dst);
        } else {
            for i in 0..count {
                let e = last_at(i) * width;
                last[..width].copy_from_slice(&self.data[src + e..src + e + width]);
                self.data[dst + e..dst + e + width].copy_from_slice(&last[..width]);
            }
        }
        (self.note_write(dst, len), u64::from_le_bytes(last))
    }
    /// Offset of `paddr` in RAM when `[paddr, paddr + len)` lies wholly in RAM.
    #[inline(always)]
    pub(crate) fn offset_of(&self, paddr: u64, len: u64) -> Option<usize> {
        let off = paddr.wrapping_sub(self.base);
        if off < self.data.len() as u64 && len <= self.data.len() as u64 - off {
            Some(off as usize)
        } else {
            None
        }
    }
}

/// The physical address space: RAM plus the board's devices.
///
/// Harts call [`Bus::read`] and [`Bus::write`] for anything that is not a RAM hit. Device
/// interrupt lines are wired to the PLIC here: after every MMIO access the UART's and the
/// virtio slots' lines are re-driven, and [`Bus::event`] is set when the machine must look
/// (an interrupt line or CLINT register changed, a power-off request, a queue was serviced).
pub struct Bus {
    /// Main memory at 0x8000_0000.
    pub ram: Ram,
    /// Reset ROM at 0x1000.
    pub rom: ResetRom,
    /// SiFive test finisher at 0x10_0000.
    pub test_finisher: TestFinisher,
    /// Goldfish RTC at 0x10_1000 (PLIC source 11).
    pub rtc: Rtc,
    /// CLINT at 0x200_0000.
    pub clint: Clint,
    /// PLIC at 0xc00_0000.
    pub plic: Plic,
    /// NS16550A UART at 0x1000_0000.
    pub uart: Uart,
    /// virtio-mmio slots at 0x1000_1000 + 0x1000·n (PLIC sources 1..=8).
    pub virtio: Vec<VirtioMmio>,
    /// fw_cfg at 0x1010_0000.
    pub fw_cfg: FwCfg,
    /// PCIe ECAM configuration space at 0x3000_0000.
    pub ecam: Ecam,
    /// Set by an MMIO access after which the machine must look (power-off request, interrupt
    /// line change, queue notify…). A hart returns [`crate::hart::HartExit::Event`] when it
    /// sees it set after an MMIO access; the machine clears it.
    pub event: bool,
    /// `--trace unimp`: when `Some`, accesses to unclaimed addresses, accesses a device
    /// refuses and accesses to registers a device does not implement are recorded here (the
    /// machine hands them to its tracer). `None` (the default) costs nothing.
    pub unimp_log: Option<Vec<UnimpAccess>>,
}

/// Physical base of the SiFive test finisher.
pub const TEST_FINISHER_BASE: u64 = 0x10_0000;
/// Physical base of the goldfish RTC.
pub const RTC_BASE: u64 = 0x10_1000;
/// Physical base of the CLINT.
pub const CLINT_BASE: u64 = 0x200_0000;
/// Physical base of the PLIC.
pub const PLIC_BASE: u64 = 0xc00_0000;
/// Physical base of the UART.
pub const UART_BASE: u64 = 0x1000_0000;
/// Physical base of virtio-mmio slot 0.
pub const VIRTIO_BASE: u64 = 0x1000_1000;
/// Number of virtio-mmio slots.
pub const VIRTIO_SLOTS: usize = 8;
/// PLIC source of virtio-mmio slot 0 (slot n uses `VIRTIO_IRQ_BASE + n`).
pub const VIRTIO_IRQ_BASE: usize = 1;
/// Physical base of fw_cfg.
pub const FW_CFG_BASE: u64 = 0x1010_0000;
/// Physical base of RAM.
pub const RAM_BASE: u64 = 0x8000_0000;

/// Which device an address belongs to, and the offset within it.
#[derive(Debug, Clone, Copy)]
enum Target {
    Rom(u64),
    Finisher(u64),
    Rtc(u64),
    Clint(u64),
    Pio(u64),
    Plic(u64),
    Uart(u64),
    Virtio(usize, u64),
    FwCfg(u64),
    Flash(u64),
    Ecam(u64),
    Mmio(u64),
}

impl Target {
    /// The device's name and the offset, for `--trace unimp`.
    fn describe(self) -> (&'static str, u64) {
        match self {
            Target::Rom(o) => ("mrom", o),
            Target::Finisher(o) => ("test", o),
            Target::Rtc(o) => ("rtc", o),
            Target::Clint(o) => ("clint", o),
            Target::Pio(o) => ("pcie-pio", o),
            Target::Plic(o) => ("plic", o),
            Target::Uart(o) => ("uart0", o),
            Target::Virtio(_, o) => ("virtio-mmio", o),
            Target::FwCfg(o) => ("fw_cfg", o),
            Target::Flash(o) => ("flash", o),
            Target::Ecam(o) => ("pcie-ecam", o),
            Target::Mmio(o) => ("pcie-mmio", o),
        }
    }
}

impl Bus {
    /// A one-hart board with `ram_size` bytes of RAM at [`RAM_BASE`], a console that discards
    /// output, empty virtio slots (modern transport) and a reset ROM jumping to RAM_BASE.
    pub fn new(ram_size: usize) -> Bus {
        Bus::with_harts(ram_size, 1, false)
    }

    /// A board for `harts` harts (PLIC contexts 2·hart M, 2·hart+1 S), virtio slots speaking
    /// the legacy (version 1) transport if `virtio_legacy`, else version 2.
    pub fn with_harts(ram_size: usize, harts: usize, virtio_legacy: bool) -> Bus {
        Bus {
            ram: Ram::new(RAM_BASE, ram_size),
            rom: ResetRom::new(RAM_BASE, 0, 0),
            test_finisher: TestFinisher::default(),
            rtc: Rtc::new(),
            clint: Clint::new(harts),
            plic: Plic::new(2 * harts),
            uart: Uart::new(Box::new(NullConsole)),
            virtio: (0..VIRTIO_SLOTS)
                .map(|_| VirtioMmio::new(None, virtio_legacy))
                .collect(),
            fw_cfg: FwCfg::new(harts),
            ecam: Ecam::new(),
            event: false,
            unimp_log: None,
        }
    }

    /// The device at `paddr` (below RAM, or in the 64-bit PCIe window after it).
    fn route(&self, paddr: u64) -> Option<Target> {
        let within = |base: u64, size: u64| paddr.wrapping_sub(base) < size;
        Some(if within(ROM_BASE, ROM_SIZE) {
            Target::Rom(paddr - ROM_BASE)
        } else if within(TEST_FINISHER_BASE, TEST_FINISHER_SIZE) {
            Target::Finisher(paddr - TEST_FINISHER_BASE)
        } else if within(RTC_BASE, RTC_SIZE) {
            Target::Rtc(paddr - RTC_BASE)
        } else if within(CLINT_BASE, CLINT_SIZE) {
            Target::Clint(paddr - CLINT_BASE)
        } else if within(PIO_BASE, PIO_SIZE) {
            Target::Pio(paddr - PIO_BASE)
        } else if within(PLIC_BASE, PLIC_SIZE) {
            Target::Plic(paddr - PLIC_BASE)
        } else if within(UART_BASE, UART_SIZE) {
            Target::Uart(paddr - UART_BASE)
        } else if within(VIRTIO_BASE, VIRTIO_MMIO_SIZE * VIRTIO_SLOTS as u64) {
            let off = paddr - VIRTIO_BASE;
            Target::Virtio((off / VIRTIO_MMIO_SIZE) as usize, off % VIRTIO_MMIO_SIZE)
        } else if within(FW_CFG_BASE, FW_CFG_SIZE) {
            Target::FwCfg(paddr - FW_CFG_BASE)
        } else if within(FLASH_BASE, FLASH_BANK_SIZE * FLASH_BANKS) {
            Target::Flash(paddr - FLASH_BASE)
        } else if within(ECAM_BASE, ECAM_SIZE) {
            Target::Ecam(paddr - ECAM_BASE)
        } else if within(MMIO_BASE, MMIO_SIZE) {
            Target::Mmio(paddr - MMIO_BASE)
        } else {
            let high = high_mmio_base(self.ram.base() + self.ram.size());
            if !within(high, HIGH_MMIO_SIZE) {
                return None;
            }
            Target::Mmio(paddr - high)
        })
    }

    /// Pass the UART's, the RTC's and the virtio slots' interrupt lines to the PLIC (a device
    /// update of each line); returns whether any pending bit changed.
    pub fn update_irq_lines(&mut self) -> bool {
        let mut changed = self.plic.set_level(UART_IRQ, self.uart.irq());
        changed |= self.plic.set_level(RTC_IRQ, self.rtc.irq());
        for (n, slot) in self.virtio.iter().enumerate() {
            changed |= self.plic.set_level(VIRTIO_IRQ_BASE + n, slot.irq());
        }
        changed
    }

    /// After a UART access or received data: pass its line to the PLIC if the UART updated
    /// it, setting [`Bus::event`] when the PLIC's pending bits changed.
    pub fn uart_irq_update(&mut self) {
        if self.uart.take_irq_update() && self.plic.set_level(UART_IRQ, self.uart.irq()) {
            self.event = true;
        }
    }

    /// Set the RTC's time (nanoseconds since the Unix epoch) and pass its line to the PLIC;
    /// returns whether the PLIC's pending bits changed.
    pub fn set_rtc_time(&mut self, ns: u64) -> bool {
        self.rtc.set_now(ns) && self.plic.set_level(RTC_IRQ, self.rtc.irq())
    }

    /// Physical read of `size` bytes (RAM or MMIO). `Err` where nothing is mapped.
    pub fn read(&mut self, paddr: u64, size: Size) -> Result<u64, BusFault> {
        if self.ram.contains(paddr, size as u64) {
            return self.ram.read(paddr, size);
        }
        let fault = BusFault { addr: paddr };
        let Some(target) = self.route(paddr) else {
            self.note_unimp(paddr, size, None, None);
            return Err(fault);
        };
        let r = match target {
            Target::Rom(off) => self.rom.read(off, size),
            Target::Finisher(off) => self.test_finisher.read(off, size),
            Target::Rtc(off) => self.rtc.read(off, size),
            Target::Clint(off) => self.clint.read(off, size),
            Target::Pio(off) | Target::Mmio(off) => EmptyWindow.read(off, size),
            Target::Plic(off) => {
                let v = self.plic.read(off, size);
                // A claim changes the claiming context's interrupt line.
                self.event = true;
                v
            }
            Target::Uart(off) => {
                let v = self.uart.read(off, size);
                self.uart_irq_update();
                v
            }
            Target::Virtio(n, off) => self.virtio[n].read(off, size),
            Target::FwCfg(off) => self.fw_cfg.read(off, size),
            Target::Flash(off) => Flash.read(off, size),
            Target::Ecam(off) => self.ecam.read(off, size),
        };
        if self.unimp_log.is_some() {
            self.check_unimp(target, paddr, size, None, r.is_err());
        }
        r.map_err(|_| fault)
    }

    /// Physical write of the low `size` bytes of `value` (RAM or MMIO). `Err` where nothing is
    /// mapped. A virtio QueueNotify is serviced here, synchronously (DMA through [`Ram`]).
    pub fn write(&mut self, paddr: u64, size: Size, value: u64) -> Result<(), BusFault> {
        if self.ram.contains(paddr, size as u64) {
            return self.ram.write(paddr, size, value);
        }
        let fault = BusFault { addr: paddr };
        let Some(target) = self.route(paddr) else {
            self.note_unimp(paddr, size, Some(value), None);
            return Err(fault);
        };
        let r = match target {
            Target::Rom(off) => self.rom.write(off, size, value),
            Target::Finisher(off) => self.test_finisher.write(off, size, value).inspect(|_| {
                self.event |= self.test_finisher.request.is_some();
            }),
            Target::Rtc(off) => self.rtc.write(off, size, value).inspect(|_| {
                if self.plic.set_level(RTC_IRQ, self.rtc.irq()) {
                    self.event = true;
                }
            }),
            Target::Clint(off) => {
                self.event = true;
                self.clint.write(off, size, value)
            }
            Target::Pio(off) | Target::Mmio(off) => EmptyWindow.write(off, size, value),
            Target::Plic(off) => {
                self.event = true;
                self.plic.write(off, size, value)
            }
            Target::Uart(off) => {
                let r = self.uart.write(off, size, value);
                self.uart_irq_update();
                r
            }
            Target::Virtio(n, off) => {
                let slot = &mut self.virtio[n];
                let r = slot.write(off, size, value);
                slot.process(&mut self.ram);
                if self.plic.set_level(VIRTIO_IRQ_BASE + n, slot.irq()) {
                    self.event = true;
                }
                r
            }
            Target::FwCfg(off) => {
                let r = self.fw_cfg.write(off, size, value);
                self.fw_cfg.process(&mut self.ram);
                r
            }
            Target::Flash(off) => Flash.write(off, size, value),
            Target::Ecam(off) => self.ecam.write(off, size, value),
        };
        if self.unimp_log.is_some() {
            self.check_unimp(target, paddr, size, Some(value), r.is_err());
        }
        r.map_err(|_| fault)
    }

    /// `--trace unimp` (slow path only): record an access the device refused, or one to a
    /// register it does not implement.
    #[cold]
    fn check_unimp(
        &mut self,
        target: Target,
        paddr: u64,
        size: Size,
        value: Option<u64>,
        refused: bool,
    ) {
        let (device, off) = target.describe();
        let implemented = match target {
            Target::Finisher(o) => o == 0,
            Target::Rtc(o) => Rtc::implemented(o),
            Target::Clint(o) => self.clint.implemented(o),
            Target::Plic(o) => self.plic.implemented(o),
            Target::Pio(_) | Target::Mmio(_) | Target::Flash(_) => false,
            Target::Ecam(o) => o < 0x100,
            Target::Rom(_) => value.is_none(),
            Target::Uart(_) | Target::FwCfg(_) | Target::Virtio(..) => true,
        };
        if refused {
            self.note_unimp(
                paddr,
                size,
                value,
                Some((device, off, "refused: access fault")),
            );
        } else if !implemented {
            let what = match target {
                Target::Pio(_) | Target::Mmio(_) => "no device in the window (all ones)",
                Target::Flash(_) => "flash without a file",
                Target::Ecam(_) => "absent PCI function (all ones)",
                Target::Rom(_) => "write to ROM ignored",
                _ => "unimplemented register",
            };
            self.note_unimp(paddr, size, value, Some((device, off, what)));
        }
    }

    #[cold]
    fn note_unimp(
        &mut self,
        paddr: u64,
        size: Size,
        value: Option<u64>,
        device: Option<(&'static str, u64, &'static str)>,
    ) {
        if let Some(log) = &mut self.unimp_log {
            log.push(UnimpAccess {
                paddr,
                size,
                value,
                device,
            });
        }
    }
}

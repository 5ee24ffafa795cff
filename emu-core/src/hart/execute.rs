//! Instruction execution (RISC-V Unprivileged ISA 20191213: RV64I ch. 2 & 5, M ch. 7, A ch. 8,
//! F ch. 11, D ch. 12, Zicsr ch. 9, Zifencei ch. 3; Privileged ISA 20211203 §3.3 for SYSTEM)
//! and the memory-access paths (TLB hit → RAM fast path; walk, MMIO and page-crossing slow path).

use super::csr::{mstatus as ms, CsrEffect};
use super::decode::{Op, PackedInsn};
use super::fpu::{self, Flags, RoundingMode};
use super::mmu::{Access, TLB_SIZE};
use super::tlb::TlbEntry;
use super::trap::{cause, Trap};
use super::{Hart, Privilege};
use crate::bus::Bus;

/// NaN-boxing prefix of a single held in a 64-bit f register (Unprivileged ISA §12.2).
const BOX: u64 = 0xffff_ffff_0000_0000;

impl Hart {
    // ---- memory ------------------------------------------------------------------------

    /// Load `N` bytes (1, 2, 4, 8) at virtual address `va`, zero-extended.
    #[inline(always)]
    pub(crate) fn load<const N: usize>(&mut self, bus: &mut Bus, va: u64) -> Result<u64, Trap> {
        let pa = if self.data_paging {
            let vpn = va >> 12;
            let e = self.tlb_entry(vpn);
            if e.tag[Access::Load as usize] != vpn || (va & 0xfff) as usize > 0x1000 - N {
                return self.load_slow(bus, va, N);
            }
            let pa = e.pa_page | (va & 0xfff);
            self.tlb.hits += 1;
            pa
        } else {
            va
        };
        match bus.ram.load_pa::<N>(pa) {
            Some(v) => Ok(v),
            None => self.load_slow(bus, va, N),
        }
    }

    /// Store the low `N` bytes of `value` at virtual address `va`.
    #[inline(always)]
    pub(crate) fn store<const N: usize>(
        &mut self,
        bus: &mut Bus,
        va: u64,
        value: u64,
    ) -> Result<(), Trap> {
        let pa = if self.data_paging {
            let vpn = va >> 12;
            let e = self.tlb_entry(vpn);
            if e.tag[Access::Store as usize] != vpn || (va & 0xfff) as usize > 0x1000 - N {
                return self.store_slow(bus, va, N, value);
            }
            let pa = e.pa_page | (va & 0xfff);
            self.tlb.hits += 1;
            pa
        } else {
            va
        };
        match bus.ram.store_pa::<N>(pa, value) {
            Some(code) => {
                if code {
                    self.code_written(bus);
                }
                Ok(())
            }
            None => self.store_slow(bus, va, N, value),
        }
    }

    /// The entry for `vpn` in the current context's TLB array.
    #[inline(always)]
    fn tlb_entry(&self, vpn: u64) -> &TlbEntry {
        debug_assert!(self.tlb_base + TLB_SIZE <= self.tlb.entries.len());
        // SAFETY: `tlb_base` is only ever set from `Tlb::base`, the start of a whole array of
        // `TLB_SIZE` entries inside `tlb.entries` (which never shrinks), and the index adds
        // less than `TLB_SIZE`. Measured hot path: no bounds check on every load and store.
        unsafe {
            self.tlb
                .entries
                .get_unchecked(self.tlb_base + (vpn as usize % TLB_SIZE))
        }
    }

    /// A store hit a page holding decoded code: drop the stale decodes now.
    #[cold]
    pub(super) fn code_written(&mut self, bus: &mut Bus) {
        if self.dcache.stale(&bus.ram) {
            self.dcache.sync(&bus.ram);
        }
    }

    /// Physical read (RAM or MMIO) for the slow paths; MMIO accesses may raise an event.
    fn phys_read(&mut self, bus: &mut Bus, pa: u64, size: usize) -> Option<u64> {
        if let Some(off) = bus.ram.offset_of(pa, size as u64) {
            let mut b = [0u8; 8];
            bus.ram.read_bytes(pa, &mut b[..size]).ok()?;
            let _ = off;
            return Some(u64::from_le_bytes(b));
        }
        let v = bus.read(pa, size as u8).ok();
        if bus.event {
            self.exit_event();
        }
        v
    }

    fn phys_write(&mut self, bus: &mut Bus, pa: u64, size: usize, value: u64) -> Option<()> {
        if let Some(off) = bus.ram.offset_of(pa, size as u64) {
            if bus.ram.store(off, &value.to_le_bytes()[..size]) {
                self.code_written(bus);
            }
            return Some(());
        }
        let r = bus.write(pa, size as u8, value).ok();
        if bus.event {
            self.exit_event();
        }
        r
    }

    /// Loads that miss the TLB, cross a page, or leave RAM. Misaligned loads complete.
    #[cold]
    #[inline(never)]
    fn load_slow(&mut self, bus: &mut Bus, va: u64, size: usize) -> Result<u64, Trap> {
        if (va & 0xfff) as usize + size > 0x1000 {
            let mut v = 0;
            for i in 0..size as u64 {
                v |= self.load_slow(bus, va.wrapping_add(i), 1)? << (8 * i);
            }
            return Ok(v);
        }
        let pa = self.translate(bus, va, Access::Load)?;
        self.phys_read(bus, pa, size)
            .ok_or(Trap::new(cause::LOAD_ACCESS_FAULT, va))
    }

    /// Stores that miss the TLB, cross a page, or leave RAM. Both pages of a page-crossing
    /// store are translated before any byte is written.
    #[cold]
    #[inline(never)]
    fn store_slow(&mut self, bus: &mut Bus, va: u64, size: usize, value: u64) -> Result<(), Trap> {
        if (va & 0xfff) as usize + size > 0x1000 {
            let split = 0x1000 - (va & 0xfff) as usize;
            let va2 = va.wrapping_add(split as u64);
            let pa1 = self.translate(bus, va, Access::Store)?;
            let pa2 = self.translate(bus, va2, Access::Store)?;
            for i in 0..size {
                let pa = if i < split {
                    pa1 + i as u64
                } else {
                    pa2 + (i - split) as u64
                };
                self.phys_write(bus, pa, 1, value >> (8 * i))
                    .ok_or(Trap::new(cause::STORE_ACCESS_FAULT, va))?;
            }
            return Ok(());
        }
        let pa = self.translate(bus, va, Access::Store)?;
        self.phys_write(bus, pa, size, value)
            .ok_or(Trap::new(cause::STORE_ACCESS_FAULT, va))
    }

    /// Translate an aligned LR/SC/AMO address (misaligned → cause 4 for LR, 6 otherwise).
    fn atomic_addr(
        &mut self,
        bus: &mut Bus,
        va: u64,
        size: u64,
        access: Access,
    ) -> Result<u64, Trap> {
        if va & (size - 1) != 0 {
            let c = if access == Access::Load {
                cause::LOAD_MISALIGNED
            } else {
                cause::STORE_MISALIGNED
            };
            return Err(Trap::new(c, va));
        }
        self.translate(bus, va, access)
    }

    // ---- execution ----------------------------------------------------------------------

    /// Execute `insn` at `pc`, whose successor is `next` = `pc` + length (the run loop keeps `pc` in a local; `self.pc` is stale here):
    /// on success update registers and memory and return the next pc; on a trap return it for
    /// [`Hart::take_trap`] (the caller stores `pc` first).
    #[inline(always)]
    pub(crate) fn execute(
        &mut self,
        bus: &mut Bus,
        insn: PackedInsn,
        pc: u64,
        next: u64,
    ) -> Result<u64, Trap> {
        debug_assert_eq!(next, pc.wrapping_add(insn.length()));
        let mut next = next;
        let rd = insn.rd();
        // SAFETY (the three unchecked indexings below): `PackedInsn::rd`/`rs1`/`rs2` mask
        // their result to 0..=31, and `x` has 32 entries.
        // Measured hot path: removes three bounds checks from every instruction.
        let a = unsafe { *self.x.get_unchecked(insn.rs1()) };
        let b = unsafe { *self.x.get_unchecked(insn.rs2()) };
        let imm = insn.imm() as i64 as u64;
        debug_assert!(rd < 32 && insn.rs1() < 32 && insn.rs2() < 32);
        // Write rd; x0 is hard-wired to zero, so undo a write to it.
        macro_rules! w {
            ($v:expr) => {{
                // SAFETY: see above (`rd` < 32).
                unsafe { *self.x.get_unchecked_mut(rd) = $v };
                self.x[0] = 0;
            }};
        }
        macro_rules! sx32 {
            ($v:expr) => {
                ($v) as i32 as i64 as u64
            };
        }
        macro_rules! branch {
            ($c:expr) => {
                if $c {
                    next = pc.wrapping_add(imm);
                }
            };
        }
        match insn.op() {
            Op::Lui => w!(imm),
            Op::Auipc => w!(pc.wrapping_add(imm)),
            Op::Jal => {
                w!(next);
                next = pc.wrapping_add(imm);
            }
            Op::Jalr => {
                let t = a.wrapping_add(imm) & !1;
                w!(next);
                next = t;
            }
            Op::Beq => branch!(a == b),
            Op::Bne => branch!(a != b),
            Op::Blt => branch!((a as i64) < (b as i64)),
            Op::Bge => branch!((a as i64) >= (b as i64)),
            Op::Bltu => branch!(a < b),
            Op::Bgeu => branch!(a >= b),
            Op::Lb => w!(self.load::<1>(bus, a.wrapping_add(imm))? as i8 as u64),
            Op::Lh => w!(self.load::<2>(bus, a.wrapping_add(imm))? as i16 as u64),
            Op::Lw => w!(self.load::<4>(bus, a.wrapping_add(imm))? as i32 as u64),
            Op::Ld => w!(self.load::<8>(bus, a.wrapping_add(imm))?),
            Op::Lbu => w!(self.load::<1>(bus, a.wrapping_add(imm))?),
            Op::Lhu => w!(self.load::<2>(bus, a.wrapping_add(imm))?),
            Op::Lwu => w!(self.load::<4>(bus, a.wrapping_add(imm))?),
            Op::Sb => self.store::<1>(bus, a.wrapping_add(imm), b)?,
            Op::Sh => self.store::<2>(bus, a.wrapping_add(imm), b)?,
            Op::Sw => self.store::<4>(bus, a.wrapping_add(imm), b)?,
            Op::Sd => self.store::<8>(bus, a.wrapping_add(imm), b)?,
            Op::Addi => w!(a.wrapping_add(imm)),
            Op::Slti => w!(((a as i64) < (imm as i64)) as u64),
            Op::Sltiu => w!((a < imm) as u64),
            Op::Xori => w!(a ^ imm),
            Op::Ori => w!(a | imm),
            Op::Andi => w!(a & imm),
            Op::Slli => w!(a << (imm & 63)),
            Op::Srli => w!(a >> (imm & 63)),
            Op::Srai => w!(((a as i64) >> (imm & 63)) as u64),
            Op::Add => w!(a.wrapping_add(b)),
            Op::Sub => w!(a.wrapping_sub(b)),
            Op::Sll => w!(a << (b & 63)),
            Op::Slt => w!(((a as i64) < (b as i64)) as u64),
            Op::Sltu => w!((a < b) as u64),
            Op::Xor => w!(a ^ b),
            Op::Srl => w!(a >> (b & 63)),
            Op::Sra => w!(((a as i64) >> (b & 63)) as u64),
            Op::Or => w!(a | b),
            Op::And => w!(a & b),
            Op::Addiw => w!(sx32!(a.wrapping_add(imm))),
            Op::Slliw => w!(sx32!((a as u32) << (imm & 31))),
            Op::Srliw => w!(sx32!((a as u32) >> (imm & 31))),
            Op::Sraiw => w!(sx32!((a as i32) >> (imm & 31))),
            Op::Addw => w!(sx32!(a.wrapping_add(b))),
            Op::Subw => w!(sx32!(a.wrapping_sub(b))),
            Op::Sllw => w!(sx32!((a as u32) << (b & 31))),
            Op::Srlw => w!(sx32!((a as u32) >> (b & 31))),
            Op::Sraw => w!(sx32!((a as i32) >> (b & 31))),
            Op::Mul => w!(a.wrapping_mul(b)),
            Op::Mulh => w!(((a as i64 as i128 * b as i64 as i128) >> 64) as u64),
            Op::Mulhsu => w!(((a as i64 as i128).wrapping_mul(b as i128) >> 64) as u64),
            Op::Mulhu => w!(((a as u128 * b as u128) >> 64) as u64),
            Op::Div => w!(div_s(a as i64, b as i64) as u64),
            Op::Divu => w!(a.checked_div(b).unwrap_or(u64::MAX)),
            Op::Rem => w!(rem_s(a as i64, b as i64) as u64),
            Op::Remu => w!(if b == 0 { a } else { a % b }),
            Op::Mulw => w!(sx32!((a as i32).wrapping_mul(b as i32))),
            Op::Divw => w!(sx32!(div_s32(a as i32, b as i32))),
            Op::Divuw => w!(sx32!((a as u32).checked_div(b as u32).unwrap_or(u32::MAX))),
            Op::Remw => w!(sx32!(rem_s32(a as i32, b as i32))),
            Op::Remuw => w!(sx32!(if b as u32 == 0 {
                a as u32
            } else {
                a as u32 % b as u32
            })),
            Op::Fence => {}
            // The decode cache already follows every write to a code page (this hart's stores
            // at once, other harts' and DMA at the start of each run), so `fence.i` only has
            // to catch up with writes not yet synced. (Emptying the cache here cost Linux a
            // redecode of all its hot code at each of the ~40,000 `fence.i` of its boot.)
            Op::FenceI => self.code_written(bus),
            Op::Ecall => {
                let c = match self.privilege {
                    Privilege::User => cause::ECALL_FROM_U,
                    Privilege::Supervisor => cause::ECALL_FROM_S,
                    Privilege::Machine => cause::ECALL_FROM_M,
                };
                return Err(Trap::new(c, 0));
            }
            Op::Ebreak => return Err(Trap::new(cause::BREAKPOINT, pc)),
            Op::Mret => {
                if self.privilege != Privilege::Machine {
                    return Err(Trap::illegal(insn.raw()));
                }
                self.do_mret();
                self.attend();
                return Ok(self.pc);
            }
            Op::Sret => {
                if self.privilege == Privilege::User
                    || (self.privilege == Privilege::Supervisor && self.csr.mstatus & ms::TSR != 0)
                {
                    return Err(Trap::illegal(insn.raw()));
                }
                self.do_sret();
                self.attend();
                return Ok(self.pc);
            }
            Op::Wfi => {
                if self.privilege == Privilege::User
                    || (self.privilege == Privilege::Supervisor && self.csr.mstatus & ms::TW != 0)
                {
                    return Err(Trap::illegal(insn.raw()));
                }
                if !self.wfi_wakeup() {
                    self.exit = Some(super::HartExit::Wfi);
                }
                self.attend();
                return Ok(next);
            }
            Op::SfenceVma => {
                if self.privilege == Privilege::User
                    || (self.privilege == Privilege::Supervisor && self.csr.mstatus & ms::TVM != 0)
                {
                    return Err(Trap::illegal(insn.raw()));
                }
                self.tlb_validate(bus);
            }
            Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci => {
                // The counters (0xb00–0xb1f, 0xc00–0xc1f) read or write `instret`, which the
                // run loop brings up to date before it calls `exec_csr_step`; every other CSR
                // (`sstatus`, `sepc`, `satp`, …: what kernels use constantly) executes here.
                if matches!(insn.imm() >> 8 & 0xf, 0xb | 0xc) {
                    return Err(Trap::new(super::CSR_STEP, 0));
                }
                self.exec_csr(bus, insn, a)?;
                self.x[0] = 0;
            }
            Op::LrW | Op::LrD => {
                let size = if insn.op() == Op::LrW { 4 } else { 8 };
                let pa = self.atomic_addr(bus, a, size, Access::Load)?;
                let v = self
                    .phys_read(bus, pa, size as usize)
                    .ok_or(Trap::new(cause::LOAD_ACCESS_FAULT, a))?;
                // Watch the reserved page: any later write to it (by any hart or device)
                // moves its generation and so breaks the reservation.
                self.reservation = bus
                    .ram
                    .offset_of(pa, size)
                    .map(|_| (pa, bus.ram.watch_page(pa)));
                w!(if size == 4 { sx32!(v) } else { v });
            }
            Op::ScW | Op::ScD => {
                let size = if insn.op() == Op::ScW { 4 } else { 8 };
                let pa = self.atomic_addr(bus, a, size, Access::Store)?;
                let held = self.reservation.take();
                if held.is_some_and(|(rpa, gen)| rpa == pa && bus.ram.page_gen(pa) == gen) {
                    self.phys_write(bus, pa, size as usize, b)
                        .ok_or(Trap::new(cause::STORE_ACCESS_FAULT, a))?;
                    w!(0);
                } else {
                    w!(1);
                }
            }
            Op::AmoW | Op::AmoD => {
                let size = if insn.op() == Op::AmoW { 4 } else { 8 };
                let pa = self.atomic_addr(bus, a, size, Access::Store)?;
                let fault = Trap::new(cause::STORE_ACCESS_FAULT, a);
                let old = self.phys_read(bus, pa, size as usize).ok_or(fault)?;
                let (old, src) = if size == 4 {
                    (sx32!(old), sx32!(b))
                } else {
                    (old, b)
                };
                let new = match insn.rs3() {
                    0 => old.wrapping_add(src),
                    1 => src,
                    4 => old ^ src,
                    8 => old | src,
                    12 => old & src,
                    16 => (old as i64).min(src as i64) as u64,
                    20 => (old as i64).max(src as i64) as u64,
                    24 => old.min(src),
                    _ => old.max(src),
                };
                self.phys_write(bus, pa, size as usize, new).ok_or(fault)?;
                w!(old);
            }
            // An empty decode-cache slot: the run loop decodes it (`fetch_slow`) and retries.
            Op::Undecoded => return Err(Trap::new(super::REFETCH, 0)),
            Op::Illegal => return Err(Trap::illegal(insn.raw())),
            // A strided memory loop's head: the run loop batches it (`hart/loops.rs`).
            Op::Loop => return Err(Trap::new(super::loops::LOOP_STEP, 0)),
            Op::Flw
            | Op::Fsw
            | Op::Fld
            | Op::Fsd
            | Op::FmaS
            | Op::FmaD
            | Op::FaddS
            | Op::FsubS
            | Op::FmulS
            | Op::FdivS
            | Op::FsqrtS
            | Op::FsgnjS
            | Op::FsgnjnS
            | Op::FsgnjxS
            | Op::FminS
            | Op::FmaxS
            | Op::FaddD
            | Op::FsubD
            | Op::FmulD
            | Op::FdivD
            | Op::FsqrtD
            | Op::FsgnjD
            | Op::FsgnjnD
            | Op::FsgnjxD
            | Op::FminD
            | Op::FmaxD
            | Op::FcvtSD
            | Op::FcvtDS
            | Op::FeqS
            | Op::FltS
            | Op::FleS
            | Op::FeqD
            | Op::FltD
            | Op::FleD
            | Op::FcvtIntS
            | Op::FcvtIntD
            | Op::FcvtSInt
            | Op::FcvtDInt
            | Op::FmvXW
            | Op::FclassS
            | Op::FmvXD
            | Op::FclassD
            | Op::FmvWX
            | Op::FmvDX => {
                self.exec_fp(bus, insn)?;
                self.x[0] = 0;
            }
        }
        Ok(next)
    }

    /// A Zicsr instruction at `pc` (called by the run loop once `instret` is up to date): the
    /// next pc, or the trap.
    #[inline(never)]
    pub(crate) fn exec_csr_step(
        &mut self,
        bus: &Bus,
        insn: PackedInsn,
        pc: u64,
    ) -> Result<u64, Trap> {
        let a = self.x[insn.rs1()];
        self.exec_csr(bus, insn, a)?;
        self.x[0] = 0;
        Ok(pc.wrapping_add(insn.length()))
    }

    /// Zicsr (Unprivileged ISA ch. 9): csrrw never reads when rd = x0; csrrs/csrrc (and the
    /// immediate forms) never write when rs1/zimm = 0.
    #[inline(never)]
    fn exec_csr(&mut self, bus: &Bus, insn: PackedInsn, a: u64) -> Result<(), Trap> {
        let csr = (insn.imm() & 0xfff) as u16;
        let src = match insn.op() {
            Op::Csrrwi | Op::Csrrsi | Op::Csrrci => insn.rs1() as u64,
            _ => a,
        };
        let is_write = matches!(insn.op(), Op::Csrrw | Op::Csrrwi);
        let old = if is_write && insn.rd() == 0 {
            // No read side effects; still check that the CSR exists and is accessible.
            self.csr_read(csr, insn.raw())?;
            0
        } else {
            self.csr_read(csr, insn.raw())?
        };
        let new = match insn.op() {
            Op::Csrrw | Op::Csrrwi => Some(src),
            Op::Csrrs | Op::Csrrsi if insn.rs1() != 0 => Some(old | src),
            Op::Csrrc | Op::Csrrci if insn.rs1() != 0 => Some(old & !src),
            _ => None,
        };
        if let Some(v) = new {
            let effect = self.csr_write(csr, v, insn.raw())?;
            if effect == CsrEffect::Mmu {
                // Drops the fetch page itself when the translation context changed.
                self.mmu_context_changed();
                if csr == super::csr::num::SATP {
                    self.tlb_validate(bus);
                }
            }
            // Only an interrupt that can be taken now needs the run loop's attention (the
            // board changes interrupt lines only between runs, which check them).
            if effect != CsrEffect::None && self.pending_interrupt().is_some() {
                self.attend();
            }
        }
        self.x[insn.rd()] = old;
        Ok(())
    }

    // ---- F and D ------------------------------------------------------------------------

    /// Rounding mode of `insn`: static rm, or `frm` for dynamic (7). Reserved → illegal.
    fn rounding(&self, insn: PackedInsn) -> Result<RoundingMode, Trap> {
        let rm = if insn.rm() == 7 {
            self.csr.frm as u64
        } else {
            insn.rm() as u64
        };
        RoundingMode::from_bits(rm).ok_or(Trap::illegal(insn.raw()))
    }

    /// Single in f register `r`: an improperly NaN-boxed value reads as the canonical NaN.
    #[inline]
    fn fs(&self, r: usize) -> u32 {
        let v = self.f[r];
        if v & BOX == BOX {
            v as u32
        } else {
            fpu::CANONICAL_NAN_F32
        }
    }
    #[inline]
    fn fd(&self, r: usize) -> u64 {
        self.f[r]
    }
    fn set_fs(&mut self, r: usize, v: u32) {
        self.f[r] = BOX | v as u64;
        self.fs_dirty();
    }
    fn set_fd(&mut self, r: usize, v: u64) {
        self.f[r] = v;
        self.fs_dirty();
    }
    fn accrue(&mut self, flags: Flags) {
        if flags != 0 {
            self.csr.fflags |= flags;
            self.fs_dirty();
        }
    }

    /// F/D instructions (Unprivileged ISA ch. 11–12). Illegal when `mstatus.FS` is Off.
    #[inline(never)]
    fn exec_fp(&mut self, bus: &mut Bus, insn: PackedInsn) -> Result<(), Trap> {
        if !self.fs_enabled() {
            return Err(Trap::illegal(insn.raw()));
        }
        let (rd, r1, r2, r3) = (insn.rd(), insn.rs1(), insn.rs2(), insn.rs3());
        let a = self.x[r1];
        let imm = insn.imm() as i64 as u64;
        let xd = rd;
        macro_rules! s2 {
            ($f:path) => {{
                let rm = self.rounding(insn)?;
                let (v, fl) = $f(self.fs(r1), self.fs(r2), rm);
                self.set_fs(rd, v);
                self.accrue(fl);
            }};
        }
        macro_rules! d2 {
            ($f:path) => {{
                let rm = self.rounding(insn)?;
                let (v, fl) = $f(self.fd(r1), self.fd(r2), rm);
                self.set_fd(rd, v);
                self.accrue(fl);
            }};
        }
        macro_rules! cmp {
            ($f:path, $get:ident) => {{
                let (v, fl) = $f(self.$get(r1), self.$get(r2));
                self.x[xd] = v as u64;
                self.accrue(fl);
            }};
        }
        match insn.op() {
            Op::Flw => {
                let v = self.load::<4>(bus, a.wrapping_add(imm))?;
                self.set_fs(rd, v as u32);
            }
            Op::Fld => {
                let v = self.load::<8>(bus, a.wrapping_add(imm))?;
                self.set_fd(rd, v);
            }
            Op::Fsw => self.store::<4>(bus, a.wrapping_add(imm), self.f[r2])?,
            Op::Fsd => self.store::<8>(bus, a.wrapping_add(imm), self.f[r2])?,
            Op::FmaS | Op::FmaD => {
                let rm = self.rounding(insn)?;
                let (np, na) = match insn.imm() {
                    0 => (false, false),
                    1 => (false, true),
                    2 => (true, false),
                    _ => (true, true),
                };
                if insn.op() == Op::FmaS {
                    let (v, fl) = fpu::fma_f32(self.fs(r1), self.fs(r2), self.fs(r3), rm, np, na);
                    self.set_fs(rd, v);
                    self.accrue(fl);
                } else {
                    let (v, fl) = fpu::fma_f64(self.fd(r1), self.fd(r2), self.fd(r3), rm, np, na);
                    self.set_fd(rd, v);
                    self.accrue(fl);
                }
            }
            Op::FaddS => s2!(fpu::add_f32),
            Op::FsubS => s2!(fpu::sub_f32),
            Op::FmulS => s2!(fpu::mul_f32),
            Op::FdivS => s2!(fpu::div_f32),
            Op::FaddD => d2!(fpu::add_f64),
            Op::FsubD => d2!(fpu::sub_f64),
            Op::FmulD => d2!(fpu::mul_f64),
            Op::FdivD => d2!(fpu::div_f64),
            Op::FsqrtS => {
                let rm = self.rounding(insn)?;
                let (v, fl) = fpu::sqrt_f32(self.fs(r1), rm);
                self.set_fs(rd, v);
                self.accrue(fl);
            }
            Op::FsqrtD => {
                let rm = self.rounding(insn)?;
                let (v, fl) = fpu::sqrt_f64(self.fd(r1), rm);
                self.set_fd(rd, v);
                self.accrue(fl);
            }
            Op::FsgnjS | Op::FsgnjnS | Op::FsgnjxS => {
                let (x, y) = (self.fs(r1), self.fs(r2));
                let sign = match insn.op() {
                    Op::FsgnjS => y,
                    Op::FsgnjnS => !y,
                    _ => x ^ y,
                } & 0x8000_0000;
                self.set_fs(rd, (x & 0x7fff_ffff) | sign);
            }
            Op::FsgnjD | Op::FsgnjnD | Op::FsgnjxD => {
                let (x, y) = (self.fd(r1), self.fd(r2));
                let sign = match insn.op() {
                    Op::FsgnjD => y,
                    Op::FsgnjnD => !y,
                    _ => x ^ y,
                } & (1 << 63);
                self.set_fd(rd, (x & !(1 << 63)) | sign);
            }
            Op::FminS | Op::FmaxS => {
                let f = if insn.op() == Op::FminS {
                    fpu::min_f32
                } else {
                    fpu::max_f32
                };
                let (v, fl) = f(self.fs(r1), self.fs(r2));
                self.set_fs(rd, v);
                self.accrue(fl);
            }
            Op::FminD | Op::FmaxD => {
                let f = if insn.op() == Op::FminD {
                    fpu::min_f64
                } else {
                    fpu::max_f64
                };
                let (v, fl) = f(self.fd(r1), self.fd(r2));
                self.set_fd(rd, v);
                self.accrue(fl);
            }
            Op::FcvtSD => {
                let rm = self.rounding(insn)?;
                let (v, fl) = fpu::f64_to_f32(self.fd(r1), rm);
                self.set_fs(rd, v);
                self.accrue(fl);
            }
            Op::FcvtDS => {
                self.rounding(insn)?;
                let (v, fl) = fpu::f32_to_f64(self.fs(r1));
                self.set_fd(rd, v);
                self.accrue(fl);
            }
            Op::FeqS => cmp!(fpu::eq_f32, fs),
            Op::FltS => cmp!(fpu::lt_f32, fs),
            Op::FleS => cmp!(fpu::le_f32, fs),
            Op::FeqD => cmp!(fpu::eq_f64, fd),
            Op::FltD => cmp!(fpu::lt_f64, fd),
            Op::FleD => cmp!(fpu::le_f64, fd),
            Op::FcvtIntS | Op::FcvtIntD => {
                let rm = self.rounding(insn)?;
                let (v, fl) = if insn.op() == Op::FcvtIntS {
                    let s = self.fs(r1);
                    match insn.imm() {
                        0 => to64(fpu::f32_to_i32(s, rm), |v| v as i64 as u64),
                        1 => to64(fpu::f32_to_u32(s, rm), |v| v as i32 as i64 as u64),
                        2 => to64(fpu::f32_to_i64(s, rm), |v| v as u64),
                        _ => fpu::f32_to_u64(s, rm),
                    }
                } else {
                    let d = self.fd(r1);
                    match insn.imm() {
                        0 => to64(fpu::f64_to_i32(d, rm), |v| v as i64 as u64),
                        1 => to64(fpu::f64_to_u32(d, rm), |v| v as i32 as i64 as u64),
                        2 => to64(fpu::f64_to_i64(d, rm), |v| v as u64),
                        _ => fpu::f64_to_u64(d, rm),
                    }
                };
                self.x[xd] = v;
                self.accrue(fl);
            }
            Op::FcvtSInt => {
                let rm = self.rounding(insn)?;
                let (v, fl) = match insn.imm() {
                    0 => fpu::i32_to_f32(a as i32, rm),
                    1 => fpu::u32_to_f32(a as u32, rm),
                    2 => fpu::i64_to_f32(a as i64, rm),
                    _ => fpu::u64_to_f32(a, rm),
                };
                self.set_fs(rd, v);
                self.accrue(fl);
            }
            Op::FcvtDInt => {
                let rm = self.rounding(insn)?;
                let (v, fl) = match insn.imm() {
                    0 => fpu::i32_to_f64(a as i32, rm),
                    1 => fpu::u32_to_f64(a as u32, rm),
                    2 => fpu::i64_to_f64(a as i64, rm),
                    _ => fpu::u64_to_f64(a, rm),
                };
                self.set_fd(rd, v);
                self.accrue(fl);
            }
            Op::FmvXW => self.x[xd] = self.f[r1] as u32 as i32 as i64 as u64,
            Op::FmvXD => self.x[xd] = self.f[r1],
            Op::FclassS => self.x[xd] = fpu::class_f32(self.fs(r1)),
            Op::FclassD => self.x[xd] = fpu::class_f64(self.fd(r1)),
            Op::FmvWX => self.set_fs(rd, a as u32),
            Op::FmvDX => self.set_fd(rd, a),
            _ => return Err(Trap::illegal(insn.raw())),
        }
        Ok(())
    }
}

fn to64<T>(r: (T, Flags), f: impl Fn(T) -> u64) -> (u64, Flags) {
    (f(r.0), r.1)
}

/// Signed division: x/0 = −1, MIN/−1 = MIN (Unprivileged ISA §7.2, Table 7.1).
fn div_s(a: i64, b: i64) -> i64 {
    if b == 0 {
        -1
    } else {
        a.wrapping_div(b)
    }
}
/// Signed remainder: x%0 = x, MIN%−1 = 0.
fn rem_s(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        a.wrapping_rem(b)
    }
}
fn div_s32(a: i32, b: i32) -> i32 {
    if b == 0 {
        -1
    } else {
        a.wrapping_div(b)
    }
}
fn rem_s32(a: i32, b: i32) -> i32 {
    if b == 0 {
        a
    } else {
        a.wrapping_rem(b)
    }
}

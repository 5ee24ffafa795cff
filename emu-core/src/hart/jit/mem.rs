//! Loads and stores in compiled blocks: the interpreter's fast path inline (`Hart::load`/
//! `store` in `execute.rs`: a TLB hit in the current context's array, or bare mode, then RAM),
//! and for everything else — TLB miss, page crossing under translation, outside RAM (MMIO), a
//! store to a watched page (decoded code, page table, LR reservation) or crossing a page — a
//! slow exit (`Tr::exit_slow`): the block leaves before the instruction and the interpreter
//! runs it.

use super::translate::Tr;
use super::JitCtx;
use crate::hart::mmu::{Access, TLB_SIZE};
use crate::hart::tlb::TlbEntry;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I64, I8};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;
use std::mem::{offset_of, size_of};

const _: () = assert!(TLB_SIZE.is_power_of_two());
const _: () = assert!(size_of::<TlbEntry>().is_power_of_two());

/// What the inline accesses need: the `JitCtx` fields, read where used (a value loaded at
/// entry would be live across the whole function, which costs register allocation more than
/// the loads cost at run time).
pub(super) struct Mem {
    ctx: Value,
    /// Compiled for data translation (`Hart::data_paging`) or bare mode: a block runs only in
    /// the mode it was compiled for.
    paged: bool,
}

impl Mem {
    pub(super) fn new(ctx: Value, paged: bool) -> Mem {
        Mem { ctx, paged }
    }

    fn field(&self, b: &mut FunctionBuilder, off: usize) -> Value {
        b.ins()
            .load(I64, MemFlagsData::trusted(), self.ctx, off as i32)
    }

    /// Branch to `ram` with the physical address of `va` (bare mode: `va` itself; paged: on a
    /// TLB hit for `access` that does not cross the page), else to `slow`.
    fn translate(
        &self,
        b: &mut FunctionBuilder,
        va: Value,
        size: i64,
        access: Access,
        ram: cranelift_codegen::ir::Block,
        slow: cranelift_codegen::ir::Block,
    ) {
        if !self.paged {
            b.ins().jump(ram, &[va.into()]);
            return;
        }
        let f = MemFlagsData::trusted();
        let hit = b.create_block();
        let tlb = self.field(b, offset_of!(JitCtx, tlb));
        let vpn = b.ins().ushr_imm_s(va, 12);
        let idx = b.ins().band_imm_s(vpn, TLB_SIZE as i64 - 1);
        let scaled = b
            .ins()
            .ishl_imm_s(idx, size_of::<TlbEntry>().trailing_zeros() as i64);
        let e = b.ins().iadd(tlb, scaled);
        let tag_off = offset_of!(TlbEntry, tag) + 8 * access as usize;
        let tag = b.ins().load(I64, f, e, tag_off as i32);
        let miss = b.ins().icmp(IntCC::NotEqual, tag, vpn);
        let pgoff = b.ins().band_imm_s(va, 0xfff);
        let cross = b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThan, pgoff, 0x1000 - size);
        let bad = b.ins().bor(miss, cross);
        b.ins().brif(bad, slow, &[], hit, &[]);
        b.seal_block(hit);
        b.switch_to_block(hit);
        let page = b
            .ins()
            .load(I64, f, e, offset_of!(TlbEntry, pa_page) as i32);
        let pa = b.ins().bor(page, pgoff);
        b.ins().jump(ram, &[pa.into()]);
    }

    /// Count a TLB hit (`--stats`), as `Hart::load`/`store` do, once the access is sure to
    /// complete inline: an access that leaves the block is counted by the interpreter.
    fn count_hit(&self, b: &mut FunctionBuilder) {
        if self.paged {
            let f = MemFlagsData::trusted();
            let hits = self.field(b, offset_of!(JitCtx, tlb_hits));
            let h = b.ins().load(I64, f, hits, 0);
            let h = b.ins().iadd_imm_s(h, 1);
            b.ins().store(f, h, hits, 0);
        }
    }

    /// The host address of `size` bytes at physical `pa` when they lie in RAM; else branch to
    /// `slow`. Leaves the builder in the block where the address is known.
    fn ram_addr(
        &self,
        b: &mut FunctionBuilder,
        pa: Value,
        size: i64,
        slow: cranelift_codegen::ir::Block,
    ) -> (Value, Value) {
        let ram_base = self.field(b, offset_of!(JitCtx, ram_base));
        let ram_size = self.field(b, offset_of!(JitCtx, ram_size));
        let off = b.ins().isub(pa, ram_base);
        let last = b.ins().iadd_imm_s(ram_size, -size);
        let out = b.ins().icmp(IntCC::UnsignedGreaterThan, off, last);
        let inside = b.create_block();
        b.ins().brif(out, slow, &[], inside, &[]);
        b.seal_block(inside);
        b.switch_to_block(inside);
        let ram = self.field(b, offset_of!(JitCtx, ram));
        (b.ins().iadd(ram, off), off)
    }
}

impl Tr {
    /// Load `1 << log` bytes at `va` for instruction `n` (block offset `off`); `extend` turns
    /// the zero-extended value into the register value. Returns it; the slow exit is emitted
    /// here.
    pub(super) fn load(
        &mut self,
        b: &mut FunctionBuilder,
        m: &Mem,
        log: usize,
        va: Value,
        (off, n): (u32, usize),
        extend: impl Fn(&mut FunctionBuilder, Value) -> Value,
    ) -> Value {
        let size = 1i64 << log;
        let ram = b.create_block();
        b.append_block_param(ram, I64);
        let slow = b.create_block();
        let done = b.create_block();
        b.append_block_param(done, I64);
        m.translate(b, va, size, Access::Load, ram, slow);
        b.switch_to_block(ram);
        let pa = b.block_params(ram)[0];
        let (addr, _) = m.ram_addr(b, pa, size, slow);
        m.count_hit(b);
        let g = MemFlagsData::new().with_notrap();
        let v = match log {
            0 => b.ins().uload8(I64, g, addr, 0),
            1 => b.ins().uload16(I64, g, addr, 0),
            2 => b.ins().uload32(g, addr, 0),
            _ => b.ins().load(I64, g, addr, 0),
        };
        b.ins().jump(done, &[v.into()]);
        b.seal_block(ram);
        b.seal_block(slow);
        b.switch_to_block(slow);
        self.exit_slow(b, off, n);
        b.seal_block(done);
        b.switch_to_block(done);
        let v = b.block_params(done)[0];
        extend(b, v)
    }

    /// Store the low `1 << log` bytes of `value` at `va` for instruction `n`.
    pub(super) fn store(
        &mut self,
        b: &mut FunctionBuilder,
        m: &Mem,
        log: usize,
        va: Value,
        value: Value,
        (off, n): (u32, usize),
    ) {
        let size = 1i64 << log;
        let ram = b.create_block();
        b.append_block_param(ram, I64);
        let slow = b.create_block();
        let done = b.create_block();
        m.translate(b, va, size, Access::Store, ram, slow);
        b.switch_to_block(ram);
        let pa = b.block_params(ram)[0];
        let (addr, ram_off) = m.ram_addr(b, pa, size, slow);
        // As `Ram::store_pa`: a watched page or a page-crossing store takes the slow path.
        let page = b.ins().ushr_imm_s(ram_off, 12);
        let code_page = m.field(b, offset_of!(JitCtx, code_page));
        let watch_at = b.ins().iadd(code_page, page);
        let watch = b.ins().load(I8, MemFlagsData::trusted(), watch_at, 0);
        let watched = b.ins().icmp_imm_s(IntCC::NotEqual, watch, 0);
        let pgoff = b.ins().band_imm_s(ram_off, 0xfff);
        let cross = b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThan, pgoff, 0x1000 - size);
        let bad = b.ins().bor(watched, cross);
        let write = b.create_block();
        b.ins().brif(bad, slow, &[], write, &[]);
        b.seal_block(write);
        b.switch_to_block(write);
        m.count_hit(b);
        let g = MemFlagsData::new().with_notrap();
        match log {
            0 => b.ins().istore8(g, value, addr, 0),
            1 => b.ins().istore16(g, value, addr, 0),
            2 => b.ins().istore32(g, value, addr, 0),
            _ => b.ins().store(g, value, addr, 0),
        };
        b.ins().jump(done, &[]);
        b.seal_block(ram);
        b.seal_block(slow);
        b.switch_to_block(slow);
        self.exit_slow(b, off, n);
        b.seal_block(done);
        b.switch_to_block(done);
    }
}

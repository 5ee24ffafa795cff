//! One guest block → Cranelift IR (see `jit/mod.rs` for the block contract).
//!
//! The generated function is `fn(ctx, x, pc, limit) -> retired`: `x` points at `Hart::x`,
//! `pc` is the block's guest address (every pc the block computes is relative to it, so one
//! block serves every virtual alias of its physical page), `limit` is the run budget left minus
//! the block length (a branch back to the block head loops while the instructions retired stay
//! within it). The function returns the instructions retired and stores the next pc in
//! `ctx.pc`. Guest registers are read from and written to `Hart::x` at each use (see
//! `Tr::reg`), so exits carry no register state. Semantics follow `Hart::execute`
//! (Unprivileged ISA 20191213 ch. 2, 5, 7).

use super::mem::Mem;
use super::JitCtx;
use crate::hart::decode::{Op, PackedInsn};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{
    AbiParam, Block, Function, InstBuilder, MemFlagsData, Signature, Type, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::mem::offset_of;

/// Whether the tier compiles `op`: RV64I (but ecall/ebreak/fence.i/system), M, and `fence`
/// (a no-op here as in the interpreter). Everything else ends a block before it.
pub(super) fn compiles(op: Op) -> bool {
    (Op::Lui as u8..=Op::Remuw as u8).contains(&(op as u8)) || op == Op::Fence
}

/// The signature of a compiled block, in the host's C calling convention.
pub(super) fn block_signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    for _ in 0..4 {
        sig.params.push(AbiParam::new(I64));
    }
    sig.returns.push(AbiParam::new(I64));
    sig
}

/// Build the IR of the block `insns` (byte offset from the block head, instruction) into
/// `func`, whose signature is already [`block_signature`].
pub(super) fn build(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    insns: &[(u32, PackedInsn)],
    paged: bool,
    frontend: TargetFrontendConfig,
) {
    let mut b = FunctionBuilder::new(func, fctx);
    let flags = MemFlagsData::trusted();
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    let head = b.create_block();
    let exit = b.create_block();
    b.append_block_param(exit, I64); // next pc
    b.append_block_param(exit, I64); // retired
    b.switch_to_block(entry);
    b.seal_block(entry);
    let p = b.block_params(entry).to_vec();
    let (ctx, xp, pc0, limit) = (p[0], p[1], p[2], p[3]);

    let done = b.declare_var(I64);
    let zero = b.ins().iconst(I64, 0);
    b.def_var(done, zero);

    let mem = Mem::new(ctx, paged);
    b.ins().jump(head, &[]);
    b.switch_to_block(head);

    let mut t = Tr {
        done,
        pc0,
        limit,
        head,
        exit,
        ctx,
        xp,
    };
    let mut ended = false;
    let mut end_off = 0u32;
    for (n, &(off, insn)) in insns.iter().enumerate() {
        let last = n + 1 == insns.len();
        let len = insn.length() as u32;
        end_off = off + len;
        let imm = insn.imm() as i64;
        let (rd, rs1, rs2) = (insn.rd(), insn.rs1(), insn.rs2());
        let op = insn.op() as u8;
        // Which source registers the instruction reads (U/J-type none; I-type and loads rs1;
        // branches, stores and R-type both; the I-type shifts and `*iw` forms rs1).
        let reads_rs1 = !matches!(insn.op(), Op::Lui | Op::Auipc | Op::Jal | Op::Fence);
        let reads_rs2 = (Op::Beq as u8..=Op::Bgeu as u8).contains(&op)
            || (Op::Sb as u8..=Op::Sd as u8).contains(&op)
            || (Op::Add as u8..=Op::And as u8).contains(&op)
            || (Op::Addw as u8..=Op::Remuw as u8).contains(&op);
        // An operand the instruction does not read is x0: no load.
        let a = t.reg(&mut b, if reads_rs1 { rs1 } else { 0 });
        let c = t.reg(&mut b, if reads_rs2 { rs2 } else { 0 });
        let target = (off as i64).wrapping_add(imm);
        // Retired when this instruction completes: done + n + 1.
        macro_rules! retired_after {
            () => {{
                let d = b.use_var(t.done);
                b.ins().iadd_imm_s(d, n as i64 + 1)
            }};
        }
        macro_rules! set {
            ($v:expr) => {{
                let v = $v;
                t.set(&mut b, rd, v);
            }};
        }
        macro_rules! w32 {
            ($op:ident, $x:expr, $y:expr) => {{
                let x = b.ins().ireduce(I32, $x);
                let y = b.ins().ireduce(I32, $y);
                let r = b.ins().$op(x, y);
                b.ins().sextend(I64, r)
            }};
        }
        macro_rules! branch {
            ($cc:expr) => {{
                let cond = b.ins().icmp($cc, a, c);
                let cont = b.create_block();
                let taken = b.create_block();
                b.ins().brif(cond, taken, &[], cont, &[]);
                b.seal_block(taken);
                b.switch_to_block(taken);
                t.jump_to(&mut b, target, n);
                b.seal_block(cont);
                b.switch_to_block(cont);
            }};
        }
        match insn.op() {
            Op::Lui => set!(b.ins().iconst(I64, imm)),
            Op::Auipc => set!(b.ins().iadd_imm_s(pc0, off as i64 + imm)),
            Op::Jal => {
                let link = b.ins().iadd_imm_s(pc0, end_off as i64);
                t.set(&mut b, rd, link);
                t.jump_to(&mut b, target, n);
                ended = true;
            }
            Op::Jalr => {
                let to = b.ins().iadd_imm_s(a, imm);
                let to = b.ins().band_imm_s(to, !1i64);
                let link = b.ins().iadd_imm_s(pc0, end_off as i64);
                t.set(&mut b, rd, link);
                let r = retired_after!();
                b.ins().jump(exit, &[to.into(), r.into()]);
                ended = true;
            }
            Op::Beq => branch!(IntCC::Equal),
            Op::Bne => branch!(IntCC::NotEqual),
            Op::Blt => branch!(IntCC::SignedLessThan),
            Op::Bge => branch!(IntCC::SignedGreaterThanOrEqual),
            Op::Bltu => branch!(IntCC::UnsignedLessThan),
            Op::Bgeu => branch!(IntCC::UnsignedGreaterThanOrEqual),
            Op::Lb | Op::Lh | Op::Lw | Op::Ld | Op::Lbu | Op::Lhu | Op::Lwu => {
                let (log, signed) = match insn.op() {
                    Op::Lb => (0, true),
                    Op::Lh => (1, true),
                    Op::Lw => (2, true),
                    Op::Ld => (3, false),
                    Op::Lbu => (0, false),
                    Op::Lhu => (1, false),
                    _ => (2, false),
                };
                let va = b.ins().iadd_imm_s(a, imm);
                let extend = |b: &mut FunctionBuilder, v: Value| {
                    if signed {
                        let bits = 8 << log;
                        let sh = b.ins().ishl_imm_s(v, 64 - bits);
                        b.ins().sshr_imm_s(sh, 64 - bits)
                    } else {
                        v
                    }
                };
                let v = t.load(&mut b, &mem, log, va, (off, n), extend);
                t.set(&mut b, rd, v);
            }
            Op::Sb | Op::Sh | Op::Sw | Op::Sd => {
                let log = match insn.op() {
                    Op::Sb => 0,
                    Op::Sh => 1,
                    Op::Sw => 2,
                    _ => 3,
                };
                let va = b.ins().iadd_imm_s(a, imm);
                t.store(&mut b, &mem, log, va, c, (off, n));
            }
            Op::Addi => set!(b.ins().iadd_imm_s(a, imm)),
            Op::Slti => {
                let r = b.ins().icmp_imm_s(IntCC::SignedLessThan, a, imm);
                set!(b.ins().uextend(I64, r))
            }
            Op::Sltiu => {
                let r = b.ins().icmp_imm_s(IntCC::UnsignedLessThan, a, imm);
                set!(b.ins().uextend(I64, r))
            }
            Op::Xori => set!(b.ins().bxor_imm_s(a, imm)),
            Op::Ori => set!(b.ins().bor_imm_s(a, imm)),
            Op::Andi => set!(b.ins().band_imm_s(a, imm)),
            Op::Slli => set!(b.ins().ishl_imm_s(a, imm & 63)),
            Op::Srli => set!(b.ins().ushr_imm_s(a, imm & 63)),
            Op::Srai => set!(b.ins().sshr_imm_s(a, imm & 63)),
            Op::Add => set!(b.ins().iadd(a, c)),
            Op::Sub => set!(b.ins().isub(a, c)),
            Op::Sll => {
                let s = b.ins().band_imm_s(c, 63);
                set!(b.ins().ishl(a, s))
            }
            Op::Slt => {
                let r = b.ins().icmp(IntCC::SignedLessThan, a, c);
                set!(b.ins().uextend(I64, r))
            }
            Op::Sltu => {
                let r = b.ins().icmp(IntCC::UnsignedLessThan, a, c);
                set!(b.ins().uextend(I64, r))
            }
            Op::Xor => set!(b.ins().bxor(a, c)),
            Op::Srl => {
                let s = b.ins().band_imm_s(c, 63);
                set!(b.ins().ushr(a, s))
            }
            Op::Sra => {
                let s = b.ins().band_imm_s(c, 63);
                set!(b.ins().sshr(a, s))
            }
            Op::Or => set!(b.ins().bor(a, c)),
            Op::And => set!(b.ins().band(a, c)),
            Op::Addiw => {
                let r = b.ins().iadd_imm_s(a, imm);
                let r = b.ins().ireduce(I32, r);
                set!(b.ins().sextend(I64, r))
            }
            Op::Slliw | Op::Srliw | Op::Sraiw => {
                let x = b.ins().ireduce(I32, a);
                let sh = imm & 31;
                let r = match insn.op() {
                    Op::Slliw => b.ins().ishl_imm_s(x, sh),
                    Op::Srliw => b.ins().ushr_imm_s(x, sh),
                    _ => b.ins().sshr_imm_s(x, sh),
                };
                set!(b.ins().sextend(I64, r))
            }
            Op::Addw => set!(w32!(iadd, a, c)),
            Op::Subw => set!(w32!(isub, a, c)),
            Op::Sllw | Op::Srlw | Op::Sraw => {
                let s = b.ins().band_imm_s(c, 31);
                let r = match insn.op() {
                    Op::Sllw => w32!(ishl, a, s),
                    Op::Srlw => w32!(ushr, a, s),
                    _ => w32!(sshr, a, s),
                };
                set!(r)
            }
            Op::Mul => set!(b.ins().imul(a, c)),
            Op::Mulh => set!(b.ins().smulhi(a, c)),
            Op::Mulhu => set!(b.ins().umulhi(a, c)),
            Op::Mulhsu => {
                // a signed, c unsigned: umulhi(a, c) − (a < 0 ? c : 0).
                let hi = b.ins().umulhi(a, c);
                let sign = b.ins().sshr_imm_s(a, 63);
                let fix = b.ins().band(sign, c);
                set!(b.ins().isub(hi, fix))
            }
            Op::Mulw => set!(w32!(imul, a, c)),
            Op::Div | Op::Rem | Op::Divu | Op::Remu => {
                let r = divide(&mut b, insn.op(), a, c, I64);
                set!(r)
            }
            Op::Divw | Op::Remw | Op::Divuw | Op::Remuw => {
                let x = b.ins().ireduce(I32, a);
                let y = b.ins().ireduce(I32, c);
                let r = divide(&mut b, insn.op(), x, y, I32);
                set!(b.ins().sextend(I64, r))
            }
            Op::Fence => {}
            // `compiles` admits nothing else.
            _ => unreachable!("op {:?} is not compiled", insn.op()),
        }
        if last && !ended {
            // Fall out of the block after its last instruction.
            let to = b.ins().iadd_imm_s(pc0, end_off as i64);
            let r = retired_after!();
            b.ins().jump(exit, &[to.into(), r.into()]);
        }
    }
    let _ = end_off;
    b.seal_block(head);
    b.seal_block(exit);
    b.switch_to_block(exit);
    let next_pc = b.block_params(exit)[0];
    let retired = b.block_params(exit)[1];
    b.ins()
        .store(flags, next_pc, ctx, offset_of!(JitCtx, pc) as i32);
    b.ins().return_(&[retired]);
    b.finalize(frontend);
}

/// Division with RISC-V's results for x/0 (quotient all ones, remainder x) and MIN/−1
/// (quotient MIN, remainder 0) (Unprivileged ISA §7.2, Table 7.1): the divisor is replaced by
/// 1 in those cases, so Cranelift's trapping division never traps.
fn divide(b: &mut FunctionBuilder, op: Op, x: Value, y: Value, ty: Type) -> Value {
    let zero = b.ins().icmp_imm_s(IntCC::Equal, y, 0);
    let one = b.ins().iconst(ty, 1);
    let signed = matches!(op, Op::Div | Op::Rem | Op::Divw | Op::Remw);
    let bad = if signed {
        let min = if ty == I64 { i64::MIN } else { i32::MIN as i64 };
        let is_min = b.ins().icmp_imm_s(IntCC::Equal, x, min);
        let is_m1 = b.ins().icmp_imm_s(IntCC::Equal, y, -1);
        let ovf = b.ins().band(is_min, is_m1);
        b.ins().bor(zero, ovf)
    } else {
        zero
    };
    let d = b.ins().select(bad, one, y);
    match op {
        Op::Div | Op::Divw => {
            let q = b.ins().sdiv(x, d);
            let m1 = b.ins().iconst(ty, -1);
            b.ins().select(zero, m1, q)
        }
        Op::Divu | Op::Divuw => {
            let q = b.ins().udiv(x, d);
            let m1 = b.ins().iconst(ty, -1);
            b.ins().select(zero, m1, q)
        }
        Op::Rem | Op::Remw => {
            let r = b.ins().srem(x, d);
            b.ins().select(zero, x, r)
        }
        _ => {
            let r = b.ins().urem(x, d);
            b.ins().select(zero, x, r)
        }
    }
}

/// Translation state shared by the instructions of one block.
pub(super) struct Tr {
    done: Variable,
    pc0: Value,
    limit: Value,
    head: Block,
    exit: Block,
    /// The `JitCtx` pointer.
    ctx: Value,
    /// `Hart::x`.
    xp: Value,
}

impl Tr {
    /// Guest register `r` (x0 reads 0), read from `Hart::x` where used: no guest register
    /// is held in a host register across instructions, so register allocation (most of the
    /// compile time) only sees short live ranges, and no exit has registers to write back.
    fn reg(&self, b: &mut FunctionBuilder, r: usize) -> Value {
        if r == 0 {
            return b.ins().iconst(I64, 0);
        }
        b.ins()
            .load(I64, MemFlagsData::trusted(), self.xp, (r * 8) as i32)
    }

    /// Write guest register `r` (writes to x0 are dropped) to `Hart::x`.
    fn set(&self, b: &mut FunctionBuilder, r: usize, v: Value) {
        if r != 0 {
            b.ins()
                .store(MemFlagsData::trusted(), v, self.xp, (r * 8) as i32);
        }
    }

    /// Control goes to block offset `target` after instruction `n` retires: back to the head
    /// while the budget allows another whole pass, else out of the block.
    fn jump_to(&self, b: &mut FunctionBuilder, target: i64, n: usize) {
        let d = b.use_var(self.done);
        let retired = b.ins().iadd_imm_s(d, n as i64 + 1);
        let to = b.ins().iadd_imm_s(self.pc0, target);
        if target == 0 {
            let more = b
                .ins()
                .icmp(IntCC::UnsignedLessThanOrEqual, retired, self.limit);
            b.def_var(self.done, retired);
            b.ins().brif(
                more,
                self.head,
                &[],
                self.exit,
                &[to.into(), retired.into()],
            );
        } else {
            b.ins().jump(self.exit, &[to.into(), retired.into()]);
        }
    }

    /// Leave the block before instruction `n` (at block offset `off`), unretired, for the
    /// interpreter to run it: its access missed the inline fast path (TLB miss, MMIO, a watched
    /// or page-crossing store). `ctx.status` says so, so the run loop steps it first.
    pub(super) fn exit_slow(&mut self, b: &mut FunctionBuilder, off: u32, n: usize) {
        let s = b.ins().iconst(I64, super::STATUS_SLOW as i64);
        b.ins().store(
            MemFlagsData::trusted(),
            s,
            self.ctx,
            offset_of!(JitCtx, status) as i32,
        );
        let d = b.use_var(self.done);
        let before = b.ins().iadd_imm_s(d, n as i64);
        let at = b.ins().iadd_imm_s(self.pc0, off as i64);
        b.ins().jump(self.exit, &[at.into(), before.into()]);
    }
}

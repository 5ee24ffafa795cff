//! Strided memory loops run as one batch: the byte-at-a-time fill and copy loops that compilers
//! emit for `memset`/`memmove` (stock xv6 spends about half of `usertests` in them, clearing
//! and filling pages in `kalloc`/`kfree`), e.g. `sb a1,0(a5); addi a5,a5,1; bne a5,a4,loop`.
//!
//! Recognition is structural: a loop body of at most [`MAX_BODY`] instructions ending in a
//! `bne` back to its first instruction, whose other instructions are one store, at most one
//! load feeding it, and `addi r,r,c` bumps; every access pointer is bumped by ± its access
//! width (contiguous elements, all in one direction), and the branch compares a bumped register
//! with one the loop does not write. When `fetch_slow` decodes an instruction that heads such
//! a body it caches it as [`Op::Loop`] (the original op kept, see [`PackedInsn::fused`]).
//!
//! Exactness: executing a loop head checks the body again from the decode-cache slots of the
//! current code page (so a rewritten body is seen), then runs `k` whole iterations at once,
//! where `k` is the largest count for which the result is the one stepping would give: no more
//! than the iterations left before the branch falls through, than the run budget holds (`k ×`
//! body length steps: instret, and so the guest clock and interrupt timing, stay exact), and
//! than fit in the current page of each access stream, whose first element must hit the TLB
//! (so no access can fault) and lie in RAM (no MMIO), in a page other than the loop's own code.
//! Stores go through [`crate::bus::Ram`]'s write paths, so decode caches, LR reservations and
//! watched page tables see them as they see single stores. When `k` would be 0 (a TLB miss, a
//! page end, a budget end, a debugger's single step) the head executes as the plain
//! instruction it is.

use super::decode::{Insn, Op, PackedInsn};
use super::decode_cache::SLOTS_PER_PAGE;
use super::mmu::Access;
use super::trap::Trap;
use super::Hart;
use crate::bus::{Bus, Ram};

/// A `Trap::cause` that is no trap: `execute` met a loop head ([`Op::Loop`]), which the run
/// loop executes with [`Hart::exec_loop`] (it needs the run budget).
pub(crate) const LOOP_STEP: u64 = u64::MAX - 2;

/// Longest loop body recognised, in instructions (branch included).
const MAX_BODY: usize = 6;

/// One memory access of a loop body.
#[derive(Debug, Clone, Copy)]
struct Stream {
    /// Pointer register.
    ptr: usize,
    /// Address of the access relative to the pointer's value at the loop head (the immediate,
    /// plus the pointer's step when its bump comes first).
    off: i64,
}

/// What one iteration of a recognised loop does.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Instructions per iteration, and bytes from the head to the instruction after the branch.
    insns: u64,
    bytes: u64,
    /// Element width in bytes; access pointers move by `+width` (`ascending`) or `-width`.
    width: u64,
    ascending: bool,
    /// `addi r,r,c` bumps: (register, c).
    bumps: [(usize, i64); 3],
    nbumps: usize,
    store: Stream,
    /// Register whose low `width` bytes a fill stores (a copy stores what it loaded).
    value: usize,
    /// A copy's load: the stream, its destination register and its op (for the extension).
    load: Option<(Stream, usize, Op)>,
    /// The branch: bumped register (index into `bumps`) against an unwritten register.
    cmp_bump: usize,
    cmp_end: usize,
}

fn load_width(op: Op) -> Option<u64> {
    Some(match op {
        Op::Lb | Op::Lbu => 1,
        Op::Lh | Op::Lhu => 2,
        Op::Lw | Op::Lwu => 4,
        Op::Ld => 8,
        _ => return None,
    })
}

fn store_width(op: Op) -> Option<u64> {
    Some(match op {
        Op::Sb => 1,
        Op::Sh => 2,
        Op::Sw => 4,
        Op::Sd => 8,
        _ => return None,
    })
}

/// Whether `op` can head a loop body (a cheap filter before [`analyze`]).
fn may_head(op: Op) -> bool {
    op == Op::Addi || load_width(op).is_some() || store_width(op).is_some()
}

/// The shape of the loop whose body is `body` (head first, the branch last), if it is one.
fn analyze(body: &[Insn]) -> Option<Shape> {
    let (branch, rest) = body.split_last()?;
    if branch.op != Op::Bne || rest.len() < 2 {
        return None;
    }
    let branch_at: u64 = rest.iter().map(|i| i.len as u64).sum();
    if branch.imm as i64 != -(branch_at as i64) {
        return None;
    }
    let mut bumps = [(0usize, 0i64, 0usize); 3];
    let mut nbumps = 0;
    let mut store = None;
    let mut load = None;
    for (at, i) in rest.iter().enumerate() {
        if i.op == Op::Addi && i.rd == i.rs1 && i.rd != 0 && i.imm != 0 {
            if nbumps == bumps.len() || bumps[..nbumps].iter().any(|b| b.0 == i.rd as usize) {
                return None;
            }
            bumps[nbumps] = (i.rd as usize, i.imm as i64, at);
            nbumps += 1;
        } else if let Some(w) = store_width(i.op) {
            if store.is_some() {
                return None;
            }
            store = Some((i.rs1 as usize, i.imm as i64, i.rs2 as usize, w, at));
        } else if let Some(w) = load_width(i.op) {
            if load.is_some() || i.rd == 0 {
                return None;
            }
            load = Some((i.rs1 as usize, i.imm as i64, i.rd as usize, w, at, i.op));
        } else {
            return None;
        }
    }
    let bumps = &bumps[..nbumps];
    let bump_of = |r: usize| bumps.iter().position(|b| b.0 == r);
    let (s_ptr, s_imm, value, width, s_at) = store?;
    // Where an access lands relative to its pointer's value at the head; its pointer must be
    // bumped by ± width, and the direction is the store's.
    let stream = |ptr: usize, imm: i64, at: usize| -> Option<(Stream, i64)> {
        let b = bumps[bump_of(ptr)?];
        if b.1.unsigned_abs() != width {
            return None;
        }
        let off = imm + if b.2 < at { b.1 } else { 0 };
        Some((Stream { ptr, off }, b.1))
    };
    let (store, step) = stream(s_ptr, s_imm, s_at)?;
    let written = |r: usize| bump_of(r).is_some() || load.is_some_and(|l| l.2 == r);
    let load = match load {
        Some((l_ptr, l_imm, rt, w, l_at, op)) => {
            let (l, l_step) = stream(l_ptr, l_imm, l_at)?;
            if w != width || l_at > s_at || value != rt || l_step != step || l_ptr == s_ptr {
                return None;
            }
            if bump_of(rt).is_some() {
                return None;
            }
            Some((l, rt, op))
        }
        None => {
            if written(value) {
                return None;
            }
            None
        }
    };
    let (a, b) = (branch.rs1 as usize, branch.rs2 as usize);
    let (cmp_bump, cmp_end) = match (bump_of(a), bump_of(b)) {
        (Some(i), None) if !written(b) => (i, b),
        (None, Some(i)) if !written(a) => (i, a),
        _ => return None,
    };
    let mut out = [(0, 0); 3];
    for (o, b) in out.iter_mut().zip(bumps) {
        *o = (b.0, b.1);
    }
    Some(Shape {
        insns: body.len() as u64,
        bytes: branch_at + branch.len as u64,
        width,
        ascending: step > 0,
        bumps: out,
        nbumps,
        store,
        value,
        load,
        cmp_bump,
        cmp_end,
    })
}

/// Whether the instruction `head`, decoded from physical address `pa` in RAM, heads a loop
/// body (read from RAM after it, within its page).
pub(crate) fn heads_loop(ram: &Ram, pa: u64, head: Insn) -> bool {
    if !may_head(head.op) {
        return false;
    }
    // Find a `bne`/`c.bnez` among the next instructions from their raw bits (this runs on
    // every decode), and only then decode the body.
    let mut words = [0u32; MAX_BODY];
    let mut at = pa + head.len as u64;
    for n in 1..MAX_BODY {
        if at & 0xfff > 0xffc {
            return false;
        }
        let Ok(bits) = ram.read(at, 4) else {
            return false;
        };
        let bits = bits as u32;
        words[n] = bits;
        let bne = if bits & 3 == 3 {
            bits & 0x707f == 0x1063
        } else {
            bits & 0xe003 == 0xe001
        };
        if bne {
            let mut body = [head; MAX_BODY];
            for (b, &w) in body[1..=n].iter_mut().zip(&words[1..=n]) {
                *b = super::decode::decode(w);
            }
            return analyze(&body[..=n]).is_some();
        }
        at += if bits & 3 == 3 { 4 } else { 2 };
    }
    false
}

/// Element count from `va` (the first element, of `width` bytes) to the end of its page in
/// the loop's direction; 0 when the first element crosses the page end.
fn page_room(va: u64, width: u64, ascending: bool) -> u64 {
    let o = va & 0xfff;
    if o + width > 0x1000 {
        0
    } else if ascending {
        (0x1000 - o) / width
    } else {
        o / width + 1
    }
}

impl Hart {
    /// Execute the loop head `insn` at `pc` (`next`: the pc after it) with `left` + 1 steps of
    /// the run budget available (the run loop has taken one for this instruction): a batch of
    /// whole iterations when possible (taking their steps from `left`), else the plain
    /// instruction.
    #[inline(never)]
    pub(crate) fn exec_loop(
        &mut self,
        bus: &mut Bus,
        insn: PackedInsn,
        pc: u64,
        next: u64,
        left: &mut u64,
    ) -> Result<u64, Trap> {
        if let Some(pc) = self.run_loop_batch(bus, pc, left) {
            return Ok(pc);
        }
        self.execute_plain(bus, insn.unfused(), pc, next)
    }

    #[inline(never)]
    fn execute_plain(
        &mut self,
        bus: &mut Bus,
        insn: PackedInsn,
        pc: u64,
        next: u64,
    ) -> Result<u64, Trap> {
        self.execute(bus, insn, pc, next)
    }

    /// The loop body at `pc` from the current code page's decode-cache slots (`None` when a
    /// slot is not decoded yet or the body is not a loop any more).
    fn loop_shape(&self, pc: u64) -> Option<Shape> {
        if pc >> 12 != self.fetch_vpn {
            return None;
        }
        let mut body = [super::decode::Insn::UNDECODED; MAX_BODY];
        let mut at = pc & 0xfff;
        for (n, b) in body.iter_mut().enumerate() {
            if at > 0xffe {
                return None;
            }
            let packed = self.dcache.insns[self.fetch_base + (at as usize >> 1)];
            if packed.is_undecoded() {
                return None;
            }
            *b = packed.unfused().unpack();
            if b.op == Op::Bne {
                return analyze(&body[..=n]);
            }
            at += b.len as u64;
        }
        None
    }

    /// RAM offset of the lowest of the `count` elements of `shape.width` bytes that start
    /// (lowest or highest first, as `shape.ascending`) at virtual `va`, when the first
    /// translates through a TLB hit for `access` (or translation is off) and all lie in RAM
    /// outside the page at `code_pa`.
    fn loop_stream(
        &self,
        bus: &Bus,
        va: u64,
        count: u64,
        shape: &Shape,
        access: Access,
        code_pa: u64,
    ) -> Option<usize> {
        let (width, ascending) = (shape.width, shape.ascending);
        let pa = if self.data_paging {
            let vpn = va >> 12;
            let e = &self.tlb.entries[self.tlb_base + (vpn as usize % super::tlb::TLB_SIZE)];
            if e.tag[access as usize] != vpn {
                return None;
            }
            e.pa_page | (va & 0xfff)
        } else {
            va
        };
        if pa & !0xfff == code_pa {
            return None;
        }
        let lo = if ascending {
            pa
        } else {
            pa.wrapping_sub((count - 1) * width)
        };
        bus.ram.offset_of(lo, count * width)
    }

    /// Run as many whole iterations of the loop at `pc` as are exact (see the module doc);
    /// the pc after them, or `None` when not even one can be batched.
    fn run_loop_batch(&mut self, bus: &mut Bus, pc: u64, left: &mut u64) -> Option<u64> {
        let shape = self.loop_shape(pc)?;
        let steps = *left + 1;
        let (w, up) = (shape.width, shape.ascending);
        // Iterations until the branch falls through (u64::MAX: not before wrapping around).
        let (c_reg, c_step) = shape.bumps[shape.cmp_bump];
        let d = if c_step > 0 {
            self.x[shape.cmp_end].wrapping_sub(self.x[c_reg])
        } else {
            self.x[c_reg].wrapping_sub(self.x[shape.cmp_end])
        };
        let c = c_step.unsigned_abs();
        let to_exit = if d != 0 && d % c == 0 {
            d / c
        } else {
            u64::MAX
        };
        let dst_va = self.x[shape.store.ptr].wrapping_add(shape.store.off as u64);
        let mut k = to_exit
            .min(steps / shape.insns)
            .min(page_room(dst_va, w, up));
        let src_va = shape
            .load
            .map(|(l, _, _)| self.x[l.ptr].wrapping_add(l.off as u64));
        if let Some(va) = src_va {
            k = k.min(page_room(va, w, up));
        }
        if k == 0 {
            return None;
        }
        let code_pa = self.dcache.page_addr(self.fetch_base / SLOTS_PER_PAGE);
        let dst = self.loop_stream(bus, dst_va, k, &shape, Access::Store, code_pa)?;
        let written = match (shape.load, src_va) {
            (Some((_, rt, op)), Some(va)) => {
                let src = self.loop_stream(bus, va, k, &shape, Access::Load, code_pa)?;
                let (code, last) = bus.ram.copy_elems(src, dst, k as usize, w as usize, up);
                self.x[rt] = match op {
                    Op::Lb => last as i8 as u64,
                    Op::Lh => last as i16 as u64,
                    Op::Lw => last as i32 as u64,
                    _ => last,
                };
                self.tlb.hits += k;
                code
            }
            _ => {
                let value = self.x[shape.value];
                bus.ram.fill_elems(dst, k as usize, w as usize, value)
            }
        };
        self.tlb.hits += k;
        for &(r, step) in &shape.bumps[..shape.nbumps] {
            self.x[r] = self.x[r].wrapping_add((step as u64).wrapping_mul(k));
        }
        if written {
            self.code_written(bus);
        }
        *left = steps - k * shape.insns;
        Some(if k == to_exit {
            pc.wrapping_add(shape.bytes)
        } else {
            pc
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hart::decode::decode;

    fn body(words: &[u32]) -> Vec<Insn> {
        words.iter().map(|&w| decode(w)).collect()
    }

    #[test]
    fn xv6_memset_and_memmove_loops_are_recognised() {
        // sb a1,0(a5); c.addi a5,1; bne a5,a4,-6 (xv6's memset at -O).
        let fill = analyze(&body(&[0x00b78023, 0x0785, 0xfee79de3])).expect("memset loop");
        assert_eq!(
            (fill.insns, fill.bytes, fill.width, fill.ascending),
            (3, 10, 1, true)
        );
        assert_eq!((fill.store.ptr, fill.store.off, fill.value), (15, 0, 11));
        // c.addi a1,1; c.addi a4,1; lbu a3,-1(a1); sb a3,-1(a4); bne a1,a5,-12 (memmove).
        let copy = analyze(&body(&[0x0585, 0x0705, 0xfff5c683, 0xfed70fa3, 0xfef59ae3]))
            .expect("memmove loop");
        let (l, rt, _) = copy.load.unwrap();
        assert_eq!((l.ptr, l.off, rt), (11, 0, 13));
        assert_eq!((copy.store.ptr, copy.store.off), (14, 0));
        assert_eq!(copy.bytes, 16);
    }

    #[test]
    fn loops_with_other_work_are_not() {
        // The branch goes elsewhere (offset -8 instead of -6).
        assert!(analyze(&body(&[0x00b78023, 0x0785, 0xfef79ce3])).is_none());
        // The stored value is the bumped pointer: sb a5,0(a5).
        assert!(analyze(&body(&[0x00f78023, 0x0785, 0xfee79de3])).is_none());
        // A bump by 2 with byte stores (not contiguous).
        assert!(analyze(&body(&[0x00b78023, 0x0789, 0xfee79de3])).is_none());
        // An add instead of a bump: add a5,a5,a1.
        assert!(analyze(&body(&[0x00b78023, 0x00b787b3, 0xfef79ce3])).is_none());
    }
}

//! Instruction decoding: a 32-bit word or a 16-bit RVC parcel → [`Insn`].
//!
//! RVC parcels are first expanded to their 32-bit equivalent ([`expand_rvc`], Unprivileged ISA
//! 20191213 ch. 16, Tables 16.5–16.7), then decoded like any other word ([`decode_word`],
//! ch. 24 "RV32/64G Instruction Set Listings"). Any pattern that is not a valid RV64GC
//! instruction decodes to [`Op::Illegal`]; decoding never panics.

/// Operation of a decoded instruction. Operands live in [`Insn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Op {
    /// Not yet decoded (a decode-cache slot); never returned by [`decode`].
    Undecoded,
    Illegal,
    Lui,
    Auipc,
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Ld,
    Lbu,
    Lhu,
    Lwu,
    Sb,
    Sh,
    Sw,
    Sd,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Addiw,
    Slliw,
    Srliw,
    Sraiw,
    Addw,
    Subw,
    Sllw,
    Srlw,
    Sraw,
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Mulw,
    Divw,
    Divuw,
    Remw,
    Remuw,
    Fence,
    FenceI,
    Ecall,
    Ebreak,
    Mret,
    Sret,
    Wfi,
    SfenceVma,
    /// CSR ops: `imm` holds the CSR number; for the `*i` forms `rs1` holds the zimm.
    Csrrw,
    Csrrs,
    Csrrc,
    Csrrwi,
    Csrrsi,
    Csrrci,
    LrW,
    ScW,
    LrD,
    ScD,
    /// AMOs other than LR/SC: `rs3` holds funct5 (Unprivileged ISA §8.4).
    AmoW,
    AmoD,
    // F/D: `rs3` holds rs3 (fused ops) and `rm` the rounding-mode field.
    Flw,
    Fsw,
    Fld,
    Fsd,
    /// Fused multiply-add: `imm` = 0 fmadd, 1 fmsub, 2 fnmsub, 3 fnmadd.
    FmaS,
    FmaD,
    FaddS,
    FsubS,
    FmulS,
    FdivS,
    FsqrtS,
    FsgnjS,
    FsgnjnS,
    FsgnjxS,
    FminS,
    FmaxS,
    FaddD,
    FsubD,
    FmulD,
    FdivD,
    FsqrtD,
    FsgnjD,
    FsgnjnD,
    FsgnjxD,
    FminD,
    FmaxD,
    FcvtSD,
    FcvtDS,
    FeqS,
    FltS,
    FleS,
    FeqD,
    FltD,
    FleD,
    /// float → int: `imm` = 0 w, 1 wu, 2 l, 3 lu.
    FcvtIntS,
    FcvtIntD,
    /// int → float: `imm` = 0 w, 1 wu, 2 l, 3 lu.
    FcvtSInt,
    FcvtDInt,
    FmvXW,
    FclassS,
    FmvXD,
    FclassD,
    FmvWX,
    FmvDX,
    /// The head of a strided memory loop (`hart/loops.rs`): the original op is in bits 56..64
    /// of the packed word ([`PackedInsn::unfused`]); only in decode-cache slots.
    Loop,
}

/// A decoded instruction. 16 bytes; `Copy` so the decode cache hands out values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// What to do.
    pub op: Op,
    /// Destination register (integer or FP, by op).
    pub rd: u8,
    /// First source register (or CSR zimm).
    pub rs1: u8,
    /// Second source register.
    pub rs2: u8,
    /// Third source register (fused FP ops) or AMO funct5.
    pub rs3: u8,
    /// FP rounding-mode field (funct3).
    pub rm: u8,
    /// Length in bytes: 2 (RVC) or 4.
    pub len: u8,
    /// Immediate, sign-extended (CSR number for CSR ops; sub-op for some FP ops).
    pub imm: i32,
    /// The original bits (16-bit parcel for RVC), reported in `mtval` on illegal instruction.
    pub raw: u32,
}

impl Insn {
    /// The placeholder held by empty decode-cache slots.
    pub const UNDECODED: Insn = Insn {
        op: Op::Undecoded,
        rd: 0,
        rs1: 0,
        rs2: 0,
        rs3: 0,
        rm: 0,
        len: 0,
        imm: 0,
        raw: 0,
    };
}

impl Insn {
    /// Pack into two words (the decode cache's storage format: loading two `u64`s and
    /// extracting fields with shifts keeps the hot loop in registers).
    #[inline(always)]
    pub fn pack(&self) -> PackedInsn {
        PackedInsn(
            self.op as u64
                | (self.rd as u64) << 8
                | (self.rs1 as u64) << 16
                | (self.rs2 as u64) << 24
                | (self.rs3 as u64) << 32
                | (self.rm as u64) << 40
                | (self.len as u64) << 48,
            self.imm as u32 as u64 | (self.raw as u64) << 32,
        )
    }
}

/// An [`Insn`] packed into two words; `PackedInsn::UNDECODED` (all zero) is an empty slot.
/// `repr(C)`: the run loop reads the length byte at [`PackedInsn::LENGTH_BYTE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct PackedInsn(u64, u64);

impl PackedInsn {
    /// The empty decode-cache slot.
    pub const UNDECODED: PackedInsn = PackedInsn(0, 0);
    /// Whether this slot holds no decoded instruction.
    #[inline(always)]
    pub fn is_undecoded(&self) -> bool {
        self.0 as u8 == Op::Undecoded as u8
    }
    /// The operation.
    #[inline(always)]
    pub fn op(self) -> Op {
        // SAFETY: the low byte was written by `Insn::pack` from a valid `Op` (`Op` is
        // `repr(u8)`), or is 0 = `Op::Undecoded` in an empty slot.
        unsafe { std::mem::transmute::<u8, Op>(self.0 as u8) }
    }
    /// Destination register, 0..=31.
    #[inline(always)]
    pub fn rd(self) -> usize {
        (self.0 >> 8) as usize & 31
    }
    /// First source register (or CSR zimm), 0..=31.
    #[inline(always)]
    pub fn rs1(self) -> usize {
        (self.0 >> 16) as usize & 31
    }
    /// Second source register, 0..=31.
    #[inline(always)]
    pub fn rs2(self) -> usize {
        (self.0 >> 24) as usize & 31
    }
    /// Third source register or AMO funct5, 0..=31.
    #[inline(always)]
    pub fn rs3(self) -> usize {
        (self.0 >> 32) as usize & 31
    }
    /// Rounding-mode field.
    #[inline(always)]
    pub fn rm(self) -> u8 {
        (self.0 >> 40) as u8
    }
    /// Offset in memory of the byte of a `PackedInsn` that holds [`PackedInsn::length`]
    /// (bits 48..56 of the first word).
    pub const LENGTH_BYTE: usize = if cfg!(target_endian = "little") { 6 } else { 1 };
    /// Length in bytes (2 or 4).
    #[inline(always)]
    pub fn length(self) -> u64 {
        (self.0 >> 48) as u8 as u64
    }
    /// Sign-extended immediate.
    #[inline(always)]
    pub fn imm(self) -> i32 {
        self.1 as u32 as i32
    }
    /// Original instruction bits.
    #[inline(always)]
    pub fn raw(self) -> u32 {
        (self.1 >> 32) as u32
    }
    /// This instruction marked as the head of a strided memory loop ([`Op::Loop`]).
    pub fn fused(self) -> PackedInsn {
        PackedInsn(
            (self.0 & !0xff & !(0xff << 56)) | Op::Loop as u64 | (self.0 & 0xff) << 56,
            self.1,
        )
    }
    /// The instruction itself: a loop head ([`PackedInsn::fused`]) with its own op back.
    pub fn unfused(self) -> PackedInsn {
        if self.0 as u8 == Op::Loop as u8 {
            PackedInsn((self.0 & !0xff & !(0xff << 56)) | self.0 >> 56, self.1)
        } else {
            self
        }
    }
    /// The instruction as a struct.
    pub fn unpack(self) -> Insn {
        Insn {
            op: self.op(),
            rd: self.rd() as u8,
            rs1: self.rs1() as u8,
            rs2: self.rs2() as u8,
            rs3: self.rs3() as u8,
            rm: self.rm(),
            len: self.length() as u8,
            imm: self.imm(),
            raw: self.raw(),
        }
    }
}

/// Decode the instruction whose low parcel is `bits` (a full 32-bit word; for RVC only the low
/// 16 bits are looked at). The length is 2 when `bits & 3 != 3`.
pub fn decode(bits: u32) -> Insn {
    if bits & 3 != 3 {
        let half = bits & 0xffff;
        match expand_rvc(half as u16) {
            Some(word) => {
                let mut insn = decode_word(word);
                insn.len = 2;
                insn.raw = half;
                insn
            }
            None => illegal(half, 2),
        }
    } else {
        decode_word(bits)
    }
}

fn illegal(raw: u32, len: u8) -> Insn {
    Insn {
        op: Op::Illegal,
        len,
        raw,
        ..Insn::UNDECODED
    }
}

#[inline]
fn imm_i(w: u32) -> i32 {
    (w as i32) >> 20
}
#[inline]
fn imm_s(w: u32) -> i32 {
    (((w as i32) >> 25) << 5) | ((w >> 7) & 0x1f) as i32
}
#[inline]
fn imm_b(w: u32) -> i32 {
    (((w as i32) >> 31) << 12)
        | (((w >> 7) & 1) << 11) as i32
        | (((w >> 25) & 0x3f) << 5) as i32
        | (((w >> 8) & 0xf) << 1) as i32
}
#[inline]
fn imm_u(w: u32) -> i32 {
    (w & 0xffff_f000) as i32
}
#[inline]
fn imm_j(w: u32) -> i32 {
    (((w as i32) >> 31) << 20)
        | (w & 0x000f_f000) as i32
        | (((w >> 20) & 1) << 11) as i32
        | (((w >> 21) & 0x3ff) << 1) as i32
}

/// Decode a 32-bit instruction word (Unprivileged ISA ch. 24; Privileged ISA §2.1 for SYSTEM).
pub fn decode_word(w: u32) -> Insn {
    let rd = ((w >> 7) & 31) as u8;
    let rs1 = ((w >> 15) & 31) as u8;
    let rs2 = ((w >> 20) & 31) as u8;
    let f3 = (w >> 12) & 7;
    let f7 = w >> 25;
    let mk = |op: Op, imm: i32| Insn {
        op,
        rd,
        rs1,
        rs2,
        rs3: (w >> 27) as u8,
        rm: f3 as u8,
        len: 4,
        imm,
        raw: w,
    };
    let bad = illegal(w, 4);
    if w & 3 != 3 {
        return bad;
    }
    match (w >> 2) & 31 {
        0x0d => mk(Op::Lui, imm_u(w)),
        0x05 => mk(Op::Auipc, imm_u(w)),
        0x1b => mk(Op::Jal, imm_j(w)),
        0x19 if f3 == 0 => mk(Op::Jalr, imm_i(w)),
        0x18 => {
            let op = match f3 {
                0 => Op::Beq,
                1 => Op::Bne,
                4 => Op::Blt,
                5 => Op::Bge,
                6 => Op::Bltu,
                7 => Op::Bgeu,
                _ => return bad,
            };
            mk(op, imm_b(w))
        }
        0x00 => {
            let op = match f3 {
                0 => Op::Lb,
                1 => Op::Lh,
                2 => Op::Lw,
                3 => Op::Ld,
                4 => Op::Lbu,
                5 => Op::Lhu,
                6 => Op::Lwu,
                _ => return bad,
            };
            mk(op, imm_i(w))
        }
        0x08 => {
            let op = match f3 {
                0 => Op::Sb,
                1 => Op::Sh,
                2 => Op::Sw,
                3 => Op::Sd,
                _ => return bad,
            };
            mk(op, imm_s(w))
        }
        0x04 => {
            let imm = imm_i(w);
            let op = match f3 {
                0 => Op::Addi,
                2 => Op::Slti,
                3 => Op::Sltiu,
                4 => Op::Xori,
                6 => Op::Ori,
                7 => Op::Andi,
                1 if w >> 26 == 0 => return mk(Op::Slli, imm & 63),
                5 if w >> 26 == 0 => return mk(Op::Srli, imm & 63),
                5 if w >> 26 == 0x10 => return mk(Op::Srai, imm & 63),
                _ => return bad,
            };
            mk(op, imm)
        }
        0x06 => {
            let imm = imm_i(w);
            match f3 {
                0 => mk(Op::Addiw, imm),
                1 if f7 == 0 => mk(Op::Slliw, imm & 31),
                5 if f7 == 0 => mk(Op::Srliw, imm & 31),
                5 if f7 == 0x20 => mk(Op::Sraiw, imm & 31),
                _ => bad,
            }
        }
        0x0c => {
            let op = match (f7, f3) {
                (0, 0) => Op::Add,
                (0x20, 0) => Op::Sub,
                (0, 1) => Op::Sll,
                (0, 2) => Op::Slt,
                (0, 3) => Op::Sltu,
                (0, 4) => Op::Xor,
                (0, 5) => Op::Srl,
                (0x20, 5) => Op::Sra,
                (0, 6) => Op::Or,
                (0, 7) => Op::And,
                (1, 0) => Op::Mul,
                (1, 1) => Op::Mulh,
                (1, 2) => Op::Mulhsu,
                (1, 3) => Op::Mulhu,
                (1, 4) => Op::Div,
                (1, 5) => Op::Divu,
                (1, 6) => Op::Rem,
                (1, 7) => Op::Remu,
                _ => return bad,
            };
            mk(op, 0)
        }
        0x0e => {
            let op = match (f7, f3) {
                (0, 0) => Op::Addw,
                (0x20, 0) => Op::Subw,
                (0, 1) => Op::Sllw,
                (0, 5) => Op::Srlw,
                (0x20, 5) => Op::Sraw,
                (1, 0) => Op::Mulw,
                (1, 4) => Op::Divw,
                (1, 5) => Op::Divuw,
                (1, 6) => Op::Remw,
                (1, 7) => Op::Remuw,
                _ => return bad,
            };
            mk(op, 0)
        }
        0x03 => match f3 {
            // fence: fm/pred/succ and the reserved rs1/rd fields are ignored (§2.7).
            0 => mk(Op::Fence, 0),
            1 => mk(Op::FenceI, 0),
            _ => bad,
        },
        0x1c => decode_system(w, f3, rd, rs1, rs2, f7, mk),
        0x0b => {
            let f5 = w >> 27;
            let op = match (f3, f5) {
                (2, 2) if rs2 == 0 => Op::LrW,
                (3, 2) if rs2 == 0 => Op::LrD,
                (2, 3) => Op::ScW,
                (3, 3) => Op::ScD,
                (2, 0 | 1 | 4 | 8 | 12 | 16 | 20 | 24 | 28) => Op::AmoW,
                (3, 0 | 1 | 4 | 8 | 12 | 16 | 20 | 24 | 28) => Op::AmoD,
                _ => return bad,
            };
            mk(op, 0)
        }
        0x01 => match f3 {
            2 => mk(Op::Flw, imm_i(w)),
            3 => mk(Op::Fld, imm_i(w)),
            _ => bad,
        },
        0x09 => match f3 {
            2 => mk(Op::Fsw, imm_s(w)),
            3 => mk(Op::Fsd, imm_s(w)),
            _ => bad,
        },
        0x10..=0x13 => {
            let kind = ((w >> 2) & 3) as i32; // fmadd, fmsub, fnmsub, fnmadd
            match (w >> 25) & 3 {
                0 => mk(Op::FmaS, kind),
                1 => mk(Op::FmaD, kind),
                _ => bad,
            }
        }
        0x14 => decode_op_fp(w, f3, rs2, f7, mk).unwrap_or(bad),
        _ => bad,
    }
}

fn decode_system(
    w: u32,
    f3: u32,
    rd: u8,
    rs1: u8,
    rs2: u8,
    f7: u32,
    mk: impl Fn(Op, i32) -> Insn,
) -> Insn {
    let csr = (w >> 20) as i32;
    let op = match f3 {
        0 => {
            if rd != 0 {
                return illegal(w, 4);
            }
            match (f7, rs2, rs1) {
                (0, 0, 0) => Op::Ecall,
                (0, 1, 0) => Op::Ebreak,
                (0x18, 2, 0) => Op::Mret,
                (0x08, 2, 0) => Op::Sret,
                (0x08, 5, 0) => Op::Wfi,
                (0x09, _, _) => Op::SfenceVma,
                _ => return illegal(w, 4),
            }
        }
        1 => Op::Csrrw,
        2 => Op::Csrrs,
        3 => Op::Csrrc,
        5 => Op::Csrrwi,
        6 => Op::Csrrsi,
        7 => Op::Csrrci,
        _ => return illegal(w, 4),
    };
    if f3 != 0 {
        mk(op, csr)
    } else {
        mk(op, 0)
    }
}

fn decode_op_fp(w: u32, f3: u32, rs2: u8, f7: u32, mk: impl Fn(Op, i32) -> Insn) -> Option<Insn> {
    let _ = w;
    let op = match f7 {
        0x00 => Op::FaddS,
        0x04 => Op::FsubS,
        0x08 => Op::FmulS,
        0x0c => Op::FdivS,
        0x01 => Op::FaddD,
        0x05 => Op::FsubD,
        0x09 => Op::FmulD,
        0x0d => Op::FdivD,
        0x2c if rs2 == 0 => Op::FsqrtS,
        0x2d if rs2 == 0 => Op::FsqrtD,
        0x10 => match f3 {
            0 => Op::FsgnjS,
            1 => Op::FsgnjnS,
            2 => Op::FsgnjxS,
            _ => return None,
        },
        0x11 => match f3 {
            0 => Op::FsgnjD,
            1 => Op::FsgnjnD,
            2 => Op::FsgnjxD,
            _ => return None,
        },
        0x14 => match f3 {
            0 => Op::FminS,
            1 => Op::FmaxS,
            _ => return None,
        },
        0x15 => match f3 {
            0 => Op::FminD,
            1 => Op::FmaxD,
            _ => return None,
        },
        0x20 if rs2 == 1 => Op::FcvtSD,
        0x21 if rs2 == 0 => Op::FcvtDS,
        0x50 => match f3 {
            0 => Op::FleS,
            1 => Op::FltS,
            2 => Op::FeqS,
            _ => return None,
        },
        0x51 => match f3 {
            0 => Op::FleD,
            1 => Op::FltD,
            2 => Op::FeqD,
            _ => return None,
        },
        0x60 if rs2 < 4 => return Some(mk(Op::FcvtIntS, rs2 as i32)),
        0x61 if rs2 < 4 => return Some(mk(Op::FcvtIntD, rs2 as i32)),
        0x68 if rs2 < 4 => return Some(mk(Op::FcvtSInt, rs2 as i32)),
        0x69 if rs2 < 4 => return Some(mk(Op::FcvtDInt, rs2 as i32)),
        0x70 if rs2 == 0 && f3 == 0 => Op::FmvXW,
        0x70 if rs2 == 0 && f3 == 1 => Op::FclassS,
        0x71 if rs2 == 0 && f3 == 0 => Op::FmvXD,
        0x71 if rs2 == 0 && f3 == 1 => Op::FclassD,
        0x78 if rs2 == 0 && f3 == 0 => Op::FmvWX,
        0x79 if rs2 == 0 && f3 == 0 => Op::FmvDX,
        _ => return None,
    };
    Some(mk(op, 0))
}

// ---- RVC expansion -------------------------------------------------------------------------

fn enc_r(op: u32, rd: u32, f3: u32, rs1: u32, rs2: u32, f7: u32) -> u32 {
    op | rd << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | f7 << 25
}
fn enc_i(op: u32, rd: u32, f3: u32, rs1: u32, imm: i32) -> u32 {
    op | rd << 7 | f3 << 12 | rs1 << 15 | ((imm as u32) & 0xfff) << 20
}
fn enc_s(op: u32, f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    op | (imm & 0x1f) << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | ((imm >> 5) & 0x7f) << 25
}
fn enc_b(f3: u32, rs1: u32, rs2: u32, off: i32) -> u32 {
    let o = off as u32;
    0x63 | ((o >> 11) & 1) << 7
        | ((o >> 1) & 0xf) << 8
        | f3 << 12
        | rs1 << 15
        | rs2 << 20
        | ((o >> 5) & 0x3f) << 25
        | ((o >> 12) & 1) << 31
}
fn enc_j(rd: u32, off: i32) -> u32 {
    let o = off as u32;
    0x6f | rd << 7
        | ((o >> 12) & 0xff) << 12
        | ((o >> 11) & 1) << 20
        | ((o >> 1) & 0x3ff) << 21
        | ((o >> 20) & 1) << 31
}

#[inline]
fn bit(c: u32, b: u32) -> u32 {
    (c >> b) & 1
}
#[inline]
fn bits(c: u32, hi: u32, lo: u32) -> u32 {
    (c >> lo) & ((1 << (hi - lo + 1)) - 1)
}
/// Sign-extend the low `n` bits of `v`.
#[inline]
fn sext(v: u32, n: u32) -> i32 {
    ((v << (32 - n)) as i32) >> (32 - n)
}

/// Expand a 16-bit RVC parcel to its 32-bit equivalent (Unprivileged ISA 20191213 §16.8,
/// RV64C). `None` for reserved and illegal encodings (including the all-zero parcel).
pub fn expand_rvc(c: u16) -> Option<u32> {
    let c = c as u32;
    let f3 = bits(c, 15, 13);
    let rdp = bits(c, 4, 2) + 8; // rd' / rs2'
    let rs1p = bits(c, 9, 7) + 8; // rs1' / rd'
    let rd = bits(c, 11, 7);
    let rs2 = bits(c, 6, 2);
    // CI-format 6-bit immediate: imm[5] = c[12], imm[4:0] = c[6:2].
    let imm6 = sext(bit(c, 12) << 5 | bits(c, 6, 2), 6);
    // Offsets of C.LD/C.SD/C.FLD/C.FSD: uimm[5:3] = c[12:10], uimm[7:6] = c[6:5].
    let off_d = bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6;
    // Offsets of C.LW/C.SW: uimm[5:3] = c[12:10], uimm[2] = c[6], uimm[6] = c[5].
    let off_w = bits(c, 12, 10) << 3 | bit(c, 6) << 2 | bit(c, 5) << 6;
    Some(match (c & 3, f3) {
        (0, 0) => {
            // C.ADDI4SPN: nzuimm[5:4|9:6|2|3] = c[12:5]
            let imm = bits(c, 12, 11) << 4 | bits(c, 10, 7) << 6 | bit(c, 6) << 2 | bit(c, 5) << 3;
            if imm == 0 {
                return None;
            }
            enc_i(0x13, rdp, 0, 2, imm as i32)
        }
        (0, 1) => enc_i(0x07, rdp, 3, rs1p, off_d as i32), // c.fld
        (0, 2) => enc_i(0x03, rdp, 2, rs1p, off_w as i32), // c.lw
        (0, 3) => enc_i(0x03, rdp, 3, rs1p, off_d as i32), // c.ld
        (0, 5) => enc_s(0x27, 3, rs1p, rdp, off_d as i32), // c.fsd
        (0, 6) => enc_s(0x23, 2, rs1p, rdp, off_w as i32), // c.sw
        (0, 7) => enc_s(0x23, 3, rs1p, rdp, off_d as i32), // c.sd
        (1, 0) => enc_i(0x13, rd, 0, rd, imm6),            // c.addi / c.nop
        (1, 1) => {
            if rd == 0 {
                return None;
            }
            enc_i(0x1b, rd, 0, rd, imm6) // c.addiw
        }
        (1, 2) => enc_i(0x13, rd, 0, 0, imm6), // c.li
        (1, 3) => {
            if rd == 2 {
                // C.ADDI16SP: nzimm[9] = c[12], nzimm[4|6|8:7|5] = c[6:2]
                let imm = sext(
                    bit(c, 12) << 9
                        | bit(c, 6) << 4
                        | bit(c, 5) << 6
                        | bits(c, 4, 3) << 7
                        | bit(c, 2) << 5,
                    10,
                );
                if imm == 0 {
                    return None;
                }
                enc_i(0x13, 2, 0, 2, imm)
            } else {
                // C.LUI: nzimm[17] = c[12], nzimm[16:12] = c[6:2]
                if imm6 == 0 {
                    return None;
                }
                0x37 | rd << 7 | ((imm6 as u32) & 0xfffff) << 12
            }
        }
        (1, 4) => {
            let shamt = (bit(c, 12) << 5 | bits(c, 6, 2)) as i32;
            match bits(c, 11, 10) {
                0 => enc_i(0x13, rs1p, 5, rs1p, shamt),         // c.srli
                1 => enc_i(0x13, rs1p, 5, rs1p, shamt | 0x400), // c.srai
                2 => enc_i(0x13, rs1p, 7, rs1p, imm6),          // c.andi
                _ => {
                    let (f3, f7, op) = match (bit(c, 12), bits(c, 6, 5)) {
                        (0, 0) => (0, 0x20, 0x33), // c.sub
                        (0, 1) => (4, 0, 0x33),    // c.xor
                        (0, 2) => (6, 0, 0x33),    // c.or
                        (0, 3) => (7, 0, 0x33),    // c.and
                        (1, 0) => (0, 0x20, 0x3b), // c.subw
                        (1, 1) => (0, 0, 0x3b),    // c.addw
                        _ => return None,
                    };
                    enc_r(op, rs1p, f3, rs1p, rdp, f7)
                }
            }
        }
        (1, 5) => {
            // C.J: offset[11|4|9:8|10|6|7|3:1|5] = c[12:2]
            let off = sext(
                bit(c, 12) << 11
                    | bit(c, 11) << 4
                    | bits(c, 10, 9) << 8
                    | bit(c, 8) << 10
                    | bit(c, 7) << 6
                    | bit(c, 6) << 7
                    | bits(c, 5, 3) << 1
                    | bit(c, 2) << 5,
                12,
            );
            enc_j(0, off)
        }
        (1, 6 | 7) => {
            // C.BEQZ/C.BNEZ: offset[8|4:3] = c[12:10], offset[7:6|2:1|5] = c[6:2]
            let off = sext(
                bit(c, 12) << 8
                    | bits(c, 11, 10) << 3
                    | bits(c, 6, 5) << 6
                    | bits(c, 4, 3) << 1
                    | bit(c, 2) << 5,
                9,
            );
            enc_b(f3 - 6, rs1p, 0, off)
        }
        (2, 0) => enc_i(
            0x13,
            rd,
            1,
            rd,
            bit(c, 12) as i32 * 32 + bits(c, 6, 2) as i32,
        ), // c.slli
        (2, 1) => {
            // C.FLDSP: uimm[5] = c[12], uimm[4:3] = c[6:5], uimm[8:6] = c[4:2]
            let off = bit(c, 12) << 5 | bits(c, 6, 5) << 3 | bits(c, 4, 2) << 6;
            enc_i(0x07, rd, 3, 2, off as i32)
        }
        (2, 2) => {
            // C.LWSP: uimm[5] = c[12], uimm[4:2] = c[6:4], uimm[7:6] = c[3:2]
            if rd == 0 {
                return None;
            }
            let off = bit(c, 12) << 5 | bits(c, 6, 4) << 2 | bits(c, 3, 2) << 6;
            enc_i(0x03, rd, 2, 2, off as i32)
        }
        (2, 3) => {
            if rd == 0 {
                return None;
            }
            let off = bit(c, 12) << 5 | bits(c, 6, 5) << 3 | bits(c, 4, 2) << 6;
            enc_i(0x03, rd, 3, 2, off as i32) // c.ldsp
        }
        (2, 4) => match (bit(c, 12), rd, rs2) {
            (0, 0, 0) => return None,
            (0, _, 0) => enc_i(0x67, 0, 0, rd, 0),      // c.jr
            (0, _, _) => enc_r(0x33, rd, 0, 0, rs2, 0), // c.mv
            (1, 0, 0) => 0x0010_0073,                   // c.ebreak
            (1, _, 0) => enc_i(0x67, 1, 0, rd, 0),      // c.jalr
            _ => enc_r(0x33, rd, 0, rd, rs2, 0),        // c.add
        },
        (2, 5) => {
            // C.FSDSP: uimm[5:3] = c[12:10], uimm[8:6] = c[9:7]
            let off = bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6;
            enc_s(0x27, 3, 2, rs2, off as i32)
        }
        (2, 6) => {
            // C.SWSP: uimm[5:2] = c[12:9], uimm[7:6] = c[8:7]
            let off = bits(c, 12, 9) << 2 | bits(c, 8, 7) << 6;
            enc_s(0x23, 2, 2, rs2, off as i32)
        }
        (2, 7) => {
            let off = bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6;
            enc_s(0x23, 3, 2, rs2, off as i32) // c.sdsp
        }
        _ => return None,
    })
}

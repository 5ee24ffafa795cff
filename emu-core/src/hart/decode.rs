//! Instruction decoding: a 32-bit word or a 16-bit RVC parcel → [`Insn`].
//!
//! RVC parcels are first expanded to their 32-bit equivalent ([`expand_rvc`], Unprivileged ISA
//! 20191213 ch. 16, Tables 16.5–16.7), then decoded like any other word ([`decode_word`],
//! ch. 24 "RV32/64G Instruction Set Listings"). Any pattern that is not a valid RV64GC
//! instruction decodes to [`Op::Illegal`]; decoding never panics. The RVC expansion lives in
//! `rvc.rs`.

pub use super::rvc::expand_rvc;

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

//! RVC expansion: a 16-bit compressed parcel → the 32-bit instruction word it stands for
//! (Unprivileged ISA 20191213 ch. 16, §16.8 RV64C; Tables 16.5–16.7), which `decode.rs` then
//! decodes like any other word.

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

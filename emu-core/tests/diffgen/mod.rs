//! Generator of random straight-line RV64GC instruction sequences for the differential test
//! against QEMU (`differential_qemu.rs`).
//!
//! A *program* runs a batch of sequences on the QEMU `virt` board in M-mode. For each
//! sequence it loads x1..x31, f0..f31 and `fcsr` from a per-sequence data block (values chosen
//! from the seed), points `x8` at a 128-byte scratch area in that block, runs the sequence, stores
//! the registers and `fcsr` to memory, and prints them and the scratch area as 16-digit hex lines
//! on the NS16550A UART. At the end it powers off through the SiFive test finisher.
//!
//! Sequences use RV64I, M, A (addresses inside the scratch area, naturally aligned), C, F and D
//! (every rounding mode; operands include NaNs, infinities, subnormals and non-NaN-boxed
//! singles), never branch and never trap: `x8` and `sp` (both the scratch base) are never
//! written.
#![allow(dead_code)]

use std::fmt::Write as _;

/// Words printed per sequence: x1..x31, f0..f31, fcsr, then the scratch area.
pub const DUMP_WORDS: usize = 31 + 32 + 1 + SCRATCH_WORDS;
/// Scratch area size in 8-byte words.
pub const SCRATCH_WORDS: usize = 16;
const SCRATCH_BYTES: i64 = 8 * SCRATCH_WORDS as i64;
/// Line printed before the first dump.
pub const BEGIN: &str = "RVCOW-DIFF-BEGIN";
/// Line printed after the last dump.
pub const END: &str = "RVCOW-DIFF-END";

/// Offsets in a sequence's data block (bytes).
const BLK_X: usize = 0;
const BLK_F: usize = 256;
const BLK_FCSR: usize = 512;
const BLK_SCRATCH: usize = 520;

/// The register that holds the scratch-area address; never a destination.
const BASE: u32 = 8;
/// `sp` holds the scratch address too (for the sp-based RVC forms); never a destination.
const SP: u32 = 2;

/// splitmix64: a small, well-mixed, seedable generator (no dependency needed).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One generated sequence: its initial state and its instructions. An entry of `insns` is one
/// step (an instruction, or a short group such as an address computation and an AMO); its text
/// may span several lines.
#[derive(Clone, Debug)]
pub struct Sequence {
    pub x: [u64; 32],
    pub f: [u64; 32],
    pub fcsr: u64,
    pub scratch: [u64; SCRATCH_WORDS],
    pub insns: Vec<String>,
}

impl Sequence {
    /// The same initial state running only the first `n` steps.
    pub fn prefix(&self, n: usize) -> Sequence {
        Sequence {
            insns: self.insns[..n].to_vec(),
            ..self.clone()
        }
    }
}

/// Name of dump word `i` (0-based): "x1".."x31", "f0".."f31", "fcsr", "mem[+0x..]".
pub fn slot_name(i: usize) -> String {
    match i {
        0..=30 => format!("x{}", i + 1),
        31..=62 => format!("f{}", i - 31),
        63 => "fcsr".to_string(),
        _ => format!("mem[x8+{:#x}]", (i - 64) * 8),
    }
}

/// `count` sequences of `len` steps from `seed`.
pub fn generate(seed: u64, count: usize, len: usize) -> Vec<Sequence> {
    let mut rng = Rng::new(seed);
    (0..count).map(|_| sequence(&mut rng, len)).collect()
}

fn sequence(rng: &mut Rng, len: usize) -> Sequence {
    let mut x = [0u64; 32];
    for v in x.iter_mut().skip(1) {
        *v = int_value(rng);
    }
    let mut f = [0u64; 32];
    for v in f.iter_mut() {
        *v = fp_value(rng);
    }
    let fcsr = (rng.below(5) << 5) | rng.below(32);
    let mut scratch = [0u64; SCRATCH_WORDS];
    for v in scratch.iter_mut() {
        *v = if rng.chance(50) {
            int_value(rng)
        } else {
            fp_value(rng)
        };
    }
    let insns = (0..len).map(|_| step(rng)).collect();
    Sequence {
        x,
        f,
        fcsr,
        scratch,
        insns,
    }
}

fn int_value(rng: &mut Rng) -> u64 {
    match rng.below(10) {
        0 => rng.pick(&[
            0,
            1,
            u64::MAX,
            1 << 63,
            i64::MAX as u64,
            0x8000_0000,
            0x7fff_ffff,
            0xffff_ffff,
            0xffff_ffff_8000_0000,
            2,
            63,
            64,
            31,
            32,
        ]),
        1 | 2 => rng.range(-300, 300) as u64,
        3 => rng.next() as u32 as i32 as i64 as u64,
        4 => rng.next() >> rng.below(64),
        _ => rng.next(),
    }
}

/// A NaN-boxed single.
fn boxed(bits: u32) -> u64 {
    0xffff_ffff_0000_0000 | bits as u64
}

fn single_bits(rng: &mut Rng) -> u32 {
    match rng.below(6) {
        0 => rng.pick(&[
            0u32,
            0x8000_0000,
            0x3f80_0000,
            0xbf80_0000,
            0x7f80_0000,
            0xff80_0000,
            0x7fc0_0000,
            0x7fa0_0000,
            0xffc0_0001,
            0x0000_0001,
            0x807f_ffff,
            0x0080_0000,
            0x7f7f_ffff,
            0x4f00_0000,
            0xcf00_0000,
            0x5f00_0000,
            0xdf00_0000,
            0x4f80_0000,
            0x3f00_0000,
            0x3fc0_0000,
            0x4040_0000,
        ]),
        1 => rng.next() as u32,
        2 => {
            // A small integer-ish value: exercises conversions and exact results.
            let v = rng.range(-70_000, 70_000) as f32 / rng.pick(&[1.0f32, 2.0, 4.0, 3.0, 10.0]);
            v.to_bits()
        }
        _ => {
            let sign = (rng.below(2) as u32) << 31;
            let exp = rng.range(127 - 40, 127 + 40) as u32;
            sign | (exp << 23) | (rng.next() as u32 & 0x7f_ffff)
        }
    }
}

fn double_bits(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => rng.pick(&[
            0u64,
            1 << 63,
            0x3ff0_0000_0000_0000,
            0xbff0_0000_0000_0000,
            0x7ff0_0000_0000_0000,
            0xfff0_0000_0000_0000,
            0x7ff8_0000_0000_0000,
            0x7ff4_0000_0000_0000,
            0xfff8_0000_0000_0001,
            1,
            0x800f_ffff_ffff_ffff,
            0x0010_0000_0000_0000,
            0x7fef_ffff_ffff_ffff,
            0x41e0_0000_0000_0000,
            0xc1e0_0000_0000_0000,
            0x43e0_0000_0000_0000,
            0xc3e0_0000_0000_0000,
            0x41f0_0000_0000_0000,
            0x3fe0_0000_0000_0000,
            0x47ef_ffff_e000_0000,
            0x36a0_0000_0000_0000,
        ]),
        1 => rng.next(),
        2 => {
            let v = rng.range(-5_000_000, 5_000_000) as f64 / rng.pick(&[1.0f64, 2.0, 8.0, 3.0]);
            v.to_bits()
        }
        _ => {
            let sign = rng.below(2) << 63;
            let exp = rng.range(1023 - 80, 1023 + 80) as u64;
            sign | (exp << 52) | (rng.next() & 0xf_ffff_ffff_ffff)
        }
    }
}

fn fp_value(rng: &mut Rng) -> u64 {
    match rng.below(10) {
        0..=3 => boxed(single_bits(rng)),
        4 => {
            // A single that is not properly NaN-boxed: reads as the canonical NaN.
            (rng.next() & 0xffff_fffe_0000_0000) | single_bits(rng) as u64
        }
        _ => double_bits(rng),
    }
}

fn xd(rng: &mut Rng) -> u32 {
    // Destination: any register but x8; x0 now and then (the result is discarded).
    if rng.chance(3) {
        return 0;
    }
    loop {
        let r = rng.range(1, 31) as u32;
        if r != BASE && r != SP {
            return r;
        }
    }
}
fn xs(rng: &mut Rng) -> u32 {
    rng.below(32) as u32
}
/// A compressed-form destination x9..x15.
fn cd(rng: &mut Rng) -> u32 {
    rng.range(9, 15) as u32
}
/// A compressed-form source x8..x15.
fn cs(rng: &mut Rng) -> u32 {
    rng.range(8, 15) as u32
}
/// A non-zero destination other than x8 (and other than x2 when `no_sp`).
fn xd_nz(rng: &mut Rng, no_sp: bool) -> u32 {
    loop {
        let r = xd(rng);
        if r != 0 && !(no_sp && r == 2) {
            return r;
        }
    }
}
fn fr(rng: &mut Rng) -> u32 {
    rng.below(32) as u32
}
fn rm(rng: &mut Rng) -> &'static str {
    rng.pick(&["rne", "rtz", "rdn", "rup", "rmm", "dyn"])
}
/// An immediate in `lo..=hi` that is not zero.
fn nz(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    loop {
        let v = rng.range(lo, hi);
        if v != 0 {
            return v;
        }
    }
}

fn step(rng: &mut Rng) -> String {
    match rng.below(100) {
        0..=3 => skip(rng),
        4..=21 => int_op(rng),
        22..=31 => mul_div(rng),
        32..=41 => load_store(rng),
        42..=49 => atomic(rng),
        50..=61 => compressed(rng),
        _ => float(rng),
    }
}

fn int_op(rng: &mut Rng) -> String {
    let (rd, rs1, rs2) = (xd(rng), xs(rng), xs(rng));
    match rng.below(5) {
        0 | 1 => {
            let op = rng.pick(&[
                "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and", "addw",
                "subw", "sllw", "srlw", "sraw",
            ]);
            format!("{op} x{rd}, x{rs1}, x{rs2}")
        }
        2 => {
            let op = rng.pick(&["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"]);
            format!("{op} x{rd}, x{rs1}, {}", rng.range(-2048, 2047))
        }
        3 => match rng.below(2) {
            0 => {
                let op = rng.pick(&["slli", "srli", "srai"]);
                format!("{op} x{rd}, x{rs1}, {}", rng.below(64))
            }
            _ => {
                let op = rng.pick(&["slliw", "srliw", "sraiw"]);
                format!("{op} x{rd}, x{rs1}, {}", rng.below(32))
            }
        },
        _ => {
            let op = rng.pick(&["lui", "auipc"]);
            format!("{op} x{rd}, {:#x}", rng.below(1 << 20))
        }
    }
}

/// A forward branch or jump over one integer operation: the condition decides whether it runs
/// (the code stays straight-line in effect; jumps write their link register).
fn skip(rng: &mut Rng) -> String {
    let body = int_op(rng);
    let head = match rng.below(8) {
        0..=4 => {
            let op = rng.pick(&["beq", "bne", "blt", "bge", "bltu", "bgeu"]);
            format!("{op} x{}, x{}, 1f", xs(rng), xs(rng))
        }
        5 => {
            let op = rng.pick(&["c.beqz", "c.bnez"]);
            format!("{op} x{}, 1f", cs(rng))
        }
        6 => format!("jal x{}, 1f", xd(rng)),
        _ => {
            // jalr through a register that holds the target (auipc-relative; 4-byte forms so
            // the offset is known).
            let r = xd_nz(rng, false);
            return format!(
                ".option push\n.option norvc\nauipc x{r}, 0\njalr x{}, 12(x{r})\n{body}\n.option pop\n1:",
                xd(rng)
            );
        }
    };
    format!("{head}\n{body}\n1:")
}

fn mul_div(rng: &mut Rng) -> String {
    let op = rng.pick(&[
        "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu", "mulw", "divw", "divuw",
        "remw", "remuw",
    ]);
    format!("{op} x{}, x{}, x{}", xd(rng), xs(rng), xs(rng))
}

/// A scratch offset for an access of `size` bytes; misaligned now and then (ordinary loads and
/// stores complete in hardware on both machines).
fn offset(rng: &mut Rng, size: i64) -> i64 {
    if rng.chance(15) {
        rng.range(0, SCRATCH_BYTES - size)
    } else {
        rng.range(0, SCRATCH_BYTES / size - 1) * size
    }
}

fn load_store(rng: &mut Rng) -> String {
    let b = BASE;
    match rng.below(4) {
        0 | 1 => {
            let (op, size) = rng.pick(&[
                ("lb", 1),
                ("lh", 2),
                ("lw", 4),
                ("ld", 8),
                ("lbu", 1),
                ("lhu", 2),
                ("lwu", 4),
            ]);
            format!("{op} x{}, {}(x{b})", xd(rng), offset(rng, size))
        }
        2 => {
            let (op, size) = rng.pick(&[("sb", 1), ("sh", 2), ("sw", 4), ("sd", 8)]);
            format!("{op} x{}, {}(x{b})", xs(rng), offset(rng, size))
        }
        _ => {
            let (op, size) = rng.pick(&[("flw", 4), ("fld", 8), ("fsw", 4), ("fsd", 8)]);
            format!("{op} f{}, {}(x{b})", fr(rng), offset(rng, size))
        }
    }
}

fn atomic(rng: &mut Rng) -> String {
    let w = rng.pick(&["w", "d"]);
    let size = if w == "w" { 4 } else { 8 };
    let addr = xd_nz(rng, false);
    let off = rng.range(0, SCRATCH_BYTES / size - 1) * size;
    let order = rng.pick(&["", ".aq", ".rl", ".aqrl"]);
    let la = format!("addi x{addr}, x{BASE}, {off}");
    match rng.below(6) {
        0 => {
            // An LR/SC pair on one address: succeeds on both machines.
            let mut rd = xd(rng);
            while rd == addr {
                rd = xd(rng);
            }
            format!(
                "{la}\nlr.{w}{order} x{rd}, (x{addr})\nsc.{w}{order} x{}, x{}, (x{addr})",
                xd(rng),
                xs(rng)
            )
        }
        1 if rng.chance(30) => {
            // SC with no reservation (every LR above is consumed by its SC): fails, no store.
            format!("{la}\nsc.{w}{order} x{}, x{}, (x{addr})", xd(rng), xs(rng))
        }
        _ => {
            let op = rng.pick(&[
                "amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu",
                "amomaxu",
            ]);
            format!(
                "{la}\n{op}.{w}{order} x{}, x{}, (x{addr})",
                xd(rng),
                xs(rng)
            )
        }
    }
}

fn compressed(rng: &mut Rng) -> String {
    let b = BASE;
    match rng.below(30) {
        0 => format!("c.li x{}, {}", xd_nz(rng, false), rng.range(-32, 31)),
        1 => {
            let imm = if rng.chance(50) {
                rng.range(1, 31)
            } else {
                rng.range(0xfffe0, 0xfffff)
            };
            format!("c.lui x{}, {imm:#x}", xd_nz(rng, true))
        }
        2 => format!("c.addi x{}, {}", xd_nz(rng, false), nz(rng, -32, 31)),
        3 => format!("c.addiw x{}, {}", xd_nz(rng, false), rng.range(-32, 31)),
        4 => format!("c.slli x{}, {}", xd_nz(rng, false), rng.range(1, 63)),
        5 => format!("c.srli x{}, {}", cd(rng), rng.range(1, 63)),
        6 => format!("c.srai x{}, {}", cd(rng), rng.range(1, 63)),
        7 => format!("c.andi x{}, {}", cd(rng), rng.range(-32, 31)),
        8 => format!("c.mv x{}, x{}", xd_nz(rng, false), nz(rng, 1, 31)),
        9 => format!("c.add x{}, x{}", xd_nz(rng, false), nz(rng, 1, 31)),
        10..=12 => {
            let op = rng.pick(&["c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw"]);
            format!("{op} x{}, x{}", cd(rng), cs(rng))
        }
        13 => format!("c.ld x{}, {}(x{b})", cd(rng), 8 * rng.range(0, 15)),
        14 => format!("c.lw x{}, {}(x{b})", cd(rng), 4 * rng.range(0, 31)),
        15 => format!("c.sd x{}, {}(x{b})", cs(rng), 8 * rng.range(0, 15)),
        16 => format!("c.sw x{}, {}(x{b})", cs(rng), 4 * rng.range(0, 31)),
        17 => format!(
            "c.fld f{}, {}(x{b})",
            rng.range(8, 15),
            8 * rng.range(0, 15)
        ),
        18 => format!(
            "c.fsd f{}, {}(x{b})",
            rng.range(8, 15),
            8 * rng.range(0, 15)
        ),
        19 => "c.nop".to_string(),
        20 => format!("c.addi4spn x{}, sp, {}", cd(rng), 4 * rng.range(1, 255)),
        21 => format!(
            "c.ldsp x{}, {}(sp)",
            xd_nz(rng, false),
            8 * rng.range(0, 15)
        ),
        22 => format!(
            "c.lwsp x{}, {}(sp)",
            xd_nz(rng, false),
            4 * rng.range(0, 31)
        ),
        23 => format!("c.sdsp x{}, {}(sp)", xs(rng), 8 * rng.range(0, 15)),
        24 => format!("c.swsp x{}, {}(sp)", xs(rng), 4 * rng.range(0, 31)),
        25 => format!("c.fldsp f{}, {}(sp)", fr(rng), 8 * rng.range(0, 15)),
        26 => format!("c.fsdsp f{}, {}(sp)", fr(rng), 8 * rng.range(0, 15)),
        27 => rng.pick(&["fence", "fence.i", "fence rw, rw"]).to_string(),
        _ => {
            // An uncompressed mnemonic the assembler compresses on its own.
            let r = cd(rng);
            format!("add x{r}, x{r}, x{}", cs(rng))
        }
    }
}

fn float(rng: &mut Rng) -> String {
    let t = rng.pick(&["s", "d"]);
    let (fd, f1, f2, f3) = (fr(rng), fr(rng), fr(rng), fr(rng));
    match rng.below(20) {
        0..=3 => {
            let op = rng.pick(&["fadd", "fsub", "fmul", "fdiv"]);
            format!("{op}.{t} f{fd}, f{f1}, f{f2}, {}", rm(rng))
        }
        4 => format!("fsqrt.{t} f{fd}, f{f1}, {}", rm(rng)),
        5 => {
            let op = rng.pick(&["fmin", "fmax"]);
            format!("{op}.{t} f{fd}, f{f1}, f{f2}")
        }
        6 => {
            let op = rng.pick(&["fsgnj", "fsgnjn", "fsgnjx"]);
            format!("{op}.{t} f{fd}, f{f1}, f{f2}")
        }
        7..=9 => {
            let op = rng.pick(&["fmadd", "fmsub", "fnmsub", "fnmadd"]);
            format!("{op}.{t} f{fd}, f{f1}, f{f2}, f{f3}, {}", rm(rng))
        }
        10 | 11 => {
            let to = rng.pick(&["w", "wu", "l", "lu"]);
            format!("fcvt.{to}.{t} x{}, f{f1}, {}", xd(rng), rm(rng))
        }
        12 | 13 => {
            let from = rng.pick(&["w", "wu", "l", "lu"]);
            if t == "d" && (from == "w" || from == "wu") {
                format!("fcvt.d.{from} f{fd}, x{}", xs(rng))
            } else {
                format!("fcvt.{t}.{from} f{fd}, x{}, {}", xs(rng), rm(rng))
            }
        }
        14 => {
            if t == "s" {
                format!("fcvt.s.d f{fd}, f{f1}, {}", rm(rng))
            } else {
                format!("fcvt.d.s f{fd}, f{f1}")
            }
        }
        15 => {
            let (to_x, to_f) = if t == "s" {
                ("fmv.x.w", "fmv.w.x")
            } else {
                ("fmv.x.d", "fmv.d.x")
            };
            if rng.chance(50) {
                format!("{to_x} x{}, f{f1}", xd(rng))
            } else {
                format!("{to_f} f{fd}, x{}", xs(rng))
            }
        }
        16 | 17 => {
            let op = rng.pick(&["feq", "flt", "fle"]);
            format!("{op}.{t} x{}, f{f1}, f{f2}", xd(rng))
        }
        18 => format!("fclass.{t} x{}, f{f1}", xd(rng)),
        _ => match rng.below(4) {
            0 => format!("fsrmi x{}, {}", xd(rng), rng.below(5)),
            1 => format!("fsflagsi x{}, {}", xd(rng), rng.below(32)),
            2 => format!("frflags x{}", xd(rng)),
            _ => format!("frcsr x{}", xd(rng)),
        },
    }
}

/// The assembly program (GNU as, RV64GC, linked at 0x8000_0000) running `seqs` in order.
pub fn program(seqs: &[Sequence]) -> String {
    let mut s = String::with_capacity(seqs.len() * 4096);
    s.push_str(
        "\t.option norelax\n\t.text\n\t.globl _start\n_start:\n\
         \tli t0, 0x6000\n\tcsrs mstatus, t0\n\
         \tla a0, msg_begin\n\tcall puts\n",
    );
    for (k, seq) in seqs.iter().enumerate() {
        let _ = writeln!(s, "seq_{k}:\n\tla x31, blk_{k}");
        for i in 0..32 {
            let _ = writeln!(s, "\tfld f{i}, {}(x31)", BLK_F + 8 * i);
        }
        let _ = writeln!(s, "\tld x30, {BLK_FCSR}(x31)\n\tfscsr x30");
        for i in 1..=30 {
            if i != BASE as usize && i != SP as usize {
                let _ = writeln!(s, "\tld x{i}, {}(x31)", BLK_X + 8 * i);
            }
        }
        let _ = writeln!(s, "\taddi x{BASE}, x31, {BLK_SCRATCH}\n\tmv x{SP}, x{BASE}");
        let _ = writeln!(s, "\tld x31, {}(x31)", BLK_X + 8 * 31);
        for (i, insn) in seq.insns.iter().enumerate() {
            let _ = writeln!(s, "# step {i}");
            for line in insn.lines() {
                let _ = writeln!(s, "\t{line}");
            }
        }
        s.push_str("\tcsrw mscratch, x31\n\tla x31, dump\n");
        for i in 1..=30 {
            let _ = writeln!(s, "\tsd x{i}, {}(x31)", 8 * i);
        }
        s.push_str("\tcsrr x1, mscratch\n\tsd x1, 248(x31)\n");
        for i in 0..32 {
            let _ = writeln!(s, "\tfsd f{i}, {}(x31)", 256 + 8 * i);
        }
        s.push_str("\tfrcsr x1\n\tsd x1, 512(x31)\n");
        let _ = writeln!(s, "\tla a0, blk_{k}\n\tcall report");
    }
    s.push_str(
        "\tla a0, msg_end\n\tcall puts\n\
         \tli t0, 0x100000\n\tli t1, 0x5555\n\tsw t1, 0(t0)\n\
         1:\tj 1b\n",
    );
    // report(a0 = block): print dump[1..=64] and the block's scratch area as hex lines.
    s.push_str(
        "report:\n\tmv s2, ra\n\tmv s3, a0\n\
         \tla s4, dump + 8\n\tli s5, 64\n\
         1:\tld a0, 0(s4)\n\tcall puthex\n\taddi s4, s4, 8\n\taddi s5, s5, -1\n\tbnez s5, 1b\n",
    );
    let _ = writeln!(s, "\taddi s4, s3, {BLK_SCRATCH}\n\tli s5, {SCRATCH_WORDS}");
    s.push_str(
        "2:\tld a0, 0(s4)\n\tcall puthex\n\taddi s4, s4, 8\n\taddi s5, s5, -1\n\tbnez s5, 2b\n\
         \tmv ra, s2\n\tret\n",
    );
    // puthex(a0): 16 hex digits and a newline.
    s.push_str(
        "puthex:\n\tmv t3, ra\n\tmv t4, a0\n\tli t5, 60\n\
         1:\tsrl a0, t4, t5\n\tandi a0, a0, 15\n\tla t6, hexdigits\n\tadd t6, t6, a0\n\
         \tlbu a0, 0(t6)\n\tcall putc\n\taddi t5, t5, -4\n\tbgez t5, 1b\n\
         \tli a0, 10\n\tcall putc\n\tmv ra, t3\n\tret\n",
    );
    // puts(a0): a NUL-terminated string and a newline.
    s.push_str(
        "puts:\n\tmv t3, ra\n\tmv t4, a0\n\
         1:\tlbu a0, 0(t4)\n\tbeqz a0, 2f\n\tcall putc\n\taddi t4, t4, 1\n\tj 1b\n\
         2:\tli a0, 10\n\tcall putc\n\tmv ra, t3\n\tret\n",
    );
    // putc(a0): wait for THR empty (LSR bit 5), then write THR.
    s.push_str(
        "putc:\n\tli t0, 0x10000000\n\
         1:\tlbu t1, 5(t0)\n\tandi t1, t1, 0x20\n\tbeqz t1, 1b\n\
         \tsb a0, 0(t0)\n\tret\n",
    );
    s.push_str("\t.section .rodata\nhexdigits:\t.ascii \"0123456789abcdef\"\n");
    let _ = writeln!(
        s,
        "msg_begin:\t.asciz \"{BEGIN}\"\nmsg_end:\t.asciz \"{END}\""
    );
    s.push_str("\t.data\n\t.balign 64\ndump:\t.space 520\n");
    for (k, seq) in seqs.iter().enumerate() {
        let _ = writeln!(s, "\t.balign 64\nblk_{k}:");
        let words = seq
            .x
            .iter()
            .chain(seq.f.iter())
            .chain(std::iter::once(&seq.fcsr))
            .chain(seq.scratch.iter());
        for w in words {
            let _ = writeln!(s, "\t.dword {w:#x}");
        }
    }
    s
}

/// The dumps in a program's console output: one `DUMP_WORDS` vector per sequence. Text outside
/// the BEGIN/END lines (emulator noise) is ignored.
pub fn parse(output: &str, sequences: usize) -> Result<Vec<Vec<u64>>, String> {
    let start = output
        .find(BEGIN)
        .ok_or_else(|| format!("no {BEGIN} line in the output"))?;
    let body = &output[start + BEGIN.len()..];
    let end = body
        .find(END)
        .ok_or_else(|| format!("no {END} line: the program did not finish"))?;
    let values: Vec<u64> = body[..end]
        .split_whitespace()
        .map(|w| u64::from_str_radix(w, 16).map_err(|e| format!("bad dump word {w:?}: {e}")))
        .collect::<Result<_, _>>()?;
    if values.len() != sequences * DUMP_WORDS {
        return Err(format!(
            "{} dump words, expected {} ({sequences} sequences × {DUMP_WORDS})",
            values.len(),
            sequences * DUMP_WORDS
        ));
    }
    Ok(values.chunks(DUMP_WORDS).map(<[u64]>::to_vec).collect())
}

/// A hand-written sequence: the random initial state of `seed`, with the registers in `x`
/// (number, value) and `f` (number, raw bits) overridden, running `insns` (one step each).
/// `x8` cannot be overridden: it holds the scratch address.
pub fn directed(seed: u64, x: &[(u32, u64)], f: &[(u32, u64)], insns: &[&str]) -> Sequence {
    let mut seq = sequence(&mut Rng::new(seed), 0);
    for &(r, v) in x {
        assert!(r != 0 && r != BASE && r != SP, "x{r} cannot be preset");
        seq.x[r as usize] = v;
    }
    for &(r, v) in f {
        seq.f[r as usize] = v;
    }
    seq.fcsr = 0;
    seq.insns = insns.iter().map(|s| s.to_string()).collect();
    seq
}

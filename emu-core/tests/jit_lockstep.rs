//! The JIT tier against the interpreter, in lockstep: the same guest on two harts (one with
//! `set_jit(true)` and a compile threshold of 1, so every block head that can be compiled is),
//! run for the same budgets; after every run both must report the same exit and retired count
//! and hold the same pc, registers, privilege, `instret` and trap CSRs, and at the end the
//! same RAM. Guests: the ISA suite (tests/isa), counted loops like `mkloop.py`'s, self-modifying
//! code over a compiled loop (with and without `fence.i`), and random programs (proptest).

mod support;

use emu_core::bus::{Bus, RAM_BASE};
use emu_core::dev::test_finisher::FinisherRequest;
use emu_core::hart::{Hart, HartExit};
use proptest::prelude::*;

const PRELUDE: &str = include_str!("isa/prelude.s");
const RAM: usize = 8 << 20;

/// One side of the lockstep: a hart and its own bus.
struct Side {
    hart: Hart,
    bus: Bus,
}

/// Two copies of a guest: `a` interprets, `b` uses the JIT tier.
struct Pair {
    a: Side,
    b: Side,
}

impl Pair {
    /// `setup` fills a fresh bus and hart (called once per side).
    fn new(setup: impl Fn(&mut Hart, &mut Bus)) -> Pair {
        let side = |jit: bool| {
            let mut bus = Bus::new(RAM);
            let mut hart = Hart::new(0);
            setup(&mut hart, &mut bus);
            hart.set_jit(jit);
            hart.set_jit_threshold(1);
            Side { hart, bus }
        };
        Pair {
            a: side(false),
            b: side(true),
        }
    }

    /// Run both for `budget`; assert the same outcome and state. Returns the power-off code
    /// when the guest wrote the test finisher.
    fn step(&mut self, what: &str, budget: u64) -> (HartExit, Option<u32>) {
        let ra = self.a.hart.run(&mut self.a.bus, budget);
        let rb = self.b.hart.run(&mut self.b.bus, budget);
        assert_eq!(ra, rb, "{what}: run results differ (interpreter, jit)");
        assert_same(what, &self.a.hart, &self.b.hart);
        let fa = self.a.bus.test_finisher.request.take();
        let fb = self.b.bus.test_finisher.request.take();
        assert_eq!(fa, fb, "{what}: finisher requests differ");
        assert_eq!(self.a.bus.event, self.b.bus.event, "{what}: events differ");
        self.a.bus.event = false;
        self.b.bus.event = false;
        let code = match fa {
            Some(FinisherRequest::PowerOff { code }) => Some(code),
            _ => None,
        };
        (ra.0, code)
    }

    /// Both RAMs hold the same bytes.
    fn assert_same_ram(&self, what: &str) {
        let mut x = vec![0u8; RAM];
        let mut y = vec![0u8; RAM];
        self.a.bus.ram.read_bytes(RAM_BASE, &mut x).unwrap();
        self.b.bus.ram.read_bytes(RAM_BASE, &mut y).unwrap();
        if let Some(i) = (0..RAM).find(|&i| x[i] != y[i]) {
            panic!(
                "{what}: RAM differs first at {:#x}: interpreter {:#x}, jit {:#x}",
                RAM_BASE + i as u64,
                x[i],
                y[i]
            );
        }
    }

    /// Run in chunks from a fixed pseudo-random sequence of budgets (1 to 3000) until the
    /// guest powers off or `max` instructions were offered; returns the power-off code.
    fn run_to_end(&mut self, what: &str, max: u64) -> Option<u32> {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut offered = 0;
        while offered < max {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let budget = match seed % 8 {
                0 => 1,
                1 => 1 + seed % 7,
                _ => 1 + (seed >> 8) % 3000,
            };
            offered += budget;
            let (exit, code) = self.step(what, budget);
            assert_ne!(exit, HartExit::Wfi, "{what}: waits in wfi");
            if code.is_some() {
                self.assert_same_ram(what);
                return code;
            }
        }
        self.assert_same_ram(what);
        None
    }
}

/// Architectural state that must agree after every run.
fn assert_same(what: &str, a: &Hart, b: &Hart) {
    assert_eq!(a.pc, b.pc, "{what}: pc");
    assert_eq!(a.x, b.x, "{what}: x registers at pc {:#x}", a.pc);
    assert_eq!(a.f, b.f, "{what}: f registers");
    assert_eq!(a.privilege, b.privilege, "{what}: privilege");
    assert_eq!(a.instret(), b.instret(), "{what}: instret");
    let c = |h: &Hart| {
        (
            h.csr.mstatus,
            h.csr.mepc,
            h.csr.mcause,
            h.csr.mtval,
            h.csr.sepc,
            h.csr.scause,
            h.csr.stval,
            h.csr.satp,
        )
    };
    assert_eq!(c(a), c(b), "{what}: trap CSRs");
}

/// Assemble `body` after the ISA prelude and run it in lockstep; returns the power-off code.
fn lockstep_program(name: &str, body: &str) -> (Option<u32>, Pair) {
    let elf = support::assemble(name, &format!("{PRELUDE}\n{body}"));
    let mut pair = Pair::new(|hart, bus| hart.pc = support::load_elf(bus, &elf));
    let code = pair.run_to_end(name, 50_000_000);
    (code, pair)
}

macro_rules! isa_lockstep {
    ($name:ident) => {
        #[test]
        fn $name() {
            let src = include_str!(concat!("isa/", stringify!($name), ".s"));
            let (code, pair) = lockstep_program(stringify!($name), src);
            assert_eq!(
                code,
                Some(0),
                "{} did not pass under the JIT",
                stringify!($name)
            );
            assert!(pair.b.hart.jit_stats().blocks > 0, "nothing was compiled");
        }
    };
}

isa_lockstep!(integer);
isa_lockstep!(atomic);
isa_lockstep!(csr);
isa_lockstep!(trap);
isa_lockstep!(sv39);
isa_lockstep!(sv39_roots);
isa_lockstep!(fp);
isa_lockstep!(smc);

/// `mkloop.py`'s integer and load/store loops (1000 iterations each), then power-off.
#[test]
fn counted_loops() {
    let body = "
main:
    li t0, 1000
    la a1, data
    li a0, 0
1:  addi a0, a0, 3
    xor a0, a0, t0
    add a0, a0, t0
    addi t0, t0, -1
    bnez t0, 1b
    mv s1, a0
    li t0, 1000
2:  ld t1, 0(a1)
    addi t1, t1, 1
    sd t1, 0(a1)
    addi a0, a0, 3
    xor a0, a0, t0
    add a0, a0, t0
    addi t0, t0, -1
    bnez t0, 2b
    ld t1, 0(a1)
    CHECK 1, t1, 1000
    PASS
    .data
    .align 3
data: .dword 0
";
    let (code, pair) = lockstep_program("counted_loops", body);
    assert_eq!(code, Some(0));
    let s = pair.b.hart.jit_stats();
    assert!(s.insns > 10_000, "the loops ran in compiled code: {s:?}");
}

/// A loop whose body is several blocks of one page — a forward branch, a `j`, a call to a
/// leaf in the same page and the branch back — so that from the second iteration on one
/// compiled block follows another, with `auipc` values that depend on the pc each block is
/// entered at.
#[test]
fn multi_block_loop() {
    let body = "
main:
    li s1, 0
    li s2, 300
    la a1, data
loop:
    andi t0, s2, 1
    beqz t0, even
    addi s1, s1, 7
    ld t1, 0(a1)
    add t1, t1, s2
    sd t1, 0(a1)
    j join
even:
    xori s1, s1, 0x55
    auipc t2, 0
    add s1, s1, t2
join:
    call leaf
    addi s2, s2, -1
    bnez s2, loop
    ld t1, 0(a1)
    CHECK 1, t1, 22650
    PASS
leaf:
    slli t3, s1, 1
    xor s1, s1, t3
    ret
    .data
    .align 3
data: .dword 150
";
    let (code, pair) = lockstep_program("multi_block_loop", body);
    assert_eq!(code, Some(0));
    let s = pair.b.hart.jit_stats();
    assert!(s.insns > 3000, "the loop ran compiled: {s:?}");
}

/// One routine run with data translation off (M-mode) and on (S-mode, Sv39): a block is
/// compiled for one mode and its variant for the other. The last run's stores go through a
/// read-only alias, so every store leaves its block (slow exit) and traps from inside it.
#[test]
fn one_routine_bare_and_paged() {
    let body = "
main:
    la a1, data
    li a2, 10
    call work
    CHECK 1, a0, 95
    ld t1, 8(a1)
    CHECK 2, t1, 95
    # Sv39: root[0] identity 0..1 GiB (MMIO) RW; root[2] -> l1, whose 2 MiB pages map PA
    # 0x8000_0000 at VA 0x8000_0000 (RWX), 0x8020_0000 (RW alias) and 0x8040_0000
    # (read-only alias). The aliases lie inside RAM's physical range, so a block compiled for
    # bare mode would touch the wrong bytes; then enter S-mode at s_main.
    la t0, pt_root
    li t1, 0xc7
    sd t1, 0(t0)
    la t2, pt_l1
    srli t1, t2, 12
    slli t1, t1, 10
    ori t1, t1, 1
    sd t1, 16(t0)
    li t1, (0x80000000 >> 12) << 10 | 0xcf
    sd t1, 0(t2)
    li t1, (0x80000000 >> 12) << 10 | 0xc7
    sd t1, 8(t2)
    li t1, (0x80000000 >> 12) << 10 | 0x43
    sd t1, 16(t2)
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    li t0, 3 << 11
    csrc mstatus, t0
    li t0, 1 << 11
    csrs mstatus, t0
    la t0, s_main
    csrw mepc, t0
    mret
s_main:
    la a1, data
    li t0, 0x200000
    add a1, a1, t0
    li a2, 10
    call work
    CHECK 3, a0, 195
    la a1, data
    ld t1, 0(a1)
    CHECK 4, t1, 25
    li s9, 0
    li t0, 0x400000
    add a1, a1, t0
    call work
    CHECK 5, a0, 250
    CHECK 6, s9, 20
    la a1, data
    ld t1, 0(a1)
    CHECK 7, t1, 25
    PASS

# a0 = sum over a2 passes of data[0], incremented each pass; data[1] = the running sum.
work:
    li a0, 0
    mv t0, a2
1:  ld t1, 0(a1)
    add a0, a0, t1
    addi t1, t1, 1
    sd t1, 0(a1)
    sd a0, 8(a1)
    addi t0, t0, -1
    bnez t0, 1b
    ret

    .data
    .align 12
pt_root: .zero 4096
pt_l1: .zero 4096
data: .dword 5, 0
";
    let (code, pair) = lockstep_program("one_routine_bare_and_paged", body);
    assert_eq!(code, Some(0));
    let s = pair.b.hart.jit_stats();
    assert!(
        s.blocks >= 2 && s.insns > 100,
        "the routine ran compiled: {s:?}"
    );
}

/// A compiled loop is overwritten by a store and run again: with `fence.i`, and without it (a
/// store to a code page is seen at once by the storing hart, in both tiers). Also a store by the
/// loop into its own block, which must take effect on the next pass.
#[test]
fn self_modifying_code_over_compiled_blocks() {
    let body = "
main:
    # Run `hot` 50 times (compiled), patch its addi to add 100, run it again.
    li s1, 0
    li s2, 50
    jal hot
    CHECK 1, s1, 50
    la a0, hot
    la a1, new_insn
    lw a1, 0(a1)
    sw a1, 0(a0)
    fence.i
    li s2, 3
    jal hot
    CHECK 2, s1, 350
    # The same without fence.i, patching back to `addi s1, s1, 1`.
    la a0, hot
    la a1, old_insn
    lw a1, 0(a1)
    sw a1, 0(a0)
    li s2, 4
    jal hot
    CHECK 3, s1, 354
    # A loop that rewrites an instruction of its own block on its first pass: the pass
    # after the store must run the new instruction.
    li s3, 0
    li s2, 5
    la a0, self_patch
    la a1, new_insn3
    lw a1, 0(a1)
3:  sw a1, 0(a0)
self_patch:
    addi s3, s3, 1          # becomes addi s3, s3, 10 right after the store above
    addi s2, s2, -1
    bnez s2, 3b
    CHECK 4, s3, 50
    PASS
hot:
    addi s1, s1, 1
    addi s2, s2, -1
    bnez s2, hot
    ret
new_insn:
    addi s1, s1, 100
old_insn:
    addi s1, s1, 1
new_insn3:
    addi s3, s3, 10
";
    let (code, pair) = lockstep_program("smc_jit", body);
    assert_eq!(code, Some(0), "failed check");
    assert!(
        pair.b.hart.jit_stats().blocks > 0,
        "{:?}",
        pair.b.hart.jit_stats()
    );
}

/// R-type words with opcode `op`, `funct3` and `funct7`, any registers.
fn r(op: u32, f3: u32, f7: u32) -> impl Strategy<Value = u32> {
    (0u32..32, 0u32..32, 0u32..32)
        .prop_map(move |(d, a, b)| op | d << 7 | f3 << 12 | a << 15 | b << 20 | f7 << 25)
}

/// `Hart::reset` with compiled blocks: the hart forgets them (their code is freed) and runs
/// the same program again, compiling afresh, with the same result as the first time.
#[test]
fn reset_forgets_compiled_blocks() {
    let body = "
main:
    li s1, 0
    li t0, 100
1:  addi s1, s1, 2
    addi t0, t0, -1
    bnez t0, 1b
    CHECK 1, s1, 200
    PASS
";
    let elf = support::assemble("jit_reset", &format!("{PRELUDE}\n{body}"));
    let mut bus = Bus::new(RAM);
    let entry = support::load_elf(&mut bus, &elf);
    let mut hart = Hart::new(0);
    hart.set_jit(true);
    hart.set_jit_threshold(1);
    for round in 0..2 {
        hart.pc = entry;
        let mut code = None;
        for _ in 0..100 {
            hart.run(&mut bus, 1000);
            if let Some(FinisherRequest::PowerOff { code: c }) = bus.test_finisher.request.take() {
                code = Some(c);
                break;
            }
        }
        assert_eq!(code, Some(0), "round {round}");
        assert!(hart.jit_stats().blocks > 0, "round {round}: compiled");
        hart.reset();
        assert!(hart.jit_enabled(), "reset keeps the JIT switch");
        assert_eq!(hart.jit_stats().blocks, 0, "reset forgets the blocks");
    }
}

/// Instruction words of kinds the tier compiles (and some it does not), for random programs.
fn word() -> impl Strategy<Value = u32> {
    let reg = 0u32..32;
    let alu = prop_oneof![
        (0u32..8, any::<bool>()).prop_flat_map(|(f3, alt)| r(
            0x33,
            f3,
            if alt && (f3 == 0 || f3 == 5) { 0x20 } else { 0 }
        )),
        (0u32..8).prop_flat_map(|f3| r(0x33, f3, 1)), // M
        (0u32..8).prop_flat_map(|f3| r(0x3b, f3, 1)), // M, W forms (some illegal)
        (0u32..8, any::<bool>()).prop_flat_map(|(f3, alt)| r(0x3b, f3, if alt { 0x20 } else { 0 })),
    ];
    let imm = (
        0u32..8,
        reg.clone(),
        reg.clone(),
        any::<u32>(),
        any::<bool>(),
    )
        .prop_map(|(f3, d, a, i, w)| {
            let op = if w { 0x1b } else { 0x13 };
            let imm = if f3 == 1 || f3 == 5 {
                (i & 0x3f) | (i & 0x400) // shamt, maybe srai
            } else {
                i & 0xfff
            };
            op | d << 7 | f3 << 12 | a << 15 | imm << 20
        });
    // Loads and stores based on x5..x7 (set to RAM addresses), offsets -64..64.
    let mem = (0u32..7, 5u32..8, reg.clone(), -64i32..64, any::<bool>()).prop_map(
        |(f3, base, r, off, store)| {
            let off = off as u32 & 0xfff;
            if store {
                0x23 | (off & 0x1f) << 7 | (f3 & 3) << 12 | base << 15 | r << 20 | (off >> 5) << 25
            } else {
                0x03 | r << 7 | f3 << 12 | base << 15 | off << 20
            }
        },
    );
    // Branches and jal within a few instructions either way.
    let br = (0u32..8, reg.clone(), reg.clone(), -6i32..6).prop_map(|(f3, a, b, n)| {
        let off = (n * 4) as u32;
        0x63 | ((off >> 11) & 1) << 7
            | ((off >> 1) & 0xf) << 8
            | f3 << 12
            | a << 15
            | b << 20
            | ((off >> 5) & 0x3f) << 25
            | ((off >> 12) & 1) << 31
    });
    let jal = (reg.clone(), -6i32..6).prop_map(|(d, n)| {
        let off = (n * 4) as u32;
        0x6f | d << 7
            | ((off >> 12) & 0xff) << 12
            | ((off >> 11) & 1) << 20
            | ((off >> 1) & 0x3ff) << 21
            | ((off >> 20) & 1) << 31
    });
    let upper = (reg, any::<u32>(), any::<bool>())
        .prop_map(|(d, i, auipc)| if auipc { 0x17 } else { 0x37 } | d << 7 | (i & !0xfff));
    prop_oneof![
        6 => alu,
        4 => imm,
        3 => mem,
        3 => br,
        1 => jal,
        1 => upper,
        1 => any::<u32>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Random programs of 64 words (ALU, M, loads/stores near RAM pointers, short branches
    /// and jumps, any word), with a trap handler that skips the trapping word: both tiers
    /// agree after every run.
    #[test]
    fn random_programs_agree(
        words in proptest::collection::vec(word(), 64),
        regs in proptest::collection::vec(any::<u64>(), 31),
    ) {
        let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        // M-mode handler at RAM + 64 KiB: mepc += 4; mret.
        let handler: [u32; 4] = [0x3410_2f73, 0x004f_0f13, 0x341f_1073, 0x3020_0073];
        let handler: Vec<u8> = handler.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut pair = Pair::new(|hart, bus| {
            bus.ram.write_bytes(RAM_BASE, &code).unwrap();
            bus.ram.write_bytes(RAM_BASE + 0x1_0000, &handler).unwrap();
            hart.pc = RAM_BASE;
            hart.csr.mtvec = RAM_BASE + 0x1_0000;
            for (i, r) in regs.iter().enumerate() {
                hart.x[i + 1] = *r;
            }
            // Base registers of the loads and stores: the code page itself, a data page.
            hart.x[5] = RAM_BASE + 0x40;
            hart.x[6] = RAM_BASE + 0x2000;
            hart.x[7] = RAM_BASE + 0x2ff8;
        });
        pair.run_to_end("random program", 20_000);
    }
}

//! RVC expansion (Unprivileged ISA §16.8): every RV64C instruction form, assembled both
//! compressed and uncompressed by GNU as, must expand to exactly the uncompressed word; reserved
//! encodings must be illegal; no 16-bit pattern may panic the decoder.

mod support;

use emu_core::hart::decode::{decode, expand_rvc, Op};

/// One line per RV64C form, written with base mnemonics so that `.option rvc` compresses them.
const FORMS: &[&str] = &[
    "addi s0, sp, 16",
    "addi a5, sp, 1020",
    "fld fa0, 8(a1)",
    "lw a0, 124(a1)",
    "ld a2, 248(a3)",
    "fsd fa1, 16(a2)",
    "sw a4, 64(a5)",
    "sd s1, 0(s0)",
    "addi a0, a0, -32",
    "addi t1, t1, 31",
    "addiw a0, a0, 31",
    "addiw s2, s2, -1",
    "li a0, -1",
    "li t6, 17",
    "addi sp, sp, -512",
    "addi sp, sp, 496",
    "addi sp, sp, 16",
    "lui a0, 0x1f",
    "lui s11, 0xfffe1",
    "srli a0, a0, 63",
    "srli s1, s1, 1",
    "srai a1, a1, 32",
    "andi a2, a2, -32",
    "andi a3, a3, 31",
    "sub s0, s0, s1",
    "xor a0, a0, a5",
    "or a4, a4, a2",
    "and s1, s1, a0",
    "subw a0, a0, a1",
    "addw a5, a5, s0",
    "j .-2048",
    "j .+2046",
    "beqz a0, .+254",
    "bnez a1, .-256",
    "slli a0, a0, 63",
    "slli t3, t3, 1",
    "fld fa0, 504(sp)",
    "lw ra, 252(sp)",
    "ld s0, 504(sp)",
    "ld t0, 8(sp)",
    "jr ra",
    "jr t2",
    "add a0, zero, a1", // c.mv (the spec expands it to add, not addi)
    "ebreak",
    "jalr a0",
    "add a0, a0, a1",
    "add t5, t5, sp",
    "fsd fs0, 504(sp)",
    "sw a0, 252(sp)",
    "sd a0, 504(sp)",
    "sd t6, 0(sp)",
];

fn text_of(elf: &[u8]) -> Vec<u8> {
    let e = goblin::elf::Elf::parse(elf).unwrap();
    let sh = e
        .section_headers
        .iter()
        .find(|s| e.shdr_strtab.get_at(s.sh_name) == Some(".text"))
        .expect(".text");
    elf[sh.sh_offset as usize..(sh.sh_offset + sh.sh_size) as usize].to_vec()
}

#[test]
fn every_rvc_form_expands_to_its_32_bit_equivalent() {
    let body: String = FORMS.iter().map(|f| format!("    {f}\n")).collect();
    let c = text_of(&support::assemble(
        "rvc_c",
        &format!(".globl _start\n_start:\n.option rvc\n{body}"),
    ));
    let w = text_of(&support::assemble(
        "rvc_w",
        &format!(".globl _start\n_start:\n.option norvc\n{body}"),
    ));
    assert_eq!(c.len(), 2 * FORMS.len(), "every form must compress");
    assert_eq!(w.len(), 4 * FORMS.len());
    for (i, form) in FORMS.iter().enumerate() {
        let half = u16::from_le_bytes([c[2 * i], c[2 * i + 1]]);
        let word = u32::from_le_bytes(w[4 * i..4 * i + 4].try_into().unwrap());
        assert_eq!(
            expand_rvc(half),
            Some(word),
            "{form}: {half:#06x} should expand to {word:#010x}"
        );
        let insn = decode(half as u32);
        assert_eq!(insn.len, 2);
        assert_eq!(insn.raw, half as u32);
        assert_ne!(insn.op, Op::Illegal, "{form}");
    }
}

#[test]
fn reserved_rvc_encodings_are_illegal() {
    for half in [
        0x0000u16, // all zero
        0x0010,    // c.addi4spn with nzuimm = 0
        0x4002,    // c.lwsp rd = 0
        0x6002,    // c.ldsp rd = 0
        0x8002,    // c.jr x0
        0x2001,    // c.addiw rd = 0
        0x6501,    // c.lui a0 with nzimm = 0
        0x6101,    // c.addi16sp with nzimm = 0
        0x9c41,    // c.subw-space reserved (funct2 = 10)
        0x9c61,    // reserved (funct2 = 11)
        0x8000,    // quadrant 0 funct3 = 100: reserved
    ] {
        assert_eq!(expand_rvc(half), None, "{half:#06x}");
        let insn = decode(half as u32);
        assert_eq!(insn.op, Op::Illegal, "{half:#06x}");
        assert_eq!((insn.len, insn.raw), (2, half as u32));
    }
}

#[test]
fn every_16_bit_pattern_decodes_without_panic() {
    let mut legal = 0;
    for half in 0..=u16::MAX {
        if half & 3 == 3 {
            continue;
        }
        let insn = decode(half as u32);
        assert_eq!(insn.len, 2);
        if let Some(word) = expand_rvc(half) {
            legal += 1;
            assert_eq!(word & 3, 3);
            assert_ne!(insn.op, Op::Illegal, "{half:#06x} expands to {word:#010x}");
        }
    }
    // Most of the 49152 RVC patterns are legal; the reserved ones are a small minority.
    assert!(legal > 45_000, "{legal}");
}

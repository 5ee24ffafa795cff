//! Random instruction words in every privilege mode, with FP on and off and with Sv39 on and
//! off: the hart must never panic, and an instruction that does not retire must have trapped
//! (pc at a trap vector, cause recorded; illegal instruction carries the bits in xtval).

use emu_core::bus::{Bus, RAM_BASE};
use emu_core::hart::{Hart, Privilege};
use proptest::prelude::*;

const TVEC: u64 = RAM_BASE + 0x10_0000;

fn hart_in(mode: u8, fp: bool, sv39: bool, regs: &[u64]) -> Hart {
    let mut h = Hart::new(0);
    h.privilege = match mode {
        0 => Privilege::User,
        1 => Privilege::Supervisor,
        _ => Privilege::Machine,
    };
    h.pc = RAM_BASE;
    h.csr.mtvec = TVEC;
    h.csr.stvec = TVEC + 0x100;
    h.csr.medeleg = 0xb1ff; // delegate most exceptions (not page faults)
    if fp {
        h.csr.mstatus |= 1 << 13;
    }
    if sv39 {
        // Root table at RAM + 2 MiB with one 1 GiB identity superpage for RAM (U + S usable
        // via SUM): page table is zero elsewhere.
        h.csr.satp = 8 << 60 | (RAM_BASE + 0x20_0000) >> 12;
        h.csr.mstatus |= 1 << 18;
    }
    for (i, r) in regs.iter().enumerate() {
        h.x[i + 1] = *r;
    }
    h
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn random_words_execute_or_trap(
        words in proptest::collection::vec(any::<u32>(), 8),
        mode in 0u8..3,
        fp in any::<bool>(),
        sv39 in any::<bool>(),
        regs in proptest::collection::vec(
            prop_oneof![any::<u64>(), (0u64..0x40_0000).prop_map(|o| RAM_BASE + o)], 31),
    ) {
        let mut bus = Bus::new(4 << 20);
        let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        bus.ram.write_bytes(RAM_BASE, &code).unwrap();
        let pte = (RAM_BASE >> 12) << 10 | 0xdf; // V R W X U A D
        bus.ram.write(RAM_BASE + 0x20_0000 + 8 * 2, 8, pte).unwrap();
        let mut h = hart_in(mode, fp, sv39, &regs);
        // One step: either it retires or it traps to a vector.
        let (_, retired) = h.run(&mut bus, 1);
        if retired == 0 {
            prop_assert!(h.pc == TVEC || h.pc == TVEC + 0x100, "pc {:#x}", h.pc);
            let (cause, tval) = if h.pc == TVEC {
                (h.csr.mcause, h.csr.mtval)
            } else {
                (h.csr.scause, h.csr.stval)
            };
            prop_assert!(cause < 16);
            if cause == 2 {
                let w = words[0];
                let expect = if w & 3 == 3 { w as u64 } else { (w & 0xffff) as u64 };
                prop_assert_eq!(tval, expect);
            }
        }
        // Then keep going through whatever the words (and the traps) lead to.
        let (_, more) = h.run(&mut bus, 2000);
        prop_assert!(more <= 2000);
    }
}

//! Hart behaviour seen from the machine: board-driven interrupts and their priority (Privileged
//! ISA §3.1.9), Sstc, `wfi` exits, device events, code rewritten by DMA between runs, the LR
//! reservation across runs, counters, `reset`.

mod support;

use emu_core::bus::{Bus, RAM_BASE};
use emu_core::hart::{irq, Hart, HartExit, Privilege};

const INT: u64 = 1 << 63;

/// Assemble `body` (starting at `_start`) and load its .text at RAM_BASE; pc = RAM_BASE.
fn setup(name: &str, body: &str) -> (Bus, Hart) {
    let elf = support::assemble(
        name,
        &format!(".option norvc\n.option norelax\n.globl _start\n_start:\n{body}"),
    );
    let e = goblin::elf::Elf::parse(&elf).unwrap();
    let mut bus = Bus::new(1 << 20);
    for sh in &e.section_headers {
        if sh.sh_addr >= RAM_BASE && sh.sh_type == goblin::elf::section_header::SHT_PROGBITS {
            let data = &elf[sh.sh_offset as usize..(sh.sh_offset + sh.sh_size) as usize];
            bus.ram.write_bytes(sh.sh_addr, data).unwrap();
        }
    }
    let mut hart = Hart::new(0);
    hart.pc = RAM_BASE;
    (bus, hart)
}

const SPIN: &str = "1: j 1b\n.align 8\nhandler: j handler\n";
const HANDLER: u64 = RAM_BASE + 0x100;

#[test]
fn board_interrupts_are_taken_in_priority_order() {
    let (mut bus, mut hart) = setup("irq_prio", SPIN);
    hart.csr.mtvec = HANDLER;
    hart.csr.mie = irq::MTIP | irq::MEIP | irq::MSIP;
    hart.csr.mstatus |= 1 << 3; // MIE
    hart.set_external_irq(
        irq::MTIP | irq::MSIP | irq::MEIP,
        irq::MTIP | irq::MSIP | irq::MEIP,
    );
    // Budget 0: the run only takes the interrupt (run start checks interrupts).
    hart.run(&mut bus, 0);
    assert_eq!(hart.csr.mcause, INT | 11, "MEI first");
    assert_eq!(hart.csr.mepc, RAM_BASE);
    assert_eq!(hart.pc, HANDLER, "direct mode: base");
    // Back in the spin loop with MIE restored: MSI beats MTI.
    hart.set_external_irq(irq::MEIP, 0);
    hart.pc = RAM_BASE;
    hart.csr.mstatus |= 1 << 3;
    hart.run(&mut bus, 0);
    assert_eq!(hart.csr.mcause, INT | 3);
    hart.set_external_irq(irq::MSIP, 0);
    hart.pc = RAM_BASE;
    hart.csr.mstatus |= 1 << 3;
    hart.csr.mtvec = HANDLER | 1; // vectored
    hart.run(&mut bus, 0);
    assert_eq!(hart.csr.mcause, INT | 7);
    assert_eq!(hart.pc, HANDLER + 4 * 7);
    // MIE = 0 in M: nothing is taken.
    hart.pc = RAM_BASE;
    let (_, n) = hart.run(&mut bus, 10);
    assert_eq!(n, 10);
    assert_eq!(hart.privilege, Privilege::Machine);
    assert!(hart.wfi_wakeup());
}

#[test]
fn external_seip_is_delegated_and_ored_with_the_software_bit() {
    let (mut bus, mut hart) = setup("irq_seip", SPIN);
    hart.csr.stvec = HANDLER;
    hart.csr.mideleg = irq::SEIP;
    hart.csr.mie = irq::SEIP;
    hart.privilege = Privilege::Supervisor;
    hart.run(&mut bus, 3); // SIE = 0: not taken
    assert_eq!(hart.privilege, Privilege::Supervisor);
    assert_eq!(hart.csr.scause, 0);
    hart.csr.mstatus |= 1 << 1; // SIE
    hart.set_external_irq(irq::SEIP, irq::SEIP);
    hart.run(&mut bus, 1);
    assert_eq!(hart.csr.scause, INT | 9);
    assert_eq!(hart.pc, HANDLER);
    assert_eq!(hart.privilege, Privilege::Supervisor);
    // Interrupts to M are taken in S regardless of mstatus.MIE.
    hart.pc = RAM_BASE;
    hart.set_external_irq(irq::SEIP, 0);
    hart.csr.mie = irq::MTIP;
    hart.csr.mtvec = HANDLER;
    hart.set_external_irq(irq::MTIP, irq::MTIP);
    hart.run(&mut bus, 1);
    assert_eq!(hart.csr.mcause, INT | 7);
    assert_eq!(hart.privilege, Privilege::Machine);
    assert_eq!((hart.csr.mstatus >> 11) & 3, 1, "MPP = S");
}

#[test]
fn sstc_raises_stip_when_mtime_reaches_stimecmp() {
    let (mut bus, mut hart) = setup(
        "sstc",
        "li t0, 1000\n csrw stimecmp, t0\n csrr a0, stimecmp\n csrr a1, time\n 1: j 1b\n",
    );
    hart.csr.menvcfg = 1 << 63; // STCE
    hart.mtime = 999;
    hart.run(&mut bus, 5);
    assert_eq!(hart.x[10], 1000);
    assert_eq!(hart.x[11], 999, "time reads mtime");
    assert!(!hart.wfi_wakeup());
    hart.csr.mie = irq::STIP;
    assert!(!hart.wfi_wakeup());
    hart.mtime = 1000;
    assert!(hart.wfi_wakeup(), "STIP pending once mtime >= stimecmp");
    // Delegated to S and taken there.
    hart.csr.mideleg = irq::STIP;
    hart.csr.stvec = HANDLER;
    hart.privilege = Privilege::User;
    hart.pc = RAM_BASE + 16;
    hart.run(&mut bus, 1);
    assert_eq!(hart.csr.scause, INT | 5);
}

#[test]
fn wfi_returns_to_the_machine_unless_an_interrupt_is_pending() {
    let (mut bus, mut hart) = setup("wfi", "wfi\n addi a0, a0, 1\n wfi\n 1: j 1b\n");
    let (exit, n) = hart.run(&mut bus, 100);
    assert_eq!((exit, n), (HartExit::Wfi, 1));
    assert_eq!(hart.pc, RAM_BASE + 4);
    // Pending and enabled in mie (MIE = 0): wfi falls through, no trap.
    hart.csr.mie = irq::MTIP;
    hart.set_external_irq(irq::MTIP, irq::MTIP);
    let (exit, n) = hart.run(&mut bus, 10);
    assert_eq!((exit, n), (HartExit::Budget, 10));
    assert_eq!(hart.x[10], 1);
    assert_eq!(hart.instret(), 11);
}

#[test]
fn test_finisher_write_ends_the_run_with_an_event() {
    let (mut bus, mut hart) = setup(
        "event",
        "li t0, 0x100000\n li t1, 0x5555\n sw t1, 0(t0)\n addi a0, a0, 1\n 1: j 1b\n",
    );
    let (exit, n) = hart.run(&mut bus, 1000);
    assert_eq!(exit, HartExit::Event);
    assert_eq!(n, 4, "li (2 insns for 0x5555: lui+addi), then sw retires");
    assert!(bus.event);
    assert_eq!(hart.x[10], 0, "stops right after the store");
}

#[test]
fn dma_over_decoded_code_is_seen_by_the_next_run() {
    let (mut bus, mut hart) = setup("dma_code", "addi a0, a0, 1\n j _start\n");
    hart.run(&mut bus, 10);
    assert_eq!(hart.x[10], 5);
    assert!(hart.decode_misses() <= 2);
    // A device writes "addi a0, a0, 16" over the first instruction.
    let addi16: u32 = 0x0105_0513;
    bus.ram
        .write_bytes(RAM_BASE, &addi16.to_le_bytes())
        .unwrap();
    hart.pc = RAM_BASE;
    hart.run(&mut bus, 2);
    assert_eq!(hart.x[10], 5 + 16);
}

#[test]
fn reservation_survives_runs_but_not_a_store_by_someone_else() {
    let (mut bus, mut hart) = setup(
        "lrsc_runs",
        "lr.d a1, (a0)\n sc.d a2, a1, (a0)\n lr.d a1, (a0)\n sc.d a3, a1, (a0)\n\
         lr.d a1, (a0)\n sc.d a4, a1, (a0)\n 1: j 1b\n",
    );
    hart.x[10] = RAM_BASE + 0x1000;
    hart.x[12] = 7;
    hart.run(&mut bus, 1); // lr
    hart.run(&mut bus, 1); // sc in a later run, nothing stored in between: succeeds
    assert_eq!(hart.x[12], 0);
    hart.run(&mut bus, 1); // lr
                           // Another hart (or a device) writes to the reserved line between the runs.
    bus.ram.write(RAM_BASE + 0x1000, 8, 99).unwrap();
    hart.run(&mut bus, 1);
    assert_eq!(hart.x[13], 1, "sc fails after another agent's store");
    assert_eq!(bus.ram.read(RAM_BASE + 0x1000, 8).unwrap(), 99);
    // A trap between lr and sc also breaks it.
    hart.run(&mut bus, 1); // lr
    hart.csr.mtvec = RAM_BASE + 20; // the sc itself
    hart.set_external_irq(irq::MSIP, irq::MSIP);
    hart.csr.mie = irq::MSIP;
    hart.csr.mstatus |= 1 << 3;
    hart.run(&mut bus, 1); // interrupt taken, then the sc at the vector
    assert_eq!(hart.csr.mcause, INT | 3);
    assert_eq!(hart.x[14], 1);
}

#[test]
fn counters_respect_mcounteren_and_reset_restores_the_reset_state() {
    let (mut bus, mut hart) = setup(
        "counters",
        "rdtime a0\n rdcycle a1\n 1: j 1b\n.align 8\nh: j h\n",
    );
    hart.csr.mtvec = HANDLER;
    hart.privilege = Privilege::User;
    hart.run(&mut bus, 1);
    assert_eq!(
        hart.csr.mcause, 2,
        "time not enabled for U: illegal instruction"
    );
    assert_eq!(
        hart.csr.mtval, 0xc0102573,
        "mtval holds the instruction bits"
    );
    hart.csr.mcounteren = 0b111;
    hart.csr.scounteren = 0b010;
    hart.privilege = Privilege::User;
    hart.pc = RAM_BASE;
    hart.mtime = 42;
    hart.run(&mut bus, 2);
    assert_eq!(hart.x[10], 42);
    assert_eq!(hart.csr.mcause, 2, "cycle not enabled in scounteren");
    assert_eq!(hart.pc, HANDLER);
    hart.reset();
    assert_eq!(
        (hart.pc, hart.privilege, hart.instret()),
        (0x1000, Privilege::Machine, 0)
    );
    assert_eq!(hart.csr.mcounteren, 0);
    assert_eq!(hart.mtime, 42, "mtime belongs to the machine");
}

#[test]
fn minstret_is_exact_when_read_after_traps_writes_and_budget_splits() {
    // ecall traps (not retired) to a handler that skips it; minstret is read, written, read.
    let (mut bus, mut hart) = setup(
        "minstret",
        "addi a0, a0, 1\n ecall\n csrr a1, minstret\n csrw minstret, a0\n addi a0, a0, 1\n \
         csrr a2, minstret\n csrr a3, mcycle\n 1: j 1b\n.align 8\n\
         handler: csrr t0, mepc\n addi t0, t0, 4\n csrw mepc, t0\n mret\n",
    );
    hart.csr.mtvec = HANDLER;
    // Two runs: 1 step, then the rest.
    let (_, n1) = hart.run(&mut bus, 1);
    assert_eq!((n1, hart.instret()), (1, 1));
    let (_, n2) = hart.run(&mut bus, 10);
    // [ecall trap], 4 handler insns, csrr, csrw, addi, csrr, csrr: 10 steps, 9 retired.
    assert_eq!(n2, 9);
    // a1: addi + 4 handler instructions retired before the csrr.
    assert_eq!(hart.x[11], 5);
    // csrw minstret, 1 replaces its own increment: the addi makes it 2, the csrr reads 2.
    assert_eq!(hart.x[12], 2);
    assert_eq!(hart.x[13], 3, "mcycle counts like minstret");
    assert_eq!(hart.instret(), 4);
}

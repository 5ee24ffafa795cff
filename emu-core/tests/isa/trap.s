# Privilege modes, traps and delegation: ecall from U/S/M, medeleg, mret/sret state stacking,
# illegal instructions (mtval = bits), privileged-instruction checks (TSR, TVM, TW), ebreak,
# software interrupts (SSIP) to M and delegated to S, vectored stvec, priority over MIE.
    # From M: mret into privilege \mode (0 U, 1 S) at \target.
    .macro ENTER mode, target
    li t0, 0x1800
    csrc mstatus, t0
    li t0, \mode << 11
    csrs mstatus, t0
    la t0, \target
    csrw mepc, t0
    mret
    .endm

main:
    la t0, m_trap
    csrw mtvec, t0
    la t0, s_trap
    csrw stvec, t0
    # 1: ecall from S traps to M with cause 9, MPP = S, mepc = the ecall
    la s8, 1f
    ENTER 1, s_ecall
1:  CHECK 1, s10, 9
    CHECK 2, s6, 1
    la a0, s_ecall
    bne s7, a0, bad
    # 2: ecall from U -> cause 8, MPP = U
    la s8, 1f
    ENTER 0, u_ecall
1:  CHECK 3, s10, 8
    CHECK 4, s6, 0
    # 3: ecall from M -> 11
    la s8, 1f
    ecall
1:  CHECK 5, s10, 11
    CHECK 6, s6, 3
    # 4: delegated: ecall from U goes to S (scause 8, SPP = U); then S's ecall goes to M
    li a0, 1 << 8
    csrw medeleg, a0
    la s8, s_after_u
    ENTER 0, u_ecall
s_after_u:
    CHECK 7, s10, 8
    CHECK 8, s6, 0
    la s8, 1f
    ecall                   # from S, not delegated
1:  CHECK 9, s10, 9
    # 5: U reading mstatus: illegal instruction to M with the bits in mtval
    la s8, 1f
    ENTER 0, u_csr
1:  CHECK 10, s10, 2
    la a0, u_csr
    lwu a0, 0(a0)
    bne s11, a0, bad
    # 6: sret with TSR in S is illegal; mret in S is illegal
    li a0, 1 << 22
    csrs mstatus, a0
    la s8, 1f
    ENTER 1, s_sret
1:  CHECK 11, s10, 2
    csrc mstatus, a0
    la s8, 1f
    ENTER 1, s_mret
1:  CHECK 12, s10, 2
    # 7: TVM: satp and sfence.vma in S are illegal; TW: wfi in S is illegal; U: wfi illegal
    li a0, 1 << 20
    csrs mstatus, a0
    la s8, 1f
    ENTER 1, s_satp
1:  CHECK 13, s10, 2
    la s8, 1f
    ENTER 1, s_sfence
1:  CHECK 14, s10, 2
    csrc mstatus, a0
    li a0, 1 << 21
    csrs mstatus, a0
    la s8, 1f
    ENTER 1, s_wfi
1:  CHECK 15, s10, 2
    csrc mstatus, a0
    la s8, 1f
    ENTER 0, s_wfi
1:  CHECK 16, s10, 2
    # 8: sret from S to U: SPP = U, SIE <- SPIE; U's ecall (delegated) comes back to S
    la s8, s_sret_test
    ENTER 1, s_sret_test
s_sret_test:
    la s8, s_back
    la a0, u_ecall
    csrw sepc, a0
    li a0, 0x100
    csrc sstatus, a0        # SPP = U
    li a0, 0x20
    csrs sstatus, a0        # SPIE = 1
    sret
s_back:
    CHECK 17, s10, 8
    csrr a0, sstatus
    andi a1, a0, 0x22       # SIE = 0 (trap), SPIE = 1 (SIE was 1 in U)
    CHECK 18, a1, 0x20
    la s8, 1f
    ecall                   # back to M
1:  csrw medeleg, zero
    # 9: ebreak: cause 3, mtval = pc; illegal patterns
    la s8, 1f
2:  ebreak
1:  CHECK 19, s10, 3
    la a0, 2b
    bne s11, a0, bad
    la s8, 1f
    .word 0xffffffff
1:  CHECK 20, s10, 2
    CHECK 21, s11, 0xffffffff
    la s8, 1f
    .word 0
1:  CHECK 22, s10, 2
    CHECK 23, s11, 0
    # 10: SSIP pending and enabled, not delegated: taken in S even with MIE = 0, right after mret
    li a0, 2
    csrs mie, a0
    csrs mip, a0
    la s8, 1f
    ENTER 1, s_spin
1:  CHECK 24, s10, 0x8000000000000001
    la a0, s_spin
    bne s7, a0, bad
    # in M with MIE = 0 nothing is taken; wfi does not wait (an interrupt is pending in mie)
    li a0, 2
    csrs mip, a0
    wfi
    csrc mip, a0
    # 11: delegated SSIP goes to S, vectored stvec: handler at base + 4 * 1
    li a0, 2
    csrw mideleg, a0
    csrs mip, a0
    la t0, s_vec
    ori t0, t0, 1
    csrw stvec, t0
    la s8, 1f
    li a0, 2
    csrs mstatus, a0        # SIE = 1 (also sets up SPIE for later)
    ENTER 1, s_spin
1:  CHECK 25, s10, 0x8000000000000001
    CHECK 26, s5, 1
    la s8, 2f
    ecall                   # the S handler returned in S: back to M
2:
    # S-mode with SIE = 0 does not take the S interrupt; M-mode never does
    la s8, 1f
    li a0, 2
    csrc mstatus, a0
    csrs mip, a0
    ENTER 1, s_clear_ssip
1:  CHECK 27, s10, 9
    PASS

s_ecall:
u_ecall:
    ecall
    j bad
u_csr:
    csrr a0, mstatus
    j bad
s_sret:
    sret
    j bad
s_mret:
    mret
    j bad
s_satp:
    csrr a0, satp
    j bad
s_sfence:
    sfence.vma
    j bad
s_wfi:
    wfi
    j bad
s_spin:
    j s_spin
s_clear_ssip:
    li a0, 2
    csrc sip, a0            # no interrupt was taken: pending bit still set, clear it
    ecall

bad:
    li gp, 99
    j fail

    .align 2
m_trap:
    csrr s10, mcause
    csrr s11, mtval
    csrr s7, mepc
    csrr s6, mstatus
    srli s6, s6, 11
    andi s6, s6, 3
    li t0, 2
    csrc mip, t0
    jr s8
    .align 2
s_trap:
    csrr s10, scause
    csrr s11, stval
    csrr s7, sepc
    csrr s6, sstatus
    srli s6, s6, 8
    andi s6, s6, 1
    jr s8
    .align 6
s_vec:
    j bad
    j s_vec_ssi
    j bad
s_vec_ssi:
    li s5, 1
    li t0, 2
    csrc sip, t0
    j s_trap

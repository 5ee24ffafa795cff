# Shared prelude of the guest ISA suite: pass/fail through the SiFive test finisher at
# 0x100000 (0x5555 = pass, (n << 16) | 0x3333 = fail with test number n), a CHECK macro and
# a default M-mode trap handler that records mcause/mtval in s10/s11, skips the trapping
# instruction (2 or 4 bytes) and counts traps in s9.
    .option norvc
    .option norelax
    .macro PASS
    li t6, 0x100000
    li t5, 0x5555
    sw t5, 0(t6)
1:  j 1b
    .endm
    # CHECK n, reg, value: fail with test number n unless reg == value.
    .macro CHECK n, reg, val
    li t5, \val
    beq \reg, t5, 8f
    li gp, \n
    j fail
8:
    .endm

    .text
    .globl _start
_start:
    la t0, default_trap
    csrw mtvec, t0
    li s9, 0
    j main

fail:
    li t6, 0x100000
    slli t5, gp, 16
    li t4, 0x3333
    or t5, t5, t4
    sw t5, 0(t6)
1:  j 1b

    .align 2
default_trap:
    csrr s10, mcause
    csrr s11, mtval
    addi s9, s9, 1
    csrr t4, mepc
    lhu t3, 0(t4)
    andi t3, t3, 3
    li t2, 3
    addi t4, t4, 2
    bne t3, t2, 1f
    addi t4, t4, 2
1:  csrw mepc, t4
    mret

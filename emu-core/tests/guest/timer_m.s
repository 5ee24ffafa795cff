# CLINT timer interrupts in M-mode: three interrupts 10000 ticks apart, waiting in wfi.
.include "common.inc"
.equ STEP, 10000
.globl _start
_start:
    bnez a0, park
    la t0, trap
    csrw mtvec, t0
    li s0, 0
    li s1, CLINT_MTIMECMP
    li s2, CLINT_MTIME
    ld t0, 0(s2)
    li t1, STEP
    add t0, t0, t1
    sd t0, 0(s1)
    li t0, 1 << 7
    csrs mie, t0
    csrsi mstatus, 8
1:  wfi
    li t0, 3
    blt s0, t0, 1b
    ld t0, 0(s2)
    li t1, 3 * STEP
    blt t0, t1, fail
    li t0, '\n'
    PUTC t0
    PASS
fail:
    li t0, FINISHER
    li t1, (3 << 16) | 0x3333
    sw t1, 0(t0)
    j fail
park:
    wfi
    j park
.align 2
trap:
    csrr t0, mcause
    li t1, (1 << 63) | 7
    bne t0, t1, fail
    addi s0, s0, 1
    li t0, 'T'
    PUTC t0
    ld t0, 0(s2)
    li t1, STEP
    add t0, t0, t1
    sd t0, 0(s1)
    mret

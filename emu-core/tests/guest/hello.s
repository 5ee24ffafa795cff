# Every hart checks a0 = mhartid and a1 -> the device tree; hart 0 prints a greeting, the
# others count themselves in with an AMO; hart 0 waits for all and powers off.
.include "common.inc"
.globl _start
_start:
    la t0, fail
    csrw mtvec, t0
    csrr t0, mhartid
    bne a0, t0, fail
    li t1, 0xedfe0dd0
    lwu t2, 0(a1)
    bne t1, t2, fail
    la t0, arrived
    li t1, 1
    amoadd.w zero, t1, (t0)
    bnez a0, park
    la s0, msg
1:  lbu t0, 0(s0)
    beqz t0, 2f
    PUTC t0
    addi s0, s0, 1
    j 1b
2:  la t0, arrived
    lw t1, 0(t0)
    li t2, HARTS
    bne t1, t2, 2b
    li t0, '0' + HARTS
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
.data
.align 3
arrived: .word 0
msg: .asciz "hello from the board, harts: "

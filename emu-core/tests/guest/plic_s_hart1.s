# A supervisor external interrupt on hart 1 through PLIC context 3 (2·hart+1): hart 1 enables
# UART RX interrupts for its S context, drops to S-mode, prints "R", and when a byte arrives
# claims it from context 3, prints it upper-cased and powers off. Hart 0 sleeps throughout.
.include "common.inc"
.globl _start
_start:
    la t0, fail
    csrw mtvec, t0
    li t0, 1
    bne a0, t0, park
    li s1, UART
    li s2, PLIC
    li t0, 1
    sw t0, 4*10(s2)             # priority[10] = 1
    li t1, PLIC + 0x2000 + 3 * 0x80
    li t0, 1 << 10
    sw t0, 0(t1)                # context 3 enables source 10
    li t1, PLIC + 0x200000 + 3 * 0x1000
    sw zero, 0(t1)              # threshold 0
    li t0, 1
    sb t0, 1(s1)                # IER: RX data
    li t0, 1 << 9
    csrs mideleg, t0            # SEIP to S
    la t0, strap
    csrw stvec, t0
    li t0, 3 << 11
    csrc mstatus, t0
    li t0, 1 << 11
    csrs mstatus, t0            # MPP = S
    la t0, smain
    csrw mepc, t0
    mret
smain:
    li t0, 1 << 9
    csrs sie, t0                # SEIE
    li t0, 'R'
    PUTC t0
    csrsi sstatus, 2
1:  wfi
    j 1b
.align 2
strap:
    csrr t0, scause
    li t1, (1 << 63) | 9
    bne t0, t1, fail
    li t1, PLIC + 0x200004 + 3 * 0x1000
    lw t2, 0(t1)                # claim from context 3
    li t3, 10
    bne t2, t3, fail
    lbu t4, 0(s1)
    addi t4, t4, 'A' - 'a'
    PUTC t4
    sw t2, 0(t1)                # complete
    PASS
fail:
    li t0, FINISHER
    li t1, (3 << 16) | 0x3333
    sw t1, 0(t0)
    j fail
park:
    wfi
    j park

# UART interrupts through the PLIC in M-mode: prints "ready\n" from THR-empty interrupts, then
# echoes each received byte + 1 from RX interrupts; 'q' powers off.
.include "common.inc"
.globl _start
_start:
    bnez a0, park
    la t0, trap
    csrw mtvec, t0
    li s1, UART
    li s2, PLIC
    la s3, msg
    li t0, 1
    sw t0, 4*10(s2)             # priority[10] = 1
    li t1, PLIC + 0x2000
    li t0, 1 << 10
    sw t0, 0(t1)                # context 0 (hart 0 M) enables source 10
    li t1, PLIC + 0x200000
    sw zero, 0(t1)              # threshold 0
    li t0, 7
    sb t0, 2(s1)                # FCR: FIFO on, clear
    li t0, 3
    sb t0, 1(s1)                # IER: RX data + THR empty
    li t0, 1 << 11
    csrs mie, t0                # MEIE
    csrsi mstatus, 8            # MIE
loop:
    wfi
    j loop
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
    li t1, (1 << 63) | 11
    bne t0, t1, fail
    li t1, PLIC + 0x200004
    lw t2, 0(t1)                # claim
    li t3, 10
    bne t2, t3, fail
again:
    lbu t3, 2(s1)               # IIR
    andi t3, t3, 0xf
    li t4, 4
    beq t3, t4, rx
    li t4, 2
    beq t3, t4, tx
    li t4, 1
    bne t3, t4, fail
    sw t2, 0(t1)                # complete
    mret
rx:
    lbu t4, 0(s1)
    li t5, 'q'
    beq t4, t5, pass
    addi t4, t4, 1
    sb t4, 0(s1)
    j again
tx:
    lbu t4, 0(s3)
    beqz t4, txdone
    sb t4, 0(s1)
    addi s3, s3, 1
    j again
txdone:
    li t4, 1
    sb t4, 1(s1)                # IER: RX only
    j again
pass:
    PASS
.data
msg: .asciz "ready\n"

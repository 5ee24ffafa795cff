# Wedge the hart, as a kernel without a trap vector does. MODE 0: S-mode with every exception
# delegated and stvec = 0 loads from an unclaimed address; the load access fault goes to
# stvec = 0, whose fetch faults, and so on. MODE 1: M-mode whose mtvec points at a zero word
# (an illegal instruction) executes ecall. MODE 2 (not a wedge): 20000 ecalls, each handled.
.include "common.inc"
.globl _start
_start:
    csrr t0, mhartid
    bnez t0, park
.if MODE == 0
    li t0, 0xffff
    csrw medeleg, t0
    csrw stvec, zero
    li t0, (1 << 11)        # MPP = S
    csrw mstatus, t0
    la t0, supervisor
    csrw mepc, t0
    mret
supervisor:
    li t0, 0x100000000
bad_load:
    ld t1, 0(t0)
    j park
.elseif MODE == 1
    la t0, not_code
    csrw mtvec, t0
bad_ecall:
    ecall
    j park
.else
    la t0, handler
    csrw mtvec, t0
    li s0, 20000
1:  ecall
    addi s0, s0, -1
    bnez s0, 1b
    PASS
.align 2
handler:
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    mret
.endif
park:
    wfi
    j park
.data
.align 3
not_code: .dword 0

# Supervisor timer interrupts, both ways xv6 has done it:
#  SSTC=1: Sstc (menvcfg.STCE, stimecmp, rdtime), STIP delegated, as xv6 since 2023;
#  SSTC=0: the CLINT's mtimecmp in M-mode, forwarded to S as a software interrupt (SSIP),
#          as xv6 before 2023.
# S-mode takes three interrupts, printing 'S' for each, then powers off.
.include "common.inc"
.equ STEP, 10000
.globl _start
_start:
    bnez a0, park
    la t0, mtrap
    csrw mtvec, t0
    li a6, CLINT_MTIMECMP
    li a7, CLINT_MTIME
.if SSTC
    li t0, 1 << 63
    csrs 0x30a, t0              # menvcfg.STCE
    li t0, 1 << 5
    csrs mideleg, t0            # STIP to S
.else
    li t0, 1 << 1
    csrs mideleg, t0            # SSIP to S
    ld t0, 0(a7)
    li t1, STEP
    add t0, t0, t1
    sd t0, 0(a6)
    li t0, 1 << 7
    csrs mie, t0                # MTIE (M-mode takes it even while S runs)
.endif
    csrsi mcounteren, 2         # S may read time
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
    li s0, 0
.if SSTC
    rdtime t0
    li t1, STEP
    add t0, t0, t1
    csrw 0x14d, t0              # stimecmp
    li t0, 1 << 5
    csrs sie, t0                # STIE
.else
    li t0, 1 << 1
    csrs sie, t0                # SSIE
.endif
    csrsi sstatus, 2            # SIE
1:  wfi
    li t0, 3
    blt s0, t0, 1b
    rdtime t0
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
strap:
    csrr t0, scause
.if SSTC
    li t1, (1 << 63) | 5
.else
    li t1, (1 << 63) | 1
.endif
    bne t0, t1, fail
    addi s0, s0, 1
    li t0, 'S'
    PUTC t0
.if SSTC
    rdtime t0
    li t1, STEP
    add t0, t0, t1
    csrw 0x14d, t0
.else
    li t0, 1 << 1
    csrc sip, t0
.endif
    sret

# M-mode: only the CLINT timer (SSTC=0) may arrive; re-arm and pass it on as SSIP.
.align 2
mtrap:
    csrr t6, mcause
    li t5, (1 << 63) | 7
    bne t6, t5, fail
    ld t6, 0(a7)
    li t5, STEP
    add t6, t6, t5
    sd t6, 0(a6)
    li t6, 1 << 1
    csrs mip, t6
    mret

# A: LR/SC pairing, every AMO (W sign-extends), misaligned LR/SC/AMO trap (cause 4/6).
main:
    la a0, word
    li a1, 5
    sd a1, 0(a0)
    lr.d a2, (a0)
    CHECK 1, a2, 5
    li a3, 9
    sc.d a4, a3, (a0)
    CHECK 2, a4, 0
    ld a2, 0(a0)
    CHECK 3, a2, 9
    sc.d a4, a1, (a0)       # no reservation: fails
    CHECK 4, a4, 1
    ld a2, 0(a0)
    CHECK 5, a2, 9
    lr.w a2, (a0)
    addi a6, a0, 4
    sc.w a4, a1, (a6)       # other address: fails (and clears the reservation)
    bnez a4, 1f
    li gp, 6
    j fail
1:  sc.w a4, a1, (a0)
    CHECK 7, a4, 1
    # AMOs
    li a1, 10
    sd a1, 0(a0)
    li a3, 3
    amoadd.d a2, a3, (a0)
    CHECK 10, a2, 10
    ld a2, 0(a0)
    CHECK 11, a2, 13
    amoswap.d a2, a3, (a0)
    CHECK 12, a2, 13
    li a3, 6
    amoxor.d a2, a3, (a0)   # 3 ^ 6 = 5
    amoor.d a2, a3, (a0)    # 5 | 6 = 7
    amoand.d a2, a3, (a0)   # 7 & 6 = 6
    ld a2, 0(a0)
    CHECK 13, a2, 6
    li a3, -1
    amomin.d a2, a3, (a0)
    ld a2, 0(a0)
    CHECK 14, a2, -1
    li a3, 2
    amomax.d a2, a3, (a0)
    ld a2, 0(a0)
    CHECK 15, a2, 2
    li a3, -1
    amomaxu.d a2, a3, (a0)
    ld a2, 0(a0)
    CHECK 16, a2, -1
    li a3, 7
    amominu.d a2, a3, (a0)
    ld a2, 0(a0)
    CHECK 17, a2, 7
    li a1, 0x7fffffff
    sw a1, 0(a0)
    li a3, 1
    amoadd.w a2, a3, (a0)
    CHECK 18, a2, 0x7fffffff
    lw a2, 0(a0)
    CHECK 19, a2, -0x80000000
    amomin.w a2, a3, (a0)
    lw a2, 0(a0)
    CHECK 20, a2, -0x80000000
    amomaxu.w a2, a3, (a0)
    lwu a2, 0(a0)
    CHECK 21, a2, 0x80000000
    # misaligned atomics trap
    addi a5, a0, 2
    lr.w a2, (a5)
    CHECK 30, s10, 4
    la a6, word+2
    bne s11, a6, bad
    amoadd.w a2, a3, (a5)
    CHECK 32, s10, 6
    sc.d a2, a3, (a5)
    CHECK 33, s10, 6
    CHECK 34, s9, 3
    PASS
bad:
    li gp, 99
    j fail
    .data
    .align 3
word: .dword 0, 0

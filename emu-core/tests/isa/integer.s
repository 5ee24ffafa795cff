# RV64I + M: arithmetic, shifts, W-ops sign extension, compares, branches, jumps, loads/stores.
main:
    li a0, -1
    li a1, 1
    add a2, a0, a1
    CHECK 1, a2, 0
    addw a2, a0, a0
    CHECK 2, a2, -2
    li a0, 0x7fffffff
    addiw a2, a0, 1
    CHECK 3, a2, -0x80000000
    li a0, 1
    slli a2, a0, 63
    CHECK 4, a2, 0x8000000000000000
    srai a3, a2, 63
    CHECK 5, a3, -1
    srli a3, a2, 63
    CHECK 6, a3, 1
    li a4, 65
    sll a3, a0, a4          # shift amount uses low 6 bits
    CHECK 7, a3, 2
    sllw a3, a0, a4         # low 5 bits: 1
    CHECK 8, a3, 2
    li a0, 0x80000000
    sraiw a3, a0, 4
    CHECK 9, a3, 0xfffffffff8000000
    srliw a3, a0, 4
    CHECK 10, a3, 0x08000000
    slliw a3, a1, 31
    CHECK 11, a3, 0xffffffff80000000
    # M: division edge cases
    li a0, 7
    li a1, 0
    div a2, a0, a1
    CHECK 20, a2, -1
    divu a2, a0, a1
    CHECK 21, a2, -1
    rem a2, a0, a1
    CHECK 22, a2, 7
    remu a2, a0, a1
    CHECK 23, a2, 7
    li a0, 0x8000000000000000
    li a1, -1
    div a2, a0, a1
    CHECK 24, a2, 0x8000000000000000
    rem a2, a0, a1
    CHECK 25, a2, 0
    li a0, -0x80000000
    divw a2, a0, a1
    CHECK 26, a2, -0x80000000
    remw a2, a0, a1
    CHECK 27, a2, 0
    li a0, -7
    li a1, 2
    div a2, a0, a1
    CHECK 28, a2, -3
    rem a2, a0, a1
    CHECK 29, a2, -1
    divuw a2, a0, a1
    CHECK 30, a2, 0x7ffffffc
    li a0, -1
    li a1, -1
    mulh a2, a0, a1
    CHECK 31, a2, 0
    mulhu a2, a0, a1
    CHECK 32, a2, -2
    mulhsu a2, a0, a1
    CHECK 33, a2, -1
    li a0, 0x100000001
    mulw a2, a0, a0
    CHECK 34, a2, 1
    # compares and branches
    li a0, -1
    li a1, 1
    slt a2, a0, a1
    CHECK 40, a2, 1
    sltu a2, a0, a1
    CHECK 41, a2, 0
    sltiu a2, a1, -1
    CHECK 42, a2, 1
    blt a1, a0, bad
    bgeu a1, a0, bad
    bge a0, a1, bad
    bltu a0, a1, bad
    beq a0, a1, bad
    bne a0, a0, bad
    # jal/jalr link and target (jalr clears bit 0)
    la a3, 1f
    addi a3, a3, 1
    jalr ra, 0(a3)
    j bad
1:  la a4, 1b
    addi a4, a4, -4
    bne ra, a4, bad
    # loads and stores, sign/zero extension, misaligned
    la a0, data
    li a1, 0x8081828384858687
    sd a1, 0(a0)
    lb a2, 0(a0)
    CHECK 50, a2, 0xffffffffffffff87
    lbu a2, 0(a0)
    CHECK 51, a2, 0x87
    lh a2, 0(a0)
    CHECK 52, a2, 0xffffffffffff8687
    lhu a2, 6(a0)
    CHECK 53, a2, 0x8081
    lw a2, 4(a0)
    CHECK 54, a2, 0xffffffff80818283
    lwu a2, 4(a0)
    CHECK 55, a2, 0x80818283
    ld a2, 1(a0)            # misaligned load completes
    CHECK 56, a2, 0x0080818283848586
    sw a1, 3(a0)            # misaligned store completes
    ld a2, 0(a0)
    CHECK 57, a2, 0x8084858687858687
    sb zero, 0(a0)
    sh zero, 2(a0)
    lwu a2, 0(a0)
    CHECK 58, a2, 0x00008600
    # x0 stays zero
    addi zero, zero, 5
    CHECK 60, zero, 0
    lui a2, 0xfffff
    CHECK 61, a2, 0xfffffffffffff000
2:  auipc a2, 0
    la a3, 2b
    bne a2, a3, bad_rel
    j 3f
bad_rel:
    li gp, 62
    j fail
3:
    # compressed instructions
    .option rvc
    c.li a0, -3
    c.addi a0, 5
    c.slli a0, 4
    c.mv a1, a0
    c.add a1, a0
    c.addiw a1, 1
    c.srai a1, 2
    c.andi a1, 0x1f
    .option norvc
    CHECK 70, a0, 32
    CHECK 71, a1, 16
    PASS
bad:
    li gp, 99
    j fail
    .data
    .align 3
data: .dword 0, 0

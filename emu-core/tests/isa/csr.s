# Zicsr: read/write/set/clear forms, x0 rules, WARL fields, counters, illegal CSRs (mtval =
# instruction bits), misa, mhartid, fcsr gating by mstatus.FS.
main:
    csrr a0, misa
    li a1, 0x800000000014112d
    CHECK 1, a0, 0x800000000014112d
    csrr a0, mhartid
    CHECK 2, a0, 0
    li a0, 0x1234
    csrw mscratch, a0
    csrrsi a1, mscratch, 3
    CHECK 3, a1, 0x1234
    csrrci a1, mscratch, 0x1
    CHECK 4, a1, 0x1237
    csrr a1, mscratch
    CHECK 5, a1, 0x1236
    li a2, 0x30
    csrrc a1, mscratch, a2
    csrr a1, mscratch
    CHECK 6, a1, 0x1206
    # mtvec WARL: mode 2/3 keeps the old value
    csrr s0, mtvec
    li a0, 0x80000002
    csrw mtvec, a0
    csrr a1, mtvec
    bne a1, s0, bad
    # mepc bit 0 reads 0
    li a0, 0x80000001
    csrw mepc, a0
    csrr a1, mepc
    CHECK 7, a1, 0x80000000
    # mstatus: MPP reserved value 2 is ignored; UXL/SXL read 2
    li a0, 0x1800
    csrs mstatus, a0
    li a0, 0x0800
    csrc mstatus, a0        # MPP = 2 (reserved): keeps 3
    csrr a1, mstatus
    srli a2, a1, 11
    andi a2, a2, 3
    CHECK 8, a2, 3
    srli a2, a1, 32
    andi a2, a2, 0xf
    CHECK 9, a2, 0xa
    # medeleg/mideleg masks
    li a0, -1
    csrw medeleg, a0
    csrr a1, medeleg
    CHECK 10, a1, 0xb3ff
    csrw mideleg, a0
    csrr a1, mideleg
    CHECK 11, a1, 0x222
    csrw mideleg, zero
    csrw medeleg, zero
    # counters advance; minstret counts exactly
    csrr a0, minstret
    nop
    nop
    csrr a1, minstret
    sub a2, a1, a0
    CHECK 12, a2, 3
    csrr a0, instret
    csrr a1, cycle
    # unimplemented CSR: illegal instruction with the bits in mtval
    li s9, 0
1:  csrr a0, 0x7c0
    CHECK 13, s10, 2
    la a1, 1b
    lw a1, 0(a1)
    bne s11, a1, bad
    # write to a read-only CSR is illegal; reading it is fine
    csrw mhartid, zero
    CHECK 14, s10, 2
    CHECK 15, s9, 2
    csrr a0, mvendorid
    CHECK 16, s9, 2
    # FS = Off: fcsr access and FP instructions are illegal
    li a0, 0x6000
    csrc mstatus, a0
    csrr a0, fcsr
    CHECK 17, s9, 3
    fmv.x.d a0, f0
    CHECK 18, s9, 4
    # FS = Initial: access works, a write makes it Dirty (and SD reads 1)
    li a0, 0x2000
    csrs mstatus, a0
    csrwi frm, 3
    csrr a1, fcsr
    CHECK 19, a1, 0x60
    csrr a1, mstatus
    srli a2, a1, 13
    andi a2, a2, 3
    CHECK 20, a2, 3
    bgez a1, bad
    CHECK 21, s9, 4
    # pmp registers are writable and readable
    li a0, 0x1f
    csrw pmpcfg0, a0
    csrr a1, pmpcfg0
    CHECK 22, a1, 0x1f
    li a0, -1
    csrw pmpaddr0, a0
    csrr a1, pmpaddr0
    CHECK 23, a1, 0x3fffffffffffff
    # satp: unsupported mode write is ignored
    li a0, 9 << 60
    csrw satp, a0
    csrr a1, satp
    CHECK 24, a1, 0
    # Sdtrig without triggers: tselect/tdata1 read 0 and do not trap (riscv-tests probe them)
    csrw tselect, zero
    csrr a1, tselect
    CHECK 25, a1, 0
    csrr a1, tdata1
    CHECK 26, a1, 0
    CHECK 27, s9, 4
    PASS
bad:
    li gp, 99
    j fail

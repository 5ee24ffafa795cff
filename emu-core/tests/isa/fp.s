# F/D plumbing: mstatus.FS (Off -> illegal, writes -> Dirty, SD), NaN-boxing of singles,
# fmv, fsgnj, loads/stores (also RVC c.fld/c.fsd/c.fldsp/c.fsdsp), static and dynamic rounding,
# reserved rounding modes (illegal), fflags accrual, fcsr layout, conversions and compares.
main:
    li t0, 0x2000               # FS = Initial
    csrs mstatus, t0
    # fadd.s 1.5 + 2.25 = 3.75
    li a0, 0x3fc00000
    fmv.w.x f1, a0
    li a0, 0x40100000
    fmv.w.x f2, a0
    fadd.s f3, f1, f2
    fmv.x.w a1, f3
    CHECK 1, a1, 0x40700000
    fmv.x.d a1, f3               # the single is NaN-boxed
    CHECK 2, a1, 0xffffffff40700000
    csrr a2, mstatus
    srli a3, a2, 13
    andi a3, a3, 3
    CHECK 3, a3, 3               # Dirty
    bgez a2, bad                 # SD
    # an improperly boxed single reads as the canonical NaN
    li a0, 0x000000003fc00000
    fmv.d.x f4, a0
    fadd.s f5, f4, f1
    fmv.x.w a1, f5
    CHECK 4, a1, 0x7fc00000
    # fmv.x.w sign-extends bit 31
    li a0, 0xbf800000
    fmv.w.x f6, a0
    fmv.x.w a1, f6
    CHECK 5, a1, 0xffffffffbf800000
    # fsgnj family (fneg, fabs)
    fneg.s f7, f1
    fmv.x.w a1, f7
    CHECK 6, a1, 0xffffffffbfc00000
    fabs.s f7, f7
    fmv.x.w a1, f7
    CHECK 7, a1, 0x3fc00000
    li a0, 0x4000000000000000   # 2.0
    fmv.d.x f8, a0
    li a0, 0xc008000000000000   # -3.0
    fmv.d.x f9, a0
    fsgnjx.d f10, f8, f9
    fmv.x.d a1, f10
    CHECK 8, a1, 0xc000000000000000
    # double arithmetic and flags: 2 / 0 = inf with DZ
    csrw fflags, zero
    fmv.d.x f11, zero
    fdiv.d f12, f8, f11
    fmv.x.d a1, f12
    CHECK 9, a1, 0x7ff0000000000000
    csrr a1, fflags
    CHECK 10, a1, 8
    fmul.d f13, f8, f9
    fmv.x.d a1, f13
    CHECK 11, a1, 0xc018000000000000
    # fmadd.d 2 * -3 + 2 = -4; fnmsub.d -(2 * -3) + 2 = 8
    fmadd.d f14, f8, f9, f8
    fmv.x.d a1, f14
    CHECK 12, a1, 0xc010000000000000
    fnmsub.d f14, f8, f9, f8
    fmv.x.d a1, f14
    CHECK 13, a1, 0x4020000000000000
    # rounding: 2.5 -> w with rne = 2, rup = 3, dynamic frm = rdn -> 2, rmm -> 3
    li a0, 0x40200000
    fmv.w.x f15, a0
    fcvt.w.s a1, f15, rne
    CHECK 14, a1, 2
    fcvt.w.s a1, f15, rup
    CHECK 15, a1, 3
    csrwi frm, 2
    fcvt.w.s a1, f15
    CHECK 16, a1, 2
    fcvt.w.s a1, f15, rmm
    CHECK 17, a1, 3
    csrr a1, fcsr
    andi a1, a1, 0xe0
    CHECK 18, a1, 0x40
    # invalid dynamic frm (5) -> illegal; static rm 5/6 -> illegal
    csrwi frm, 5
    fcvt.w.s a1, f15
    CHECK 19, s9, 1
    CHECK 20, s10, 2
    csrwi frm, 0
    .word 0xc007d5d3             # fcvt.w.s a1, f15 with rm = 5
    CHECK 21, s9, 2
    # conversions: -1 -> fcvt.wu saturates to 0 with NV; l->d; d->s; s->d
    csrw fflags, zero
    li a0, 0xbf800000
    fmv.w.x f16, a0
    fcvt.wu.s a1, f16, rtz
    CHECK 22, a1, 0
    csrr a1, fflags
    CHECK 23, a1, 16
    li a0, -7
    fcvt.d.l f17, a0
    fmv.x.d a1, f17
    CHECK 24, a1, 0xc01c000000000000
    fcvt.s.d f18, f17
    fmv.x.w a1, f18
    CHECK 25, a1, 0xffffffffc0e00000
    fcvt.d.s f19, f18
    feq.d a1, f19, f17
    CHECK 26, a1, 1
    flt.d a1, f17, f8
    CHECK 27, a1, 1
    fclass.d a1, f17
    CHECK 28, a1, 2              # negative normal
    fclass.s a1, f4              # improperly boxed: canonical (quiet) NaN
    CHECK 29, a1, 0x200
    fcvt.lu.d a1, f8
    CHECK 30, a1, 2
    # loads and stores: flw boxes, fsw stores the low 32 bits, fld/fsd, compressed forms
    la a2, fdata
    flw f20, 0(a2)
    fmv.x.d a1, f20
    CHECK 31, a1, 0xffffffff3fc00000
    fsd f8, 8(a2)
    ld a1, 8(a2)
    CHECK 32, a1, 0x4000000000000000
    fsw f20, 16(a2)
    lwu a1, 16(a2)
    CHECK 33, a1, 0x3fc00000
    .option rvc
    mv s0, a2
    la sp, fdata + 64
    c.fld f9, 8(s0)
    c.fsd f9, 24(s0)
    addi sp, sp, -32
    c.fsdsp f9, 8(sp)
    c.fldsp f21, 8(sp)
    addi sp, sp, 32
    .option norvc
    fmv.x.d a1, f21
    CHECK 34, a1, 0x4000000000000000
    ld a1, 24(a2)
    CHECK 35, a1, 0x4000000000000000
    fmin.s f22, f1, f2
    fmv.x.w a1, f22
    CHECK 36, a1, 0x3fc00000
    fsqrt.d f23, f8
    fmv.x.d a1, f23
    CHECK 37, a1, 0x3ff6a09e667f3bcd
    # FS = Off: FP loads and moves are illegal
    li t0, 0x6000
    csrc mstatus, t0
    flw f1, 0(a2)
    CHECK 38, s9, 3
    fadd.d f1, f1, f1
    CHECK 39, s9, 4
    PASS
bad:
    li gp, 99
    j fail
    .data
    .align 3
fdata: .word 0x3fc00000, 0
    .dword 0, 0, 0
    .zero 64

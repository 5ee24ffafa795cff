# Sv39: a page table built by the program; 4 KiB pages, a 2 MiB and a 1 GiB superpage, a
# misaligned superpage, R/W/X/U checks with SUM and MXR, A/D bits set by the walker,
# page faults 12/13/15 with stval, non-canonical addresses, sfence.vma after a PTE change
# (a cleared W bit must fault), MPRV in M-mode, U-mode fetch through a U page.
    .equ PTE_V, 1
    .equ PTE_R, 2
    .equ PTE_W, 4
    .equ PTE_X, 8
    .equ PTE_U, 16
    .equ PTE_A, 64
    .equ PTE_D, 128
    .equ VA, 0x40000000
    # SETPTE table, index, pa_reg, flags: table[index] = (pa >> 12) << 10 | flags
    .macro SETPTE table, index, pa, flags
    la t0, \table
    srli t1, \pa, 12
    slli t1, t1, 10
    ori t1, t1, \flags
    sd t1, (\index * 8)(t0)
    .endm

main:
    la t0, m_trap
    csrw mtvec, t0
    la t0, s_trap
    csrw stvec, t0
    li t0, (1 << 12) | (1 << 13) | (1 << 15) | (1 << 8)
    csrw medeleg, t0
    # root[2]: 1 GiB identity superpage for 0x8000_0000 (S code and data)
    li a0, 0x80000000
    SETPTE pt_root, 2, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    # root[3]: misaligned 1 GiB superpage (PA 0x8020_0000)
    li a0, 0x80200000
    SETPTE pt_root, 3, a0, PTE_V | PTE_R | PTE_A
    # root[1] -> l1 ; l1[0] -> l0 ; l1[1]: 2 MiB superpage -> 0x8000_0000
    la a0, pt_l1
    SETPTE pt_root, 1, a0, PTE_V
    la a0, pt_l0
    SETPTE pt_l1, 0, a0, PTE_V
    li a0, 0x80000000
    SETPTE pt_l1, 1, a0, PTE_V | PTE_R | PTE_A
    la a0, page_a
    SETPTE pt_l0, 0, a0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    SETPTE pt_l0, 1, a0, PTE_V | PTE_R               # read-only, A clear
    # l0[2] stays invalid
    SETPTE pt_l0, 3, a0, PTE_V | PTE_X | PTE_A       # execute-only
    SETPTE pt_l0, 4, a0, PTE_V | PTE_R | PTE_W       # A and D clear
    la a0, u_code
    SETPTE pt_l0, 5, a0, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
    la a0, page_b
    SETPTE pt_l0, 6, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    la a0, page_a
    li a1, 0x1122334455667788
    sd a1, 0(a0)
    la a0, page_b
    li a1, 0x5a5a
    sd a1, 0(a0)
    # satp = Sv39 | root PPN; enter S at s_main
    la a0, pt_root
    srli a0, a0, 12
    li a1, 8 << 60
    or a0, a0, a1
    csrw satp, a0
    sfence.vma
    li t0, 0x1800
    csrc mstatus, t0
    li t0, 0x0800
    csrs mstatus, t0
    la t0, s_main
    csrw mepc, t0
    mret

s_main:
    li s9, VA
    # U page from S without SUM: load page fault, stval = address
    la s8, 1f
    ld a0, 0(s9)
    j bad
1:  CHECK 1, s10, 13
    bne s11, s9, bad
    # with SUM the load works
    li t0, 1 << 18
    csrs sstatus, t0
    ld a0, 0(s9)
    CHECK 2, a0, 0x1122334455667788
    # read-only page: load ok (walker sets A), store faults 15
    li a1, VA + 0x1000
    ld a0, 8(a1)
    CHECK 3, a0, 0
    la s8, 1f
    sd a0, 0(a1)
    j bad
1:  CHECK 4, s10, 15
    bne s11, a1, bad
    la t0, pt_l0
    ld a0, 8(t0)
    andi a0, a0, PTE_A | PTE_D
    CHECK 5, a0, PTE_A
    # invalid PTE
    li a1, VA + 0x2000
    la s8, 1f
    lw a0, 4(a1)
    j bad
1:  CHECK 6, s10, 13
    addi a1, a1, 4
    bne s11, a1, bad
    # execute-only page: load faults without MXR, works with MXR
    li a1, VA + 0x3000
    la s8, 1f
    ld a0, 0(a1)
    j bad
1:  CHECK 7, s10, 13
    li t0, 1 << 19
    csrs sstatus, t0
    ld a0, 0(a1)
    CHECK 8, a0, 0x1122334455667788
    csrc sstatus, t0
    # store sets A and D
    li a1, VA + 0x4000
    li a0, 77
    sd a0, 16(a1)
    la t0, pt_l0
    ld a0, 32(t0)
    andi a0, a0, PTE_A | PTE_D
    CHECK 9, a0, PTE_A | PTE_D
    la t0, page_a
    ld a0, 16(t0)
    CHECK 10, a0, 77
    # fetch from a U page in S: instruction page fault
    la s8, 1f
    jr s9
1:  CHECK 11, s10, 12
    bne s11, s9, bad
    # 2 MiB superpage maps 0x4020_0000 -> 0x8000_0000
    la t0, page_a
    li t1, 0x80000000
    sub t0, t0, t1
    li t1, VA + 0x200000
    add t0, t0, t1
    ld a0, 0(t0)
    CHECK 12, a0, 0x1122334455667788
    # misaligned 1 GiB superpage
    li a1, 0xc0000000
    la s8, 1f
    ld a0, 0(a1)
    j bad
1:  CHECK 13, s10, 13
    # non-canonical address
    li a1, 0x0000008000000000
    la s8, 1f
    ld a0, 0(a1)
    j bad
1:  CHECK 14, s10, 13
    # misaligned load across two pages (page_a then invalid l0[2])
    li a1, VA + 0x1ffc
    la s8, 1f
    ld a0, 0(a1)
    j bad
1:  CHECK 15, s10, 13
    # sfence.vma after clearing W: the store must fault (no stale writable translation)
    li a1, VA
    sd zero, 8(a1)          # writable now, cached in the TLB
    la t0, pt_l0
    ld t1, 0(t0)
    andi t1, t1, ~PTE_W
    sd t1, 0(t0)
    sfence.vma a1
    la s8, 1f
    sd a0, 8(a1)
    j bad
1:  CHECK 16, s10, 15
    # remap VA to page_b, sfence.vma (all): the new mapping is seen
    la t1, page_b
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    sd t1, 0(t0)
    sfence.vma
    ld a0, 0(a1)
    CHECK 17, a0, 0x5a5a
    # U mode: run u_code at VA + 0x5000 (a U page); it loads from a U page, then faults
    # on the S-only identity page, then ecalls.
    li t0, VA + 0x5000
    csrw sepc, t0
    li t0, 0x100
    csrc sstatus, t0
    la s8, u_fault
    li a3, 0x80000000
    sret
u_fault:
    CHECK 18, s10, 13
    CHECK 19, a0, 0x5a5a
    la s8, u_ecall
    li t0, VA + 0x500c
    csrw sepc, t0
    li t0, 0x100
    csrc sstatus, t0
    sret
u_ecall:
    CHECK 20, s10, 8
    # back to M for MPRV
    la s8, m_mprv
    ecall                   # ecall from S is not delegated: to M
m_mprv:
    CHECK 21, s10, 9
    # M-mode with MPRV = 1, MPP = S: loads and stores translate (SUM still set)
    li t0, 0x1800
    csrc mstatus, t0
    li t0, (1 << 17) | 0x0800
    csrs mstatus, t0
    li a1, VA
    ld a0, 0(a1)
    CHECK 22, a0, 0x5a5a
    # MPP = U: an S-only page faults (to M: we run in M)
    la s8, 1f
    li t0, 0x1800
    csrc mstatus, t0
    li a1, 0x80000000
    ld a0, 0(a1)
    j bad
1:  CHECK 23, s10, 13
    li t0, 1 << 17
    csrc mstatus, t0
    ld a0, 0(a1)            # MPRV off: physical
    PASS

bad:
    li gp, 99
    j fail

    .align 2
m_trap:
    csrr s10, mcause
    csrr s11, mtval
    jr s8
    .align 2
s_trap:
    csrr s10, scause
    csrr s11, stval
    jr s8

    .align 12
u_code:
    lui a1, 0x40000         # VA + 0x0
    ld a0, 0(a1)            # VA + 0x4: a U page
    ld a2, 0(a3)            # VA + 0x8: the S-only identity page: load page fault
    ecall                   # VA + 0xc

    .data
    .align 12
pt_root: .zero 4096
pt_l1: .zero 4096
pt_l0: .zero 4096
page_a: .zero 4096
page_b: .zero 4096

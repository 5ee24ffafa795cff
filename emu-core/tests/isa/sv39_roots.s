# Sv39 TLB coherence across page-table roots and contexts: two roots mapping one VA to different
# pages; a switch back to a root finds its translation; a PTE of a root that is not current,
# changed while another root runs, is seen after the switch back (satp write + sfence.vma);
# a PTE changed under the current root is seen after sfence.vma; sstatus.SUM cleared and set
# again without a fence takes effect at once; a store that makes the walker set D, then the W
# bit cleared by the program and a fence: the store faults; U mode must not use a translation
# S mode just cached for an S-only page.
    .equ PTE_V, 1
    .equ PTE_R, 2
    .equ PTE_W, 4
    .equ PTE_X, 8
    .equ PTE_U, 16
    .equ PTE_A, 64
    .equ PTE_D, 128
    .equ VA, 0x40040000         # TLB index 0x40: no conflict with the code and data pages
    .equ SUM, 1 << 18
    # SETPTE table, index, pa_reg, flags: table[index] = (pa >> 12) << 10 | flags
    .macro SETPTE table, index, pa, flags
    la t0, \table
    srli t1, \pa, 12
    slli t1, t1, 10
    ori t1, t1, \flags
    sd t1, (\index * 8)(t0)
    .endm
    # SATP root: satp = Sv39 | PPN(root), then sfence.vma
    .macro SATP root
    la t0, \root
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    .endm

main:
    # PMP: all of memory RWX for S and U (QEMU refuses mret to S without a PMP rule)
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    la t0, m_trap
    csrw mtvec, t0
    la t0, s_trap
    csrw stvec, t0
    li t0, (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
    csrw medeleg, t0
    # root[0]: 1 GiB identity for the devices (the test finisher reports failures from S)
    li a0, 0
    SETPTE root_a, 0, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    SETPTE root_b, 0, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    li a0, 0x80000000
    SETPTE root_a, 2, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    SETPTE root_b, 2, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    la a0, l1_a
    SETPTE root_a, 1, a0, PTE_V
    la a0, l0_a
    SETPTE l1_a, 0, a0, PTE_V
    la a0, l1_b
    SETPTE root_b, 1, a0, PTE_V
    la a0, l0_b
    SETPTE l1_b, 0, a0, PTE_V
    la a0, page_a
    SETPTE l0_a, 64, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    la a0, page_u
    SETPTE l0_a, 65, a0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    la a0, page_d
    SETPTE l0_a, 66, a0, PTE_V | PTE_R | PTE_W | PTE_A       # D clear
    la a0, u_code
    SETPTE l0_a, 67, a0, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
    la a0, page_b
    SETPTE l0_b, 64, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    la a0, page_a
    li a1, 0xaaaa
    sd a1, 0(a0)
    la a0, page_b
    li a1, 0xbbbb
    sd a1, 0(a0)
    la a0, page_c
    li a1, 0xcccc
    sd a1, 0(a0)
    la a0, page_u
    li a1, 0x7777
    sd a1, 0(a0)
    # enter S at s_main
    li t0, 0x1800
    csrc mstatus, t0
    li t0, 0x0800
    csrs mstatus, t0
    la t0, s_main
    csrw mepc, t0
    mret

s_main:
    li s0, VA
    li s1, VA + 0x1000
    li s2, VA + 0x2000
    SATP root_a
    ld a0, 0(s0)
    CHECK 1, a0, 0xaaaa
    SATP root_b
    ld a0, 0(s0)
    CHECK 2, a0, 0xbbbb
    SATP root_a
    ld a0, 0(s0)
    CHECK 3, a0, 0xaaaa
    # root A's PTE changes while root B runs: seen after switching back
    SATP root_b
    la a0, page_c
    SETPTE l0_a, 64, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    ld a0, 0(s0)
    CHECK 4, a0, 0xbbbb
    SATP root_a
    ld a0, 0(s0)
    CHECK 5, a0, 0xcccc
    # the current root's PTE changes: seen after sfence.vma (no satp write)
    la a0, page_a
    SETPTE l0_a, 64, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    sfence.vma
    ld a0, 0(s0)
    CHECK 6, a0, 0xaaaa
    # SUM: a U page from S only while SUM is set, at once, without a fence
    li t0, SUM
    csrs sstatus, t0
    ld a0, 0(s1)
    CHECK 7, a0, 0x7777
    li t0, SUM
    csrc sstatus, t0
    la s8, 1f
    ld a0, 0(s1)
    j bad
1:  CHECK 8, s10, 13
    li t0, SUM
    csrs sstatus, t0
    ld a0, 0(s1)
    CHECK 9, a0, 0x7777
    li t0, SUM
    csrc sstatus, t0
    # the walker sets D on the first store; then W is cleared and fenced: the store faults
    li a1, 0x1234
    sd a1, 0(s2)
    la t2, l0_a
    ld a0, 66 * 8(t2)
    andi a0, a0, PTE_D
    CHECK 10, a0, PTE_D
    ld a0, 66 * 8(t2)
    andi a0, a0, ~PTE_W
    sd a0, 66 * 8(t2)
    sfence.vma
    la s8, 1f
    sd a1, 0(s2)
    j bad
1:  CHECK 11, s10, 15
    la t0, page_d
    ld a0, 0(t0)
    CHECK 12, a0, 0x1234
    # S just loaded VA (an S-only page); U loading it must fault
    ld a0, 0(s0)
    CHECK 13, a0, 0xaaaa
    li t0, VA + 0x3000
    csrw sepc, t0
    li t0, 0x100
    csrc sstatus, t0
    la s8, u_fault
    sret
u_fault:
    CHECK 14, s10, 13
    CHECK 15, s11, VA
    CHECK 16, a0, 0x7777
    # back to M (ecall from S is not delegated) to report through the test finisher
    la s8, m_done
    ecall
m_done:
    CHECK 17, s10, 9
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
    lui a1, 0x40041         # VA + 0x1000: a U page
    ld a0, 0(a1)
    lui a1, 0x40040         # VA: S-only: load page fault
    ld a2, 0(a1)
1:  j 1b

    .data
    .align 12
root_a: .zero 4096
l1_a: .zero 4096
l0_a: .zero 4096
root_b: .zero 4096
l1_b: .zero 4096
l0_b: .zero 4096
page_a: .zero 4096
page_b: .zero 4096
page_c: .zero 4096
page_u: .zero 4096
page_d: .zero 4096

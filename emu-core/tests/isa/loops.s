# Strided memory loops (hart/loops.rs runs them in batches): byte fills and copies in the shapes
# gcc -O gives xv6's memset/memmove, word fills with a count-down counter, copies that overlap
# in either direction, page crossings, a fill over the loop's own code page and one over a
# code page executed before. Every result is checked; tests/isa.rs also runs this program in
# lockstep with a one-step-at-a-time copy and compares the whole machine state.
    .equ BUF, 0x80100000
main:
    # 1: byte fill of 5000 bytes from BUF+3 (crosses a page), bytes around it untouched.
    li a0, BUF+3
    li a1, 0x1a5            # only the low byte is stored
    li a2, 5000
    call memset_b
    li a0, BUF+3
    li a2, 5000
    call sum_b
    CHECK 1, a0, 825000     # 5000 * 0xa5
    li t0, BUF
    lbu t1, 2(t0)
    CHECK 2, t1, 0
    li t0, BUF+5003
    lbu t1, 0(t0)
    CHECK 3, t1, 0
    # 4: forward copy of 9000 bytes to another page phase (non-overlapping).
    li a0, BUF+0x3001
    li a1, BUF+3
    li a2, 5000
    call memmove_f
    li a0, BUF+0x3001
    li a2, 5000
    call sum_b
    CHECK 4, a0, 825000
    CHECK 5, a3, 0xa5       # the loop's last loaded byte
    # 6: overlapping forward copy (dst = src + 1) replicates the first byte.
    li t0, BUF+0x6000
    li t1, 7
    sb t1, 0(t0)
    li a0, BUF+0x6001
    li a1, BUF+0x6000
    li a2, 4500
    call memmove_f
    li a0, BUF+0x6000
    li a2, 4501
    call sum_b
    CHECK 6, a0, 31507      # 4501 * 7
    # 7: overlapping backward copy (dst = src - 1, highest first) replicates the last byte.
    li t0, BUF+0x8000+4500
    li t1, 9
    sb t1, 0(t0)
    li a0, BUF+0x8000+4499  # the highest byte of dst
    li a1, BUF+0x8000+4500
    li a2, 4500
    call memmove_b
    li a0, BUF+0x8000
    li a2, 4501
    call sum_b
    CHECK 7, a0, 40509      # 4501 * 9
    # 8: doubleword fill with a count-down counter: 700 doublewords from BUF+0xa004 (crosses).
    li a0, BUF+0xa004
    li a1, 0x0102030405060708
    li a2, 700
    call fill_d
    CHECK 8, a0, BUF+0xa004+5600
    CHECK 9, a2, 0
    li a0, BUF+0xa004
    li a2, 5600
    call sum_b
    CHECK 10, a0, 25200     # 700 * (1+2+...+8)
    # 11: a copy loop with a sign-extending load leaves the last byte sign-extended.
    li t0, BUF+0xc000
    li t1, 0x80
    sb t1, 99(t0)
    li a0, BUF+0xd000
    li a1, BUF+0xc000
    li a2, 100
    call memmove_sx
    CHECK 11, a3, -128
    li t0, BUF+0xd000
    lbu t1, 99(t0)
    CHECK 12, t1, 0x80
    # 13: a fill over its own code page turns the nops after it into "addi t3, zero, 1".
    li t3, 0
    call smc_own_page
    CHECK 13, t3, 1
    # 14: a fill over a code page executed before: the new code runs.
    li a3, 0
    call code_page          # 16 nops and a ret
    CHECK 14, a3, 0
    la a0, code_page
    li a1, 0x00168693       # addi a3, a3, 1
    li a2, 16
    call fill_w
    fence.i
    li a3, 0
    call code_page
    CHECK 15, a3, 16
    # 16: a loop that ends at once (length 1) and a long one (20,000 bytes).
    li a0, BUF+0x20000
    li a1, 3
    li a2, 1
    call memset_b
    li t0, BUF+0x20000
    lbu t1, 0(t0)
    CHECK 16, t1, 3
    li a0, BUF+0x20000
    li a1, 1
    li a2, 20000
    call memset_b
    li a0, BUF+0x20000
    li a2, 20000
    call sum_b
    CHECK 17, a0, 20000
    PASS

# The loops, each as gcc -O writes xv6's versions (register choices included).
    .option rvc
memset_b:                   # a0 dst, a1 byte, a2 n > 0
    mv a5, a0
    add a4, a2, a0
1:  sb a1, 0(a5)
    addi a5, a5, 1
    bne a5, a4, 1b
    ret
memmove_f:                  # a0 dst, a1 src, a2 n > 0, lowest byte first
    add a5, a1, a2
    mv a4, a0
1:  addi a1, a1, 1
    addi a4, a4, 1
    lbu a3, -1(a1)
    sb a3, -1(a4)
    bne a1, a5, 1b
    ret
memmove_b:                  # a0 dst of the highest byte, a1 src of it, a2 n > 0
    sub a5, a1, a2
1:  lbu a3, 0(a1)
    sb a3, 0(a0)
    addi a1, a1, -1
    addi a0, a0, -1
    bne a5, a1, 1b
    ret
memmove_sx:                 # as memmove_f with lb
    add a5, a1, a2
    mv a4, a0
1:  addi a1, a1, 1
    addi a4, a4, 1
    lb a3, -1(a1)
    sb a3, -1(a4)
    bne a1, a5, 1b
    ret
fill_d:                     # a0 dst, a1 doubleword, a2 count > 0
1:  sd a1, 0(a0)
    addi a0, a0, 8
    addi a2, a2, -1
    bnez a2, 1b
    ret
fill_w:                     # a0 dst, a1 word, a2 count > 0
1:  sw a1, 0(a0)
    addi a0, a0, 4
    addi a2, a2, -1
    bnez a2, 1b
    ret
    .option norvc
sum_b:                      # a0 = sum of the a2 > 0 bytes at a0 (not a loop the hart batches)
    add a2, a2, a0
    li t0, 0
1:  lbu t1, 0(a0)
    add t0, t0, t1
    addi a0, a0, 1
    bne a0, a2, 1b
    mv a0, t0
    ret

    .align 12
smc_own_page:
    la a0, 2f
    li a1, 0x00100e13       # addi t3, zero, 1
    li a2, 8
1:  sw a1, 0(a0)
    addi a0, a0, 4
    addi a2, a2, -1
    bnez a2, 1b
    fence.i
2:  nop
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    ret

    .align 12
code_page:
    .rept 16
    nop
    .endr
    ret

# Self-modifying code and fence.i: a store over an already-executed instruction in the same
# page must take effect the next time it runs (decode cache invalidated by the store).
main:
    li s1, 0
    li s2, 2
loop:
patch:
    addi s1, s1, 1          # rewritten to "addi s1, s1, 100" after the first pass
    addi s2, s2, -1
    beqz s2, done
    la a0, patch
    la a1, new_insn
    lw a1, 0(a1)
    sw a1, 0(a0)
    fence.i
    j loop
done:
    CHECK 1, s1, 101
    # the same without fence.i, patching a compressed instruction with another (a store to a
    # code page is seen at once by this hart)
    li s3, 0
    li s2, 2
1:
    .option rvc
patch2:
    c.addi s3, 1
    .option norvc
    addi s2, s2, -1
    beqz s2, 2f
    la a0, patch2
    li a1, 0x09a1           # c.addi s3, 8
    sh a1, 0(a0)
    j 1b
2:  CHECK 2, s3, 9
    PASS
new_insn:
    addi s1, s1, 100

# A polling virtio-blk driver for either transport (LEGACY=1: version 1, else version 2):
# writes a pattern to sector 2, reads it back and compares, then prints the 8-byte signature
# found at sector 0, and asks for the device ID (GET_ID).
.include "common.inc"
.equ NUM, 8
.globl _start
_start:
    bnez a0, park
    li s1, VIRTIO0
    lw t0, 0(s1)
    li t1, 0x74726976
    bne t0, t1, fail
    lw t0, 4(s1)
    li t1, 2 - LEGACY
    bne t0, t1, fail
    lw t0, 8(s1)
    li t1, 2
    bne t0, t1, fail
    sw zero, 0x70(s1)
    li t0, 3
    sw t0, 0x70(s1)             # ACKNOWLEDGE | DRIVER
.if LEGACY == 0
    li t0, 1
    sw t0, 0x24(s1)
    sw t0, 0x20(s1)             # VERSION_1
.endif
    li t0, 11
    sw t0, 0x70(s1)             # | FEATURES_OK
    lw t0, 0x70(s1)
    andi t0, t0, 8
    beqz t0, fail
    sw zero, 0x30(s1)           # QueueSel 0
    lw t0, 0x34(s1)
    li t1, NUM
    blt t0, t1, fail
    sw t1, 0x38(s1)             # QueueNum
.if LEGACY
    li t0, 4096
    sw t0, 0x28(s1)             # GuestPageSize
    la t0, desc
    srli t0, t0, 12
    sw t0, 0x40(s1)             # QueuePFN
.else
    la t0, desc
    sw t0, 0x80(s1)
    sw zero, 0x84(s1)
    la t0, avail
    sw t0, 0x90(s1)
    sw zero, 0x94(s1)
    la t0, used
    sw t0, 0xa0(s1)
    sw zero, 0xa4(s1)
    li t0, 1
    sw t0, 0x44(s1)             # QueueReady
.endif
    li t0, 15
    sw t0, 0x70(s1)             # | DRIVER_OK

    # Fill wbuf with (i * 3) & 0xff.
    la t0, wbuf
    li t1, 0
    li t2, 512
1:  slli t3, t1, 1
    add t3, t3, t1
    add t4, t0, t1
    sb t3, 0(t4)
    addi t1, t1, 1
    blt t1, t2, 1b

    li a0, 1                    # OUT
    li a1, 2
    la a2, wbuf
    li a3, 512
    call submit
    li a0, 0                    # IN
    li a1, 2
    la a2, rbuf
    li a3, 512
    call submit
    la t0, wbuf
    la t1, rbuf
    li t2, 512
2:  lbu t3, 0(t0)
    lbu t4, 0(t1)
    bne t3, t4, fail
    addi t0, t0, 1
    addi t1, t1, 1
    addi t2, t2, -1
    bnez t2, 2b

    li a0, 0                    # IN sector 0: the signature
    li a1, 0
    la a2, rbuf
    li a3, 512
    call submit
    la s0, rbuf
    li s2, 8
3:  lbu t0, 0(s0)
    PUTC t0
    addi s0, s0, 1
    addi s2, s2, -1
    bnez s2, 3b

    li a0, 8                    # GET_ID
    li a1, 0
    la a2, rbuf
    li a3, 20
    call submit
    la s0, rbuf
4:  lbu t0, 0(s0)
    beqz t0, 5f
    PUTC t0
    addi s0, s0, 1
    j 4b
5:  li t0, '\n'
    PUTC t0
    PASS

# submit(type a0, sector a1, buffer a2, length a3): header, data, status descriptors; notify;
# poll the used ring; acknowledge the interrupt; fail unless status is 0.
submit:
    la t0, hdr
    sw a0, 0(t0)
    sw zero, 4(t0)
    sd a1, 8(t0)
    la t1, status
    li t2, 0xff
    sb t2, 0(t1)
    la t2, desc
    sd t0, 0(t2)                # desc[0]: header
    li t3, 16
    sw t3, 8(t2)
    li t3, 1                    # NEXT
    sh t3, 12(t2)
    li t3, 1
    sh t3, 14(t2)
    sd a2, 16(t2)               # desc[1]: data
    sw a3, 24(t2)
    li t3, 1
    beq a0, t3, 6f              # OUT: device reads the data
    li t3, 3                    # NEXT | WRITE
6:  sh t3, 28(t2)
    li t3, 2
    sh t3, 30(t2)
    sd t1, 32(t2)               # desc[2]: status
    li t3, 1
    sw t3, 40(t2)
    li t3, 2                    # WRITE
    sh t3, 44(t2)
    sh zero, 46(t2)
    la t2, avail
    lhu t3, 2(t2)
    andi t4, t3, NUM - 1
    slli t4, t4, 1
    add t4, t4, t2
    sh zero, 4(t4)              # ring[idx % NUM] = 0
    addi t3, t3, 1
    fence w, w
    sh t3, 2(t2)                # idx += 1
    fence w, w
    sw zero, 0x50(s1)           # QueueNotify
    la t2, used
7:  lhu t4, 2(t2)
    bne t4, t3, 7b
    lw t4, 0x60(s1)
    sw t4, 0x64(s1)             # InterruptACK
    lbu t4, 0(t1)
    bnez t4, fail
    ret

fail:
    li t0, FINISHER
    li t1, (3 << 16) | 0x3333
    sw t1, 0(t0)
    j fail
park:
    wfi
    j park

.data
.align 12
desc:  .zero 16 * NUM
avail: .zero 6 + 2 * NUM
.align 12
used:  .zero 6 + 8 * NUM
.align 4
hdr:   .zero 16
status: .zero 8
wbuf:  .zero 512
rbuf:  .zero 512

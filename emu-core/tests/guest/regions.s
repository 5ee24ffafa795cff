# Probe every region of the `virt` memory map: for each entry of the table below, at widths
# 1, 2, 4 and 8 bytes, optionally write a value, then optionally read; print one line per access
# over the UART:
#   "R <addr> <width> = <value>"          a read that completed (value zero-extended, hex)
#   "W <addr> <width> ok"                 a write that completed
#   "R|W <addr> <width> ! <mcause> <mtval>"  the access trapped
# Runs in M-mode from the reset ROM (`-bios none`); the trap handler records mcause/mtval and
# skips the 4-byte access instruction. Ends with a pass through the test device.
.include "common.inc"
.option norvc

# One table entry: address, flags, value to write.
# flags: 1 read, 2 write (before the read), bits 8..15: right shift applied to a value read
# before printing (for clocks: keeps only bits that do not move while the guest runs).
.macro PROBE addr, flags, wval=0
    .dword \addr
    .dword \flags
    .dword \wval
.endm
.equ R, 1
.equ W, 2
.equ RW, 3

.globl _start
_start:
    csrr t0, mhartid
    bnez t0, park
    la t0, handler
    csrw mtvec, t0
    la s0, table
    la s1, table_end
next_entry:
    bgeu s0, s1, done
    ld s2, 0(s0)            # address
    ld s3, 8(s0)            # flags
    ld s4, 16(s0)           # value to write
    li s5, 1                # width
next_width:
    addi t0, s5, -1         # naturally aligned accesses only
    and t0, t0, s2
    bnez t0, 4f
    andi t0, s3, W
    beqz t0, 1f
    li a0, 'W'
    call access_head
    li s10, -1
    li t0, 1
    beq s5, t0, w1
    li t0, 2
    beq s5, t0, w2
    li t0, 4
    beq s5, t0, w4
    sd s4, 0(s2)
    j w_done
w1: sb s4, 0(s2)
    j w_done
w2: sh s4, 0(s2)
    j w_done
w4: sw s4, 0(s2)
w_done:
    bgez s10, 2f
    la a0, ok_text
    call puts
    j 3f
2:  call print_trap
3:
1:  andi t0, s3, R
    beqz t0, 4f
    li a0, 'R'
    call access_head
    li s10, -1
    li a0, 0
    li t0, 1
    beq s5, t0, r1
    li t0, 2
    beq s5, t0, r2
    li t0, 4
    beq s5, t0, r4
    ld a0, 0(s2)
    j r_done
r1: lbu a0, 0(s2)
    j r_done
r2: lhu a0, 0(s2)
    j r_done
r4: lwu a0, 0(s2)
r_done:
    bgez s10, 5f
    srli t0, s3, 8
    andi t0, t0, 0xff
    srl s6, a0, t0
    li a0, '='
    call putc_sp
    mv a0, s6
    call puthex
    li a0, '\n'
    call putc
    j 4f
5:  call print_trap
4:  slli s5, s5, 1
    li t0, 8
    bleu s5, t0, next_width
    addi s0, s0, 24
    j next_entry
done:
    la a0, done_text
    call puts
    PASS
park:
    wfi
    j park

# Print "<kind> <addr> <width> " (kind in a0).
access_head:
    mv s7, ra
    call putc
    li a0, ' '
    call putc
    mv a0, s2
    call puthex
    li a0, ' '
    call putc
    addi a0, s5, '0'
    call putc
    li a0, ' '
    call putc
    mv ra, s7
    ret

# Print "! <mcause> <mtval>\n".
print_trap:
    mv s7, ra
    li a0, '!'
    call putc_sp
    mv a0, s10
    call puthex
    li a0, ' '
    call putc
    mv a0, s11
    call puthex
    li a0, '\n'
    call putc
    mv ra, s7
    ret

# Print the character in a0 and a space.
putc_sp:
    mv s8, ra
    call putc
    li a0, ' '
    call putc
    mv ra, s8
    ret

# Print a0 as 16 hex digits.
puthex:
    mv s8, ra
    mv s9, a0
    li t3, 60
1:  srl a0, s9, t3
    andi a0, a0, 15
    li t4, 10
    blt a0, t4, 2f
    addi a0, a0, 'a' - 10 - '0'
2:  addi a0, a0, '0'
    call putc
    addi t3, t3, -4
    bgez t3, 1b
    mv ra, s8
    ret

# Print the NUL-terminated string at a0.
puts:
    mv s8, ra
    mv s9, a0
1:  lbu a0, 0(s9)
    beqz a0, 2f
    call putc
    addi s9, s9, 1
    j 1b
2:  mv ra, s8
    ret

# Print the byte in a0.
putc:
    PUTC a0
    ret

.align 2
handler:
    csrr s10, mcause
    csrr s11, mtval
    csrr t6, mepc
    addi t6, t6, 4
    csrw mepc, t6
    mret

.data
ok_text: .asciz "ok\n"
done_text: .asciz "done\n"
.align 3
table:
    # DEBUG (0x0, 0x100) and the gap up to the MROM
    PROBE 0x0, R
    PROBE 0x80, R
    PROBE 0x800, R
    # MROM: the reset vector's code, start and device-tree addresses, fw_dynamic_info (but not
    # its next_addr at 0x1038: for an ELF, QEMU 7.2 passes the lowest segment address, which
    # for this program is a headers-only segment below RAM), zeros after it, a write (dropped),
    # its end, just after
    PROBE 0x1000, R
    PROBE 0x1010, R
    PROBE 0x1018, R
    PROBE 0x1020, R
    PROBE 0x1028, R
    PROBE 0x1030, R
    PROBE 0x1040, R
    PROBE 0x1048, R
    PROBE 0x1800, RW, 0x5a5a5a5a5a5a5a5a
    PROBE 0xfff8, R
    PROBE 0x10000, R
    # TEST (sifive_test): reads, an ignored value, the rest of its page, after it
    PROBE 0x100000, RW, 0x1234
    PROBE 0x100008, R
    PROBE 0x100ff8, R
    # RTC (goldfish): time (high bits only: it moves), alarm, irq registers, past them
    PROBE 0x101000, R | (40 << 8)
    PROBE 0x101004, R | (8 << 8)
    PROBE 0x101008, R
    PROBE 0x10100c, R
    PROBE 0x101010, R
    PROBE 0x101018, R
    PROBE 0x101020, R
    PROBE 0x101008, RW, 0x12345678
    PROBE 0x101ff8, R
    PROBE 0x102000, R
    # CLINT: msip, mtimecmp, mtime (moves), past the registers, after the window
    PROBE 0x2000000, R
    PROBE 0x2000004, R
    PROBE 0x2003ffc, R
    PROBE 0x2004000, RW, 0x0123456789abcdef
    PROBE 0x2004008, R
    PROBE 0x200bff0, R
    PROBE 0x200bff8, R | (40 << 8)
    PROBE 0x200c000, R
    PROBE 0x2010000, R
    # PCIe PIO window
    PROBE 0x3000000, RW, 0x1234
    PROBE 0x300fff8, R
    PROBE 0x3010000, R
    # PLIC: priority 0 and 1, pending, enable (context 0), threshold and claim (context 0),
    # a context past the last hart's, the end of the window
    PROBE 0xc000000, R
    PROBE 0xc000004, RW, 0x3
    PROBE 0xc001000, R
    PROBE 0xc002000, R
    PROBE 0xc200000, R
    PROBE 0xc200004, R
    PROBE 0xc202000, R
    PROBE 0xc3ffff8, R
    PROBE 0xc400000, R
    PROBE 0xc5ffffc, R
    PROBE 0xc600000, R
    PROBE 0xcfffffc, R
    PROBE 0xffffff8, R
    PROBE 0x10000000 - 0x1000, R
    # UART0: IER, IIR, LCR, MCR, LSR, MSR, SCR (write/read), past the registers, after
    PROBE 0x10000001, R
    PROBE 0x10000002, R
    PROBE 0x10000003, R
    PROBE 0x10000004, R
    PROBE 0x10000005, R
    PROBE 0x10000006, R
    PROBE 0x10000007, RW, 0xa5
    PROBE 0x10000000, R
    PROBE 0x10000004, R
    PROBE 0x10000008, R
    PROBE 0x100000f8, R
    PROBE 0x10000100, R
    # virtio-mmio slots: magic, version, device id, vendor, device features, status; a write
    PROBE 0x10001000, R
    PROBE 0x10001004, R
    PROBE 0x10001008, R
    PROBE 0x1000100c, R
    PROBE 0x10001010, R
    PROBE 0x10001070, RW, 0x1
    PROBE 0x10001100, R
    PROBE 0x100011f8, R
    PROBE 0x10001200, R
    PROBE 0x10008000, R
    PROBE 0x10008004, R
    PROBE 0x10008008, R
    PROBE 0x10008ffc, R
    PROBE 0x10009000, R
    # fw_cfg: selector 0 (signature) then data, selector 1 (features), DMA address, past them
    PROBE 0x10100008, W, 0
    PROBE 0x10100000, R
    PROBE 0x10100008, W, 0x0100
    PROBE 0x10100000, R
    PROBE 0x10100008, R
    PROBE 0x10100010, R
    PROBE 0x10100018, R
    PROBE 0x10101000, R
    # flash banks 0 and 1, their ends, after them
    PROBE 0x20000000, R
    PROBE 0x20000100, R
    PROBE 0x21fffff8, R
    PROBE 0x22000000, R
    PROBE 0x23fffff8, R
    PROBE 0x24000000, R
    # PCIe ECAM: the host bridge 00:00.0 (header), an absent device, another bus, a write
    PROBE 0x30000000, R
    PROBE 0x30000004, R
    PROBE 0x30000008, R
    PROBE 0x3000000c, R
    PROBE 0x30000010, R
    PROBE 0x3000002c, R
    PROBE 0x30000034, R
    PROBE 0x3000003c, R
    PROBE 0x30000100, R
    PROBE 0x30008000, RW, 0x1234
    PROBE 0x30100000, R
    PROBE 0x3ffffff8, R
    # PCIe MMIO window (0x7fe48c40: xv6 COW lab refcount of the UART page)
    PROBE 0x40000000, RW, 0x1234
    PROBE 0x7fe48c40, RW, 0x1
    PROBE 0x7ffffff8, R
    # DRAM, past its end (128 MiB), high addresses
    PROBE 0x80100000, RW, 0x0123456789abcdef
    PROBE 0x88000000, R
    PROBE 0xfffffff8, R
    PROBE 0x100000000, R
    PROBE 0x400000000, R
    PROBE 0x7fffffff8, R
    PROBE 0x800000000, R
    PROBE 0xfffffffffffffff8, R
table_end:

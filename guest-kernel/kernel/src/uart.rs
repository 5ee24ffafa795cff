//! 16550a UART driver (QEMU virt UART0). Output is synchronous (polls LSR.THRE); input arrives
//! by the receive interrupt and goes to the console line discipline.

use crate::memlayout::UART0;
use core::ptr::{read_volatile, write_volatile};

const RHR: usize = 0; // receive holding register
const THR: usize = 0; // transmit holding register
const IER: usize = 1; // interrupt enable register
const IER_RX_ENABLE: u8 = 1 << 0;
const FCR: usize = 2; // FIFO control register
const FCR_FIFO_ENABLE: u8 = 1 << 0;
const FCR_FIFO_CLEAR: u8 = 3 << 1;
const LCR: usize = 3; // line control register
const LCR_EIGHT_BITS: u8 = 3;
const LCR_BAUD_LATCH: u8 = 1 << 7;
const LSR: usize = 5; // line status register
const LSR_RX_READY: u8 = 1 << 0;
const LSR_TX_IDLE: u8 = 1 << 5;

/// Reads UART register `r`.
fn read_reg(r: usize) -> u8 {
    // SAFETY: UART0 is mapped one-to-one (before paging and in the kernel page table).
    unsafe { read_volatile((UART0 + r) as *const u8) }
}

/// Writes UART register `r`.
fn write_reg(r: usize, v: u8) {
    // SAFETY: as for read_reg.
    unsafe { write_volatile((UART0 + r) as *mut u8, v) }
}

/// Sets 38.4K baud, 8N1, FIFOs on, receive interrupts on.
pub fn uartinit() {
    write_reg(IER, 0);
    write_reg(LCR, LCR_BAUD_LATCH);
    write_reg(0, 0x03); // divisor LSB for 38.4K
    write_reg(1, 0x00); // divisor MSB
    write_reg(LCR, LCR_EIGHT_BITS);
    write_reg(FCR, FCR_FIFO_ENABLE | FCR_FIFO_CLEAR);
    write_reg(IER, IER_RX_ENABLE);
}

/// Writes one byte, spinning until the transmitter accepts it. Usable with interrupts off
/// and from panic.
pub fn uartputc_sync(c: u8) {
    while read_reg(LSR) & LSR_TX_IDLE == 0 {
        core::hint::spin_loop();
    }
    write_reg(THR, c);
}

/// Next received byte, or None if none is waiting.
pub fn uartgetc() -> Option<u8> {
    if read_reg(LSR) & LSR_RX_READY != 0 {
        Some(read_reg(RHR))
    } else {
        None
    }
}

/// UART interrupt: hands every waiting input byte to the console.
pub fn uartintr() {
    while let Some(c) = uartgetc() {
        crate::console::consoleintr(c);
    }
}

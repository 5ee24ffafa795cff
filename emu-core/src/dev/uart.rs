//! NS16550A UART at 0x1000_0000 on QEMU `virt` (PLIC source 10); its host side is a
//! [`Console`].
//!
//! Registers (National Semiconductor PC16550D datasheet, "Register Description"; offsets in
//! bytes): 0 RBR (read) / THR (write) / DLL (DLAB=1), 1 IER / DLM (DLAB=1), 2 IIR (read) /
//! FCR (write), 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR. Transmission is instantaneous: a byte
//! written to THR goes to the console at once, so THR and the transmitter are always empty.
//! Received bytes wait in a 16-byte FIFO fed from the console by the machine.
//!
//! Interrupts follow the 16550's IIR priorities: receiver line status (0x6; overrun), received
//! data available (0x4; while the FIFO holds data and IER.ERBFI is set), transmitter holding
//! register empty (0x2; raised when THR empties or ETBEI is set with THR empty, cleared by
//! reading IIR while it is the reported source or by writing THR), modem status (0x0). IIR bits
//! 7:6 read 0b11 while the FIFOs are enabled.

use std::collections::VecDeque;

use crate::console::{Console, NullConsole};
use crate::dev::{BusFault, Device, Size};

/// Size of the UART's slot in the memory map (and its device-tree `reg`) in bytes.
pub const UART_SIZE: u64 = 0x100;
/// Bytes of the slot the UART decodes (QEMU's serial_mm with `regshift` 0): offsets 8 and up are
/// access faults. An access of any width reads or writes the one register at its offset.
pub const UART_REGS: u64 = 8;
/// The UART's PLIC source on QEMU `virt`.
pub const UART_IRQ: usize = 10;
/// Depth of the receive FIFO.
pub const RX_FIFO_DEPTH: usize = 16;

const IER_ERBFI: u8 = 1 << 0;
const IER_ETBEI: u8 = 1 << 1;
const IER_ELSI: u8 = 1 << 2;
const IER_EDSSI: u8 = 1 << 3;
const FCR_ENABLE: u8 = 1 << 0;
const FCR_CLEAR_RX: u8 = 1 << 1;
const LCR_DLAB: u8 = 1 << 7;
const MCR_LOOP: u8 = 1 << 4;
const LSR_DR: u8 = 1 << 0;
const LSR_OE: u8 = 1 << 1;
const LSR_THRE: u8 = 1 << 5;
const LSR_TEMT: u8 = 1 << 6;
const IIR_NONE: u8 = 0x01;
const IIR_RLS: u8 = 0x06;
const IIR_RDA: u8 = 0x04;
const IIR_THRE: u8 = 0x02;
const IIR_MSR: u8 = 0x00;

/// The 16550A and its console.
pub struct Uart {
    console: Box<dyn Console>,
    rx: VecDeque<u8>,
    ier: u8,
    fcr: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
    overrun: bool,
    thre_pending: bool,
    msr_delta: u8,
    irq_update: bool,
}

impl Uart {
    /// A UART in its reset state, connected to `console`.
    pub fn new(console: Box<dyn Console>) -> Uart {
        Uart {
            console,
            rx: VecDeque::with_capacity(RX_FIFO_DEPTH),
            ier: 0,
            fcr: 0,
            lcr: 0,
            // OUT2 set at reset, as QEMU's serial_reset.
            mcr: 0x08,
            scr: 0,
            dll: 0x0c,
            dlm: 0,
            overrun: false,
            thre_pending: false,
            msr_delta: 0,
            irq_update: false,
        }
    }

    /// Return the registers and FIFO to their power-on state, keeping the console.
    pub fn reset(&mut self) {
        let console = std::mem::replace(&mut self.console, Box::new(NullConsole));
        *self = Uart::new(console);
    }

    /// Replace the console.
    pub fn set_console(&mut self, console: Box<dyn Console>) {
        self.console = console;
    }

    /// The console, for other host-side writers (HTIF's `SYS_write`).
    pub fn console_mut(&mut self) -> &mut dyn Console {
        self.console.as_mut()
    }

    /// Move bytes from the console into the receive FIFO while it has room (not in loopback).
    /// Returns whether a byte arrived.
    pub fn poll_console(&mut self) -> bool {
        let mut got = false;
        while self.rx.len() < RX_FIFO_DEPTH && self.mcr & MCR_LOOP == 0 {
            match self.console.read() {
                Some(b) => {
                    self.rx.push_back(b);
                    got = true;
                    self.irq_update = true;
                }
                None => break,
            }
        }
        got
    }

    /// Whether the last accesses updated the interrupt line (as QEMU's 16550 does on RBR and
    /// IIR reads, THR, IER, FCR and MCR writes, LSR reads that clear errors, and received
    /// data); cleared by the call. The bus then passes the line to the PLIC.
    pub fn take_irq_update(&mut self) -> bool {
        std::mem::take(&mut self.irq_update)
    }

    /// Whether the receive FIFO holds data.
    pub fn rx_ready(&self) -> bool {
        !self.rx.is_empty()
    }

    /// The interrupt identification (IIR bits 3:0) of the highest-priority pending source.
    fn iir_id(&self) -> u8 {
        if self.ier & IER_ELSI != 0 && self.overrun {
            IIR_RLS
        } else if self.ier & IER_ERBFI != 0 && !self.rx.is_empty() {
            IIR_RDA
        } else if self.ier & IER_ETBEI != 0 && self.thre_pending {
            IIR_THRE
        } else if self.ier & IER_EDSSI != 0 && self.msr_delta != 0 {
            IIR_MSR
        } else {
            IIR_NONE
        }
    }

    /// The level of the UART's interrupt line.
    pub fn irq(&self) -> bool {
        self.iir_id() != IIR_NONE
    }

    fn transmit(&mut self, byte: u8) {
        if self.mcr & MCR_LOOP != 0 {
            if self.rx.len() < RX_FIFO_DEPTH {
                self.rx.push_back(byte);
            } else {
                self.overrun = true;
            }
        } else {
            self.console.write(&[byte]);
        }
        // The byte left at once: THR is empty again.
        self.thre_pending = true;
    }

    fn lsr(&self) -> u8 {
        let mut lsr = LSR_THRE | LSR_TEMT;
        if !self.rx.is_empty() {
            lsr |= LSR_DR;
        }
        if self.overrun {
            lsr |= LSR_OE;
        }
        lsr
    }

    fn msr(&self) -> u8 {
        if self.mcr & MCR_LOOP != 0 {
            // Loopback: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD.
            let m = self.mcr;
            ((m & 1) << 5) | ((m & 2) << 3) | ((m & 4) << 4) | ((m & 8) << 4) | self.msr_delta
        } else {
            // Carrier detect, data set ready and clear to send: a connected terminal.
            0xb0 | self.msr_delta
        }
    }
}

impl Device for Uart {
    fn read(&mut self, offset: u64, _size: Size) -> Result<u64, BusFault> {
        if offset >= UART_REGS {
            return Err(BusFault { addr: offset });
        }
        let dlab = self.lcr & LCR_DLAB != 0;
        let v = match offset {
            0 if dlab => self.dll,
            0 => {
                self.irq_update = true;
                self.rx.pop_front().unwrap_or(0)
            }
            1 if dlab => self.dlm,
            1 => self.ier,
            2 => {
                let id = self.iir_id();
                if id == IIR_THRE {
                    self.thre_pending = false;
                }
                self.irq_update = true;
                let fifo = if self.fcr & FCR_ENABLE != 0 { 0xc0 } else { 0 };
                id | fifo
            }
            3 => self.lcr,
            4 => self.mcr,
            5 => {
                let lsr = self.lsr();
                if self.overrun {
                    self.overrun = false;
                    self.irq_update = true;
                }
                lsr
            }
            6 => {
                let msr = self.msr();
                self.msr_delta = 0;
                msr
            }
            7 => self.scr,
            _ => 0,
        };
        Ok(v as u64)
    }

    fn write(&mut self, offset: u64, _size: Size, value: u64) -> Result<(), BusFault> {
        if offset >= UART_REGS {
            return Err(BusFault { addr: offset });
        }
        let v = value as u8;
        let dlab = self.lcr & LCR_DLAB != 0;
        if matches!(offset, 0..=2 | 4) {
            self.irq_update = true;
        }
        match offset {
            0 if dlab => self.dll = v,
            0 => self.transmit(v),
            1 if dlab => self.dlm = v,
            1 => {
                let was = self.ier;
                self.ier = v & 0x0f;
                // Enabling ETBEI while THR is empty raises THRE at once (PC16550D behaviour).
                if self.ier & IER_ETBEI != 0 && was & IER_ETBEI == 0 {
                    self.thre_pending = true;
                }
            }
            2 => {
                if v & FCR_CLEAR_RX != 0 {
                    self.rx.clear();
                }
                self.fcr = v & !(FCR_CLEAR_RX | 0x04);
            }
            3 => self.lcr = v,
            4 => self.mcr = v & 0x1f,
            7 => self.scr = v,
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::MemoryConsole;

    fn uart() -> (Uart, MemoryConsole) {
        let con = MemoryConsole::new();
        (Uart::new(Box::new(con.clone())), con)
    }

    #[test]
    fn transmit_and_receive_with_lsr() {
        let (mut u, con) = uart();
        u.write(0, 1, b'h' as u64).unwrap();
        u.write(0, 1, b'i' as u64).unwrap();
        assert_eq!(con.output_string(), "hi");
        assert_eq!(u.read(5, 1).unwrap() as u8 & (LSR_THRE | LSR_DR), LSR_THRE);
        con.push_input(b"ab");
        assert!(u.poll_console());
        assert_eq!(u.read(5, 1).unwrap() as u8 & LSR_DR, LSR_DR);
        assert_eq!(u.read(0, 1).unwrap(), b'a' as u64);
        assert_eq!(u.read(0, 1).unwrap(), b'b' as u64);
        assert_eq!(u.read(5, 1).unwrap() as u8 & LSR_DR, 0);
        // FIFO depth limits what is taken from the console.
        con.push_input(&[b'x'; 20]);
        u.poll_console();
        assert_eq!(u.rx.len(), RX_FIFO_DEPTH);
        assert!(con.has_input());
    }

    #[test]
    fn iir_priorities_and_thre_semantics() {
        let (mut u, con) = uart();
        u.write(2, 1, 0x07).unwrap(); // FIFO enable + clear
        assert_eq!(u.read(2, 1).unwrap(), 0xc1);
        assert!(!u.irq());
        // Enabling ETBEI with an empty THR raises THRE.
        u.write(1, 1, IER_ETBEI as u64).unwrap();
        assert!(u.irq());
        assert_eq!(u.read(2, 1).unwrap(), 0xc2);
        // Reading IIR cleared it.
        assert!(!u.irq());
        assert_eq!(u.read(2, 1).unwrap(), 0xc1);
        // Writing THR empties at once: THRE again.
        u.write(0, 1, b'z' as u64).unwrap();
        assert!(u.irq());
        // Received data outranks THRE, and leaves THRE pending.
        u.write(1, 1, (IER_ETBEI | IER_ERBFI) as u64).unwrap();
        con.push_input(b"q");
        u.poll_console();
        assert_eq!(u.read(2, 1).unwrap(), 0xc4);
        assert_eq!(u.read(0, 1).unwrap(), b'q' as u64);
        assert_eq!(u.read(2, 1).unwrap(), 0xc2);
        assert!(!u.irq());
        // Received data is not cleared by reading IIR.
        con.push_input(b"r");
        u.poll_console();
        u.read(2, 1).unwrap();
        assert!(u.irq());
        u.read(0, 1).unwrap();
        assert!(!u.irq());
    }

    #[test]
    fn divisor_latch_scratch_and_loopback() {
        let (mut u, con) = uart();
        u.write(3, 1, 0x80).unwrap();
        u.write(0, 1, 0x03).unwrap();
        u.write(1, 1, 0x00).unwrap();
        assert_eq!(u.read(0, 1).unwrap(), 3);
        u.write(3, 1, 0x03).unwrap();
        assert_eq!(u.read(3, 1).unwrap(), 3);
        assert_eq!(u.read(1, 1).unwrap(), 0, "IER untouched by the DLM write");
        u.write(7, 1, 0x5a).unwrap();
        assert_eq!(u.read(7, 1).unwrap(), 0x5a);
        u.write(4, 1, (MCR_LOOP | 0x3) as u64).unwrap();
        u.write(0, 1, b'L' as u64).unwrap();
        assert_eq!(con.output(), b"");
        assert_eq!(u.read(0, 1).unwrap(), b'L' as u64);
        assert_eq!(u.read(6, 1).unwrap() & 0x30, 0x30);
        // Overrun in loopback shows in LSR and as a line-status interrupt.
        u.write(1, 1, IER_ELSI as u64).unwrap();
        for _ in 0..=RX_FIFO_DEPTH {
            u.write(0, 1, 1).unwrap();
        }
        assert_eq!(u.read(2, 1).unwrap() & 0xf, IIR_RLS as u64);
        assert_eq!(u.read(5, 1).unwrap() as u8 & LSR_OE, LSR_OE);
        assert_eq!(u.read(5, 1).unwrap() as u8 & LSR_OE, 0);
    }
}

//! Goldfish RTC ("google,goldfish-rtc") at 0x10_1000 on QEMU `virt` (PLIC source 11;
//! QEMU hw/rtc/goldfish_rtc.c, Android goldfish "RTC" device documentation): a 64-bit count of
//! nanoseconds since the Unix epoch, an alarm, and an interrupt. Linux reads the wall-clock
//! time from it.
//!
//! Registers (32 bits each; offsets in bytes): 0x00 TIME_LOW (reading it latches the high half),
//! 0x04 TIME_HIGH, 0x08 ALARM_LOW (writing it arms the alarm), 0x0c ALARM_HIGH, 0x10
//! IRQ_ENABLED, 0x14 CLEAR_ALARM, 0x18 ALARM_STATUS, 0x1c CLEAR_INTERRUPT; 0x20 reads 0. The
//! window is 0x24 bytes; accesses of 4 bytes, or 8 bytes as two 4-byte accesses (low word
//! first), as QEMU's; 1- and 2-byte accesses and accesses past the window are access faults.
//!
//! Time comes from the machine ([`Rtc::set_now`]): in virtual-clock mode it is
//! [`VIRTUAL_EPOCH_NS`] plus the guest time, so runs stay reproducible; with `--rtc host` it
//! is the host's time.

use crate::dev::{BusFault, Device, Size};

/// Size of the RTC's register window in bytes (QEMU's region; the device tree says 0x1000).
pub const RTC_REGS: u64 = 0x24;
/// Size of the RTC's slot in the memory map (and its device-tree `reg`).
pub const RTC_SIZE: u64 = 0x1000;
/// The RTC's PLIC source on QEMU `virt`.
pub const RTC_IRQ: usize = 11;
/// Wall-clock time at guest time 0 in virtual-clock mode: 2024-01-01T00:00:00Z, in
/// nanoseconds since the Unix epoch.
pub const VIRTUAL_EPOCH_NS: u64 = 1_704_067_200 * 1_000_000_000;

const TIME_LOW: u64 = 0x00;
const TIME_HIGH: u64 = 0x04;
const ALARM_LOW: u64 = 0x08;
const ALARM_HIGH: u64 = 0x0c;
const IRQ_ENABLED: u64 = 0x10;
const CLEAR_ALARM: u64 = 0x14;
const ALARM_STATUS: u64 = 0x18;
const CLEAR_INTERRUPT: u64 = 0x1c;

/// The goldfish RTC.
#[derive(Debug, Clone, Default)]
pub struct Rtc {
    /// Nanoseconds since the Unix epoch, as last set by the machine.
    now: u64,
    /// Added to `now` by guest writes of TIME_LOW/TIME_HIGH.
    offset: u64,
    time_high: u32,
    alarm_next: u64,
    alarm_running: bool,
    irq_enabled: bool,
    irq_pending: bool,
}

impl Rtc {
    /// An RTC at time 0 with no alarm.
    pub fn new() -> Rtc {
        Rtc::default()
    }

    /// Set the current time (nanoseconds since the Unix epoch, before guest adjustments) and
    /// fire the alarm if it is due. Returns whether the interrupt line changed.
    pub fn set_now(&mut self, ns: u64) -> bool {
        self.now = ns;
        let before = self.irq();
        if self.alarm_running && self.time() >= self.alarm_next {
            self.alarm_running = false;
            self.irq_pending = true;
        }
        before != self.irq()
    }

    /// The time the guest sees: nanoseconds since the Unix epoch.
    pub fn time(&self) -> u64 {
        self.now.wrapping_add(self.offset)
    }

    /// Level of the interrupt line (alarm fired and interrupts enabled).
    pub fn irq(&self) -> bool {
        self.irq_pending && self.irq_enabled
    }

    /// Whether `offset` is a register (for `--trace unimp`).
    pub fn implemented(offset: u64) -> bool {
        offset < 0x20
    }

    fn read32(&mut self, offset: u64) -> u32 {
        match offset {
            TIME_LOW => {
                let t = self.time();
                self.time_high = (t >> 32) as u32;
                t as u32
            }
            TIME_HIGH => self.time_high,
            ALARM_LOW => self.alarm_next as u32,
            ALARM_HIGH => (self.alarm_next >> 32) as u32,
            IRQ_ENABLED => self.irq_enabled as u32,
            ALARM_STATUS => self.alarm_running as u32,
            _ => 0,
        }
    }

    fn write32(&mut self, offset: u64, v: u32) {
        let deposit =
            |old: u64, shift: u32| (old & !(0xffff_ffffu64 << shift)) | ((v as u64) << shift);
        match offset {
            TIME_LOW | TIME_HIGH => {
                let cur = self.time();
                let new = deposit(cur, if offset == TIME_LOW { 0 } else { 32 });
                self.offset = self.offset.wrapping_add(new.wrapping_sub(cur));
            }
            ALARM_LOW => {
                self.alarm_next = deposit(self.alarm_next, 0);
                if self.alarm_next <= self.time() {
                    self.alarm_running = false;
                    self.irq_pending = true;
                } else {
                    self.alarm_running = true;
                }
            }
            ALARM_HIGH => self.alarm_next = deposit(self.alarm_next, 32),
            IRQ_ENABLED => self.irq_enabled = v & 1 != 0,
            CLEAR_ALARM => self.alarm_running = false,
            CLEAR_INTERRUPT => self.irq_pending = false,
            _ => {}
        }
    }
}

fn check(offset: u64, size: Size) -> Result<(), BusFault> {
    if (size == 4 || size == 8) && offset + size as u64 <= RTC_REGS {
        Ok(())
    } else {
        Err(BusFault { addr: offset })
    }
}

impl Device for Rtc {
    fn read(&mut self, offset: u64, size: Size) -> Result<u64, BusFault> {
        check(offset, size)?;
        let lo = self.read32(offset) as u64;
        if size == 8 {
            return Ok(lo | (self.read32(offset + 4) as u64) << 32);
        }
        Ok(lo)
    }
    fn write(&mut self, offset: u64, size: Size, value: u64) -> Result<(), BusFault> {
        check(offset, size)?;
        self.write32(offset, value as u32);
        if size == 8 {
            self.write32(offset + 4, (value >> 32) as u32);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_latches_high_half_and_guest_can_set_it() {
        let mut r = Rtc::new();
        r.set_now(0x1_2345_6789);
        assert_eq!(r.read(TIME_LOW, 4).unwrap(), 0x2345_6789);
        r.set_now(0x2_0000_0000);
        assert_eq!(
            r.read(TIME_HIGH, 4).unwrap(),
            1,
            "latched at the TIME_LOW read"
        );
        assert_eq!(r.read(TIME_LOW, 8).unwrap(), 0x2_0000_0000);
        r.write(TIME_HIGH, 4, 5).unwrap();
        assert_eq!(r.time(), 0x5_0000_0000);
        assert!(r.read(TIME_LOW, 2).is_err() && r.read(0x20, 8).is_err());
        assert_eq!(r.read(0x20, 4).unwrap(), 0);
    }

    #[test]
    fn alarm_fires_and_interrupts_when_enabled() {
        let mut r = Rtc::new();
        r.set_now(1000);
        r.write(IRQ_ENABLED, 4, 1).unwrap();
        r.write(ALARM_LOW, 4, 2000).unwrap();
        assert_eq!(r.read(ALARM_STATUS, 4).unwrap(), 1);
        assert!(!r.irq());
        assert!(r.set_now(2500));
        assert!(r.irq());
        assert_eq!(r.read(ALARM_STATUS, 4).unwrap(), 0);
        r.write(CLEAR_INTERRUPT, 4, 1).unwrap();
        assert!(!r.irq());
    }
}

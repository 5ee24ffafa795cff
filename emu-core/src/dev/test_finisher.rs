//! SiFive test finisher ("sifive,test0") at 0x10_0000 on QEMU `virt` (hw/misc/sifive_test.c):
//! a 32-bit write of 0x5555 powers off with pass, `(code << 16) | 0x3333` powers off with
//! failure `code`, 0x7777 requests a reset. Other values are ignored; reads return 0. Accesses
//! are 2 or 4 bytes wide; 1- and 8-byte accesses are access faults, as on QEMU 7.2.

use crate::dev::{BusFault, Device, Size};

/// What the guest asked the test finisher for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinisherRequest {
    /// Power off; `code` 0 is pass.
    PowerOff { code: u32 },
    /// Reset the machine.
    Reset,
}

/// The test-finisher device. The latest request is held until the machine takes it.
#[derive(Debug, Default)]
pub struct TestFinisher {
    /// A pending request, taken by the machine run loop.
    pub request: Option<FinisherRequest>,
}

/// Size of the test finisher's register window in bytes.
pub const TEST_FINISHER_SIZE: u64 = 0x1000;

const FINISHER_FAIL: u64 = 0x3333;
const FINISHER_PASS: u64 = 0x5555;
const FINISHER_RESET: u64 = 0x7777;

/// QEMU's sifive_test accepts 2- and 4-byte accesses only.
fn check_width(offset: u64, size: Size) -> Result<(), BusFault> {
    match size {
        2 | 4 => Ok(()),
        _ => Err(BusFault { addr: offset }),
    }
}

impl Device for TestFinisher {
    fn read(&mut self, offset: u64, size: Size) -> Result<u64, BusFault> {
        check_width(offset, size)?;
        Ok(0)
    }
    fn write(&mut self, offset: u64, size: Size, value: u64) -> Result<(), BusFault> {
        check_width(offset, size)?;
        if offset != 0 {
            return Ok(());
        }
        let value = value & 0xffff_ffff;
        self.request = match value & 0xffff {
            FINISHER_PASS => Some(FinisherRequest::PowerOff { code: 0 }),
            FINISHER_FAIL => Some(FinisherRequest::PowerOff {
                code: (value >> 16) as u32,
            }),
            FINISHER_RESET => Some(FinisherRequest::Reset),
            _ => return Ok(()),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_fail_reset_and_ignored_values() {
        let mut t = TestFinisher::default();
        t.write(0, 4, 0x1234).unwrap();
        assert_eq!(t.request, None);
        t.write(0, 4, 0x5555).unwrap();
        assert_eq!(t.request, Some(FinisherRequest::PowerOff { code: 0 }));
        t.write(0, 4, (7 << 16) | 0x3333).unwrap();
        assert_eq!(t.request, Some(FinisherRequest::PowerOff { code: 7 }));
        t.write(0, 4, 0x7777).unwrap();
        assert_eq!(t.request, Some(FinisherRequest::Reset));
    }
}

//! SiFive PLIC ("sifive,plic-1.0.0", "riscv,plic0") at 0xc00_0000 on QEMU `virt`: 1024
//! interrupt sources (source 0 does not exist), 32-bit priorities, pending bits, per-context
//! enables, thresholds and claim/complete (RISC-V PLIC Specification 1.0.0, §3–§9).
//!
//! Contexts are numbered as on QEMU `virt`: context 2·hart is the hart's M-mode context (drives
//! MEIP), context 2·hart+1 its S-mode context (drives SEIP).
//!
//! Interrupt gateways work as QEMU's `sifive_plic` does (xv6 relies on it): each time a device
//! updates its line with [`Plic::set_level`], the source's pending bit takes the line's level.
//! A claim clears the pending bit and marks the source in service until the matching
//! complete; a source in service is not offered again, but may become pending meanwhile. A
//! complete does not re-sample the line: a device re-asserts by updating it (which devices do
//! on the register accesses that change their interrupt state).

use crate::dev::{BusFault, Device, Size};

/// Number of interrupt sources including the non-existent source 0.
pub const PLIC_SOURCES: usize = 1024;
/// Size of the PLIC's register window in bytes.
/// QEMU 7.2's window: room for 1024 contexts; accesses past it are access faults.
pub const PLIC_SIZE: u64 = 0x60_0000;

const WORDS: usize = PLIC_SOURCES / 32;
const PRIORITY_END: u64 = 0x1000;
const PENDING_BASE: u64 = 0x1000;
const ENABLE_BASE: u64 = 0x2000;
const ENABLE_STRIDE: u64 = 0x80;
const CONTEXT_BASE: u64 = 0x20_0000;
const CONTEXT_STRIDE: u64 = 0x1000;
/// Priorities are 3 bits wide on QEMU `virt` (values 0..=7).
const PRIORITY_MASK: u32 = 7;

/// The platform-level interrupt controller.
#[derive(Debug, Clone)]
pub struct Plic {
    priority: Vec<u32>,
    level: [u32; WORDS],
    pending: [u32; WORDS],
    in_service: [u32; WORDS],
    enable: Vec<[u32; WORDS]>,
    threshold: Vec<u32>,
}

impl Plic {
    /// A PLIC with `contexts` contexts (2 per hart), all sources at priority 0 and disabled.
    pub fn new(contexts: usize) -> Plic {
        Plic {
            priority: vec![0; PLIC_SOURCES],
            level: [0; WORDS],
            pending: [0; WORDS],
            in_service: [0; WORDS],
            enable: vec![[0; WORDS]; contexts],
            threshold: vec![0; contexts],
        }
    }

    /// A device updates interrupt line `source` (1..1024): the line and the source's pending
    /// bit take `high`. Returns whether the pending bit changed.
    pub fn set_level(&mut self, source: usize, high: bool) -> bool {
        if source == 0 || source >= PLIC_SOURCES {
            return false;
        }
        let (w, b) = (source / 32, 1u32 << (source % 32));
        let was = self.pending[w] & b != 0;
        if high {
            self.level[w] |= b;
            self.pending[w] |= b;
        } else {
            self.level[w] &= !b;
            self.pending[w] &= !b;
        }
        was != high
    }

    /// The level of interrupt line `source` as last driven.
    pub fn line(&self, source: usize) -> bool {
        source < PLIC_SOURCES && self.level[source / 32] & (1 << (source % 32)) != 0
    }

    /// Whether `source` is pending.
    pub fn is_pending(&self, source: usize) -> bool {
        source < PLIC_SOURCES && self.pending[source / 32] & (1 << (source % 32)) != 0
    }

    /// The highest-priority pending, enabled source above the context's threshold (ties go to
    /// the lowest source number), or 0.
    fn best(&self, context: usize) -> usize {
        let Some(enable) = self.enable.get(context) else {
            return 0;
        };
        let threshold = self.threshold[context];
        let (mut best, mut best_prio) = (0, 0);
        for (w, (&pending, &enabled)) in self.pending.iter().zip(enable.iter()).enumerate() {
            let mut bits = pending & enabled & !self.in_service[w];
            while bits != 0 {
                let src = w * 32 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let p = self.priority[src];
                if p > threshold && p > best_prio {
                    best = src;
                    best_prio = p;
                }
            }
        }
        best
    }

    /// Whether context `context` has an interrupt to take: the level of its EIP line.
    pub fn context_irq(&self, context: usize) -> bool {
        self.best(context) != 0
    }

    /// Claim (PLIC spec §9): the best source for `context`, now in service; 0 if none.
    pub fn claim(&mut self, context: usize) -> u32 {
        let src = self.best(context);
        if src != 0 {
            let (w, b) = (src / 32, 1u32 << (src % 32));
            self.pending[w] &= !b;
            self.in_service[w] |= b;
        }
        src as u32
    }

    /// Complete (PLIC spec §9): end service of `source`. Ignored for sources not enabled for
    /// `context`, as the spec allows.
    pub fn complete(&mut self, context: usize, source: u32) {
        let src = source as usize;
        if src == 0 || src >= PLIC_SOURCES {
            return;
        }
        let (w, b) = (src / 32, 1u32 << (src % 32));
        let enabled = self.enable.get(context).map(|e| e[w] & b != 0);
        if enabled != Some(true) {
            return;
        }
        self.in_service[w] &= !b;
    }
}

/// QEMU's sifive_plic accepts 4-byte accesses only; others are access faults.
fn check_width(offset: u64, size: Size) -> Result<(), BusFault> {
    if size == 4 {
        Ok(())
    } else {
        Err(BusFault { addr: offset })
    }
}

impl Plic {
    /// Whether `offset` is a register of an existing source or context (for `--trace unimp`).
    pub fn implemented(&self, offset: u64) -> bool {
        if offset < PENDING_BASE + (WORDS as u64) * 4 {
            return true;
        }
        if (ENABLE_BASE..CONTEXT_BASE).contains(&offset) {
            let ctx = ((offset - ENABLE_BASE) / ENABLE_STRIDE) as usize;
            return ctx < self.enable.len()
                && (offset - ENABLE_BASE) % ENABLE_STRIDE < WORDS as u64 * 4;
        }
        if offset >= CONTEXT_BASE {
            let ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) as usize;
            return ctx < self.threshold.len() && (offset - CONTEXT_BASE) % CONTEXT_STRIDE < 8;
        }
        false
    }
}

impl Device for Plic {
    fn read(&mut self, offset: u64, size: Size) -> Result<u64, BusFault> {
        check_width(offset, size)?;
        let offset = offset & !3;
        let v = if offset < PRIORITY_END {
            self.priority[(offset / 4) as usize]
        } else if offset < PENDING_BASE + (WORDS as u64) * 4 {
            self.pending[((offset - PENDING_BASE) / 4) as usize]
        } else if (ENABLE_BASE..CONTEXT_BASE).contains(&offset) {
            let ctx = ((offset - ENABLE_BASE) / ENABLE_STRIDE) as usize;
            let w = ((offset - ENABLE_BASE) % ENABLE_STRIDE / 4) as usize;
            self.enable.get(ctx).map_or(0, |e| e[w])
        } else if offset >= CONTEXT_BASE {
            let ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) as usize;
            match (offset - CONTEXT_BASE) % CONTEXT_STRIDE {
                0 => self.threshold.get(ctx).copied().unwrap_or(0),
                4 if ctx < self.threshold.len() => self.claim(ctx),
                _ => 0,
            }
        } else {
            0
        };
        Ok(v as u64)
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) -> Result<(), BusFault> {
        check_width(offset, size)?;
        let offset = offset & !3;
        let value = value as u32;
        if offset < PRIORITY_END {
            if offset != 0 {
                self.priority[(offset / 4) as usize] = value & PRIORITY_MASK;
            }
        } else if (ENABLE_BASE..CONTEXT_BASE).contains(&offset) {
            let ctx = ((offset - ENABLE_BASE) / ENABLE_STRIDE) as usize;
            let w = ((offset - ENABLE_BASE) % ENABLE_STRIDE / 4) as usize;
            if let Some(e) = self.enable.get_mut(ctx) {
                // Source 0 does not exist: its enable bit is hardwired to 0.
                e[w] = if w == 0 { value & !1 } else { value };
            }
        } else if offset >= CONTEXT_BASE {
            let ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) as usize;
            match (offset - CONTEXT_BASE) % CONTEXT_STRIDE {
                0 => {
                    if let Some(t) = self.threshold.get_mut(ctx) {
                        *t = value & PRIORITY_MASK;
                    }
                }
                4 => self.complete(ctx, value),
                _ => {}
            }
        }
        // Pending bits are read-only.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim_reg(ctx: u64) -> u64 {
        CONTEXT_BASE + CONTEXT_STRIDE * ctx + 4
    }

    #[test]
    fn priority_enable_threshold_claim_complete() {
        let mut p = Plic::new(4);
        p.write(10 * 4, 4, 1).unwrap();
        p.write(4, 4, 3).unwrap();
        // Enable 1 and 10 on context 1 (hart 0, S-mode) only.
        p.write(ENABLE_BASE + ENABLE_STRIDE, 4, (1 << 10) | (1 << 1))
            .unwrap();
        p.set_level(10, true);
        assert_eq!(p.read(PENDING_BASE, 4).unwrap(), 1 << 10);
        assert!(p.context_irq(1));
        assert!(!p.context_irq(0), "not enabled for the M context");
        p.set_level(1, true);
        // Higher priority first.
        assert_eq!(p.read(claim_reg(1), 4).unwrap(), 1);
        assert_eq!(p.read(claim_reg(1), 4).unwrap(), 10);
        assert_eq!(p.read(claim_reg(1), 4).unwrap(), 0);
        assert!(!p.context_irq(1));
        // A device update while in service pends it, but it is offered only after complete.
        assert!(p.set_level(10, true));
        assert!(!p.set_level(10, true));
        assert!(!p.context_irq(1));
        p.write(claim_reg(1), 4, 10).unwrap();
        assert!(p.context_irq(1));
        assert!(p.set_level(10, false));
        assert!(!p.is_pending(10));
        // Complete does not re-sample a line that stayed high: the device re-asserts.
        p.write(claim_reg(1), 4, 1).unwrap();
        assert!(!p.is_pending(1) && p.line(1));
        p.set_level(1, true);
        assert!(p.is_pending(1));
        // Threshold masks priority <= threshold.
        p.write(CONTEXT_BASE + CONTEXT_STRIDE, 4, 3).unwrap();
        assert!(!p.context_irq(1));
        assert_eq!(p.read(CONTEXT_BASE + CONTEXT_STRIDE, 4).unwrap(), 3);
        p.write(CONTEXT_BASE + CONTEXT_STRIDE, 4, 2).unwrap();
        assert!(p.context_irq(1));
    }

    #[test]
    fn ties_lowest_source_and_high_sources() {
        let mut p = Plic::new(2);
        for s in [5usize, 1000] {
            p.write(s as u64 * 4, 4, 2).unwrap();
            p.set_level(s, true);
        }
        p.write(ENABLE_BASE + 4 * (1000 / 32), 4, 1 << (1000 % 32))
            .unwrap();
        p.write(ENABLE_BASE, 4, 1 << 5).unwrap();
        assert_eq!(p.read(claim_reg(0), 4).unwrap(), 5);
        assert_eq!(p.read(claim_reg(0), 4).unwrap(), 1000);
        // Source 0 and out-of-range contexts are inert.
        p.write(ENABLE_BASE, 4, 1).unwrap();
        assert_eq!(p.read(ENABLE_BASE, 4).unwrap(), 0);
        assert_eq!(p.read(claim_reg(7), 4).unwrap(), 0);
        p.write(claim_reg(7), 4, 5).unwrap();
        p.set_level(0, true);
        p.set_level(5000, true);
    }
}

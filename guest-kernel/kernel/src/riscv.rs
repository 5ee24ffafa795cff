//! RISC-V CSR accessors, page-table entry bits and address helpers
//! (RISC-V Privileged ISA 20211203: §3.1 machine CSRs, §4.1 supervisor CSRs, §4.4 Sv39).

use core::arch::asm;

macro_rules! csr {
    ($read:ident, $write:ident, $csr:literal) => {
        /// Reads the CSR.
        #[inline(always)]
        #[allow(dead_code)]
        pub fn $read() -> usize {
            let x: usize;
            // SAFETY: reading a CSR has no memory effects.
            unsafe { asm!(concat!("csrr {0}, ", $csr), out(reg) x) };
            x
        }
        /// Writes the CSR.
        #[inline(always)]
        #[allow(dead_code)]
        pub fn $write(x: usize) {
            // SAFETY: callers write CSRs only with values their contracts allow.
            unsafe { asm!(concat!("csrw ", $csr, ", {0}"), in(reg) x) };
        }
    };
}

csr!(r_mhartid, w_mhartid, "mhartid");
csr!(r_mstatus, w_mstatus, "mstatus");
csr!(r_mepc, w_mepc, "mepc");
csr!(r_sstatus, w_sstatus, "sstatus");
csr!(r_sip, w_sip, "sip");
csr!(r_sie, w_sie, "sie");
csr!(r_mie, w_mie, "mie");
csr!(r_sepc, w_sepc, "sepc");
csr!(r_medeleg, w_medeleg, "medeleg");
csr!(r_mideleg, w_mideleg, "mideleg");
csr!(r_stvec, w_stvec, "stvec");
csr!(r_satp, w_satp, "satp");
csr!(r_scause, w_scause, "scause");
csr!(r_stval, w_stval, "stval");
csr!(r_mcounteren, w_mcounteren, "mcounteren");
csr!(r_scounteren, w_scounteren, "scounteren");
csr!(r_pmpcfg0, w_pmpcfg0, "pmpcfg0");
csr!(r_pmpaddr0, w_pmpaddr0, "pmpaddr0");
// menvcfg (0x30a) and stimecmp (0x14d) by number: older assemblers lack the names.
csr!(r_menvcfg, w_menvcfg, "0x30a");
csr!(r_stimecmp, w_stimecmp, "0x14d");
csr!(r_time, w_time_unused, "time");

pub const MSTATUS_MPP_MASK: usize = 3 << 11;
pub const MSTATUS_MPP_S: usize = 1 << 11;
pub const SSTATUS_SPP: usize = 1 << 8;
pub const SSTATUS_SPIE: usize = 1 << 5;
pub const SSTATUS_SIE: usize = 1 << 1;
pub const SIE_SEIE: usize = 1 << 9;
pub const SIE_STIE: usize = 1 << 5;
pub const MIE_STIE: usize = 1 << 5;

/// Reads `tp`, which holds this hart's id (set in `start`).
#[inline(always)]
pub fn r_tp() -> usize {
    let x: usize;
    // SAFETY: reads a register.
    unsafe { asm!("mv {0}, tp", out(reg) x) };
    x
}

/// Writes `tp`.
#[inline(always)]
pub fn w_tp(x: usize) {
    // SAFETY: tp is reserved for the hart id in this kernel (no TLS).
    unsafe { asm!("mv tp, {0}", in(reg) x) };
}

/// Enables supervisor interrupts on this hart.
#[inline(always)]
pub fn intr_on() {
    w_sstatus(r_sstatus() | SSTATUS_SIE);
}

/// Disables supervisor interrupts on this hart.
#[inline(always)]
pub fn intr_off() {
    w_sstatus(r_sstatus() & !SSTATUS_SIE);
}

/// Are supervisor interrupts enabled?
#[inline(always)]
pub fn intr_get() -> bool {
    r_sstatus() & SSTATUS_SIE != 0
}

/// Flushes all TLB entries of this hart (`sfence.vma zero, zero`).
#[inline(always)]
pub fn sfence_vma() {
    // SAFETY: a TLB flush only affects translation caching.
    unsafe { asm!("sfence.vma zero, zero") };
}

pub const PGSIZE: usize = 4096;
pub const PGSHIFT: usize = 12;

/// Rounds `a` up to a page boundary.
#[inline(always)]
pub const fn pgroundup(a: usize) -> usize {
    (a + PGSIZE - 1) & !(PGSIZE - 1)
}

/// Rounds `a` down to a page boundary.
#[inline(always)]
pub const fn pgrounddown(a: usize) -> usize {
    a & !(PGSIZE - 1)
}

pub const PTE_V: u64 = 1 << 0;
pub const PTE_R: u64 = 1 << 1;
pub const PTE_W: u64 = 1 << 2;
pub const PTE_X: u64 = 1 << 3;
pub const PTE_U: u64 = 1 << 4;
/// Accessed: set in every leaf we create so hardware that faults on A = 0 never does.
pub const PTE_A: u64 = 1 << 6;
/// Dirty: likewise (Privileged ISA §4.3.1 allows either hardware update or a fault).
pub const PTE_D: u64 = 1 << 7;
/// Copy-on-write page: the first RSW bit (bit 8), ignored by the MMU (Privileged ISA §4.4.1).
pub const PTE_COW: u64 = 1 << 8;

/// Physical address → PTE PPN field.
#[inline(always)]
pub const fn pa2pte(pa: usize) -> u64 {
    ((pa >> 12) << 10) as u64
}

/// PTE → the physical address it maps.
#[inline(always)]
pub const fn pte2pa(pte: u64) -> usize {
    ((pte >> 10) << 12) as usize
}

/// The low 10 flag bits of a PTE.
#[inline(always)]
pub const fn pte_flags(pte: u64) -> u64 {
    pte & 0x3ff
}

/// 9-bit VPN index of `va` at page-table `level` (2 = root).
#[inline(always)]
pub const fn px(level: usize, va: usize) -> usize {
    (va >> (PGSHIFT + 9 * level)) & 0x1ff
}

/// One past the highest Sv39 virtual address xv6 uses (bit 38 clear avoids sign extension).
pub const MAXVA: usize = 1 << (9 + 9 + 9 + 12 - 1);

/// satp value selecting Sv39 with root page table `pagetable`.
#[inline(always)]
pub const fn make_satp(pagetable: usize) -> usize {
    (8 << 60) | (pagetable >> 12)
}

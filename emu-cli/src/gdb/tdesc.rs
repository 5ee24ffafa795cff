//! The target description XML sent to gdb (`qXfer:features:read:target.xml`): RV64 integer
//! registers, the FP registers with `fflags`/`frm`/`fcsr`, the CSRs the hart implements and
//! gdb's `priv` — so that `info registers sstatus`, `p/x $satp` and `p $priv` work.
//!
//! Register numbers follow gdb's RISC-V numbering (and `gdbstub_arch`'s `RiscvRegId`): x0–x31
//! are 0–31, pc 32, f0–f31 33–64, CSR n is 65 + n, `priv` is 4161. Features and names are
//! those gdb's RISC-V target expects (`org.gnu.gdb.riscv.cpu`, `.fpu`, `.csr`, `.virtual`).

use emu_core::hart::debug::DEBUG_CSRS;

/// gdb's register number of CSR `csr`.
pub fn csr_regnum(csr: u16) -> usize {
    65 + csr as usize
}

/// gdb's register number of `priv`.
pub const PRIV_REGNUM: usize = 4161;

/// The ABI names of x0..x31 (gdb's RISC-V target knows them by these).
const X_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// The ABI names of f0..f31.
const F_NAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

/// The whole target description, one document (no includes).
pub fn target_xml() -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n<architecture>riscv:rv64</architecture>\n",
    );
    x.push_str("<feature name=\"org.gnu.gdb.riscv.cpu\">\n");
    for (i, name) in X_NAMES.iter().enumerate() {
        let ty = match i {
            1 => "code_ptr",
            2 | 3 | 4 | 8 => "data_ptr",
            _ => "int",
        };
        x.push_str(&format!(
            "  <reg name=\"{name}\" bitsize=\"64\" type=\"{ty}\" regnum=\"{i}\"/>\n"
        ));
    }
    x.push_str("  <reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\"/>\n</feature>\n");
    x.push_str("<feature name=\"org.gnu.gdb.riscv.fpu\">\n");
    x.push_str(
        "  <union id=\"riscv_double\">\n    <field name=\"float\" type=\"ieee_single\"/>\n    <field name=\"double\" type=\"ieee_double\"/>\n  </union>\n",
    );
    for (i, name) in F_NAMES.iter().enumerate() {
        x.push_str(&format!(
            "  <reg name=\"{name}\" bitsize=\"64\" type=\"riscv_double\" regnum=\"{}\"/>\n",
            33 + i
        ));
    }
    for &(name, csr) in &DEBUG_CSRS[..3] {
        x.push_str(&format!(
            "  <reg name=\"{name}\" bitsize=\"64\" type=\"int\" regnum=\"{}\" group=\"float\"/>\n",
            csr_regnum(csr)
        ));
    }
    x.push_str("</feature>\n<feature name=\"org.gnu.gdb.riscv.csr\">\n");
    for &(name, csr) in &DEBUG_CSRS[3..] {
        x.push_str(&format!(
            "  <reg name=\"{name}\" bitsize=\"64\" type=\"int\" regnum=\"{}\" group=\"system\"/>\n",
            csr_regnum(csr)
        ));
    }
    x.push_str("</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n");
    x.push_str(&format!(
        "  <reg name=\"priv\" bitsize=\"8\" type=\"int\" regnum=\"{PRIV_REGNUM}\" group=\"system\"/>\n"
    ));
    x.push_str("</feature>\n</target>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_names_the_csrs_gdb_users_ask_for() {
        let x = target_xml();
        for (name, regnum) in [
            ("sstatus", 65 + 0x100),
            ("scause", 65 + 0x142),
            ("satp", 65 + 0x180),
            ("mcause", 65 + 0x342),
            ("fcsr", 68),
            ("priv", 4161),
            ("pc", 32),
            ("ft0", 33),
        ] {
            let needle = format!("name=\"{name}\"");
            let line = x
                .lines()
                .find(|l| l.contains(&needle))
                .unwrap_or_else(|| panic!("{name} missing"));
            assert!(line.contains(&format!("regnum=\"{regnum}\"")), "{line}");
        }
        assert_eq!(x.matches("<feature").count(), 4);
    }
}

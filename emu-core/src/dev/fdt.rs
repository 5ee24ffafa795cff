//! The flattened device tree describing this board (Devicetree Specification v0.4; RISC-V
//! bindings as used by QEMU `virt` and Linux), built with `vm-fdt`. QEMU places it at the top
//! of RAM, 2 MiB-aligned (see [`dtb_address`]); the reset ROM passes its address in `a1`.

use vm_fdt::{FdtWriter, FdtWriterResult};

use super::clint::{CLINT_SIZE, MTIME_HZ};
use super::flash::{FLASH_BANK_SIZE, FLASH_BASE};
use super::fw_cfg::FW_CFG_SIZE;
use super::plic::{PLIC_SIZE, PLIC_SOURCES};
use super::rtc::{RTC_IRQ, RTC_SIZE};
use super::test_finisher::TEST_FINISHER_SIZE;
use super::uart::{UART_IRQ, UART_SIZE};
use super::virtio::mmio::VIRTIO_MMIO_SIZE;
use crate::bus::{
    CLINT_BASE, FW_CFG_BASE, PLIC_BASE, RTC_BASE, TEST_FINISHER_BASE, UART_BASE, VIRTIO_BASE,
    VIRTIO_IRQ_BASE, VIRTIO_SLOTS,
};

/// ISA string of our harts (RV64GC with the extensions the hart implements, in canonical
/// order): Zicntr (`cycle`/`time`/`instret`) and Zihpm (`hpmcounter3..31`, reading 0) as QEMU 8
/// and later list them, Sstc (`stimecmp`).
pub const RISCV_ISA: &str = "rv64imafdc_zicntr_zicsr_zifencei_zihpm_sstc";

/// Where the DTB of `len` bytes goes: the highest 2 MiB-aligned address below the end of
/// RAM (and below 3 GiB of physical address space), as QEMU's `riscv_compute_fdt_addr` does.
/// When that would land in the lower half of a small RAM (where the kernel goes), the highest
/// 4 KiB-aligned address is used instead.
pub fn dtb_address(ram_base: u64, ram_size: u64, len: u64) -> u64 {
    let top = (ram_base + ram_size).min(0xc000_0000.max(ram_base + len));
    let aligned = (top - len) & !(2 * 1024 * 1024 - 1);
    if aligned >= ram_base + ram_size / 2 {
        aligned
    } else {
        (top - len) & !0xfff
    }
}

fn reg(base: u64, size: u64) -> [u64; 2] {
    [base, size]
}

/// What `/chosen` says beyond `stdout-path` (QEMU hw/riscv/boot.c: `-append`, `-initrd`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chosen {
    /// `bootargs`: the kernel command line (`--append`).
    pub bootargs: Option<String>,
    /// `linux,initrd-start` and `linux,initrd-end` (one past the last byte), 64-bit values as
    /// QEMU 8 and later write them.
    pub initrd: Option<(u64, u64)>,
}

/// `riscv,isa-base` and `riscv,isa-extensions` (the bindings of Linux
/// Documentation/devicetree/bindings/riscv/extensions.yaml) for an ISA string such as
/// [`RISCV_ISA`]: "rv64i" and the single letters, then the multi-letter extensions.
pub fn isa_base_and_extensions(isa: &str) -> (String, Vec<String>) {
    let mut parts = isa.split('_');
    let first = parts.next().unwrap_or("");
    let base = first.get(..5).unwrap_or(first);
    let mut exts: Vec<String> = first
        .get(4..)
        .unwrap_or("")
        .chars()
        .map(|c| c.to_string())
        .collect();
    exts.extend(parts.map(str::to_string));
    (base.to_string(), exts)
}

/// Build the DTB for `harts` harts and `ram_size` bytes of RAM at `ram_base`.
pub fn build_fdt(harts: usize, ram_base: u64, ram_size: u64) -> FdtWriterResult<Vec<u8>> {
    build_fdt_with(harts, ram_base, ram_size, &Chosen::default())
}

/// Build the DTB as [`build_fdt`] does, with `chosen`'s command line and initrd in `/chosen`.
pub fn build_fdt_with(
    harts: usize,
    ram_base: u64,
    ram_size: u64,
    chosen: &Chosen,
) -> FdtWriterResult<Vec<u8>> {
    let mut fdt = FdtWriter::new()?;
    let root = fdt.begin_node("")?;
    fdt.property_u32("#address-cells", 2)?;
    fdt.property_u32("#size-cells", 2)?;
    fdt.property_string("compatible", "riscv-virtio")?;
    fdt.property_string("model", "riscv-virtio,qemu")?;

    let chosen_node = fdt.begin_node("chosen")?;
    if let Some((start, end)) = chosen.initrd {
        fdt.property_u64("linux,initrd-start", start)?;
        fdt.property_u64("linux,initrd-end", end)?;
    }
    if let Some(args) = &chosen.bootargs {
        fdt.property_string("bootargs", args)?;
    }
    fdt.property_string("stdout-path", &format!("/soc/serial@{UART_BASE:x}"))?;
    fdt.end_node(chosen_node)?;

    // phandles: 1..=harts for the harts' interrupt controllers, then the PLIC, then the test
    // device (the regmap of the syscon power-off and reboot nodes, as QEMU's).
    let intc_phandle = |h: usize| h as u32 + 1;
    let plic_phandle = harts as u32 + 1;
    let test_phandle = plic_phandle + 1;
    for (node, compatible, value) in [
        ("poweroff", "syscon-poweroff", 0x5555),
        ("reboot", "syscon-reboot", 0x7777),
    ] {
        let n = fdt.begin_node(node)?;
        fdt.property_u32("value", value)?;
        fdt.property_u32("offset", 0)?;
        fdt.property_u32("regmap", test_phandle)?;
        fdt.property_string("compatible", compatible)?;
        fdt.end_node(n)?;
    }

    let mem = fdt.begin_node(&format!("memory@{ram_base:x}"))?;
    fdt.property_string("device_type", "memory")?;
    fdt.property_array_u64("reg", &reg(ram_base, ram_size))?;
    fdt.end_node(mem)?;

    let cpus = fdt.begin_node("cpus")?;
    fdt.property_u32("#address-cells", 1)?;
    fdt.property_u32("#size-cells", 0)?;
    fdt.property_u32("timebase-frequency", MTIME_HZ as u32)?;
    for h in 0..harts {
        let cpu = fdt.begin_node(&format!("cpu@{h}"))?;
        fdt.property_string("device_type", "cpu")?;
        fdt.property_u32("reg", h as u32)?;
        fdt.property_string("status", "okay")?;
        fdt.property_string("compatible", "riscv")?;
        fdt.property_string("riscv,isa", RISCV_ISA)?;
        let (base, exts) = isa_base_and_extensions(RISCV_ISA);
        fdt.property_string("riscv,isa-base", &base)?;
        fdt.property_string_list("riscv,isa-extensions", exts)?;
        fdt.property_string("mmu-type", "riscv,sv39")?;
        let intc = fdt.begin_node("interrupt-controller")?;
        fdt.property_u32("#interrupt-cells", 1)?;
        fdt.property_null("interrupt-controller")?;
        fdt.property_string("compatible", "riscv,cpu-intc")?;
        fdt.property_phandle(intc_phandle(h))?;
        fdt.end_node(intc)?;
        fdt.end_node(cpu)?;
    }
    fdt.end_node(cpus)?;

    let soc = fdt.begin_node("soc")?;
    fdt.property_u32("#address-cells", 2)?;
    fdt.property_u32("#size-cells", 2)?;
    fdt.property_string("compatible", "simple-bus")?;
    fdt.property_null("ranges")?;

    let test = fdt.begin_node(&format!("test@{TEST_FINISHER_BASE:x}"))?;
    fdt.property_string_list(
        "compatible",
        vec![
            "sifive,test1".into(),
            "sifive,test0".into(),
            "syscon".into(),
        ],
    )?;
    fdt.property_array_u64("reg", &reg(TEST_FINISHER_BASE, TEST_FINISHER_SIZE))?;
    fdt.property_phandle(test_phandle)?;
    fdt.end_node(test)?;

    let clint = fdt.begin_node(&format!("clint@{CLINT_BASE:x}"))?;
    fdt.property_string_list(
        "compatible",
        vec!["sifive,clint0".into(), "riscv,clint0".into()],
    )?;
    fdt.property_array_u64("reg", &reg(CLINT_BASE, CLINT_SIZE))?;
    let ext: Vec<u32> = (0..harts)
        .flat_map(|h| [intc_phandle(h), 3, intc_phandle(h), 7])
        .collect();
    fdt.property_array_u32("interrupts-extended", &ext)?;
    fdt.end_node(clint)?;

    let plic = fdt.begin_node(&format!("plic@{PLIC_BASE:x}"))?;
    fdt.property_u32("#address-cells", 0)?;
    fdt.property_u32("#interrupt-cells", 1)?;
    fdt.property_string_list(
        "compatible",
        vec!["sifive,plic-1.0.0".into(), "riscv,plic0".into()],
    )?;
    fdt.property_null("interrupt-controller")?;
    fdt.property_array_u64("reg", &reg(PLIC_BASE, PLIC_SIZE))?;
    fdt.property_u32("riscv,ndev", PLIC_SOURCES as u32 - 1)?;
    let ext: Vec<u32> = (0..harts)
        .flat_map(|h| [intc_phandle(h), 11, intc_phandle(h), 9])
        .collect();
    fdt.property_array_u32("interrupts-extended", &ext)?;
    fdt.property_phandle(plic_phandle)?;
    fdt.end_node(plic)?;

    let rtc = fdt.begin_node(&format!("rtc@{RTC_BASE:x}"))?;
    fdt.property_u32("interrupts", RTC_IRQ as u32)?;
    fdt.property_u32("interrupt-parent", plic_phandle)?;
    fdt.property_array_u64("reg", &reg(RTC_BASE, RTC_SIZE))?;
    fdt.property_string("compatible", "google,goldfish-rtc")?;
    fdt.end_node(rtc)?;

    let serial = fdt.begin_node(&format!("serial@{UART_BASE:x}"))?;
    fdt.property_string("compatible", "ns16550a")?;
    fdt.property_array_u64("reg", &reg(UART_BASE, UART_SIZE))?;
    fdt.property_u32("clock-frequency", 3_686_400)?;
    fdt.property_u32("interrupt-parent", plic_phandle)?;
    fdt.property_u32("interrupts", UART_IRQ as u32)?;
    fdt.end_node(serial)?;

    for n in 0..VIRTIO_SLOTS {
        let base = VIRTIO_BASE + VIRTIO_MMIO_SIZE * n as u64;
        let node = fdt.begin_node(&format!("virtio_mmio@{base:x}"))?;
        fdt.property_string("compatible", "virtio,mmio")?;
        fdt.property_array_u64("reg", &reg(base, VIRTIO_MMIO_SIZE))?;
        fdt.property_u32("interrupt-parent", plic_phandle)?;
        fdt.property_u32("interrupts", (VIRTIO_IRQ_BASE + n) as u32)?;
        fdt.end_node(node)?;
    }
    fdt.end_node(soc)?;

    // At the root, as QEMU's: fw_cfg and the two flash banks.
    let fw_cfg = fdt.begin_node(&format!("fw-cfg@{FW_CFG_BASE:x}"))?;
    fdt.property_null("dma-coherent")?;
    fdt.property_array_u64("reg", &reg(FW_CFG_BASE, FW_CFG_SIZE))?;
    fdt.property_string("compatible", "qemu,fw-cfg-mmio")?;
    fdt.end_node(fw_cfg)?;
    let flash = fdt.begin_node(&format!("flash@{FLASH_BASE:x}"))?;
    fdt.property_u32("bank-width", 4)?;
    fdt.property_array_u64(
        "reg",
        &[
            FLASH_BASE,
            FLASH_BANK_SIZE,
            FLASH_BASE + FLASH_BANK_SIZE,
            FLASH_BANK_SIZE,
        ],
    )?;
    fdt.property_string("compatible", "cfi-flash")?;
    fdt.end_node(flash)?;
    fdt.end_node(root)?;
    fdt.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtb_header_and_placement() {
        let dtb = build_fdt(3, 0x8000_0000, 128 << 20).unwrap();
        assert_eq!(&dtb[0..4], &[0xd0, 0x0d, 0xfe, 0xed]);
        let total = u32::from_be_bytes(dtb[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, dtb.len());
        let text = String::from_utf8_lossy(&dtb);
        for s in [
            "cpu@2",
            "riscv,cpu-intc",
            "ns16550a",
            "virtio_mmio@10008000",
            "sifive,plic-1.0.0",
            "google,goldfish-rtc",
            "rtc@101000",
            "cfi-flash",
            "qemu,fw-cfg-mmio",
        ] {
            assert!(text.contains(s), "{s} missing");
        }
        let at = dtb_address(0x8000_0000, 128 << 20, dtb.len() as u64);
        assert_eq!(at, 0x8000_0000 + (128 << 20) - (2 << 20));
        assert_eq!(
            dtb_address(0x8000_0000, 0x10_0000, 0x1000),
            0x8000_0000 + 0xf_f000
        );
        for s in [
            "syscon-poweroff",
            "syscon-reboot",
            "riscv,isa-extensions",
            "zifencei",
        ] {
            assert!(text.contains(s), "{s} missing");
        }
        assert!(!text.contains("bootargs") && !text.contains("linux,initrd-start"));
    }

    #[test]
    fn isa_string_splits_into_base_and_extensions() {
        let (base, exts) = isa_base_and_extensions("rv64imafdc_zicsr_zifencei_sstc");
        assert_eq!(base, "rv64i");
        assert_eq!(
            exts,
            ["i", "m", "a", "f", "d", "c", "zicsr", "zifencei", "sstc"]
        );
    }

    #[test]
    fn chosen_carries_bootargs_and_initrd() {
        let chosen = Chosen {
            bootargs: Some("console=ttyS0 rdinit=/init".into()),
            initrd: Some((0x8420_0000, 0x8430_0000)),
        };
        let dtb = build_fdt_with(1, 0x8000_0000, 128 << 20, &chosen).unwrap();
        let text = String::from_utf8_lossy(&dtb);
        assert!(text.contains("console=ttyS0 rdinit=/init"));
        assert!(text.contains("linux,initrd-start") && text.contains("linux,initrd-end"));
        let at = dtb
            .windows(8)
            .position(|w| w == 0x8420_0000u64.to_be_bytes())
            .expect("initrd start as a 64-bit big-endian value");
        assert_eq!(
            &dtb[at + 8 + 12..at + 8 + 20],
            &0x8430_0000u64.to_be_bytes()
        );
    }
}

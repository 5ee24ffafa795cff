//! Our device tree against QEMU 7.2's for the same board and boot (`qemu-system-riscv64
//! -machine virt,dumpdtb=…` with the same harts, RAM, firmware, kernel, initrd and command
//! line): every node we have, QEMU has; the properties both have agree (phandle references
//! compared by the node they point at); and `/chosen`, the syscon power-off/reboot nodes and
//! the test device carry what OpenSBI, U-Boot and Linux look for.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use emu_core::{BootFile, BootImages, Machine, MachineConfig};

const FW_JUMP: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const UBOOT: &str = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin";
const APPEND: &str = "console=ttyS0 rdinit=/init";

type Props = BTreeMap<String, Vec<u8>>;

/// A flattened device tree as node path → property name → value.
#[derive(Debug)]
struct Tree {
    nodes: BTreeMap<String, Props>,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn be_number(v: &[u8]) -> u64 {
    v.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))
}

impl Tree {
    /// Parse a DTB (Devicetree Specification v0.4, chapter 5).
    fn parse(dtb: &[u8]) -> Tree {
        assert_eq!(be32(dtb, 0), 0xd00d_feed, "FDT magic");
        let structs = be32(dtb, 8) as usize;
        let strings = be32(dtb, 12) as usize;
        let mut at = structs;
        let mut path: Vec<String> = Vec::new();
        let mut nodes = BTreeMap::new();
        let align = |x: usize| (x + 3) & !3;
        loop {
            let token = be32(dtb, at);
            at += 4;
            match token {
                1 => {
                    let end = at + dtb[at..].iter().position(|&b| b == 0).unwrap();
                    let name = String::from_utf8_lossy(&dtb[at..end]).into_owned();
                    at = align(end + 1);
                    path.push(name);
                    nodes.insert(Self::join(&path), Props::new());
                }
                2 => {
                    path.pop();
                }
                3 => {
                    let len = be32(dtb, at) as usize;
                    let nameoff = be32(dtb, at + 4) as usize;
                    at += 8;
                    let s = &dtb[strings + nameoff..];
                    let name =
                        String::from_utf8_lossy(&s[..s.iter().position(|&b| b == 0).unwrap()])
                            .into_owned();
                    let value = dtb[at..at + len].to_vec();
                    at = align(at + len);
                    nodes
                        .get_mut(&Self::join(&path))
                        .unwrap()
                        .insert(name, value);
                }
                4 => {}
                9 => break,
                t => panic!("bad FDT token {t}"),
            }
        }
        Tree { nodes }
    }

    fn join(path: &[String]) -> String {
        let p = path
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join("/");
        format!("/{p}")
    }

    /// The path of the node whose `phandle` is `ph`.
    fn by_phandle(&self, ph: u32) -> String {
        self.nodes
            .iter()
            .find(|(_, p)| {
                p.get("phandle")
                    .is_some_and(|v| be_number(v) == u64::from(ph))
            })
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| format!("<no node with phandle {ph}>"))
    }

    /// A property made of phandles and cells, with every `stride`-th cell (from 0) a phandle
    /// replaced by the path of its node.
    fn resolve(&self, v: &[u8], stride: usize) -> Vec<String> {
        let cells: Vec<u32> = v.chunks(4).map(|c| be32(c, 0)).collect();
        cells
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                if i % stride == 0 {
                    self.by_phandle(c)
                } else {
                    c.to_string()
                }
            })
            .collect()
    }
}

fn qemu_dtb(initrd: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join("qemu.dtb");
    let o = Command::new("qemu-system-riscv64")
        .args(["-machine", &format!("virt,dumpdtb={}", out.display())])
        .args([
            "-smp",
            "3",
            "-m",
            "128M",
            "-nographic",
            "-bios",
            FW_JUMP,
            "-kernel",
            UBOOT,
        ])
        .args(["-initrd", initrd.to_str().unwrap(), "-append", APPEND])
        .output()
        .expect("qemu-system-riscv64 (install qemu-system-misc; .ci/run does)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(out).unwrap()
}

fn ours(initrd: &[u8]) -> Vec<u8> {
    let read = |p: &str| {
        BootFile::new(
            p,
            std::fs::read(p)
                .unwrap_or_else(|e| panic!("{p}: {e}; install opensbi and u-boot-qemu")),
        )
    };
    let mut m = Machine::new(MachineConfig {
        harts: 3,
        ..Default::default()
    })
    .unwrap();
    m.boot(BootImages {
        bios: Some(read(FW_JUMP)),
        kernel: Some(read(UBOOT)),
        initrd: Some(BootFile::new("initrd", initrd.to_vec())),
        append: Some(APPEND.into()),
    })
    .unwrap();
    m.boot_layout().unwrap().dtb.clone()
}

#[test]
fn device_tree_agrees_with_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let initrd = dir.path().join("initrd");
    let rd_bytes = vec![0x5a; 12_345];
    std::fs::write(&initrd, &rd_bytes).unwrap();
    let q = Tree::parse(&qemu_dtb(&initrd, dir.path()));
    let o = Tree::parse(&ours(&rd_bytes));

    // Properties that differ on purpose: our harts are RV64GC with Sv39 (QEMU's default CPU
    // has H, bit-manipulation and Sv48); QEMU 7.2 writes the initrd bounds as 32-bit cells,
    // QEMU 8 and we as 64-bit (compared as numbers below); `phandle` numbers are arbitrary
    // (references are compared by target below).
    let differ = ["riscv,isa", "mmu-type", "phandle"];
    // Known: our PLIC models all 1023 sources; QEMU's has 96 (riscv,ndev).
    let known = [("/soc/plic@c000000", "riscv,ndev")];
    let phandle_props = [
        ("regmap", 1),
        ("interrupt-parent", 1),
        ("interrupts-extended", 2),
    ];
    let mut mismatches = Vec::new();
    for (path, props) in &o.nodes {
        let qprops = q
            .nodes
            .get(path)
            .unwrap_or_else(|| panic!("QEMU has no node {path}; its nodes: {:?}", q.nodes.keys()));
        for (name, value) in props {
            let Some(qvalue) = qprops.get(name) else {
                continue;
            };
            if differ.contains(&name.as_str()) || known.contains(&(path.as_str(), name.as_str())) {
                continue;
            }
            let same = if let Some(&(_, stride)) = phandle_props.iter().find(|(p, _)| p == name) {
                o.resolve(value, stride) == q.resolve(qvalue, stride)
            } else if name.starts_with("linux,initrd-") {
                be_number(value) == be_number(qvalue)
            } else {
                value == qvalue
            };
            if !same {
                mismatches.push(format!(
                    "{path} {name}: ours {value:02x?}, QEMU {qvalue:02x?}"
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "differ from QEMU:\n{}",
        mismatches.join("\n")
    );
    // What firmware and kernels look for is there (not merely consistent where present).
    let chosen = &o.nodes["/chosen"];
    for p in [
        "bootargs",
        "stdout-path",
        "linux,initrd-start",
        "linux,initrd-end",
    ] {
        assert!(chosen.contains_key(p), "/chosen {p}");
    }
    let span = be_number(&chosen["linux,initrd-end"]) - be_number(&chosen["linux,initrd-start"]);
    assert_eq!(span, rd_bytes.len() as u64);
    for node in ["/poweroff", "/reboot"] {
        for p in ["compatible", "regmap", "offset", "value"] {
            assert!(o.nodes[node].contains_key(p), "{node} {p}");
        }
    }
    assert!(o.nodes["/soc/test@100000"]["compatible"].ends_with(b"syscon\0"));
    let cpu = &o.nodes["/cpus/cpu@0"];
    assert_eq!(cpu["riscv,isa-base"], b"rv64i\0");
    assert!(cpu["riscv,isa-extensions"].starts_with(b"i\0m\0a\0f\0d\0c\0"));
}

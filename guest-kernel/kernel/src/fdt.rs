//! A small reader of the flattened device tree the board passes in `a1` at boot: just enough
//! to find the RAM (`/memory` node, `reg` property). Devicetree Specification v0.4, §5
//! (header, structure block tokens) and §2.3.6/§3.4 (`#address-cells`, `#size-cells`, `reg`).
//!
//! The reader only reads the blob and returns plain values, so the blob may be reused as
//! free memory once the caller has what it needs (the kernel reads it before `kinit`).

/// FDT header magic (big-endian in the blob).
const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
/// Largest blob we accept (a sanity bound on `totalsize`).
const FDT_MAX_SIZE: usize = 1 << 20;

/// A device-tree blob in memory.
pub struct Fdt {
    base: usize,
    size: usize,
    off_struct: usize,
    off_strings: usize,
}

/// Reads a big-endian u32 at `addr`.
fn be32(addr: usize) -> u32 {
    // SAFETY: callers only pass addresses inside the blob, which the board placed in RAM.
    u32::from_be(unsafe { core::ptr::read_unaligned(addr as *const u32) })
}

impl Fdt {
    /// The blob at physical address `base`, or None if it has no FDT magic or a bad header.
    pub fn new(base: usize) -> Option<Fdt> {
        if base == 0 || !base.is_multiple_of(4) || be32(base) != FDT_MAGIC {
            return None;
        }
        let size = be32(base + 4) as usize;
        let off_struct = be32(base + 8) as usize;
        let off_strings = be32(base + 12) as usize;
        if size > FDT_MAX_SIZE || off_struct >= size || off_strings >= size {
            return None;
        }
        Some(Fdt {
            base,
            size,
            off_struct,
            off_strings,
        })
    }

    /// The blob's `totalsize` in bytes.
    pub fn total_size(&self) -> usize {
        self.size
    }

    /// The NUL-terminated string at blob offset `off` (at most to the end of the blob).
    fn str_at(&self, off: usize) -> &[u8] {
        let start = self.base + off.min(self.size);
        let mut n = 0;
        // SAFETY: stays inside the blob.
        while off + n < self.size && unsafe { *((start + n) as *const u8) } != 0 {
            n += 1;
        }
        // SAFETY: [start, start + n) lies inside the blob.
        unsafe { core::slice::from_raw_parts(start as *const u8, n) }
    }

    /// The first `(base, size)` of the `reg` property of the top-level `memory` node (name
    /// `memory` or `memory@…`), decoded with the root's `#address-cells`/`#size-cells`
    /// (defaults 2 and 1). None if the blob has no such node or it is malformed.
    pub fn memory(&self) -> Option<(u64, u64)> {
        let mut off = self.off_struct;
        let mut depth = 0usize;
        let mut in_memory = false;
        let (mut acells, mut scells) = (2u32, 1u32);
        while off + 4 <= self.size {
            let token = be32(self.base + off);
            off += 4;
            match token {
                FDT_BEGIN_NODE => {
                    let name = self.str_at(off);
                    off = (off + name.len() + 1).next_multiple_of(4);
                    depth += 1;
                    in_memory = depth == 2 && (name == b"memory" || name.starts_with(b"memory@"));
                }
                FDT_END_NODE => {
                    depth = depth.checked_sub(1)?;
                    in_memory = false;
                }
                FDT_PROP => {
                    if off + 8 > self.size {
                        return None;
                    }
                    let len = be32(self.base + off) as usize;
                    let name = self.str_at(self.off_strings + be32(self.base + off + 4) as usize);
                    let val = off + 8;
                    off = (val + len).next_multiple_of(4);
                    if off > self.size {
                        return None;
                    }
                    if depth == 1 && len == 4 && name == b"#address-cells" {
                        acells = be32(self.base + val);
                    } else if depth == 1 && len == 4 && name == b"#size-cells" {
                        scells = be32(self.base + val);
                    } else if in_memory && name == b"reg" {
                        if !(1..=2).contains(&acells) || !(1..=2).contains(&scells) {
                            return None;
                        }
                        if len < 4 * (acells + scells) as usize {
                            return None;
                        }
                        let cells = |at: usize, n: u32| -> u64 {
                            (0..n as usize)
                                .fold(0u64, |v, i| (v << 32) | be32(self.base + at + 4 * i) as u64)
                        };
                        let base = cells(val, acells);
                        let size = cells(val + 4 * acells as usize, scells);
                        return Some((base, size));
                    }
                }
                FDT_NOP => {}
                FDT_END => return None,
                _ => return None,
            }
        }
        None
    }
}

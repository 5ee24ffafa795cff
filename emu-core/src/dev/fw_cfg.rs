//! QEMU firmware configuration device ("qemu,fw-cfg-mmio") at 0x1010_0000 on `virt`, as QEMU
//! 7.2 presents it with no `-fw_cfg` options (QEMU docs/specs/fw_cfg.txt; hw/nvram/fw_cfg.c):
//!
//! - 0x00 data (1 to 8 bytes): the next bytes of the selected item, in memory order; zeros past
//!   its end. Writes are ignored.
//! - 0x08 selector (2-byte big-endian writes only; reads and other widths are access faults):
//!   selects an item and rewinds it.
//! - 0x10 DMA address (big-endian; an 8-byte write, or 4-byte writes of the high then the low
//!   half, starts a transfer); reads return the signature "QEMU CFG".
//!
//! Items: 0x00 signature "QEMU", 0x01 features (traditional and DMA interfaces), 0x02 UUID
//! (zero), 0x04 nographic (1), 0x05 number of harts, 0x0e boot menu (0), 0x19 the file
//! directory with QEMU's three files: `bios-geometry` and `bootorder` (empty) and
//! `etc/boot-fail-wait` (-1). Other selectors read zeros, as QEMU's unused items.

use crate::bus::Ram;
use crate::dev::{BusFault, Device, Size};

/// Size of the fw_cfg register window in bytes.
pub const FW_CFG_SIZE: u64 = 0x18;

const DATA: u64 = 0x00;
const SELECTOR: u64 = 0x08;
const DMA: u64 = 0x10;
const DMA_SIGNATURE: &[u8; 8] = b"QEMU CFG";

const DMA_ERROR: u32 = 0x01;
const DMA_READ: u32 = 0x02;
const DMA_SKIP: u32 = 0x04;
const DMA_SELECT: u32 = 0x08;
const DMA_WRITE: u32 = 0x10;

/// The fw_cfg device: items by selector, the current selection and read offset, the DMA
/// address being written.
#[derive(Debug, Clone)]
pub struct FwCfg {
    items: Vec<(u16, Vec<u8>)>,
    selector: u16,
    offset: usize,
    dma_high: u32,
    /// A DMA transfer requested by a write, run by [`FwCfg::process`] (it needs RAM).
    dma_request: Option<u64>,
}

impl FwCfg {
    /// The device for a board with `harts` harts.
    pub fn new(harts: usize) -> FwCfg {
        let files: [(&str, u16, Vec<u8>); 3] = [
            ("bios-geometry", 0x20, Vec::new()),
            ("bootorder", 0x21, Vec::new()),
            ("etc/boot-fail-wait", 0x22, (-1i32).to_le_bytes().to_vec()),
        ];
        let mut dir = (files.len() as u32).to_be_bytes().to_vec();
        for (name, key, data) in &files {
            dir.extend_from_slice(&(data.len() as u32).to_be_bytes());
            dir.extend_from_slice(&key.to_be_bytes());
            dir.extend_from_slice(&[0, 0]);
            let mut n = [0u8; 56];
            n[..name.len()].copy_from_slice(name.as_bytes());
            dir.extend_from_slice(&n);
        }
        let mut items = vec![
            (0x00, b"QEMU".to_vec()),
            (0x01, 3u32.to_le_bytes().to_vec()),
            (0x02, vec![0; 16]),
            (0x04, 1u16.to_le_bytes().to_vec()),
            (0x05, (harts as u16).to_le_bytes().to_vec()),
            (0x0e, 0u16.to_le_bytes().to_vec()),
            (0x19, dir),
        ];
        items.extend(files.into_iter().map(|(_, k, d)| (k, d)));
        FwCfg {
            items,
            selector: 0,
            offset: 0,
            dma_high: 0,
            dma_request: None,
        }
    }

    fn item(&self) -> &[u8] {
        self.items
            .iter()
            .find(|(k, _)| *k == self.selector)
            .map_or(&[], |(_, d)| d)
    }

    fn select(&mut self, key: u16) {
        self.selector = key;
        self.offset = 0;
    }

    /// Fill `out` with the next bytes of the selected item (zeros past its end), advancing.
    fn next_bytes(&mut self, out: &mut [u8]) {
        let item = self.item();
        let start = self.offset.min(item.len());
        let end = self.offset.saturating_add(out.len()).min(item.len());
        out[..end - start].copy_from_slice(&item[start..end]);
        out[end - start..].fill(0);
        self.offset = self.offset.saturating_add(out.len());
    }

    /// Run a DMA transfer requested by a write of the DMA address: read the `FWCfgDmaAccess`
    /// structure (big-endian control, length, address) from RAM, select/read/skip, and write
    /// the control word back (0, or the error bit: writes are not supported, or RAM is
    /// missing).
    pub fn process(&mut self, ram: &mut Ram) {
        let Some(at) = self.dma_request.take() else {
            return;
        };
        let mut desc = [0u8; 16];
        if ram.read_bytes(at, &mut desc).is_err() {
            return;
        }
        let control = u32::from_be_bytes(desc[0..4].try_into().unwrap());
        let length = u32::from_be_bytes(desc[4..8].try_into().unwrap()) as usize;
        let address = u64::from_be_bytes(desc[8..16].try_into().unwrap());
        if control & DMA_SELECT != 0 {
            self.select((control >> 16) as u16);
        }
        let mut status = 0;
        if control & DMA_WRITE != 0 {
            status = DMA_ERROR;
        } else if control & DMA_READ != 0 {
            // The length is the guest's (up to 4 GiB): copy through a page-sized buffer, never
            // a buffer of that length. Past the item's end the guest gets zeros, as QEMU's
            // `fw_cfg_dma_transfer` writes them.
            if ram.contains(address, length as u64) {
                let mut buf = [0u8; 4096];
                let mut done = 0;
                while done < length {
                    let n = (length - done).min(buf.len());
                    self.next_bytes(&mut buf[..n]);
                    let _ = ram.write_bytes(address + done as u64, &buf[..n]);
                    done += n;
                }
            } else {
                self.offset = self.offset.saturating_add(length);
                status = DMA_ERROR;
            }
        } else if control & DMA_SKIP != 0 {
            self.offset = self.offset.saturating_add(length);
        }
        let _ = ram.write_bytes(at, &status.to_be_bytes());
    }
}

impl Device for FwCfg {
    fn read(&mut self, offset: u64, size: Size) -> Result<u64, BusFault> {
        let fault = BusFault { addr: offset };
        let n = size as usize;
        let mut b = [0u8; 8];
        match offset {
            DATA..=0x07 if offset as usize + n <= 8 => {
                self.next_bytes(&mut b[..n]);
            }
            DMA..=0x17 if offset + size as u64 <= FW_CFG_SIZE => {
                let at = (offset - DMA) as usize;
                b[..n].copy_from_slice(&DMA_SIGNATURE[at..at + n]);
            }
            _ => return Err(fault),
        }
        Ok(u64::from_le_bytes(b))
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) -> Result<(), BusFault> {
        match (offset, size) {
            (DATA..=0x07, _) if offset + size as u64 <= 8 => Ok(()),
            (SELECTOR, 2) => {
                self.select((value as u16).swap_bytes());
                Ok(())
            }
            (DMA, 8) => {
                self.dma_request = Some(value.swap_bytes());
                Ok(())
            }
            (DMA, 4) => {
                self.dma_high = (value as u32).swap_bytes();
                Ok(())
            }
            (0x14, 4) => {
                let low = (value as u32).swap_bytes();
                self.dma_request = Some((self.dma_high as u64) << 32 | low as u64);
                Ok(())
            }
            _ => Err(BusFault { addr: offset }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_features_and_file_directory() {
        let mut f = FwCfg::new(3);
        f.write(SELECTOR, 2, 0x0000).unwrap();
        assert_eq!(
            f.read(DATA, 4).unwrap(),
            u32::from_le_bytes(*b"QEMU") as u64
        );
        assert_eq!(f.read(DATA, 4).unwrap(), 0, "zeros past the end");
        f.write(SELECTOR, 2, 0x0100).unwrap();
        assert_eq!(f.read(DATA, 1).unwrap(), 3);
        f.write(SELECTOR, 2, 0x0500).unwrap();
        assert_eq!(f.read(DATA, 2).unwrap(), 3);
        f.write(SELECTOR, 2, 0x1900).unwrap();
        assert_eq!(f.read(DATA, 4).unwrap(), 3u32.to_be() as u64);
        assert!(f.read(SELECTOR, 2).is_err() && f.write(SELECTOR, 4, 0).is_err());
        assert_eq!(f.read(DMA, 8).unwrap(), u64::from_le_bytes(*DMA_SIGNATURE));
    }

    #[test]
    fn dma_read_of_the_signature() {
        let mut ram = Ram::new(0x8000_0000, 0x1000);
        let mut desc = Vec::new();
        desc.extend_from_slice(&(DMA_SELECT | DMA_READ).to_be_bytes());
        desc.extend_from_slice(&6u32.to_be_bytes());
        desc.extend_from_slice(&0x8000_0100u64.to_be_bytes());
        ram.write_bytes(0x8000_0000, &desc).unwrap();
        let mut f = FwCfg::new(1);
        f.write(DMA, 8, 0x8000_0000u64.swap_bytes()).unwrap();
        f.process(&mut ram);
        let mut out = [0xffu8; 6];
        ram.read_bytes(0x8000_0100, &mut out).unwrap();
        assert_eq!(&out, b"QEMU\0\0");
        assert_eq!(
            ram.read(0x8000_0000, 4).unwrap(),
            0,
            "control cleared: done"
        );
    }

    /// Write a DMA descriptor at RAM's base, run it, and return the control word it left.
    fn dma(f: &mut FwCfg, ram: &mut Ram, control: u32, length: u32, address: u64) -> u32 {
        let mut desc = Vec::new();
        desc.extend_from_slice(&control.to_be_bytes());
        desc.extend_from_slice(&length.to_be_bytes());
        desc.extend_from_slice(&address.to_be_bytes());
        ram.write_bytes(0x8000_0000, &desc).unwrap();
        f.write(DMA, 8, 0x8000_0000u64.swap_bytes()).unwrap();
        f.process(ram);
        u32::from_be(ram.read(0x8000_0000, 4).unwrap() as u32)
    }

    #[test]
    fn dma_read_longer_than_the_item_writes_zeros_after_it() {
        let mut ram = Ram::new(0x8000_0000, 0x4000);
        ram.write_bytes(0x8000_1000, &[0xaa; 0x2000]).unwrap();
        let mut f = FwCfg::new(1);
        let status = dma(&mut f, &mut ram, DMA_SELECT | DMA_READ, 0x2000, 0x8000_1000);
        assert_eq!(status, 0);
        let mut out = vec![0xffu8; 0x2000];
        ram.read_bytes(0x8000_1000, &mut out).unwrap();
        assert_eq!(&out[..4], b"QEMU");
        assert!(out[4..].iter().all(|&b| b == 0), "zeros past the item");
    }

    #[test]
    fn dma_read_of_four_gib_outside_ram_is_an_error() {
        let mut ram = Ram::new(0x8000_0000, 0x1000);
        let mut f = FwCfg::new(1);
        let status = dma(
            &mut f,
            &mut ram,
            DMA_SELECT | DMA_READ,
            u32::MAX,
            0x8000_0100,
        );
        assert_eq!(status, DMA_ERROR);
        // The selection's offset moved past the request, as a read would have moved it.
        assert_eq!(f.read(DATA, 4).unwrap(), 0);
    }
}

//! Reading the host files a boot needs — kernel and disk image — with one-line errors that name
//! the file and say how to fix it.

use std::path::Path;

use anyhow::{anyhow, Result};

/// `e_machine` of a RISC-V ELF file (ELF psABI for RISC-V).
const EM_RISCV: u16 = 243;

/// How the kernel bytes are to be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelFormat {
    /// An ELF64 RISC-V executable: PT_LOAD segments at their physical addresses, entry point.
    Elf,
    /// A raw image copied to 0x8000_0000 and entered there.
    Raw,
}

/// The fix printed after every kernel error.
const KERNEL_FIX: &str = "give a RISC-V 64-bit ELF kernel (e.g. xv6's kernel/kernel) or a raw image named *.bin, or omit KERNEL to boot the bundled kernel";

/// Reads a kernel file and decides its format: an ELF (checked to be 64-bit RISC-V), or a raw
/// image when the file name ends in `.bin` or it carries the RISC-V Linux `Image` magic
/// (`"RSC\x05"` at offset 0x38). Anything else is refused: a text file or an x86 binary booted
/// as raw code would only crash the guest.
///
/// # Errors
/// One line: `kernel <path>: <problem>; <fix>`.
pub fn read_kernel(path: &Path) -> Result<(Vec<u8>, KernelFormat)> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow!("kernel {shown}: {}; {KERNEL_FIX}", io_reason(&e)))?;
    let format = kernel_format(&bytes, path)
        .map_err(|problem| anyhow!("kernel {shown}: {problem}; {KERNEL_FIX}"))?;
    Ok((bytes, format))
}

/// Classifies kernel bytes (see [`read_kernel`]); `Err` says what is wrong with them.
pub fn kernel_format(bytes: &[u8], path: &Path) -> Result<KernelFormat, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if bytes.starts_with(b"\x7fELF") {
        if bytes.len() < 64 {
            return Err("truncated ELF header".into());
        }
        let class = bytes[4];
        let little_endian = bytes[5] == 1;
        let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
        if !little_endian || machine != EM_RISCV {
            return Err(format!(
                "an ELF file for another machine ({})",
                machine_name(machine, little_endian)
            ));
        }
        if class != 2 {
            return Err("a 32-bit RISC-V ELF; this board runs RV64".into());
        }
        return Ok(KernelFormat::Elf);
    }
    let linux_image = bytes.get(0x38..0x3c) == Some(b"RSC\x05");
    let named_raw = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("bin"));
    if linux_image || named_raw {
        return Ok(KernelFormat::Raw);
    }
    Err("not an ELF file".into())
}

fn machine_name(machine: u16, little_endian: bool) -> String {
    if !little_endian {
        return "big-endian".into();
    }
    match machine {
        3 => "x86".into(),
        40 => "ARM".into(),
        62 => "x86-64".into(),
        183 => "AArch64".into(),
        m => format!("e_machine {m}"),
    }
}

/// Reads a firmware file (`--bios`): an ELF (checked to be 64-bit RISC-V) or a raw binary.
///
/// # Errors
/// One line: `firmware <path>: <problem>; <fix>`.
pub fn read_firmware(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display();
    let fix = "give an M-mode firmware ELF or raw binary, e.g. \
               /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf, or --bios none";
    let bytes =
        std::fs::read(path).map_err(|e| anyhow!("firmware {shown}: {}; {fix}", io_reason(&e)))?;
    if bytes.is_empty() {
        return Err(anyhow!("firmware {shown}: the file is empty; {fix}"));
    }
    if bytes.starts_with(b"\x7fELF") {
        // The ELF checks of a kernel apply; the raw-image naming rule does not.
        kernel_format(&bytes, path).map_err(|p| anyhow!("firmware {shown}: {p}; {fix}"))?;
    }
    Ok(bytes)
}

/// Reads an initrd file (`--initrd`): any bytes (a cpio archive, possibly compressed).
///
/// # Errors
/// One line: `initrd <path>: <problem>; <fix>`.
pub fn read_initrd(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display();
    let fix = "give an initramfs (e.g. a cpio archive made with `cpio -H newc -o`)";
    let bytes =
        std::fs::read(path).map_err(|e| anyhow!("initrd {shown}: {}; {fix}", io_reason(&e)))?;
    if bytes.is_empty() {
        return Err(anyhow!("initrd {shown}: the file is empty; {fix}"));
    }
    Ok(bytes)
}

/// Checks that a disk image exists and is a readable regular file, writable when `write`
/// (`--disk IMG` without `--snapshot`), so that the error names the file and the fix before
/// the machine is built. (Whether another process holds the image is found when it is opened
/// and locked: `emu_core::Disk::open`.)
///
/// # Errors
/// One line: `disk <path>: <problem>; <fix>`. A read-only file or file system is refused with
/// the two ways to boot it: `--snapshot`, or `--disk IMG,readonly`.
pub fn check_disk(path: &Path, write: bool) -> Result<()> {
    let shown = path.display();
    let fix = "give a raw disk image (e.g. the fs.img of `emu-cli images`, or xv6's fs.img)";
    let meta =
        std::fs::metadata(path).map_err(|e| anyhow!("disk {shown}: {}; {fix}", io_reason(&e)))?;
    if meta.is_dir() {
        return Err(anyhow!("disk {shown}: is a directory; {fix}"));
    }
    std::fs::File::open(path).map_err(|e| anyhow!("disk {shown}: {}; {fix}", io_reason(&e)))?;
    if write {
        let open = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path);
        if let Err(e) = open {
            let problem = match e.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    "the file is read-only for you (permission denied)".to_string()
                }
                std::io::ErrorKind::ReadOnlyFilesystem => {
                    "the file is on a read-only file system".to_string()
                }
                _ => io_reason(&e),
            };
            return Err(anyhow!(
                "disk {shown}: {problem}; add --snapshot to keep the guest's writes in memory, \
                 or give --disk {shown},readonly for a read-only disk"
            ));
        }
    }
    Ok(())
}

/// An I/O error as a short lowercase phrase ("no such file or directory").
pub fn io_reason(e: &std::io::Error) -> String {
    let text = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    // Strip the " (os error N)" suffix std adds.
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn elf_header(class: u8, data: u8, machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = class;
        h[5] = data;
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h
    }

    fn assert_one_line(msg: &str, file: &str, fix: &str) {
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains(file), "{msg}");
        assert!(msg.contains(fix), "{msg}");
    }

    #[test]
    fn riscv64_elf_is_accepted() {
        assert_eq!(
            kernel_format(&elf_header(2, 1, 243), Path::new("k")),
            Ok(KernelFormat::Elf)
        );
    }

    #[test]
    fn other_elves_are_refused_by_name() {
        let x86 = kernel_format(&elf_header(2, 1, 62), Path::new("k")).unwrap_err();
        assert!(x86.contains("x86-64"), "{x86}");
        let rv32 = kernel_format(&elf_header(1, 1, 243), Path::new("k")).unwrap_err();
        assert!(rv32.contains("32-bit"), "{rv32}");
        assert!(kernel_format(b"\x7fELF\x02", Path::new("k"))
            .unwrap_err()
            .contains("truncated"));
    }

    #[test]
    fn raw_images_need_a_bin_name_or_the_linux_magic() {
        let code = vec![0x13u8; 128];
        assert_eq!(
            kernel_format(&code, Path::new("fw.bin")),
            Ok(KernelFormat::Raw)
        );
        assert_eq!(
            kernel_format(&code, Path::new("fw.BIN")),
            Ok(KernelFormat::Raw)
        );
        assert!(kernel_format(&code, Path::new("notes.txt"))
            .unwrap_err()
            .contains("not an ELF"));
        let mut image = code.clone();
        image[0x38..0x3c].copy_from_slice(b"RSC\x05");
        assert_eq!(
            kernel_format(&image, Path::new("Image")),
            Ok(KernelFormat::Raw)
        );
        assert!(kernel_format(&[], Path::new("x.bin"))
            .unwrap_err()
            .contains("empty"));
    }

    #[test]
    fn missing_kernel_is_one_line_with_file_and_fix() {
        let err = read_kernel(Path::new("/nonexistent/kernel"))
            .unwrap_err()
            .to_string();
        assert_one_line(&err, "/nonexistent/kernel", "omit KERNEL");
        assert!(err.contains("no such file"), "{err}");
    }

    #[test]
    fn text_file_kernel_is_one_line_with_file_and_fix() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"hello, I am not a kernel\n").unwrap();
        let err = read_kernel(f.path()).unwrap_err().to_string();
        assert_one_line(&err, &f.path().display().to_string(), "RISC-V 64-bit ELF");
        assert!(err.contains("not an ELF"), "{err}");
    }

    #[test]
    fn disks_are_checked_before_boot() {
        let err = check_disk(Path::new("/nonexistent/fs.img"), false)
            .unwrap_err()
            .to_string();
        assert_one_line(&err, "/nonexistent/fs.img", "raw disk image");
        let dir = tempfile::tempdir().unwrap();
        let err = check_disk(dir.path(), false).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        let f = tempfile::NamedTempFile::new().unwrap();
        check_disk(f.path(), false).unwrap();
        check_disk(f.path(), true).unwrap();
    }
}

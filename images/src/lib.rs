//! The bundled guest images, built from `guest-kernel/` by this crate's build script.
//!
//! | image              | what                                                              |
//! |--------------------|-------------------------------------------------------------------|
//! | [`KERNEL_IMG`]     | the xv6-style kernel with copy-on-write `fork()` (RISC-V ELF)     |
//! | [`KERNEL_EAGER_IMG`] | the same kernel built with `--features eager-fork`: xv6's copying `uvmcopy`, the baseline of the fork benches |
//! | [`KERNEL_ODF_IMG`] | the kernel built with `--features odf`: on-demand fork, COW that also shares last-level page-table pages |
//! | [`FS_IMG`]         | an xv6-format file system (raw disk image, 1024-byte blocks) holding every user program and a `README` |
//!
//! Each image is available as bytes (embedded in the binary with `include_bytes!`) and as a
//! file path in cargo's build directory ([`kernel_path`], [`kernel_eager_path`],
//! [`kernel_odf_path`], [`fs_path`]),
//! for tools that want a file such as `qemu-system-riscv64`. The paths stay valid while the
//! `target/` directory that built them exists; to keep copies elsewhere use [`export`] or
//! `emu-cli images --export DIR`. `emu-cli images` prints the paths.
//!
//! The kernel targets the QEMU `virt` board (RAM at 0x8000_0000, UART 16550 at 0x1000_0000,
//! virtio-mmio block device at 0x1000_1000) and runs on `qemu-system-riscv64 -machine virt
//! -bios none -kernel kernel.img -drive file=fs.img,if=none,format=raw,id=x0 -device
//! virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0` as well as on rvcow.

use std::io;
use std::path::Path;

/// The copy-on-write kernel: an RV64 ELF executable linked at 0x8000_0000.
pub const KERNEL_IMG: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kernel.img"));

/// The eager-copy kernel (`--features eager-fork`): an RV64 ELF executable linked at 0x8000_0000.
pub const KERNEL_EAGER_IMG: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kernel-eager.img"));

/// The on-demand-fork kernel (`--features odf`): an RV64 ELF executable linked at 0x8000_0000.
pub const KERNEL_ODF_IMG: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kernel-odf.img"));

/// The file system: a raw xv6-format disk image holding `README` and every user program.
pub const FS_IMG: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/fs.img"));

/// Names of the user programs in [`FS_IMG`] (the binaries of `guest-kernel/user`), sorted.
pub const USER_PROGRAMS: &[&str] = include!(concat!(env!("OUT_DIR"), "/user_programs.rs"));

/// Path of the file holding [`KERNEL_IMG`] (in cargo's `OUT_DIR` for this crate).
pub fn kernel_path() -> &'static Path {
    Path::new(concat!(env!("OUT_DIR"), "/kernel.img"))
}

/// Path of the file holding [`KERNEL_EAGER_IMG`].
pub fn kernel_eager_path() -> &'static Path {
    Path::new(concat!(env!("OUT_DIR"), "/kernel-eager.img"))
}

/// Path of the file holding [`KERNEL_ODF_IMG`].
pub fn kernel_odf_path() -> &'static Path {
    Path::new(concat!(env!("OUT_DIR"), "/kernel-odf.img"))
}

/// Path of the file holding [`FS_IMG`].
pub fn fs_path() -> &'static Path {
    Path::new(concat!(env!("OUT_DIR"), "/fs.img"))
}

/// Path of user program `name` (one of [`USER_PROGRAMS`]) with its symbols and debug info, for
/// gdb's `add-symbol-file` (fs.img holds the same program stripped).
pub fn user_program_path(name: &str) -> std::path::PathBuf {
    Path::new(concat!(env!("OUT_DIR"), "/user")).join(name)
}

/// The bundled images as `(file name, bytes)`: `kernel.img`, `kernel-eager.img`,
/// `kernel-odf.img`, `fs.img`.
pub fn all() -> [(&'static str, &'static [u8]); 4] {
    [
        ("kernel.img", KERNEL_IMG),
        ("kernel-eager.img", KERNEL_EAGER_IMG),
        ("kernel-odf.img", KERNEL_ODF_IMG),
        ("fs.img", FS_IMG),
    ]
}

/// Writes the four images into `dir` (created if missing) under the names of [`all`] and
/// returns their paths.
///
/// # Errors
/// Any I/O error creating `dir` or writing a file.
pub fn export(dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, bytes) in all() {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ELF magic and the machine field: EM_RISCV = 243, ELFCLASS64.
    fn assert_riscv64_elf(bytes: &[u8]) {
        assert!(
            bytes.len() > 64,
            "too short for an ELF header: {} bytes",
            bytes.len()
        );
        assert_eq!(&bytes[..4], b"\x7fELF");
        assert_eq!(bytes[4], 2, "ELFCLASS64");
        assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), 243, "EM_RISCV");
    }

    #[test]
    fn kernels_are_riscv64_elf_files() {
        assert_riscv64_elf(KERNEL_IMG);
        assert_riscv64_elf(KERNEL_EAGER_IMG);
        assert_riscv64_elf(KERNEL_ODF_IMG);
    }

    #[test]
    fn paths_hold_the_embedded_bytes() {
        assert_eq!(std::fs::read(kernel_path()).unwrap(), KERNEL_IMG);
        assert_eq!(
            std::fs::read(kernel_eager_path()).unwrap(),
            KERNEL_EAGER_IMG
        );
        assert_eq!(std::fs::read(kernel_odf_path()).unwrap(), KERNEL_ODF_IMG);
        assert_eq!(std::fs::read(fs_path()).unwrap(), FS_IMG);
    }

    #[test]
    fn user_programs_are_sorted_and_unique() {
        assert!(
            USER_PROGRAMS.windows(2).all(|w| w[0] < w[1]),
            "{USER_PROGRAMS:?}"
        );
    }

    #[test]
    fn fs_img_holds_the_readme_and_every_user_program() {
        let fs = mkfs::reader::FsReader::new(FS_IMG).expect("fs.img is an xv6 file system");
        let readme = fs.read_root_file("README").unwrap();
        assert!(String::from_utf8(readme).unwrap().contains("cowtest"));
        for name in USER_PROGRAMS {
            let program = fs.read_root_file(name).unwrap();
            assert_riscv64_elf(&program);
        }
        assert!(
            USER_PROGRAMS.contains(&"sh") && USER_PROGRAMS.contains(&"init"),
            "{USER_PROGRAMS:?}"
        );
    }

    #[test]
    fn export_writes_every_image() {
        let dir = std::env::temp_dir().join(format!("rvcow-images-export-{}", std::process::id()));
        let paths = export(&dir).unwrap();
        assert_eq!(paths.len(), 4);
        for ((name, bytes), path) in all().iter().zip(&paths) {
            assert_eq!(path.file_name().unwrap(), *name);
            assert_eq!(&std::fs::read(path).unwrap(), bytes);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

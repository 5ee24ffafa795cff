//! Errors of building a machine and loading its images. Messages name the file and what to do.

use std::path::PathBuf;

/// Errors of building and loading a machine. Messages name the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum EmuError {
    /// A configuration value is out of range.
    #[error("invalid machine configuration: {0}")]
    Config(String),
    /// The kernel image cannot be loaded.
    #[error("cannot load kernel {name}: {problem}")]
    Kernel {
        /// The kernel's file name as given.
        name: String,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A firmware (`--bios`) or initrd image cannot be loaded.
    #[error("cannot load {role} {name}: {problem}")]
    Image {
        /// What the file is for: "firmware" or "initrd".
        role: &'static str,
        /// The file's name as given.
        name: String,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A disk image cannot be opened.
    #[error("cannot open disk image {}: {source}; check that the file exists and is readable (and writable unless used as a snapshot)", path.display())]
    Disk {
        /// The image path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The device tree could not be built.
    #[error("cannot build the device tree: {0}")]
    Fdt(String),
}

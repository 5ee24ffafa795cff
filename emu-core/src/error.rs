//! Errors of building a machine and loading its images. Messages name the file and what to do.

use std::path::{Path, PathBuf};

use crate::dev::virtio::disk::LockHolder;

/// The one-line message of [`EmuError::DiskLocked`]: the file, who holds it, what to do.
fn locked_message(path: &Path, holder: Option<&LockHolder>, wanted_write: bool) -> String {
    let who = match holder {
        Some(h) if h.command.is_empty() => format!("process {}", h.pid),
        Some(h) => format!("process {} ({})", h.pid, h.command),
        None => "another process".to_string(),
    };
    let how = match holder {
        Some(h) if h.writing => "writing it",
        Some(_) => "reading it",
        None => "using it",
    };
    let fix = match holder {
        Some(h) if wanted_write && !h.writing => {
            "stop it first, or add --snapshot to share the image read-only"
        }
        _ => "stop it first, or boot a copy of the image",
    };
    format!(
        "disk {}: locked by {who}, which is {how}; {fix}",
        path.display()
    )
}

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
    /// Another process holds a conflicting lock on a disk image (one writer or many readers).
    #[error("{}", locked_message(path, holder.as_ref(), *wanted_write))]
    DiskLocked {
        /// The image path.
        path: PathBuf,
        /// The process holding the lock, when it could be found.
        holder: Option<LockHolder>,
        /// Whether this open wanted to write (else it wanted to read).
        wanted_write: bool,
    },
    /// The device tree could not be built.
    #[error("cannot build the device tree: {0}")]
    Fdt(String),
}

//! The xv6-riscv ABI, shared by the kernel, the user library and the host `mkfs`: the single
//! source of truth for system-call numbers, `struct stat`, open flags, device numbers and the
//! on-disk file-system structures. Values and layouts are xv6-riscv's (kernel/syscall.h,
//! kernel/stat.h, kernel/fcntl.h, kernel/fs.h, kernel/param.h), so that xv6 user programs and
//! file-system images are interchangeable with ours.
#![no_std]

/// System-call numbers: `ecall` with the number in `a7`, arguments in `a0..a5`, result in `a0`.
pub mod syscall {
    pub const SYS_FORK: usize = 1;
    pub const SYS_EXIT: usize = 2;
    pub const SYS_WAIT: usize = 3;
    pub const SYS_PIPE: usize = 4;
    pub const SYS_READ: usize = 5;
    pub const SYS_KILL: usize = 6;
    pub const SYS_EXEC: usize = 7;
    pub const SYS_FSTAT: usize = 8;
    pub const SYS_CHDIR: usize = 9;
    pub const SYS_DUP: usize = 10;
    pub const SYS_GETPID: usize = 11;
    pub const SYS_SBRK: usize = 12;
    pub const SYS_SLEEP: usize = 13;
    pub const SYS_UPTIME: usize = 14;
    pub const SYS_OPEN: usize = 15;
    pub const SYS_WRITE: usize = 16;
    pub const SYS_MKNOD: usize = 17;
    pub const SYS_UNLINK: usize = 18;
    pub const SYS_LINK: usize = 19;
    pub const SYS_MKDIR: usize = 20;
    pub const SYS_CLOSE: usize = 21;
    /// rvcow extension: copy the kernel's COW counters ([`crate::CowStat`]) to a user pointer.
    pub const SYS_COWSTAT: usize = 22;
}

/// Kernel parameters (xv6 kernel/param.h).
pub mod param {
    /// Maximum number of processes.
    pub const NPROC: usize = 64;
    /// Maximum number of harts.
    pub const NCPU: usize = 8;
    /// Open files per process.
    pub const NOFILE: usize = 16;
    /// Open files per system.
    pub const NFILE: usize = 100;
    /// Maximum number of active in-memory inodes.
    pub const NINODE: usize = 50;
    /// Maximum major device number.
    pub const NDEV: usize = 10;
    /// Device number of the file-system root disk.
    pub const ROOTDEV: u32 = 1;
    /// Maximum `exec` arguments.
    pub const MAXARG: usize = 32;
    /// Maximum blocks any file-system operation writes.
    pub const MAXOPBLOCKS: usize = 10;
    /// Maximum data blocks in the on-disk log.
    pub const LOGSIZE: usize = MAXOPBLOCKS * 3;
    /// Size of the disk block cache, in buffers.
    pub const NBUF: usize = MAXOPBLOCKS * 3;
    /// Size of the file system, in blocks.
    pub const FSSIZE: usize = 2000;
    /// Maximum file path length, in bytes including the NUL.
    pub const MAXPATH: usize = 128;
    /// User stack size, in pages (xv6 2024: 1).
    pub const USERSTACK: usize = 1;
}

/// Major device number of the console.
pub const CONSOLE: i16 = 1;

/// Open flags (xv6 kernel/fcntl.h).
pub mod fcntl {
    pub const O_RDONLY: i32 = 0x000;
    pub const O_WRONLY: i32 = 0x001;
    pub const O_RDWR: i32 = 0x002;
    pub const O_CREATE: i32 = 0x200;
    pub const O_TRUNC: i32 = 0x400;
}

/// File types in `Stat::typ` and `Dinode::typ` (xv6 kernel/stat.h).
pub const T_DIR: i16 = 1;
pub const T_FILE: i16 = 2;
pub const T_DEVICE: i16 = 3;

/// `struct stat` as xv6 user programs see it: 24 bytes, C layout.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    /// File system's disk device.
    pub dev: i32,
    /// Inode number.
    pub ino: u32,
    /// Type of file: [`T_DIR`], [`T_FILE`] or [`T_DEVICE`].
    pub typ: i16,
    /// Number of links to the file.
    pub nlink: i16,
    /// Size of the file in bytes.
    pub size: u64,
}

/// Kernel copy-on-write counters returned by `SYS_COWSTAT`: 72 bytes, C layout. The last three
/// count shared page-table pages and stay 0 except on the on-demand-fork kernel (`odf`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CowStat {
    /// Store page faults on PTE_COW pages handled since boot.
    pub cow_faults: u64,
    /// COW faults resolved by copying the page.
    pub pages_copied: u64,
    /// COW faults resolved without a copy (reference count was 1).
    pub pages_reused: u64,
    /// Physical pages currently referenced by more than one mapping.
    pub pages_shared: u64,
    /// Free physical pages.
    pub free_pages: u64,
    /// Physical pages the allocator manages (RAM from the device tree after the kernel image).
    pub total_pages: u64,
    /// Last-level page-table pages shared between parent and child by fork (one per 2 MiB
    /// region each time fork shares it).
    pub leaf_tables_shared: u64,
    /// Shared last-level page-table pages unshared by copying (writer's own copy made).
    pub leaf_tables_copied: u64,
    /// Shared last-level page-table pages unshared by taking them over (last reference).
    pub leaf_tables_taken_over: u64,
}

/// On-disk file-system format (xv6 kernel/fs.h). All integers little-endian.
pub mod fs {
    /// Block size in bytes.
    pub const BSIZE: usize = 1024;
    /// Root i-number.
    pub const ROOTINO: u32 = 1;
    /// `Superblock::magic`.
    pub const FSMAGIC: u32 = 0x1020_3040;
    /// Direct block addresses per inode.
    pub const NDIRECT: usize = 12;
    /// Block addresses in the indirect block.
    pub const NINDIRECT: usize = BSIZE / 4;
    /// Maximum file size in blocks.
    pub const MAXFILE: usize = NDIRECT + NINDIRECT;
    /// Directory entry name length (not necessarily NUL-terminated).
    pub const DIRSIZ: usize = 14;
    /// Inodes per block.
    pub const IPB: usize = BSIZE / core::mem::size_of::<Dinode>();
    /// Bitmap bits per block.
    pub const BPB: usize = BSIZE * 8;

    /// Block 1 of the disk (block 0 is the boot block): 32 bytes.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Superblock {
        /// Must be [`FSMAGIC`].
        pub magic: u32,
        /// Size of the file-system image in blocks.
        pub size: u32,
        /// Number of data blocks.
        pub nblocks: u32,
        /// Number of inodes.
        pub ninodes: u32,
        /// Number of log blocks.
        pub nlog: u32,
        /// Block number of the first log block.
        pub logstart: u32,
        /// Block number of the first inode block.
        pub inodestart: u32,
        /// Block number of the first free-map block.
        pub bmapstart: u32,
    }

    impl Superblock {
        /// Block holding inode `inum`.
        pub fn iblock(&self, inum: u32) -> u32 {
            inum / IPB as u32 + self.inodestart
        }
        /// Bitmap block holding the bit for block `b`.
        pub fn bblock(&self, b: u32) -> u32 {
            b / BPB as u32 + self.bmapstart
        }
    }

    /// On-disk inode: 64 bytes.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Dinode {
        /// File type (0 = free).
        pub typ: i16,
        /// Major device number (T_DEVICE only).
        pub major: i16,
        /// Minor device number (T_DEVICE only).
        pub minor: i16,
        /// Number of links to the inode in the file system.
        pub nlink: i16,
        /// Size of the file in bytes.
        pub size: u32,
        /// Data block addresses: NDIRECT direct, then one indirect.
        pub addrs: [u32; NDIRECT + 1],
    }

    /// Directory entry: 16 bytes. `inum` 0 marks a free entry.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Dirent {
        pub inum: u16,
        pub name: [u8; DIRSIZ],
    }

    const _: () = assert!(core::mem::size_of::<Dinode>() == 64);
    const _: () = assert!(core::mem::size_of::<Dirent>() == 16);
    const _: () = assert!(core::mem::size_of::<Superblock>() == 32);
}

const _: () = assert!(core::mem::size_of::<Stat>() == 24);

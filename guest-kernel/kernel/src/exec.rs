//! exec: replaces the current process's memory with an ELF64 program (xv6 exec.c).
//! ELF format: System V gABI, ELF-64 object file format (header and program headers).
//!
//! User layout (xv6's ABI): LOAD segments from virtual address 0 (text R+X, data R+W), then
//! an inaccessible guard page, then one stack page; sp at the top of the stack with argv
//! strings and the argv[] array below it; a0 = argc, a1 = argv.

use crate::fs::{ilock, iunlockput, namei, readi, Inode};
use crate::log::{begin_op, end_op};
use crate::proc::{myproc, proc_freepagetable, proc_pagetable, set_name};
use crate::riscv::*;
use crate::vm::{copyout, uvmalloc, uvmclear, walkaddr, PageTable};
use abi::param::{MAXARG, USERSTACK};

const ELF_MAGIC: u32 = 0x464c_457f; // "\x7FELF" little-endian
const ELF_PROG_LOAD: u32 = 1;

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct ElfHdr {
    magic: u32,
    elf: [u8; 12],
    typ: u16,
    machine: u16,
    version: u32,
    entry: u64,
    phoff: u64,
    shoff: u64,
    flags: u32,
    ehsize: u16,
    phentsize: u16,
    phnum: u16,
    shentsize: u16,
    shnum: u16,
    shstrndx: u16,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct ProgHdr {
    typ: u32,
    flags: u32,
    off: u64,
    vaddr: u64,
    paddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
}

/// PTE permissions for ELF segment flags (PF_X = 1, PF_W = 2; R is always granted).
fn flags2perm(flags: u32) -> u64 {
    let mut perm = 0;
    if flags & 1 != 0 {
        perm |= PTE_X;
    }
    if flags & 2 != 0 {
        perm |= PTE_W;
    }
    perm
}

/// Loads `sz` bytes at file offset `offset` of ip into the (already mapped) pages at
/// page-aligned `va`. Err on a short read.
fn loadseg(
    pagetable: PageTable,
    va: usize,
    ip: *mut Inode,
    offset: u32,
    sz: u32,
) -> Result<(), ()> {
    let mut i = 0u32;
    while i < sz {
        let pa = walkaddr(pagetable, va + i as usize).ok_or(())?;
        let n = (sz - i).min(PGSIZE as u32);
        if readi(ip, false, pa, offset + i, n) != n as i32 {
            return Err(());
        }
        i += PGSIZE as u32;
    }
    Ok(())
}

/// Runs the program at `path` with arguments `argv` in the current process. Returns argc
/// (which becomes a0) on success; -1, leaving the process unchanged, if the file is missing,
/// is not a valid ELF64 executable, has bad segments, the arguments do not fit in the stack
/// page, or memory runs out.
pub fn exec(path: &[u8], argv: &[&[u8]]) -> i32 {
    let p = myproc();
    begin_op();
    let ip = namei(path);
    if ip.is_null() {
        end_op();
        return -1;
    }
    ilock(ip);
    let mut pagetable: PageTable = 0;
    let mut sz = 0usize;
    let r = load(ip, p, &mut pagetable, &mut sz);
    iunlockput(ip);
    end_op();
    let Ok(entry) = r else {
        if pagetable != 0 {
            proc_freepagetable(pagetable, sz);
        }
        return -1;
    };
    match setup_stack(pagetable, &mut sz, argv) {
        Ok((sp, argc)) => {
            // SAFETY: our own process; the old page table is no longer used after the swap.
            unsafe {
                let tf = &mut *(*p).trapframe;
                tf.a1 = sp;
                let last = path
                    .iter()
                    .rposition(|&c| c == b'/')
                    .map(|i| i + 1)
                    .unwrap_or(0);
                let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                set_name(&mut (*p).name, &path[last.min(end)..end]);
                let oldpagetable = (*p).pagetable;
                let oldsz = (*p).sz;
                (*p).pagetable = pagetable;
                (*p).sz = sz;
                tf.epc = entry;
                tf.sp = sp;
                proc_freepagetable(oldpagetable, oldsz);
            }
            argc as i32
        }
        Err(()) => {
            proc_freepagetable(pagetable, sz);
            -1
        }
    }
}

/// Reads and checks the ELF header, builds a new page table and loads every LOAD segment.
/// Returns the entry point; `*pagetable`/`*sz` say what to free on failure.
fn load(
    ip: *mut Inode,
    p: *mut crate::proc::Proc,
    pagetable: &mut PageTable,
    sz: &mut usize,
) -> Result<usize, ()> {
    let mut elf = ElfHdr::default();
    let esz = core::mem::size_of::<ElfHdr>() as u32;
    if readi(ip, false, &mut elf as *mut ElfHdr as usize, 0, esz) != esz as i32 {
        return Err(());
    }
    if elf.magic != ELF_MAGIC {
        return Err(());
    }
    *pagetable = proc_pagetable(p).ok_or(())?;
    let phsz = core::mem::size_of::<ProgHdr>() as u32;
    let mut off = u32::try_from(elf.phoff).map_err(|_| ())?;
    for _ in 0..elf.phnum {
        let mut ph = ProgHdr::default();
        if readi(ip, false, &mut ph as *mut ProgHdr as usize, off, phsz) != phsz as i32 {
            return Err(());
        }
        off = off.checked_add(phsz).ok_or(())?;
        if ph.typ != ELF_PROG_LOAD {
            continue;
        }
        if ph.memsz < ph.filesz {
            return Err(());
        }
        let end = ph.vaddr.checked_add(ph.memsz).ok_or(())?;
        if ph.vaddr % PGSIZE as u64 != 0 || end as usize >= crate::memlayout::TRAPFRAME {
            return Err(());
        }
        let sz1 = uvmalloc(*pagetable, *sz, end as usize, flags2perm(ph.flags));
        if sz1 == 0 {
            return Err(());
        }
        *sz = sz1;
        let foff = u32::try_from(ph.off).map_err(|_| ())?;
        let fsz = u32::try_from(ph.filesz).map_err(|_| ())?;
        loadseg(*pagetable, ph.vaddr as usize, ip, foff, fsz)?;
    }
    Ok(elf.entry as usize)
}

/// Allocates the guard page and USERSTACK stack pages above `*sz`, copies the argument
/// strings and the argv[] array onto the stack. Returns (sp, argc).
fn setup_stack(pagetable: PageTable, sz: &mut usize, argv: &[&[u8]]) -> Result<(usize, usize), ()> {
    let base = pgroundup(*sz);
    let sz1 = uvmalloc(pagetable, base, base + (USERSTACK + 1) * PGSIZE, PTE_W);
    if sz1 == 0 {
        return Err(());
    }
    *sz = sz1;
    uvmclear(pagetable, sz1 - (USERSTACK + 1) * PGSIZE);
    let mut sp = sz1;
    let stackbase = sp - USERSTACK * PGSIZE;
    if argv.len() > MAXARG {
        return Err(());
    }
    let mut ustack = [0u64; MAXARG + 1];
    for (i, arg) in argv.iter().enumerate() {
        let len = arg.iter().position(|&c| c == 0).unwrap_or(arg.len());
        sp = sp.checked_sub(len + 1).ok_or(())?;
        sp -= sp % 16; // the RISC-V ABI wants sp 16-byte aligned
        if sp < stackbase {
            return Err(());
        }
        copyout(pagetable, sp, arg.as_ptr(), len)?;
        copyout(pagetable, sp + len, [0u8].as_ptr(), 1)?;
        ustack[i] = sp as u64;
    }
    let argc = argv.len();
    ustack[argc] = 0;
    sp -= (argc + 1) * 8;
    sp -= sp % 16;
    if sp < stackbase {
        return Err(());
    }
    copyout(pagetable, sp, ustack.as_ptr() as *const u8, (argc + 1) * 8)?;
    Ok((sp, argc))
}

//! ls: lists files: name (padded to DIRSIZ), type, inode number, size.
#![no_std]
#![no_main]
use abi::fs::DIRSIZ;
use ulib::fmt::Bytes;
use ulib::*;
entry!(main);

/// The last path component, space-padded to DIRSIZ.
fn fmtname(path: &[u8]) -> [u8; DIRSIZ] {
    let start = path.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    let name = &path[start..];
    let mut out = [b' '; DIRSIZ];
    let n = name.len().min(DIRSIZ);
    out[..n].copy_from_slice(&name[..n]);
    out
}

fn ls(path: &[u8]) {
    let fd = open(path, O_RDONLY);
    if fd < 0 {
        fprintf!(2, "ls: cannot open {}\n", Bytes(path));
        return;
    }
    let mut st = Stat::default();
    if fstat(fd, &mut st) < 0 {
        fprintf!(2, "ls: cannot stat {}\n", Bytes(path));
        close(fd);
        return;
    }
    match st.typ {
        T_DIR => {
            let mut buf = [0u8; 512];
            if path.len() + 1 + DIRSIZ + 1 > buf.len() {
                printf!("ls: path too long\n");
                close(fd);
                return;
            }
            buf[..path.len()].copy_from_slice(path);
            buf[path.len()] = b'/';
            let p = path.len() + 1;
            let mut de = [0u8; 16];
            while read(fd, &mut de) == 16 {
                let inum = u16::from_le_bytes([de[0], de[1]]);
                if inum == 0 {
                    continue;
                }
                let name = until_nul(&de[2..]);
                buf[p..p + name.len()].copy_from_slice(name);
                let full = &buf[..p + name.len()];
                let mut est = Stat::default();
                if stat(full, &mut est) < 0 {
                    printf!("ls: cannot stat {}\n", Bytes(full));
                    continue;
                }
                printf!(
                    "{} {} {} {}\n",
                    Bytes(&fmtname(full)),
                    est.typ,
                    est.ino,
                    est.size
                );
            }
        }
        _ => printf!(
            "{} {} {} {}\n",
            Bytes(&fmtname(path)),
            st.typ,
            st.ino,
            st.size
        ),
    }
    close(fd);
}

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        ls(b".");
        return 0;
    }
    for i in 1..args.len() {
        ls(args.bytes(i));
    }
    0
}

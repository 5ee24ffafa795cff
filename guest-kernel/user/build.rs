//! Links every user program with user.ld: text at virtual address 0, page-aligned segments,
//! as xv6's user/user.ld does, so the programs load under stock xv6's exec and ours.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed=user.ld");
    println!("cargo:rustc-link-arg-bins=-T{dir}/user.ld");
    // Programs keep their symbols and debug info (gdb's add-symbol-file); images/build.rs packs
    // a stripped copy into fs.img (xv6 files are at most 268 KB).
}

//! rvcow: a full-system RISC-V emulator (`emu-core`) and the copy-on-write xv6-style kernel images
//! (`images`) it boots. This root crate re-exports both; its `tests/` and `benches/` drive them
//! end to end.
pub use emu_core::*;
pub use images;

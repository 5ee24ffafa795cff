//! rvcow's fuzz targets (cargo-fuzz, libFuzzer): the harness functions live in
//! [`harness`], shared with the stable corpus test `tests/fuzz_corpus.rs` of the workspace.
pub mod harness;

//! The fuzz targets as ordinary tests on stable: every file of `fuzz/corpus/<target>/` (seeds
//! and inputs that once crashed a target) is fed to the same harness function the cargo-fuzz
//! target calls (`fuzz/src/harness.rs`). Any panic fails the test and names the file.

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::path::Path;

fn run_corpus(target: &str, f: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    for path in files {
        let data = std::fs::read(&path).unwrap();
        let run = std::panic::catch_unwind(|| f(&data));
        assert!(run.is_ok(), "{target}: {} panics", path.display());
    }
}

#[test]
fn hart_corpus() {
    run_corpus("hart", harness::hart);
}

#[test]
fn jit_corpus() {
    run_corpus("jit", |d| {
        harness::jit(d);
    });
    // The loop seeds really run compiled code (a harness that never compiles would compare
    // the interpreter with itself).
    for seed in ["loop_alu_m", "loop_mem_s_sv39", "loop_store_fault_u"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus/jit")
            .join(seed);
        let blocks = harness::jit(&std::fs::read(path).unwrap());
        assert!(blocks > 0, "{seed}: the JIT compiled nothing");
    }
}

#[test]
fn virtio_blk_corpus() {
    run_corpus("virtio_blk", harness::virtio_blk);
}

#[test]
fn loader_corpus() {
    run_corpus("loader", harness::loader);
}

#[test]
fn mkfs_corpus() {
    run_corpus("mkfs", harness::mkfs);
}

#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rvcow_fuzz::harness::jit(data);
});

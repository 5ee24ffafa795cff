//! The loads and stores of compiled blocks: `extern "C"` functions that run the hart's own
//! `load::<N>`/`store::<N>` (TLB hit → RAM fast path, slow path, MMIO), so memory behaves
//! exactly as in the interpreter.
//!
//! Each returns a status: [`STATUS_OK`]; [`STATUS_TRAP`] (the access trapped: `ctx.trap` holds
//! it, the instruction did not happen); or [`STATUS_LOOK`] (the access completed, but the run
//! loop must look before the next instruction: an MMIO event set `Hart::attention`, or the
//! access wrote a page holding decoded code). A load leaves its value in `ctx.value`.

use super::super::trap::Trap;
use super::{JitCtx, STATUS_LOOK, STATUS_OK, STATUS_TRAP};

/// Record and return the status of an access given RAM's code generation before it: the
/// trap, or (completed) whether the run loop must look.
#[inline(always)]
fn report(ctx: &mut JitCtx, result: Result<(), Trap>, code_gen: u64) -> u64 {
    let status = match result {
        Ok(()) => {
            // SAFETY: see `load`.
            let (hart, bus) = unsafe { (&*ctx.hart, &*ctx.bus) };
            if hart.attention || bus.ram.code_gen() != code_gen {
                STATUS_LOOK
            } else {
                STATUS_OK
            }
        }
        Err(t) => {
            ctx.trap = t;
            STATUS_TRAP
        }
    };
    ctx.status = status;
    status
}

/// Load `N` bytes at virtual `va` for a compiled block; the value (zero-extended) goes to
/// `ctx.value`.
pub(super) unsafe extern "C" fn load<const N: usize>(ctx: *mut JitCtx, va: u64) -> u64 {
    // SAFETY: `ctx` is the `JitCtx` that `Hart::jit_run` built on its stack for the duration
    // of the block call; its `hart` and `bus` come from the exclusive borrows `jit_run` holds
    // and does not use while the block runs, and the block itself touches only `Hart::x`
    // (through its own pointer, not during this call).
    let ctx = unsafe { &mut *ctx };
    let (hart, bus) = unsafe { (&mut *ctx.hart, &mut *ctx.bus) };
    let code_gen = bus.ram.code_gen();
    let result = hart.load::<N>(bus, va).map(|v| ctx.value = v);
    report(ctx, result, code_gen)
}

/// Store the low `N` bytes of `value` at virtual `va` for a compiled block.
pub(super) unsafe extern "C" fn store<const N: usize>(
    ctx: *mut JitCtx,
    va: u64,
    value: u64,
) -> u64 {
    // SAFETY: as in `load`.
    let ctx = unsafe { &mut *ctx };
    let (hart, bus) = unsafe { (&mut *ctx.hart, &mut *ctx.bus) };
    let code_gen = bus.ram.code_gen();
    let result = hart.store::<N>(bus, va, value);
    report(ctx, result, code_gen)
}

/// The helpers' addresses, for the translator.
pub(super) fn addresses() -> super::translate::Helpers {
    type L = unsafe extern "C" fn(*mut JitCtx, u64) -> u64;
    type S = unsafe extern "C" fn(*mut JitCtx, u64, u64) -> u64;
    let load: [L; 4] = [load::<1>, load::<2>, load::<4>, load::<8>];
    let store: [S; 4] = [store::<1>, store::<2>, store::<4>, store::<8>];
    super::translate::Helpers {
        load: load.map(|f| f as usize as u64),
        store: store.map(|f| f as usize as u64),
    }
}

//! The JIT tier: hot straight-line runs of decoded instructions compiled to host code with
//! Cranelift, entered from the one run loop ([`Hart::run`]) and exact to the interpreter.
//!
//! - A *block* starts at a branch target (where the run loop looks for one: after a taken
//!   branch or jump, and after a block) and covers the decoded instructions that follow in the
//!   same 4 KiB page, up to a `jal`/`jalr` (included), the first instruction the tier does not
//!   compile (CSR, system, fence.i, FP, AMO, illegal, not yet decoded: the interpreter runs
//!   it), or [`MAX_INSNS`]. Conditional branches inside are side exits; one back to the head
//!   loops inside the generated code while the budget allows another whole pass.
//! - Files: `translate.rs` (block → Cranelift IR), `mem.rs` (the inline load/store fast path).
//! - Exactness: the run loop enters a block only with at least its length left in the budget
//!   and counts what it retired as interpreted steps. A load or store that the inline fast
//!   path does not cover (TLB miss, MMIO, a watched page, a page crossing) leaves the block
//!   before that instruction (`STATUS_SLOW`) and the interpreter runs it — traps, device
//!   events and writes to decoded code included — so compiled code never calls back into the
//!   hart and holds no state the interpreter lacks.
//! - Invalidation: the per-slot entry (`DecodeCache::jit`) is reset with the decodes of its page
//!   (any write to the page, `fence.i`, capacity), so a block never runs after its code changed.
//!   Compiled code cannot be freed one function at a time: past [`CODE_CAP`] bytes the whole
//!   module is dropped and every entry forgotten.

mod mem;
mod translate;

use super::decode::{Op, PackedInsn};
use super::decode_cache::SLOTS_PER_PAGE;
use super::mmu::TLB_SIZE;
use super::tlb::TlbEntry;
use super::Hart;
use crate::bus::Bus;
use cranelift_codegen::ir::Signature;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Module};
use std::time::Instant;

/// A block's exit status: it ended at a jump, a branch or its end; the next block may follow.
pub(crate) const STATUS_OK: u64 = 0;
/// The block left before a load or store its inline fast path does not cover: the
/// interpreter must run that instruction before another block is looked for.
pub(crate) const STATUS_SLOW: u64 = 1;

/// Visits of a block head before it is compiled. Compiling costs about 14 µs a guest
/// instruction and 60 µs a block, so only code that runs a lot pays back: Linux's boot (1.3 G
/// instructions) took 3.9 / 3.3 / 2.9–3.1 / 2.8–3.0 / 2.8–3.0 s of CPU with 500 / 1000 / 2000 /
/// 4000 / 8000 (4.2 s interpreted): the last three are within noise.
pub const HOT: u32 = 2000;
/// Most instructions in one block.
pub const MAX_INSNS: usize = 128;
/// Compiled code (bytes, counted in whole pages as allocated) kept before the module is
/// dropped and rebuilt.
pub const CODE_CAP: usize = 32 << 20;
/// `DecodeCache::jit` entries: below `HOT` a visit count, `NEVER` for a head that does not
/// compile, else `BLOCK + index` of a compiled block.
const NEVER: u32 = u32::MAX;
const BLOCK: u32 = 0x8000_0000;

/// What a compiled block reads and writes besides `Hart::x` (`repr(C)`: the generated code
/// reads and writes fields at their offsets).
#[repr(C)]
pub(crate) struct JitCtx {
    /// The next pc when the block returns (block → run loop).
    pc: u64,
    /// How the block ended (block → run loop): [`STATUS_OK`] or [`STATUS_SLOW`].
    status: u64,
    /// For the inline accesses (`mem.rs`), constant while a block runs: the current context's
    /// TLB array (null in bare mode), `&mut tlb.hits`, and RAM (see `Ram::raw_parts`).
    tlb: *const TlbEntry,
    tlb_hits: *mut u64,
    ram: *mut u8,
    ram_base: u64,
    ram_size: u64,
    code_page: *const u8,
}

/// A compiled block: `fn(ctx, x, pc, limit) -> retired` (see `translate.rs`).
type BlockFn = unsafe extern "C" fn(*mut JitCtx, *mut u64, u64, u64) -> u64;

#[derive(Clone, Copy)]
struct Compiled {
    f: BlockFn,
    /// Instructions in one pass.
    len: u64,
    /// Compiled for data translation on (`Hart::data_paging`): the block is entered only in
    /// that mode.
    paged: bool,
    /// The same head compiled for the other mode: a block index, [`ALT_NONE`] (not yet) or
    /// [`ALT_NEVER`] (it does not compile).
    alt: u32,
}

/// `Compiled::alt`: the other mode's variant is not compiled yet.
const ALT_NONE: u32 = u32::MAX;
/// `Compiled::alt`: the other mode's variant failed to compile.
const ALT_NEVER: u32 = u32::MAX - 1;

/// Counters of the JIT tier, since reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Blocks compiled.
    pub blocks: u64,
    /// Blocks Cranelift failed to compile (the interpreter runs them).
    pub failed: u64,
    /// Instructions retired in compiled code.
    pub insns: u64,
    /// Host nanoseconds spent compiling.
    pub compile_ns: u64,
    /// Times the compiled code was dropped at [`CODE_CAP`].
    pub flushes: u64,
}

/// Cranelift's state, made on the first compile.
struct Engine {
    module: JITModule,
    ctx: cranelift_codegen::Context,
    fctx: FunctionBuilderContext,
    sig: Signature,
    code_bytes: usize,
}

impl Engine {
    fn new() -> Result<Engine, String> {
        let mut flags = settings::builder();
        // No egraph optimisation: compiles a quarter faster, and the guest code is already
        // register-allocated straight-line code (the loop images ran about as fast).
        for (k, v) in [
            ("opt_level", "none"),
            ("use_colocated_libcalls", "false"),
            ("is_pic", "false"),
            ("unwind_info", "false"),
            (
                "enable_verifier",
                if cfg!(debug_assertions) {
                    "true"
                } else {
                    "false"
                },
            ),
        ] {
            flags.set(k, v).map_err(|e| e.to_string())?;
        }
        let isa = cranelift_native::builder()
            .map_err(str::to_string)?
            .finish(settings::Flags::new(flags))
            .map_err(|e| e.to_string())?;
        let call_conv = isa.default_call_conv();
        let module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
        let ctx = module.make_context();
        Ok(Engine {
            module,
            ctx,
            fctx: FunctionBuilderContext::new(),
            sig: translate::block_signature(call_conv),
            code_bytes: 0,
        })
    }

    /// Compile one block; its entry point, or why not.
    fn compile(&mut self, insns: &[(u32, PackedInsn)], paged: bool) -> Result<BlockFn, String> {
        self.module.clear_context(&mut self.ctx);
        self.ctx.func.signature = self.sig.clone();
        translate::build(
            &mut self.ctx.func,
            &mut self.fctx,
            insns,
            paged,
            self.module.isa().frontend_config(),
        );
        let id = self
            .module
            .declare_anonymous_function(&self.sig)
            .map_err(|e| e.to_string())?;
        let defined = self.module.define_function(id, &mut self.ctx);
        let size = self
            .ctx
            .compiled_code()
            .map_or(0, |c| c.code_info().total_size as usize);
        self.module.clear_context(&mut self.ctx);
        defined.map_err(|e| e.to_string())?;
        self.module
            .finalize_definitions()
            .map_err(|e| e.to_string())?;
        // Each finalised block gets pages of its own.
        self.code_bytes += size.div_ceil(4096).max(1) * 4096;
        let p = self.module.get_finalized_function(id);
        // SAFETY: `p` is the finalised (executable) code of a function defined with
        // `block_signature` (four i64 parameters, one i64 result, the host's C convention),
        // which is `BlockFn`'s ABI; it stays valid until the module is freed (`Jit::flush`),
        // after which no entry names it.
        Ok(unsafe { std::mem::transmute::<*const u8, BlockFn>(p) })
    }
}

/// The JIT tier's state in a hart.
pub(crate) struct Jit {
    /// Whether the run loop uses compiled blocks.
    pub enabled: bool,
    /// Visits of a block head before it is compiled (at least 1).
    pub(crate) hot: u32,
    engine: Option<Engine>,
    /// Cranelift could not be set up for this host: never try again.
    broken: bool,
    blocks: Vec<Compiled>,
    pub stats: JitStats,
}

impl Default for Jit {
    fn default() -> Jit {
        Jit {
            enabled: false,
            hot: HOT,
            engine: None,
            broken: false,
            blocks: Vec::new(),
            stats: JitStats::default(),
        }
    }
}

impl Jit {
    /// Drop all compiled code (the caller forgets every entry naming it).
    fn flush(&mut self) {
        if let Some(e) = self.engine.take() {
            // SAFETY: no compiled block is running (blocks are only entered from
            // `Hart::jit_run`, which is not inside one here), and the caller resets every
            // `DecodeCache::jit` entry, so no pointer into the module is called again.
            unsafe { e.module.free_memory() };
        }
        self.blocks.clear();
    }
}

impl Drop for Jit {
    fn drop(&mut self) {
        self.flush();
    }
}

impl Hart {
    /// Use compiled blocks (`on`) or the interpreter alone. Either way the hart's behaviour is
    /// the same instruction for instruction.
    pub fn set_jit(&mut self, on: bool) {
        self.jit.enabled = on;
    }

    /// Compile a block head after `visits` (at least 1; default [`HOT`]) visits: tests use 1 so
    /// that everything that can be compiled is.
    pub fn set_jit_threshold(&mut self, visits: u32) {
        self.jit.hot = visits.clamp(1, BLOCK - 1);
    }

    /// Whether the JIT tier is on.
    pub fn jit_enabled(&self) -> bool {
        self.jit.enabled
    }

    /// The JIT tier's counters since reset.
    pub fn jit_stats(&self) -> JitStats {
        self.jit.stats
    }

    /// Run compiled blocks from `pc` while there are some for the current code page and the
    /// budget allows them: called by the run loop at a block head. Updates `pc`, the steps
    /// `left` and the `traps` taken exactly as the interpreter's loop would have.
    #[inline(never)]
    pub(super) fn jit_run(&mut self, bus: &mut Bus, pc: &mut u64, left: &mut u64, traps: &mut u64) {
        // What the blocks read, made at the first block entered: nothing in it changes while
        // blocks run (no CSR, trap or `xret` runs in one).
        let mut ctx: Option<JitCtx> = None;
        while *left != 0 {
            if *pc >> 12 != self.fetch_vpn && !self.jit_fetch_page(*pc) {
                return;
            }
            let idx = self.fetch_base + ((*pc as usize & 0xfff) >> 1);
            let Some(&e) = self.dcache.jit.get(idx) else {
                return;
            };
            let id = if e >= BLOCK {
                if e == NEVER {
                    return;
                }
                e - BLOCK
            } else if e + 1 < self.jit.hot {
                self.dcache.jit[idx] = e + 1;
                return;
            } else {
                match self.jit_compile(bus, idx, None) {
                    Some(id) => id,
                    None => return,
                }
            };
            let mut block = self.jit.blocks[id as usize];
            if block.paged != self.data_paging {
                // Code that runs with data translation on and off (a kernel's early boot, an
                // M-mode handler sharing routines): the other mode's variant.
                let alt = match block.alt {
                    ALT_NEVER => return,
                    ALT_NONE => match self.jit_compile(bus, idx, Some(id)) {
                        Some(alt) => alt,
                        None => return,
                    },
                    alt => alt,
                };
                // A flush while compiling forgot `id`: the variant is the slot's block now.
                block = self.jit.blocks[alt as usize];
            }
            if *left < block.len {
                return;
            }
            let limit = *left - block.len;
            let ctx = ctx.get_or_insert_with(|| self.jit_ctx(bus));
            ctx.pc = *pc;
            ctx.status = STATUS_OK;
            // SAFETY: the block was compiled from the decodes at `idx`, which are unchanged
            // (their entry would have been reset), for the page `pc` is in; it reads and
            // writes the 32 registers behind `x` and, through `ctx`, the current context's TLB
            // array and RAM (see `JitCtx`), nothing else.
            let retired = unsafe {
                let x = std::ptr::addr_of_mut!(self.x).cast::<u64>();
                (block.f)(ctx, x, *pc, limit)
            };
            self.jit.stats.insns += retired;
            *left -= retired;
            *pc = ctx.pc;
            if ctx.status != STATUS_OK && (*left == 0 || !self.jit_step(bus, pc, left, traps)) {
                return;
            }
        }
    }

    /// After a slow exit: run the load or store at `pc` (in the fetch page, decoded: a block
    /// was compiled from it) through the interpreter's own `execute`, exactly as the run loop
    /// would, taking its trap if it has one. Whether blocks may follow at once: not after a
    /// trap, nor when the access raised a device event or wrote decoded code (the run loop
    /// must look first).
    fn jit_step(&mut self, bus: &mut Bus, pc: &mut u64, left: &mut u64, traps: &mut u64) -> bool {
        let insn = self.dcache.insns[self.fetch_base + ((*pc as usize & 0xfff) >> 1)];
        debug_assert!(translate::compiles(insn.op()) && *pc >> 12 == self.fetch_vpn);
        let code_gen = bus.ram.code_gen();
        *left -= 1;
        match self.execute(bus, insn, *pc, pc.wrapping_add(insn.length())) {
            Ok(to) => *pc = to,
            Err(t) => {
                // A compiled load or store has no step marker (`REFETCH`, `CSR_STEP`,
                // `LOOP_STEP`): this is the instruction's trap, a step as in the run loop.
                self.pc = *pc;
                self.take_trap(t);
                *traps += 1;
                *pc = self.pc;
                // The trap may have changed privilege and so the TLB context the blocks'
                // `JitCtx` names: back to the run loop, which makes a new one next time.
                return false;
            }
        }
        !self.attention && bus.ram.code_gen() == code_gen
    }

    /// The `JitCtx` for blocks entered now.
    fn jit_ctx(&mut self, bus: &mut Bus) -> JitCtx {
        let tlb = if self.data_paging {
            debug_assert!(self.tlb_base + TLB_SIZE <= self.tlb.entries.len());
            // SAFETY: `tlb_base` starts a whole array of `TLB_SIZE` entries (see
            // `Hart::tlb_entry`); the entries never move (a boxed slice), and the context
            // (hence `tlb_base`) cannot change while blocks run: no CSR, trap or `xret` runs
            // in one.
            unsafe { self.tlb.entries.as_ptr().add(self.tlb_base) }
        } else {
            std::ptr::null()
        };
        let (ram, code_page) = bus.ram.raw_parts();
        JitCtx {
            pc: 0,
            status: STATUS_OK,
            tlb,
            tlb_hits: &mut self.tlb.hits,
            ram,
            ram_base: bus.ram.base(),
            ram_size: bus.ram.size(),
            code_page,
        }
    }

    /// Make the code page of `pc` the fetch page when the recent-code-page cache has it and
    /// the slot of `pc` is decoded — exactly what `fetch_slow` does for the next fetch (a jump
    /// or return to another page would otherwise not find its block) — unless the run loop
    /// must look first (`attention`, which dropped the fetch page). Whether it did.
    fn jit_fetch_page(&mut self, pc: u64) -> bool {
        if self.attention || self.dcache.clears != self.fetch_cache_clears {
            return false;
        }
        let vpn = pc >> 12;
        let (cached_vpn, base) = self.fetch_cache[vpn as usize % super::FETCH_CACHE];
        let slot = (pc as usize & 0xfff) >> 1;
        if cached_vpn != vpn || self.dcache.insns[base + slot].is_undecoded() {
            return false;
        }
        self.set_fetch_page(vpn, base);
        true
    }

    /// Compile the block whose head is decode-cache slot `idx` for the current data mode: its
    /// index, or `None`. The result is recorded in the slot's entry (a block, or never), or,
    /// for the other mode's variant of block `variant_of`, in that block's `alt`.
    #[cold]
    #[inline(never)]
    fn jit_compile(&mut self, bus: &mut Bus, idx: usize, variant_of: Option<u32>) -> Option<u32> {
        let base = idx - idx % SLOTS_PER_PAGE;
        let mut slot = idx % SLOTS_PER_PAGE;
        let mut off = 0u32;
        let mut insns = Vec::new();
        while slot < SLOTS_PER_PAGE && insns.len() < MAX_INSNS {
            let mut insn = self.dcache.insns[base + slot];
            if insn.is_undecoded() {
                // Not fetched yet (a jump's target before its first fetch, the code after a
                // side exit): decode it now, from the page the head was fetched from.
                insn = self
                    .dcache
                    .decode_ahead(&mut bus.ram, base / SLOTS_PER_PAGE, slot);
            }
            // A strided-loop head (`Op::Loop`, `hart/loops.rs`) is left to the interpreter,
            // which runs whole iterations at once.
            if !translate::compiles(insn.op()) {
                break;
            }
            insns.push((off, insn));
            off += insn.length() as u32;
            slot += insn.length() as usize / 2;
            if matches!(insn.op(), Op::Jal | Op::Jalr) {
                break;
            }
        }
        let mut variant_of = variant_of;
        let id = if insns.is_empty() {
            None
        } else {
            if self
                .jit
                .engine
                .as_ref()
                .is_some_and(|e| e.code_bytes >= CODE_CAP)
            {
                self.jit.flush();
                self.jit.stats.flushes += 1;
                self.dcache.jit.fill(0);
                // The first variant went with the rest: this one becomes the slot's block.
                variant_of = None;
            }
            if self.jit.engine.is_none() && !self.jit.broken {
                match Engine::new() {
                    Ok(e) => self.jit.engine = Some(e),
                    Err(_) => {
                        self.jit.broken = true;
                        self.jit.stats.failed += 1;
                    }
                }
            }
            self.jit_add_block(&insns)
        };
        match variant_of {
            Some(first) => self.jit.blocks[first as usize].alt = id.unwrap_or(ALT_NEVER),
            None => self.dcache.jit[idx] = id.map_or(NEVER, |id| BLOCK + id),
        }
        id
    }

    /// Compile `insns` for the current data mode and add the block: its index, or `None` when
    /// the engine is unavailable, Cranelift fails or the index space is full.
    fn jit_add_block(&mut self, insns: &[(u32, PackedInsn)]) -> Option<u32> {
        let engine = self.jit.engine.as_mut()?;
        // An index must fit in a slot entry (`BLOCK + index` below `NEVER`), which also keeps
        // it below `ALT_NEVER`.
        if self.jit.blocks.len() >= (NEVER - BLOCK) as usize {
            return None;
        }
        let paged = self.data_paging;
        let start = Instant::now();
        let result = engine.compile(insns, paged);
        self.jit.stats.compile_ns += start.elapsed().as_nanos() as u64;
        let Ok(f) = result else {
            self.jit.stats.failed += 1;
            return None;
        };
        let id = self.jit.blocks.len() as u32;
        self.jit.blocks.push(Compiled {
            f,
            len: insns.len() as u64,
            paged,
            alt: ALT_NONE,
        });
        self.jit.stats.blocks += 1;
        Some(id)
    }
}

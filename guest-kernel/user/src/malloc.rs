//! `malloc`/`free` over `sbrk`: a first-fit free list of 16-byte units with coalescing (the
//! classic K&R allocator that xv6's umalloc.c also uses), and the `#[global_allocator]` that
//! lets programs use `alloc` (Box, Vec, String). User programs are single-threaded.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;

/// Block header: the next free block and this block's size in units (header included).
#[repr(C, align(16))]
#[derive(Clone, Copy)]
struct Header {
    next: *mut Header,
    units: usize,
}

const UNIT: usize = core::mem::size_of::<Header>();

struct State {
    base: Header,
    freep: *mut Header,
}

struct Heap(UnsafeCell<State>);

// SAFETY: a user process has a single thread.
unsafe impl Sync for Heap {}

static HEAP: Heap = Heap(UnsafeCell::new(State {
    base: Header {
        next: null_mut(),
        units: 0,
    },
    freep: null_mut(),
}));

/// Frees a block returned by [`malloc`]; null is ignored.
///
/// # Safety
/// `ap` must come from `malloc` and not be freed twice.
pub unsafe fn free(ap: *mut u8) {
    if ap.is_null() {
        return;
    }
    // SAFETY: single-threaded; ap points just past a Header malloc wrote.
    unsafe {
        let st = &mut *HEAP.0.get();
        let bp = (ap as *mut Header).sub(1);
        let mut p = st.freep;
        while !(bp > p && bp < (*p).next) {
            if p >= (*p).next && (bp > p || bp < (*p).next) {
                break;
            }
            p = (*p).next;
        }
        if bp.add((*bp).units) == (*p).next {
            (*bp).units += (*(*p).next).units;
            (*bp).next = (*(*p).next).next;
        } else {
            (*bp).next = (*p).next;
        }
        if p.add((*p).units) == bp {
            (*p).units += (*bp).units;
            (*p).next = (*bp).next;
        } else {
            (*p).next = bp;
        }
        st.freep = p;
    }
}

/// Asks the kernel for at least `nu` more units; false if sbrk fails.
unsafe fn morecore(nu: usize) -> bool {
    let nu = nu.max(4096);
    let Some(bytes) = nu.checked_mul(UNIT) else {
        return false;
    };
    if bytes > i32::MAX as usize {
        return false;
    }
    let mut p = crate::sbrk(bytes as i64);
    if p == usize::MAX {
        return false;
    }
    // Keep blocks 16-byte aligned (the program break after exec is page-aligned, but a caller
    // may have moved it by any amount).
    let mis = p % UNIT;
    let mut units = nu;
    if mis != 0 {
        if crate::sbrk((UNIT - mis) as i64) == usize::MAX {
            return false;
        }
        p += UNIT - mis;
        units = nu; // the extra bytes cover the skipped prefix
    }
    let hp = p as *mut Header;
    // SAFETY: the kernel just mapped [p, p + bytes) for us.
    unsafe {
        (*hp).units = units;
        free(hp.add(1) as *mut u8);
    }
    true
}

/// Allocates `nbytes` bytes aligned to 16; null when memory is exhausted.
pub fn malloc(nbytes: usize) -> *mut u8 {
    let nunits = nbytes.div_ceil(UNIT) + 1;
    // SAFETY: single-threaded; the free list holds only blocks we own.
    unsafe {
        let st = &mut *HEAP.0.get();
        if st.freep.is_null() {
            let base = &raw mut st.base;
            (*base).next = base;
            (*base).units = 0;
            st.freep = base;
        }
        let mut prevp = st.freep;
        let mut p = (*prevp).next;
        loop {
            if (*p).units >= nunits {
                if (*p).units == nunits {
                    (*prevp).next = (*p).next;
                } else {
                    (*p).units -= nunits;
                    p = p.add((*p).units);
                    (*p).units = nunits;
                }
                st.freep = prevp;
                return p.add(1) as *mut u8;
            }
            if p == st.freep && !morecore(nunits) {
                return null_mut();
            }
            if p == st.freep {
                p = (*(*HEAP.0.get()).freep).next;
                prevp = (*HEAP.0.get()).freep;
                continue;
            }
            prevp = p;
            p = (*p).next;
        }
    }
}

struct Allocator;

// SAFETY: malloc returns 16-aligned blocks of at least the requested size, or null.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > UNIT {
            return null_mut();
        }
        malloc(layout.size())
    }
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: ptr came from alloc.
        unsafe { free(ptr) }
    }
}

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

//! The process's allocator: mimalloc (JSON values are many small allocations; it makes
//! them markedly cheaper), telling the JSONata bridge what each thread allocates and
//! frees, so that one evaluation is held to its memory budget
//! (`stepwise_jsonata::limits`).

use std::alloc::{GlobalAlloc, Layout};
use stepwise_jsonata::limits::{allocated, freed};

pub struct Counted;

// SAFETY: every call is passed on to mimalloc unchanged; the accounting only reads and
// writes thread-locals of plain integers and never allocates.
unsafe impl GlobalAlloc for Counted {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocated(layout.size());
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        allocated(layout.size());
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        freed(layout.size());
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        allocated(new_size);
        freed(layout.size());
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

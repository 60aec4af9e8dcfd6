//! The allocator that measures what rules hold, for `--max-memory`
//! (`kql_runtime::budget`, `docs/limits.md`).
//!
//! A built detector declares [`CountingAllocator`] as its global allocator
//! (one line in its generated `main.rs`). It is the system allocator plus
//! one relaxed atomic addition per allocation and per release.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, counting the bytes live on the heap.
pub struct CountingAllocator;

impl CountingAllocator {
    /// Turns the budget on: call it first in `main`, in a program whose
    /// global allocator is a `CountingAllocator`.
    pub fn start() {
        kql_runtime::budget::start_counting();
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; the counting only adds and
// subtracts the layout sizes in an atomic, which cannot allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            kql_runtime::budget::allocated(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            kql_runtime::budget::allocated(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (so by `System`)
        // with `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) };
        kql_runtime::budget::freed(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            kql_runtime::budget::freed(layout.size());
            kql_runtime::budget::allocated(new_size);
        }
        new
    }
}

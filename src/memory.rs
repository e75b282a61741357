//! How soon the allocator gives freed memory back to the OS. A clean run's memory peaks when
//! the policy input is complete: the parsed repositories and the input are alive together.
//! Until then, mimalloc's default delay (10 ms before a freed page is returned) kept pages of
//! what the parsing, the derivations and the input's building had already freed resident at
//! that peak: 14 MiB of it at 10,000 tenants.

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};
use std::ffi::c_long;
use std::sync::OnceLock;

/// mimalloc 2's `mi_option_purge_delay` (`include/mimalloc.h`, `enum mi_option_e`, the
/// sixteenth option; `src/options.c` gives it the default 10, in milliseconds). The crate
/// names no constant for it in its `v2` build. `tests/memory.rs` checks the number.
pub const PURGE_DELAY: mi_option_t = 15;

/// The delay before the first [`PurgeAtOnce`], which each one's drop restores. Why not the
/// delay each guard found: then two runs that overlap (a language server linting twice) could
/// leave 0 behind for good.
static USUAL_DELAY: OnceLock<c_long> = OnceLock::new();

/// While alive, memory freed is returned to the OS at once; dropped, the usual delay is back.
/// Why not always at once: while Rego evaluates, it allocates and frees at a high rate, and
/// returning each page at once cost a sixth more time on a run with 23,000 findings.
pub struct PurgeAtOnce(());

impl PurgeAtOnce {
    /// Starts returning freed memory at once, unless `MIMALLOC_PURGE_DELAY` is set: then the
    /// user chose the delay, and it stays (`None`).
    pub fn start() -> Option<Self> {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return None;
        }
        // SAFETY: mimalloc's options are plain integers, read and written atomically.
        USUAL_DELAY.get_or_init(|| unsafe { mi_option_get(PURGE_DELAY) });
        // SAFETY: as above.
        unsafe { mi_option_set(PURGE_DELAY, 0) };
        Some(PurgeAtOnce(()))
    }
}

impl Drop for PurgeAtOnce {
    fn drop(&mut self) {
        if let Some(usual) = USUAL_DELAY.get() {
            // SAFETY: as in `start`.
            unsafe { mi_option_set(PURGE_DELAY, *usual) };
        }
    }
}

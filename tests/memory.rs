//! `gitops_lint::memory`: the option it sets is mimalloc's purge delay, and the guard puts the
//! delay back. A test binary of its own, because mimalloc's options are the process's.

use gitops_lint::memory::{PurgeAtOnce, PURGE_DELAY};
use libmimalloc_sys::{mi_option_eager_commit_delay, mi_option_get, mi_option_use_numa_nodes};

fn purge_delay() -> std::ffi::c_long {
    // SAFETY: reads a plain integer option.
    unsafe { mi_option_get(PURGE_DELAY) }
}

#[test]
fn the_purge_delay_is_returned_at_once_while_the_guard_lives() {
    // mimalloc.h's order: eager_commit_delay, purge_delay, use_numa_nodes; the crate names
    // the two around it.
    assert_eq!(PURGE_DELAY, mi_option_eager_commit_delay + 1);
    assert_eq!(PURGE_DELAY, mi_option_use_numa_nodes - 1);
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        // The user's delay is left alone.
        let before = purge_delay();
        assert!(PurgeAtOnce::start().is_none());
        assert_eq!(purge_delay(), before);
        return;
    }
    // mimalloc 2's default (`src/options.c`): 10 ms. Its neighbours' defaults are 1 and 0.
    assert_eq!(purge_delay(), 10);
    let guard = PurgeAtOnce::start();
    assert!(guard.is_some());
    assert_eq!(purge_delay(), 0);
    drop(guard);
    assert_eq!(purge_delay(), 10);
    // Two runs that overlap (the first ends while the second is parsing): the usual delay is
    // back once either ends, never the 0 the second found.
    let (first, second) = (PurgeAtOnce::start(), PurgeAtOnce::start());
    assert_eq!(purge_delay(), 0);
    drop(first);
    assert_eq!(purge_delay(), 10);
    drop(second);
    assert_eq!(purge_delay(), 10);
}

//! Freeing large values off the critical path.

/// Drops `value` on a thread of its own, so that the caller goes on at once; if no thread can
/// be started, drops it here.
///
/// Why not `rayon::spawn`: a pool thread that waits for a `join` runs queued jobs while it
/// waits, and once it has started one it finishes it before it returns. A drop spawned on the
/// pool just before a `join` ends can so hold up everything after the join: on a clean
/// 10,000-tenant run, freeing the policy input that way was its last 30 ms, with the other
/// core idle. A command that exits first skips the rest of the work.
pub fn drop_in_background<T: Send + 'static>(value: T) {
    // On error the closure, and `value` with it, is dropped here.
    let _ = std::thread::Builder::new()
        .name("gitops-lint-free".into())
        .spawn(move || drop(value));
}

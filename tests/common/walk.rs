//! Trees git cannot hold, made at run time: FIFOs, and folders nested past `PATH_MAX`.

use std::path::{Path, PathBuf};

/// The longest name a Linux file system takes.
const NAME: usize = 255;

/// Makes a FIFO at `path` (with `mkfifo`, which every Unix has).
pub fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap_or_else(|e| panic!("mkfifo: {e}"));
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Nests folders below `dir` (made if missing) until a path below it is longer than
/// `PATH_MAX` (4096 bytes on Linux) even when written relative to `dir`'s parent, so opening
/// the deepest folders fails with `ENAMETOOLONG` for anyone, root included. No call here ever
/// passes a path that long: two chains of 14 folders are made apart and one is renamed into
/// the other. Returns the deepest folder.
pub fn nest_past_path_max(dir: &Path) -> PathBuf {
    let name = "d".repeat(NAME);
    let chain = |base: &Path| (0..14).fold(base.to_path_buf(), |p, _| p.join(&name));
    let lower = dir.join(format!(".{}", "x".repeat(8)));
    let upper = chain(dir);
    std::fs::create_dir_all(&upper).unwrap_or_else(|e| panic!("{e}"));
    let below = chain(&lower);
    std::fs::create_dir_all(&below).unwrap_or_else(|e| panic!("{e}"));
    std::fs::rename(lower.join(&name), upper.join(&name)).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_dir_all(&lower).unwrap_or_default();
    (0..14).fold(upper, |p, _| p.join(&name))
}

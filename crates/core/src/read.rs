//! Reading files from a checkout a pull request controls: only regular files, never more than a
//! budget, and paths turned into `/`-separated text without taking a Unix `\` for a separator.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fs::{File, FileType};
use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// Not a regular file (the [`special_kind`] name, or "a directory"): never read.
    NotAFile(&'static str),
    /// Larger than the budget: its size in bytes (at least the budget plus one).
    TooBig(u64),
    /// The OS refused.
    Io(std::io::Error),
}

/// What a file type is when it is neither a regular file, a directory nor a symbolic link
/// (a FIFO, a socket, a device): opening one can block forever or never end.
pub fn special_kind(file_type: &FileType) -> Option<&'static str> {
    if file_type.is_file() || file_type.is_dir() || file_type.is_symlink() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
    }
    Some("a special file")
}

/// Reads a regular file of at most `limit` bytes. The caller has seen (`lstat`, a directory
/// listing) that `path` is a regular file, so opening it cannot block on a FIFO; the opened
/// file is checked again (`fstat`), and the read stops after `limit + 1` bytes whatever the
/// size said, so a file that grows, or a device behind a swapped path, cannot exhaust memory.
pub fn regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = File::open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile(
            special_kind(&meta.file_type()).unwrap_or("a directory"),
        ));
    }
    if meta.len() > limit {
        return Err(ReadError::TooBig(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooBig(bytes.len() as u64));
    }
    Ok(bytes)
}

/// A file name's bytes: exact on Unix (any byte but `/` and NUL), UTF-8 elsewhere.
pub fn name_bytes(name: &OsStr) -> Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Cow::Borrowed(name.as_bytes())
    }
    #[cfg(not(unix))]
    {
        match name.to_string_lossy() {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        }
    }
}

/// A path from bytes that [`name_bytes`] (or git's `-z` output) produced.
pub fn bytes_path(bytes: &[u8]) -> Cow<'_, Path> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Cow::Borrowed(Path::new(OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        Cow::Owned(String::from_utf8_lossy(bytes).into_owned().into())
    }
}

/// A relative path as `/`-separated text. On Unix a `\` is an ordinary character of a file
/// name, so it stays; only Windows separates with `\`. Names that are not UTF-8 are shown
/// lossily (never a panic).
pub fn slash_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    if cfg!(windows) {
        text.replace('\\', "/")
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let dir = std::env::temp_dir().join(format!("gitops-lint-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let file = dir.join("f.yaml");
        std::fs::write(&file, "0123456789").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(regular_file(&file, 10).ok(), Some(b"0123456789".to_vec()));
        assert!(matches!(regular_file(&file, 9), Err(ReadError::TooBig(10))));
        assert!(matches!(
            regular_file(&dir, 9),
            Err(ReadError::NotAFile(_) | ReadError::Io(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap_or_default();
    }

    #[cfg(unix)]
    #[test]
    fn a_backslash_is_part_of_a_unix_name() {
        assert_eq!(slash_path(Path::new("a\\b.yaml")), "a\\b.yaml");
        assert_eq!(bytes_path(b"a\\b").as_ref(), Path::new("a\\b"));
    }
}

//! The editor's open documents, their unsaved text, and `file:` URIs.

use gitops_lint_model::load::Overlay;
use lsp_types::Uri;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One open document: the text the editor holds, which may differ from the disk.
#[derive(Debug, Clone)]
pub struct Document {
    /// The URI the editor names it by (echoed back in diagnostics).
    pub uri: Uri,
    /// The editor's version of the text.
    pub version: i32,
    /// The full text (the server asks for full-document sync).
    pub text: String,
}

/// Open documents by path on disk.
#[derive(Debug, Default)]
pub struct Documents {
    by_path: HashMap<PathBuf, Document>,
}

impl Documents {
    /// Records an opened document or a changed one (full text). Returns its path, or `None`
    /// for a URI that is not a local file (an untitled buffer, a remote file): those are not
    /// part of any repository on disk, so they are not linted.
    pub fn set(&mut self, uri: Uri, version: i32, text: String) -> Option<PathBuf> {
        let path = uri_to_path(&uri)?;
        self.by_path
            .insert(path.clone(), Document { uri, version, text });
        Some(path)
    }

    /// Forgets a closed document: the file on disk is the truth again.
    pub fn close(&mut self, uri: &Uri) -> Option<PathBuf> {
        let path = uri_to_path(uri)?;
        self.by_path.remove(&path).map(|_| path)
    }

    /// The open document at a path.
    pub fn get(&self, path: &Path) -> Option<&Document> {
        self.by_path.get(path)
    }

    /// The unsaved texts, keyed like the loader's walk keys files (root joined with the
    /// relative path; the roots are absolute paths from URIs, so the keys compare equal).
    pub fn overlay(&self) -> Overlay {
        self.by_path
            .iter()
            .map(|(path, doc)| (path.clone(), doc.text.clone()))
            .collect()
    }
}

/// Bytes kept as they are in a `file:` URI path (RFC 3986 unreserved characters, `/`, and the
/// sub-delimiters VS Code leaves alone); everything else is percent-encoded.
const PATH_SET: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The local path of a `file:` URI (`file:///a/b%20c` -> `/a/b c`); `None` for other schemes
/// and for a `file://host/...` on another machine.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let text = uri.as_str();
    let rest = text.strip_prefix("file://")?;
    // `file:///p` (empty authority) or `file://localhost/p`.
    let path = rest
        .strip_prefix("localhost")
        .unwrap_or(rest)
        .split(['?', '#'])
        .next()?;
    if !path.starts_with('/') {
        return None;
    }
    let bytes: Vec<u8> = percent_decode_str(path).collect();
    Some(gitops_lint_core::read::bytes_path(&bytes).into_owned())
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let bytes = gitops_lint_core::read::name_bytes(path.as_os_str());
    let text = String::from_utf8_lossy(&bytes);
    if !text.starts_with('/') {
        return None;
    }
    let encoded = format!("file://{}", utf8_percent_encode(&text, PATH_SET));
    Uri::from_str(&encoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_round_trip_with_escapes() {
        let path = Path::new("/tmp/a b/ten#ant%1.yaml");
        let uri = path_to_uri(path).unwrap_or_else(|| panic!("no uri"));
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/ten%23ant%251.yaml");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(path));
        let other = Uri::from_str("untitled:Untitled-1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(uri_to_path(&other), None);
    }
}

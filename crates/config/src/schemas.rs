//! `schemas:` vendored CustomResourceDefinition files or folders, relative to the config file's
//! folder (the repository root), read as the repository's own CRDs even when they lie outside
//! the linted paths or under `ignore:`.
//!
//! A config a pull request controls must not make the linter read files outside the
//! repository, so every path must stay inside the root: no absolute paths, no `..`, and no
//! symbolic link that resolves outside it (checked when the files are listed, since only the
//! file system knows where a link points).

use crate::ConfigError;
use gitops_lint_core::source::PathSeg;
use serde_json::Value;
use std::path::{Component, Path, PathBuf};

/// At most this many files are listed from the `schemas:` folders: vendored CRDs are dozens of
/// files; a folder of more is a wrong path (the whole repository, say).
pub const MAX_SCHEMA_FILES: usize = 10_000;

/// One `schemas:` entry.
#[derive(Clone, Debug)]
pub struct SchemaEntry {
    /// As written in the config.
    pub written: String,
    /// Joined to the config file's folder.
    pub path: PathBuf,
    /// Where it is in the config (file, line, key `schemas[i]`), for errors; `message` empty.
    pub at: ConfigError,
}

/// One file to read CRDs from, with the entry that named it (for errors about its content).
#[derive(Clone, Debug)]
pub struct SchemaFile {
    /// The file.
    pub path: PathBuf,
    /// The entry's position in the config; `message` empty.
    pub at: ConfigError,
}

/// Reads `schemas: [path, ...]`; refuses what cannot name a path inside the root.
pub(crate) fn parse(
    value: &Value,
    config_path: &Path,
    err: &dyn Fn(&[PathSeg], String) -> ConfigError,
) -> Result<Vec<SchemaEntry>, ConfigError> {
    let key = || PathSeg::Key("schemas".into());
    let Value::Array(items) = value else {
        return Err(err(
            &[key()],
            "expected a list of CRD files or folders relative to the config file, such as `- vendor/crds`".into(),
        ));
    };
    let base = config_path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = [key(), PathSeg::Index(i)];
        let Some(written) = item.as_str().filter(|s| !s.trim().is_empty()) else {
            return Err(err(
                &at,
                format!(
                    "expected a file or folder path relative to the config file, found `{item}`"
                ),
            ));
        };
        let relative = Path::new(written);
        if relative.is_absolute()
            || relative
                .components()
                .any(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
        {
            return Err(err(
                &at,
                format!("`{written}` is absolute; give a path relative to the config file's folder (the repository root), so the config reads the same in every checkout"),
            ));
        }
        if relative.components().any(|c| c == Component::ParentDir) {
            return Err(err(
                &at,
                format!("`{written}` leaves the repository root (`..`); vendor the CRDs inside the repository and list that path"),
            ));
        }
        out.push(SchemaEntry {
            written: written.to_string(),
            path: base.join(relative),
            at: err(&at, String::new()),
        });
    }
    Ok(out)
}

/// The files the entries name: each file, and each `.yaml`/`.yml` file below each folder
/// (sorted, recursively), all inside `root`. A missing path, or a symbolic link that resolves
/// outside the root, is a config error naming the entry.
pub fn list(entries: &[SchemaEntry], root: &Path) -> Result<Vec<SchemaFile>, ConfigError> {
    let fail = |entry: &SchemaEntry, message: String| ConfigError {
        message,
        ..entry.at.clone()
    };
    let Ok(root) = root.canonicalize() else {
        return match entries.first() {
            Some(e) => Err(fail(
                e,
                format!(
                    "cannot resolve the folder of the config file `{}`",
                    root.display()
                ),
            )),
            None => Ok(Vec::new()),
        };
    };
    let mut out = Vec::new();
    for entry in entries {
        let resolved = entry
            .path
            .canonicalize()
            .map_err(|e| fail(entry, format!("`{}`: {e}", entry.written)))?;
        if !resolved.starts_with(&root) {
            return Err(fail(
                entry,
                format!("`{}` leads outside the repository root through a symbolic link; vendor the CRDs inside the repository", entry.written),
            ));
        }
        if resolved.is_dir() {
            let mut files = Vec::new();
            walk(&resolved, &root, &mut files).map_err(|(path, message)| {
                fail(entry, format!("`{}`: {message}", path.display()))
            })?;
            files.sort();
            if out.len() + files.len() > MAX_SCHEMA_FILES {
                return Err(fail(
                    entry,
                    format!("`{}` holds more than {MAX_SCHEMA_FILES} YAML files; list the folder of vendored CRDs, not a whole tree", entry.written),
                ));
            }
            out.extend(files.into_iter().map(|path| SchemaFile {
                path,
                at: entry.at.clone(),
            }));
        } else if resolved.is_file() {
            out.push(SchemaFile {
                path: resolved,
                at: entry.at.clone(),
            });
        } else {
            return Err(fail(
                entry,
                format!("`{}` is neither a file nor a folder", entry.written),
            ));
        }
    }
    Ok(out)
}

/// The `.yaml`/`.yml` regular files below `dir`. A linked file is taken when it resolves inside
/// `root`, and refused otherwise; linked folders are not entered (no cycles), nor are FIFOs and
/// devices opened.
fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) -> Result<(), (PathBuf, String)> {
    let entries = std::fs::read_dir(dir).map_err(|e| (dir.to_path_buf(), e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| (dir.to_path_buf(), e.to_string()))?;
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            walk(&path, root, out)?;
            if out.len() > MAX_SCHEMA_FILES {
                return Ok(());
            }
            continue;
        }
        let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if !yaml {
            continue;
        }
        if file_type.is_symlink() {
            let Ok(target) = path.canonicalize() else {
                continue;
            };
            if !target.starts_with(root) {
                return Err((
                    path,
                    "a symbolic link that leads outside the repository root".into(),
                ));
            }
            if target.is_file() {
                out.push(path);
            }
        } else if file_type.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

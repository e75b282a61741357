//! Embeds the rule catalog (`rules/**/*.md` at the workspace root) and generates one
//! `RuleId` constant per page from its front matter, so that a misspelt rule id in the code
//! does not compile and every id the code can emit has a page.

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, ext, out);
        } else if path.extension().and_then(|e| e.to_str()) == Some(ext) {
            out.push(path);
        }
    }
}

/// The `id:` of a page's front matter, when it has one.
fn front_matter_id(text: &str) -> Option<String> {
    let body = text.strip_prefix("---\n")?;
    let end = body.find("\n---")?;
    body[..end].lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == "id").then(|| v.trim().trim_matches('"').to_string())
    })
}

/// `image-updater/image-list` -> `IMAGE_UPDATER_IMAGE_LIST`.
fn const_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn main() {
    let crate_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let root = crate_dir.join("../..");
    let rules_dir = root.join("rules");
    let mut pages = Vec::new();
    collect(&rules_dir, "md", &mut pages);
    pages.retain(|p| p.file_name().and_then(|n| n.to_str()) != Some("README.md"));
    pages.sort();
    let mut code = String::from(
        "/// Embedded rule pages: (path relative to the workspace root, contents).\n\
         pub static PAGES: &[(&str, &str)] = &[\n",
    );
    let mut ids = Vec::new();
    for page in &pages {
        let rel = page
            .strip_prefix(&root)
            .unwrap_or(page)
            .to_string_lossy()
            // Only Windows separates with `\`; on Unix it is part of a name.
            .to_string();
        let rel = if cfg!(windows) {
            rel.replace('\\', "/")
        } else {
            rel
        };
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            page.to_string_lossy()
        ));
        let text = fs::read_to_string(page).unwrap_or_default();
        if let Some(id) = front_matter_id(&text) {
            ids.push((id, rel));
        }
    }
    code.push_str("];\n\n");
    ids.sort();
    code.push_str("impl RuleId {\n");
    for (id, rel) in &ids {
        code.push_str(&format!(
            "    /// `{id}`: see `{rel}`.\n    pub const {}: RuleId = RuleId(std::borrow::Cow::Borrowed({id:?}));\n",
            const_name(id)
        ));
    }
    code.push_str(
        "}\n\n/// Every rule id that has a page, sorted.\npub static ALL: &[RuleId] = &[\n",
    );
    for (id, _) in &ids {
        code.push_str(&format!("    RuleId::{},\n", const_name(id)));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    if let Err(err) = fs::write(out.join("catalog.rs"), code) {
        panic!("cannot write catalog.rs: {err}");
    }
    println!("cargo:rerun-if-changed={}", rules_dir.display());
    for page in &pages {
        println!("cargo:rerun-if-changed={}", page.display());
    }
}

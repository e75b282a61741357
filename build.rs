//! Embeds the rule catalog (`rules/**/*.md`) and the Rego policies (`policies/*.rego`) in the
//! binary, so `gitops-lint` needs no files beside it.

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

fn table(name: &str, root: &Path, files: &[PathBuf]) -> String {
    let mut s = format!("/// Embedded files: (path relative to the crate, contents).\npub static {name}: &[(&str, &str)] = &[\n");
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        s.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.to_string_lossy()
        ));
    }
    s.push_str("];\n");
    s
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let mut pages = Vec::new();
    collect(&root.join("rules"), "md", &mut pages);
    pages.retain(|p| p.file_name().and_then(|n| n.to_str()) != Some("README.md"));
    pages.sort();
    let mut policies = Vec::new();
    collect(&root.join("policies"), "rego", &mut policies);
    policies.sort();
    let code = table("PAGES", &root, &pages) + &table("POLICIES", &root, &policies);
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    if let Err(err) = fs::write(out.join("embedded.rs"), code) {
        panic!("cannot write embedded.rs: {err}");
    }
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=policies");
}

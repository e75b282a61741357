//! Embeds the Rego policies (`policies/*.rego` at the workspace root) in the binary, so
//! `gitops-lint` needs no files beside it.

use std::fs;
use std::path::PathBuf;

fn main() {
    let crate_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let root = crate_dir.join("../..");
    let dir = root.join("policies");
    let mut policies: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("rego"))
                .collect()
        })
        .unwrap_or_default();
    policies.sort();
    let mut code = String::from(
        "/// Embedded policies: (path relative to the workspace root, contents).\n\
         pub static POLICIES: &[(&str, &str)] = &[\n",
    );
    for p in &policies {
        let rel = p
            .strip_prefix(&root)
            .unwrap_or(p)
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
            p.to_string_lossy()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    if let Err(err) = fs::write(out.join("policies.rs"), code) {
        panic!("cannot write policies.rs: {err}");
    }
    println!("cargo:rerun-if-changed={}", dir.display());
    for p in &policies {
        println!("cargo:rerun-if-changed={}", p.display());
    }
}

//! The Terraform (HCL) and JSON (`tenants.json`, `*.tfvars.json`) loaders on any bytes.
#![no_main]

use gitops_lint_syntax::{hcl, json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = hcl::load(&text);
    let _ = json::load(&text);
});

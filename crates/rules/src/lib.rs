//! The rules: native checks ([`checks`]), the schema validator ([`schema`]) and the Rego host
//! with the embedded policies ([`policy`]). Every rule the tool can report is registered in
//! [`registry`], which says which unit emits it.

pub mod checks;
pub mod policy;
pub mod registry;
mod schema;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/policies.rs"));
}

pub use embedded::POLICIES;

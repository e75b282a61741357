//! goTemplate rendering (`goTemplate: true`; facts.md §1.4).

use serde_json::Value;

/// Why a goTemplate string did not render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GoError {
    /// Argo CD fails on it (parse error, execution error, `missingkey=error`).
    Failed {
        /// The error in Argo CD's words.
        message: String,
        /// The missing key, when that is the error.
        missing: Option<String>,
    },
    /// A construct this tool does not evaluate.
    NotUnderstood(String),
}

/// A rendered string and the keys that printed `<no value>`.
pub struct GoRendered {
    /// The output.
    pub text: String,
    /// Missing keys (only without `missingkey=error`).
    pub missing: Vec<String>,
}

/// Renders `text` as a Go `text/template` with `data` as `.`.
pub fn render(text: &str, data: &Value, missingkey_error: bool) -> Result<GoRendered, GoError> {
    let _ = (data, missingkey_error);
    Err(GoError::NotUnderstood(format!("`{text}`")))
}

//! Terraform files through `hcl-edit` (via `hcl-rs`), which keeps spans for later evaluation.

use super::ParseIssue;
use gitops_lint_core::RuleId;

/// A parsed Terraform file.
pub type Body = hcl::edit::structure::Body;

/// Parses a `.tf` file; a syntax error becomes a `terraform/syntax` issue at its byte offset.
///
/// A key set twice in one object expression (`{ team = "a", team = "b" }`) is accepted, as
/// Terraform accepts it: hashicorp/hcl `hclsyntax/expression.go` `(*ObjectConsExpr).Value`
/// fills a map in order, so the last value wins (hashicorp/terraform#28727). hcl-edit refuses
/// such a file, so the later key is renamed to a unique name of the same length (spans stay
/// exact), the file is parsed again, and the later value then replaces the earlier one.
pub fn load(text: &str) -> Result<Body, Box<ParseIssue>> {
    let mut patched: Option<String> = None;
    let mut renamed: Vec<(String, String)> = Vec::new();
    // Each round fixes one duplicate; a file has few, and the cap bounds hostile input.
    for _ in 0..64 {
        let current = patched.as_deref().unwrap_or(text);
        let err = match hcl::edit::parser::parse_body(current) {
            Ok(mut body) => {
                if !renamed.is_empty() {
                    let mut merge = LastKeyWins { renamed: &renamed };
                    hcl::edit::visit_mut::visit_body_mut(&mut merge, &mut body);
                }
                return Ok(body);
            }
            Err(err) => err,
        };
        let start = err.location().offset().min(current.len());
        let rename = is_duplicate_object_key(err.message())
            .then(|| rename_key_at(current, start))
            .flatten();
        match rename {
            Some((text, placeholder, original)) => {
                patched = Some(text);
                renamed.push((placeholder, original));
            }
            None => return Err(syntax_issue(text, start, err.message())),
        }
    }
    Err(syntax_issue(text, 0, "too many duplicate object keys"))
}

/// Whether hcl-edit refused a key set twice in one object. hcl-edit's errors carry no kind,
/// only this text (hcl-edit `parser/expr.rs`, `object_items`).
fn is_duplicate_object_key(message: &str) -> bool {
    message.contains("redefined object key")
}

fn syntax_issue(text: &str, start: usize, message: &str) -> Box<ParseIssue> {
    // hcl-edit's offset can fall inside a multi-byte character (found by fuzzing): step back
    // to the character's first byte.
    let mut start = start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    Box::new(ParseIssue {
        rule: RuleId::TERRAFORM_SYNTAX,
        start,
        end: end.max(start),
        message: format!("HCL does not parse: {message}"),
        help: Some(
            "`terraform plan` fails on this file, so no tenant's infrastructure can change until it is fixed".to_string(),
        ),
        ..ParseIssue::default()
    })
}

/// Renames the object key at `at` (an identifier or a quoted string) to a name of the same
/// length that the text does not contain; returns the new text, the new name and the key's
/// name. `None` when the key is something else (an expression) or no name fits.
fn rename_key_at(text: &str, at: usize) -> Option<(String, String, String)> {
    let rest = text.get(at..)?;
    let (len, inner_from, original) = if let Some(quoted) = rest.strip_prefix('"') {
        let close = quoted.find(['"', '\\', '$', '%', '\n'])?;
        if !quoted[close..].starts_with('"') {
            return None;
        }
        (close, at + 1, quoted[..close].to_string())
    } else {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        (len, at, rest[..len].to_string())
    };
    if len == 0 {
        return None;
    }
    let placeholder = unused_name(text, len)?;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..inner_from]);
    out.push_str(&placeholder);
    out.push_str(&text[inner_from + len..]);
    Some((out, placeholder, original))
}

/// A name of `len` ASCII characters (a letter, then letters or digits) that `text` does not
/// contain anywhere.
fn unused_name(text: &str, len: usize) -> Option<String> {
    const ALPHABET: &[u8] = b"ZQXJKVzqxjkv0123456789";
    (0..4096usize)
        .map(|n| {
            let mut name = String::with_capacity(len);
            let mut n = n;
            for i in 0..len {
                let set = if i == 0 { &ALPHABET[..12] } else { ALPHABET };
                name.push(set[n % set.len()] as char);
                n /= set.len();
            }
            name
        })
        .find(|name| !text.contains(name.as_str()))
}

/// Moves each renamed key's value onto the earlier key of the same name: the last one wins.
struct LastKeyWins<'a> {
    /// (new name, the key's name).
    renamed: &'a [(String, String)],
}

impl hcl::edit::visit_mut::VisitMut for LastKeyWins<'_> {
    fn visit_object_mut(&mut self, node: &mut hcl::edit::expr::Object) {
        hcl::edit::visit_mut::visit_object_mut(self, node);
        for (placeholder, original) in self.renamed {
            let Some(late) = find_key(node, placeholder) else {
                continue;
            };
            let Some((_, value)) = node.remove_entry(&late) else {
                continue;
            };
            match find_key(node, original) {
                Some(early) => {
                    if let Some(slot) = node.get_mut(&early) {
                        *slot = value;
                    }
                }
                None => {
                    node.insert(late, value);
                }
            }
        }
    }
}

/// The key of `object` named `name` (an identifier or a plain string key).
fn find_key(object: &hcl::edit::expr::Object, name: &str) -> Option<hcl::edit::expr::ObjectKey> {
    object
        .iter()
        .map(|(k, _)| k)
        .find(|k| match k {
            hcl::edit::expr::ObjectKey::Ident(id) => id.as_str() == name,
            hcl::edit::expr::ObjectKey::Expression(e) => e.as_str() == Some(name),
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_error_inside_a_multi_byte_character_is_reported_not_a_panic() {
        // A fuzzer's input (invalid UTF-8, read lossily as the loaders' callers do): hcl-edit
        // stops inside one of the U+FFFD characters.
        let bytes = b"v0=[ \x22\x22//\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff ,   \xff//////\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff ,   \xff///////////////////oted}\xf1";
        let text = String::from_utf8_lossy(bytes);
        let issue = super::load(&text)
            .err()
            .unwrap_or_else(|| panic!("should not parse"));
        assert!(text.is_char_boundary(issue.start));
        assert!(issue.start <= issue.end && issue.end <= text.len());
    }

    #[test]
    fn a_key_set_twice_in_an_object_keeps_the_last_value_as_terraform_does() {
        let text = "locals {\n  tags = {\n    team = \"a\"\n    \"env\" = \"x\"\n    team = \"b\"\n    \"env\" = \"y\"\n  }\n}\n";
        let body = super::load(text).unwrap_or_else(|e| panic!("{}", e.message));
        let value: serde_json::Value =
            hcl::from_body(body.into()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value["locals"]["tags"]["team"], "b");
        assert_eq!(value["locals"]["tags"]["env"], "y");
        // A block argument set twice is still an error, in Terraform too.
        assert!(super::load("locals {\n  a = 1\n  a = 2\n}\n").is_err());
    }

    #[test]
    fn unclosed_block_is_an_issue() {
        assert!(super::load("module \"x\" {\n  source = \"./m\"\n").is_err());
        assert!(super::load("module \"x\" {\n  source = \"./m\"\n}\n").is_ok());
    }
}

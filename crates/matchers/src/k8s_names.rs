//! Kubernetes and Helm name syntax: DNS-1123 labels for namespaces, DNS-1123
//! subdomains for object names, and Helm release names (a subdomain of at most 53 characters).
//! Upstream: Kubernetes apimachinery `pkg/util/validation/validation.go` (`IsDNS1123Label`,
//! `IsDNS1123Subdomain`) and `pkg/api/validation/generic.go` (`ValidateNamespaceName`,
//! `NameIsDNSSubdomain`); Helm `pkg/chartutil/validate_name.go` (`ValidateReleaseName`,
//! `maxReleaseNameLen`; `pkg/chart/v2/util/` in Helm 4).

/// Which naming rule a field follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// DNS-1123 label, at most 63 characters: namespaces.
    Label,
    /// DNS-1123 subdomain, at most 253 characters: most object names.
    Subdomain,
    /// Helm release name: the subdomain pattern, at most 53 characters.
    HelmRelease,
}

impl NameKind {
    /// How people call this rule, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            NameKind::Label => "a DNS-1123 label (lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters)",
            NameKind::Subdomain => "a DNS-1123 subdomain (lowercase letters, digits, `-` and `.`, each part starting and ending with a letter or digit, at most 253 characters)",
            NameKind::HelmRelease => "a Helm release name (a DNS-1123 subdomain of at most 53 characters)",
        }
    }

    /// The longest valid name.
    pub fn max_len(self) -> usize {
        match self {
            NameKind::Label => 63,
            NameKind::Subdomain => 253,
            NameKind::HelmRelease => 53,
        }
    }
}

/// What is wrong with one dot-free part of a name, if anything.
fn label_problem(label: &str) -> Option<String> {
    if label.is_empty() {
        return Some("it has an empty part (`..`, or a leading or trailing `.`)".into());
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(if c.is_ascii_uppercase() {
            format!("`{c}` is upper-case; only lowercase letters are allowed")
        } else {
            format!("`{c}` is not allowed")
        });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Some("it must start and end with a letter or digit".into());
    }
    None
}

/// Why `name` is not a valid name of this kind, or `None` when it is valid.
pub fn problem(name: &str, kind: NameKind) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    let len = name.chars().count();
    if len > kind.max_len() {
        return Some(format!(
            "it is {len} characters long, more than {}",
            kind.max_len()
        ));
    }
    if kind == NameKind::Label {
        if name.contains('.') {
            return Some("`.` is not allowed".into());
        }
        return label_problem(name);
    }
    name.split('.').find_map(label_problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_subdomains_and_release_names() {
        assert_eq!(problem("tenant-1", NameKind::Label), None);
        assert_eq!(problem("tenant-1.x", NameKind::Subdomain), None);
        assert!(problem("tenant-1.x", NameKind::Label).is_some());
        assert!(problem("tenant-1_premium", NameKind::Subdomain).is_some_and(|p| p.contains("`_`")));
        assert!(problem("Tenant", NameKind::Label).is_some_and(|p| p.contains("upper")));
        assert!(problem("-a", NameKind::Label).is_some());
        assert!(problem("a..b", NameKind::Subdomain).is_some());
        assert!(problem("", NameKind::Label).is_some());
        let long = "a".repeat(54);
        assert!(problem(&long, NameKind::HelmRelease).is_some());
        assert_eq!(problem(&long, NameKind::Subdomain), None);
        assert!(problem(&"a".repeat(64), NameKind::Label).is_some());
    }
}

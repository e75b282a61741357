//! Git repository URLs compared the way Argo CD compares them.

/// A loose identity of a repository URL for "is it this checkout": lowercase, no scheme, no
/// `user@`, `host:org/r` as `host/org/r`, no `.git`, no trailing `/`. Empty when there is no
/// host and path.
pub fn same_repo_key(url: &str) -> String {
    let mut s = url.trim().to_ascii_lowercase();
    if let Some(i) = s.find("://") {
        s = s[i + 3..].to_string();
    } else if let Some((user_host, rest)) = s.split_once(':') {
        // scp-like `git@github.com:org/repo`
        s = format!("{user_host}/{rest}");
    }
    if let Some(at) = s.find('@') {
        if s[..at].find('/').is_none() {
            s = s[at + 1..].to_string();
        }
    }
    let s = s.trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    let s = s.trim_end_matches('/');
    if !s.contains('/') {
        return String::new();
    }
    s.to_string()
}

/// Argo CD's `NormalizeGitURL` (used for `sourceRepos`): lowercase, trimmed, scp-like SSH URLs
/// with the first `:` turned into `/`, the `ssh://` prefix and a `.git` suffix removed.
pub fn normalize_git_url(url: &str) -> String {
    let mut s = url.trim().to_ascii_lowercase();
    let is_ssh = s.starts_with("ssh://")
        || (!s.contains("://") && s.split_once('@').is_some_and(|(_, r)| r.contains(':')));
    if is_ssh && !s.starts_with("ssh://") {
        s = s.replacen(':', "/", 1);
    }
    let s = s.strip_suffix(".git").unwrap_or(&s).to_string();
    s.strip_prefix("ssh://").unwrap_or(&s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_scheme_user_and_suffix() {
        let a = same_repo_key("https://github.com/Acme/apps-repo.git/");
        assert_eq!(a, "github.com/acme/apps-repo");
        assert_eq!(same_repo_key("git@github.com:acme/apps-repo.git"), a);
        assert_eq!(same_repo_key("ssh://git@github.com/acme/apps-repo"), a);
        assert_eq!(same_repo_key("apps-repo"), "");
    }

    #[test]
    fn argo_normalization() {
        assert_eq!(
            normalize_git_url("git@GitHub.com:acme/r.git"),
            "git@github.com/acme/r"
        );
        assert_eq!(
            normalize_git_url("https://github.com/acme/r.git"),
            "https://github.com/acme/r"
        );
        assert_eq!(
            normalize_git_url("ssh://git@github.com/acme/r"),
            "git@github.com/acme/r"
        );
    }
}

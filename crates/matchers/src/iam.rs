//! IAM condition operators as AWS evaluates them (AWS IAM User Guide, "IAM JSON policy
//! elements: Condition operators"): `StringLike` treats `*` as any run of characters and `?` as
//! one character; `StringEquals` compares exactly.

/// IAM `StringLike`: `*` any run, `?` one character. Greedy with one backtrack point, so at
/// worst `pattern × text` steps, never exponential.
pub fn string_like(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_marks() {
        assert!(string_like("a*c", "abbbc") && !string_like("a*c", "abbb"));
        assert!(string_like("t-?", "t-1") && !string_like("t-?", "t-12"));
        assert!(string_like("exact", "exact") && !string_like("exact", "exacT"));
    }
}

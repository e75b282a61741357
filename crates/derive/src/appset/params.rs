//! Parameter sets as Argo CD builds them: flat string maps for
//! fasttemplate (`path.basename`, `path[0]`, `cluster.name`), nested objects for goTemplate
//! (`.path.basename`, `index .path.segments 0`), with Go's `%v` printing of values. Upstream:
//! Argo CD `applicationset/generators/git.go` (`generateParamsFromApps`,
//! `generateParamsFromGitFile`; flattening with `jeremywohl/flatten` `DotStyle`) and
//! `applicationset/utils/template_functions.go` (`SanitizeName`).

use serde_json::{Map, Value};

/// One parameter set: flat `key -> string` for fasttemplate, nested for goTemplate.
pub(crate) type Params = Map<String, Value>;

/// One parameter set with the words that name its generator element.
#[derive(Clone, Debug)]
pub(crate) struct ParamSet {
    /// The parameters.
    pub params: Params,
    /// `directory tenants/premium/tenant-7`, `list element 2`, `cluster in-cluster`.
    pub element: String,
}

/// Go's `fmt.Sprintf("%v", v)` for a value decoded from JSON (numbers are `float64`).
pub(crate) fn go_string(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => go_float(n.as_f64().unwrap_or(0.0)),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_string).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_string(&map[k.as_str()])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%v` of a `float64`: `%g` with the shortest digits, exponent form from 1e+06 (and
/// below 1e-04): `1000000` prints `1e+06`, `123456789012` prints `1.23456789012e+11`.
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest round-trip digits in scientific form: `d.ddddde<exp>`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// Argo CD's `SanitizeName` (`normalize`, `*Normalized` parameters): lowercase, every character
/// outside `[-a-z0-9.]` becomes `-`, at most 253 characters, leading and trailing `-`/`.` trimmed.
pub(crate) fn sanitize_name(name: &str) -> String {
    // Go's strings.ToLower maps each rune to one rune (`İ` to `i`); Rust's to_lowercase may
    // give two (`i̇`), which would add a `-`: take the first.
    let mapped: String = name
        .chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(253)
        .collect();
    mapped.trim_matches(['-', '.']).to_string()
}

/// `jeremywohl/flatten` DotStyle followed by `%v`: `{"a":{"b":1},"l":["x"]}` gives
/// `a.b = "1"`, `l.0 = "x"`. Empty objects and lists produce no key.
pub(crate) fn flatten_into(prefix: &str, v: &Value, out: &mut Params) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_into(&key, child, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let key = if prefix.is_empty() {
                    i.to_string()
                } else {
                    format!("{prefix}.{i}")
                };
                flatten_into(&key, child, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), Value::String(go_string(leaf)));
        }
    }
}

/// The git generator's path parameters for `path` (a directory; for files, the file's
/// directory and `filename`), under the optional `pathParamPrefix`.
pub(crate) fn path_params(
    out: &mut Params,
    dir: &str,
    filename: Option<&str>,
    prefix: &str,
    go: bool,
) {
    let segments: Vec<&str> = dir.split('/').collect();
    let basename = dir.rsplit('/').next().unwrap_or(dir);
    if go {
        let mut p = Map::new();
        p.insert("path".into(), Value::String(dir.into()));
        p.insert("basename".into(), Value::String(basename.into()));
        p.insert(
            "basenameNormalized".into(),
            Value::String(sanitize_name(basename)),
        );
        if let Some(f) = filename {
            p.insert("filename".into(), Value::String(f.into()));
            p.insert("filenameNormalized".into(), Value::String(sanitize_name(f)));
        }
        p.insert(
            "segments".into(),
            Value::Array(
                segments
                    .iter()
                    .map(|s| Value::String((*s).into()))
                    .collect(),
            ),
        );
        if prefix.is_empty() {
            out.insert("path".into(), Value::Object(p));
        } else {
            let mut outer = Map::new();
            outer.insert("path".into(), Value::Object(p));
            out.insert(prefix.into(), Value::Object(outer));
        }
        return;
    }
    let key = if prefix.is_empty() {
        "path".to_string()
    } else {
        format!("{prefix}.path")
    };
    let mut put = |k: String, v: String| {
        out.insert(k, Value::String(v));
    };
    put(key.clone(), dir.into());
    put(format!("{key}.basename"), basename.into());
    put(format!("{key}.basenameNormalized"), sanitize_name(basename));
    if let Some(f) = filename {
        put(format!("{key}.filename"), f.into());
        put(format!("{key}.filenameNormalized"), sanitize_name(f));
    }
    for (i, s) in segments.iter().enumerate() {
        if !s.is_empty() {
            put(format!("{key}[{i}]"), (*s).into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_percent_v_of_floats() {
        assert_eq!(go_float(8080.0), "8080");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1_000_000.0), "1e+06");
        assert_eq!(go_float(123_456_789_012.0), "1.23456789012e+11");
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
    }

    #[test]
    fn flattening_and_sanitizing() {
        let v: Value =
            serde_json::json!({"cluster": {"name": "x", "port": 8080}, "ips": ["a"], "n": null});
        let mut out = Params::new();
        flatten_into("", &v, &mut out);
        assert_eq!(out["cluster.name"], "x");
        assert_eq!(out["cluster.port"], "8080");
        assert_eq!(out["ips.0"], "a");
        assert_eq!(out["n"], "<nil>");
        assert_eq!(sanitize_name("-My_App.v2-"), "my-app.v2");
        assert_eq!(sanitize_name("İstanbul"), "istanbul");
    }
}

//! goTemplate rendering (`goTemplate: true`) through the shared Go
//! `text/template` engine ([`gitops_lint_gotemplate`]), with Argo CD's function table: Go's
//! builtins, the sprig functions (Argo CD removes only `env`, `expandenv`, `getHostByName`), and
//! its own `normalize`, `slugify`, `toYaml`, `fromYaml`, `fromYamlArray`. Helm-only functions
//! (`include`, `tpl`, `required`) are not there, as in Argo CD. Upstream: Argo CD
//! `applicationset/utils/utils.go` (`init` builds the function table, `Replace` renders).

use gitops_lint_gotemplate::{
    Cause, Ctx, ErrorKind, Funcs, Limits, MissingKey, Options, Templates,
};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Why a goTemplate string did not render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GoError {
    /// Argo CD fails on it (parse error, execution error, `missingkey=error`).
    Failed {
        /// The error in Argo CD's words.
        message: String,
        /// Why, for the rule choice.
        cause: Failure,
    },
    /// A construct this tool does not evaluate.
    NotUnderstood(String),
}

/// Why Argo CD fails to render a template, as far as the rules tell causes apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// `missingkey=error` and this key (dotted, `path.nope`) is absent.
    MissingKey(String),
    /// `index` beyond the end of a list (`{{index .path.segments 5}}`).
    IndexOutOfRange,
    /// A function Argo CD's table does not have (often fasttemplate syntax under goTemplate).
    UndefinedFunction,
    /// Not Argo CD's failure: the execution ran out of one of its budgets (`limits:`).
    Budget(gitops_lint_gotemplate::Budget),
    /// Anything else.
    Other,
}

/// A rendered string and the keys that printed `<no value>`.
pub(crate) struct GoRendered {
    /// The output.
    pub text: String,
    /// Missing keys (only without `missingkey=error`).
    pub missing: Vec<String>,
}

/// Every function Argo CD's goTemplate knows: Go's builtins, sprig without `env`, `expandenv`
/// and `getHostByName`, and Argo CD's own. Any other name is a parse error in Argo CD.
const ARGO_FUNCS: &[&str] = &[
    "hello",
    "ago",
    "date",
    "date_in_zone",
    "date_modify",
    "dateInZone",
    "dateModify",
    "duration",
    "durationRound",
    "htmlDate",
    "htmlDateInZone",
    "must_date_modify",
    "mustDateModify",
    "mustToDate",
    "now",
    "toDate",
    "unixEpoch",
    "abbrev",
    "abbrevboth",
    "trunc",
    "trim",
    "upper",
    "lower",
    "title",
    "untitle",
    "substr",
    "repeat",
    "trimall",
    "trimAll",
    "trimSuffix",
    "trimPrefix",
    "nospace",
    "initials",
    "randAlphaNum",
    "randAlpha",
    "randAscii",
    "randNumeric",
    "swapcase",
    "shuffle",
    "snakecase",
    "camelcase",
    "kebabcase",
    "wrap",
    "wrapWith",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "quote",
    "squote",
    "cat",
    "indent",
    "nindent",
    "replace",
    "plural",
    "sha1sum",
    "sha256sum",
    "adler32sum",
    "toString",
    "atoi",
    "int64",
    "int",
    "float64",
    "seq",
    "toDecimal",
    "split",
    "splitList",
    "splitn",
    "toStrings",
    "until",
    "untilStep",
    "add1",
    "add",
    "sub",
    "div",
    "mod",
    "mul",
    "randInt",
    "add1f",
    "addf",
    "subf",
    "divf",
    "mulf",
    "biggest",
    "max",
    "min",
    "maxf",
    "minf",
    "ceil",
    "floor",
    "round",
    "join",
    "sortAlpha",
    "default",
    "empty",
    "coalesce",
    "all",
    "any",
    "compact",
    "mustCompact",
    "fromJson",
    "toJson",
    "toPrettyJson",
    "toRawJson",
    "mustFromJson",
    "mustToJson",
    "mustToPrettyJson",
    "mustToRawJson",
    "ternary",
    "deepCopy",
    "mustDeepCopy",
    "typeOf",
    "typeIs",
    "typeIsLike",
    "kindOf",
    "kindIs",
    "deepEqual",
    "base",
    "dir",
    "clean",
    "ext",
    "isAbs",
    "osBase",
    "osClean",
    "osDir",
    "osExt",
    "osIsAbs",
    "b64enc",
    "b64dec",
    "b32enc",
    "b32dec",
    "tuple",
    "list",
    "dict",
    "get",
    "set",
    "unset",
    "hasKey",
    "pluck",
    "keys",
    "pick",
    "omit",
    "merge",
    "mergeOverwrite",
    "mustMerge",
    "mustMergeOverwrite",
    "values",
    "append",
    "push",
    "mustAppend",
    "mustPush",
    "prepend",
    "mustPrepend",
    "first",
    "mustFirst",
    "rest",
    "mustRest",
    "last",
    "mustLast",
    "initial",
    "mustInitial",
    "reverse",
    "mustReverse",
    "uniq",
    "mustUniq",
    "without",
    "mustWithout",
    "has",
    "mustHas",
    "slice",
    "mustSlice",
    "concat",
    "dig",
    "chunk",
    "mustChunk",
    "bcrypt",
    "htpasswd",
    "genPrivateKey",
    "derivePassword",
    "buildCustomCert",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "encryptAES",
    "decryptAES",
    "randBytes",
    "uuidv4",
    "semver",
    "semverCompare",
    "fail",
    "regexMatch",
    "mustRegexMatch",
    "regexFindAll",
    "mustRegexFindAll",
    "regexFind",
    "mustRegexFind",
    "regexReplaceAll",
    "mustRegexReplaceAll",
    "regexReplaceAllLiteral",
    "mustRegexReplaceAllLiteral",
    "regexSplit",
    "mustRegexSplit",
    "regexQuoteMeta",
    "urlParse",
    "urlJoin",
    "normalize",
    "slugify",
    "toYaml",
    "fromYaml",
    "fromYamlArray",
    "and",
    "or",
    "not",
    "len",
    "index",
    "print",
    "printf",
    "println",
    "call",
    "html",
    "js",
    "urlquery",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
];

/// Argo CD's function table, built once.
fn funcs() -> &'static Funcs {
    static FUNCS: OnceLock<Funcs> = OnceLock::new();
    FUNCS.get_or_init(|| {
        let mut helm = Funcs::builtins();
        gitops_lint_gotemplate::helm_funcs::register(&mut helm);
        // Whatever the shared engine implements of Argo CD's table (Helm-only functions such as
        // `include`, `tpl`, `required` are not in it, so they stay undefined as in Argo CD).
        let mut f = Funcs::empty();
        for name in ARGO_FUNCS {
            if let Some(func) = helm.get(name) {
                f.insert(name, func);
            }
        }
        f.insert("toYaml", to_yaml);
        f.insert("normalize", normalize);
        f.insert("slugify", slugify);
        f.insert("fromYaml", from_yaml);
        f.insert("fromYamlArray", from_yaml_array);
        f.insert("substr", substr);
        use super::sprig_extra as x;
        f.insert("dig", x::dig);
        f.insert("base", x::base);
        f.insert("dir", x::dir);
        f.insert("ext", x::ext);
        f.insert("clean", x::clean);
        f.insert("regexMatch", x::regex_match);
        f.insert("regexFind", x::regex_find);
        f.insert("regexFindAll", x::regex_find_all);
        f.insert("regexReplaceAll", x::regex_replace_all);
        f.insert("regexReplaceAllLiteral", x::regex_replace_all_literal);
        f.insert("regexSplit", x::regex_split);
        f.insert("regexQuoteMeta", x::regex_quote_meta);
        f
    })
}

fn one_string(name: &str, a: &[Value]) -> Result<String, gitops_lint_gotemplate::Error> {
    match a.last() {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(gitops_lint_gotemplate::format::sprint(other)),
        None => Err(gitops_lint_gotemplate::Error::func(format!(
            "wrong number of args for {name}: want 1 got 0"
        ))),
    }
}

fn normalize(_: &Ctx<'_>, a: &[Value]) -> Result<Value, gitops_lint_gotemplate::Error> {
    Ok(Value::String(super::params::sanitize_name(&one_string(
        "normalize",
        a,
    )?)))
}

/// Argo CD's `slugify [maxLen=50] [smartTruncate=true] s`: lowercase, runs of characters outside
/// `[a-z0-9]` become one `-`, trimmed, cut to `maxLen` (at a `-` when smart).
fn slugify(_: &Ctx<'_>, a: &[Value]) -> Result<Value, gitops_lint_gotemplate::Error> {
    let s = one_string("slugify", a)?;
    let max = a
        .first()
        .filter(|_| a.len() > 1)
        .and_then(Value::as_f64)
        .map_or(50, |n| n as usize);
    let smart = a.get(1).filter(|_| a.len() > 2).and_then(Value::as_bool) != Some(false);
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_matches('-').to_string();
    if out.len() > max {
        // gosimple/slug `smartTruncate`: cut at the last `-` at or before index maxLen (the
        // character just past the limit counts), else at maxLen.
        let cut = if smart {
            out.as_bytes()
                .get(..=max)
                .and_then(|head| head.iter().rposition(|b| *b == b'-'))
                .unwrap_or(max)
        } else {
            max
        };
        out.truncate(cut);
        out = out.trim_matches('-').to_string();
    }
    Ok(Value::String(out))
}

fn substr(_: &Ctx<'_>, a: &[Value]) -> Result<Value, gitops_lint_gotemplate::Error> {
    if a.len() != 3 {
        return Err(gitops_lint_gotemplate::Error::func(
            "wrong number of args for substr: want 3",
        ));
    }
    let s: Vec<char> = one_string("substr", a)?.chars().collect();
    let start = a[0].as_f64().unwrap_or(0.0).max(0.0) as usize;
    let end = a[1].as_f64().unwrap_or(-1.0);
    let end = if end < 0.0 {
        s.len()
    } else {
        (end as usize).min(s.len())
    };
    Ok(Value::String(s[start.min(end)..end].iter().collect()))
}

fn to_yaml(_: &Ctx<'_>, a: &[Value]) -> Result<Value, gitops_lint_gotemplate::Error> {
    // sigs.k8s.io/yaml.Marshal goes through JSON: map keys come out sorted.
    let v = gitops_lint_gotemplate::yaml_out::canonical(&a.last().cloned().unwrap_or(Value::Null));
    let text = gitops_lint_gotemplate::yaml_out::to_yaml_document(&v);
    Ok(Value::String(text.trim_end_matches('\n').to_string()))
}

fn from_yaml(_: &Ctx<'_>, a: &[Value]) -> Result<Value, gitops_lint_gotemplate::Error> {
    let text = one_string("fromYaml", a)?;
    let loaded = gitops_lint_syntax::yaml::load(&text);
    match loaded.docs.first().map(|d| d.value.clone()) {
        Some(v @ Value::Object(_)) => Ok(v),
        None | Some(Value::Null) => Ok(Value::Object(Default::default())),
        Some(_) => Err(gitops_lint_gotemplate::Error::func(
            "fromYaml: not a mapping",
        )),
    }
}

fn from_yaml_array(_: &Ctx<'_>, a: &[Value]) -> Result<Value, gitops_lint_gotemplate::Error> {
    let text = one_string("fromYamlArray", a)?;
    let loaded = gitops_lint_syntax::yaml::load(&text);
    match loaded.docs.first().map(|d| d.value.clone()) {
        Some(v @ Value::Array(_)) => Ok(v),
        None | Some(Value::Null) => Ok(Value::Array(Vec::new())),
        Some(_) => Err(gitops_lint_gotemplate::Error::func(
            "fromYamlArray: not a list",
        )),
    }
}

/// A parsed template, or why it does not parse.
type Parsed = Result<Arc<Templates>, gitops_lint_gotemplate::Error>;

thread_local! {
    /// Parsed templates by text, `[default, missingkey=error]`: each distinct string is parsed
    /// once per thread, however many elements render it.
    static CACHE: RefCell<HashMap<String, [Option<Parsed>; 2]>> = RefCell::new(HashMap::new());
}

fn parse_new(text: &str, missingkey_error: bool) -> Parsed {
    let options = Options {
        missing_key: if missingkey_error {
            MissingKey::Error
        } else {
            MissingKey::Default
        },
        ..Options::default()
    };
    let mut set = Templates::new(funcs().clone(), options);
    set.add_file("t", text).map(|()| Arc::new(set))
}

fn parsed(text: &str, missingkey_error: bool) -> Parsed {
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if let Some(Some(hit)) = cache.get(text).map(|e| &e[usize::from(missingkey_error)]) {
            return hit.clone();
        }
        if cache.len() > 4096 {
            cache.clear();
        }
        let fresh = parse_new(text, missingkey_error);
        cache.entry(text.to_string()).or_default()[usize::from(missingkey_error)] =
            Some(fresh.clone());
        fresh
    })
}

/// Renders `text` as a Go `text/template` with `data` as `.`, each execution within `limits`.
pub fn render(
    text: &str,
    data: &Value,
    missingkey_error: bool,
    limits: Limits,
) -> Result<GoRendered, GoError> {
    // Run strict first, to learn which keys are missing; then as Argo CD would.
    let strict = parsed(text, true).and_then(|t| t.execute_within("t", data, limits));
    let fail = |e: gitops_lint_gotemplate::Error| match e.kind {
        ErrorKind::Unsupported(what) => {
            let function = what
                .strip_prefix("function `")
                .and_then(|f| f.strip_suffix('`'));
            match function {
                Some(f) if !ARGO_FUNCS.contains(&f) => GoError::Failed {
                    message: format!(
                        "failed to parse template {text}: template: :1: function \"{f}\" not defined"
                    ),
                    cause: Failure::UndefinedFunction,
                },
                _ => GoError::NotUnderstood(format!("{what} in `{text}`")),
            }
        }
        ErrorKind::Parse => GoError::Failed {
            message: format!("failed to parse template {text}: {}", e.message),
            cause: Failure::Other,
        },
        ErrorKind::Exec => GoError::Failed {
            cause: match e.cause {
                Cause::MissingKey(key) => Failure::MissingKey(key),
                Cause::IndexOutOfRange => Failure::IndexOutOfRange,
                Cause::Other => Failure::Other,
                Cause::Budget(b) => Failure::Budget(b),
            },
            message: format!("failed to execute go template {text}: {}", e.message),
        },
    };
    match strict {
        Ok(out) => Ok(GoRendered {
            text: out,
            missing: Vec::new(),
        }),
        // A budget that ran out would run out again: no second execution.
        Err(e) if missingkey_error || matches!(e.cause, Cause::Budget(_)) => Err(fail(e)),
        Err(e) => {
            let missing = match e.cause {
                Cause::MissingKey(key) if e.kind == ErrorKind::Exec => Some(key),
                _ => None,
            };
            let out = parsed(text, false)
                .and_then(|t| t.execute_within("t", data, limits))
                .map_err(fail)?;
            // A missing key handled by `default` or `if` prints no `<no value>`: not a mistake.
            let missing = missing.filter(|_| out.contains("<no value>"));
            Ok(GoRendered {
                text: out,
                missing: missing.into_iter().collect(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Value {
        serde_json::json!({"path": {"path": "apps/a", "basename": "a", "segments": ["apps", "a"]}, "name": "My App"})
    }

    #[test]
    fn renders_what_applicationsets_use() {
        let r = |t: &str| render(t, &data(), true, Limits::default()).map(|r| r.text);
        assert_eq!(r("{{.path.basename}}"), Ok("a".into()));
        assert_eq!(r("{{index .path.segments 1}}-x"), Ok("a-x".into()));
        assert_eq!(r("{{.name | normalize}}"), Ok("my-app".into()));
        // smartTruncate looks at the character just past the limit too: `ab-de-fgh` at 5 cuts
        // at that `-` (`ab-de`), not at the earlier one.
        assert_eq!(r("{{ slugify 5 true \"ab-de-fgh\" }}"), Ok("ab-de".into()));
        assert_eq!(r("{{ slugify 5 true \"abcdefgh\" }}"), Ok("abcde".into()));
        assert_eq!(
            r("{{ .name | lower | replace \" \" \"-\" }}"),
            Ok("my-app".into())
        );
        let soft = render(
            "{{ .nope | default \"d\" }}",
            &data(),
            false,
            Limits::default(),
        );
        assert!(soft.is_ok_and(|s| s.text == "d" && s.missing.is_empty()));
        // Go's missingkey=error fails on the field before `default` sees it.
        assert!(r("{{ .nope | default \"d\" }}").is_err());
    }

    #[test]
    fn to_yaml_is_sigs_yaml_marshal() {
        // Keys sorted (it goes through JSON), go-yaml v2 quoting: a string that reads back as
        // another type is double-quoted, other non-plain strings single-quoted.
        let data = serde_json::json!({"cfg": {"zeta": 1.0, "alpha": ["x"], "s": "yes", "q": "a: b", "e": ""}});
        let out = render("{{ .cfg | toYaml }}", &data, true, Limits::default()).map(|r| r.text);
        assert_eq!(
            out,
            Ok("alpha:\n- x\ne: \"\"\nq: 'a: b'\ns: \"yes\"\nzeta: 1".into())
        );
    }

    #[test]
    fn missing_keys_and_errors() {
        let soft = render("{{.path.nope}}", &data(), false, Limits::default())
            .unwrap_or_else(|_| panic!("renders"));
        assert_eq!(soft.text, "<no value>");
        assert_eq!(soft.missing, vec!["path.nope".to_string()]);
        match render("{{.path.nope}}", &data(), true, Limits::default()) {
            Err(GoError::Failed { cause, .. }) => {
                assert_eq!(cause, Failure::MissingKey("path.nope".into()))
            }
            _ => panic!("missingkey=error fails"),
        }
        assert!(matches!(
            render("{{path.basename}}", &data(), false, Limits::default()),
            Err(GoError::Failed { .. }) | Err(GoError::NotUnderstood(_))
        ));
        assert!(matches!(
            render(
                "{{index .path.segments 5}}",
                &data(),
                false,
                Limits::default()
            ),
            Err(GoError::Failed { .. })
        ));
        // Helm's `include` is not an Argo CD function: a parse error, as in Argo CD.
        assert!(matches!(
            render("{{ include \"x\" . }}", &data(), false, Limits::default()),
            Err(GoError::Failed { .. })
        ));
        // A sprig function the engine does not implement is not understood, never guessed.
        assert!(matches!(
            render("{{ .name | sha256sum }}", &data(), false, Limits::default()),
            Err(GoError::NotUnderstood(_))
        ));
    }

    #[test]
    fn dig_path_and_regex_functions() {
        let r = |t: &str| render(t, &data(), true, Limits::default()).map(|r| r.text);
        assert_eq!(
            r("{{ dig \"path\" \"basename\" \"none\" . }}"),
            Ok("a".into())
        );
        assert_eq!(
            r("{{ dig \"path\" \"nope\" \"none\" . }}"),
            Ok("none".into())
        );
        assert_eq!(
            r("{{ base .path.path }} {{ dir .path.path }}"),
            Ok("a apps".into())
        );
        assert_eq!(
            r("{{ regexReplaceAll \"[^a-zA-Z]+\" .name \"-\" | lower }}"),
            Ok("my-app".into())
        );
        // Piped, the value becomes the last argument (the replacement), as in Go.
        assert_eq!(
            r("{{ .name | regexReplaceAll \"[^a-zA-Z]+\" \"-\" | lower }}"),
            Ok("my app".into())
        );
        assert_eq!(
            r("{{ regexReplaceAll \"(a)(p)\" .path.path \"${2}$1\" }}"),
            Ok("paps/a".into())
        );
        assert_eq!(
            r("{{ regexMatch \"^apps/\" .path.path }}"),
            Ok("true".into())
        );
    }
}

//! `.gitops-lint.yaml`: the tier contract, pool naming, and rule levels. Every key is validated;
//! an error names the file, line and key.

mod ignore;
mod limits;
mod schemas;

pub use limits::{Limits, LIMIT_KEYS};
pub use schemas::{SchemaEntry, SchemaFile};

use gitops_lint_core::finding::Level;
use gitops_lint_core::source::PathSeg;
use gitops_lint_core::RuleId;
use gitops_lint_matchers::go_path::path_match;
use gitops_lint_syntax::lints::{SequenceStyle, YamlOptions};
use gitops_lint_syntax::locate::SpanIndex;
use gitops_lint_syntax::yaml;
use gitops_lint_syntax::IssueEffect;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The file name looked for in each repository root.
pub const FILE_NAME: &str = ".gitops-lint.yaml";

/// How a tier runs one app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AppMode {
    /// Its own deployment in the tenant's namespace (`enabled: true`).
    Silo,
    /// Shared in a pool (`enabled: false` plus `envId: <pool>`).
    Pool,
}

/// A rule's configured level, or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleSetting {
    /// The rule does not run / its findings are dropped.
    Off,
    /// Findings get this level.
    Level(Level),
}

/// The whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Tier name -> app name -> mode.
    pub tiers: BTreeMap<String, BTreeMap<String, AppMode>>,
    /// Glob patterns (Go `path.Match`) naming pool releases, which are not tenants.
    pub pools: Vec<String>,
    /// Per-rule overrides.
    pub rules: BTreeMap<String, RuleSetting>,
    /// Rule ids (or `ignore:` globs) in `rules:` and `ignore:` that name no rule of the
    /// catalog, each with the error to give unless a loaded policy emits it
    /// ([`Config::check_rule_ids`]).
    pub unknown_rules: Vec<(String, ConfigError)>,
    /// `placeholders:` a team's own template token syntaxes (`"@@NAME@@"`), besides the
    /// built-in ones (`<NAME>`, `{NAME}`, `__NAME__`, `${NAME}`).
    pub placeholders: Vec<Placeholder>,
    /// `presets:` the opt-in rule sets turned on (`style`). A rule whose page names a preset
    /// is off unless its preset is listed here or the rule is set in `rules:`.
    pub presets: Vec<String>,
    /// YAML style settings (`yaml:`): indentation width and list style.
    pub yaml: YamlOptions,
    /// `ignore:` entries: findings of some rules in some paths are not reported.
    pub ignore: Vec<IgnoreEntry>,
    /// `repoURLs:` the URLs Argo CD / Flux fetch a linted repository from, each mapped to its
    /// local directory (relative to the config file), so that paths in same-repo Applications
    /// and Flux Kustomizations can be checked. Keys are normalised with
    /// [`gitops_lint_matchers::git_url::same_repo_key`].
    pub repo_urls: BTreeMap<String, PathBuf>,
    /// The ServiceAccount naming convention (`serviceAccount: "{tenant}-{app}"`): when set,
    /// releases' ServiceAccounts are named by it instead of rendering the chart.
    pub service_account: Option<String>,
    /// Clusters Argo CD knows (`clusters:`), for the ApplicationSet cluster generator. Empty
    /// means the cluster Secrets the linted repositories commit, plus the local `in-cluster`
    /// that Argo CD adds by itself when no Secret is for it.
    pub clusters: Vec<Cluster>,
    /// `newGitFileGlobbing: true`: the controller runs with `--enable-new-git-file-globbing`
    /// (git `files` paths use doublestar globbing instead of git pathspecs).
    pub new_git_file_globbing: bool,
    /// `limits:` the resource budgets (see [`Limits`]).
    pub limits: Limits,
    /// `dotIgnore: true`: `.ignore` files (the ripgrep convention) also hide untracked files.
    /// Off by default: Argo CD and Flux deploy what git tracks, whatever such files say, and
    /// `.gitignore` already hides untracked files.
    pub dot_ignore: bool,
    /// `kubernetesVersion: "1.NN"`: the minor version of Kubernetes the clusters run, for the
    /// removed and deprecated API rules. Default: [`NEWEST_KUBERNETES_MINOR`].
    pub kubernetes_minor: u32,
    /// `schemas:` vendored CRD files or folders (relative to the config file's folder), read as
    /// the repository's own CRDs; listed by [`Config::schema_files`].
    pub schemas: Vec<SchemaEntry>,
    /// The file it was read from, if any.
    pub source: Option<PathBuf>,
    /// Not a config key: set by the `appset` subcommand, whose root is where the user says
    /// generator paths start, so a git generator whose `repoURL` names no linted repository
    /// reads that root. A lint run never guesses: another repository is not expanded.
    pub appset_root_fallback: bool,
}

/// One cluster registered in Argo CD (a cluster Secret), as the cluster generator sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cluster {
    /// The cluster's name (`name` parameter).
    pub name: String,
    /// The API server URL (`server` parameter).
    pub server: String,
    /// The Secret's labels, matched by generator selectors.
    pub labels: BTreeMap<String, String>,
    /// The Secret's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The `project` field of the Secret (empty when unset).
    pub project: String,
}

impl Default for Config {
    fn default() -> Self {
        let tier = |producer, consumer| {
            BTreeMap::from([
                ("producer".to_string(), producer),
                ("consumer".to_string(), consumer),
            ])
        };
        Config {
            tiers: BTreeMap::from([
                ("premium".to_string(), tier(AppMode::Silo, AppMode::Silo)),
                ("advanced".to_string(), tier(AppMode::Pool, AppMode::Silo)),
                ("basic".to_string(), tier(AppMode::Pool, AppMode::Pool)),
            ]),
            pools: vec!["pool-*".to_string()],
            rules: BTreeMap::new(),
            unknown_rules: Vec::new(),
            placeholders: Vec::new(),
            presets: Vec::new(),
            yaml: YamlOptions::default(),
            ignore: Vec::new(),
            repo_urls: BTreeMap::new(),
            service_account: None,
            clusters: Vec::new(),
            new_git_file_globbing: false,
            limits: Limits::default(),
            dot_ignore: false,
            kubernetes_minor: NEWEST_KUBERNETES_MINOR,
            schemas: Vec::new(),
            source: None,
            appset_root_fallback: false,
        }
    }
}

/// Every top-level key the config accepts (the JSON Schema in `schemas/` lists the same).
pub const KEYS: &[&str] = &[
    "tiers",
    "pools",
    "rules",
    "ignore",
    "placeholders",
    "presets",
    "yaml",
    "repoURLs",
    "serviceAccount",
    "clusters",
    "newGitFileGlobbing",
    "limits",
    "dotIgnore",
    "kubernetesVersion",
    "schemas",
];

/// The newest Kubernetes minor version the embedded schemas describe (k8s-openapi's `v1_37`),
/// and the default of `kubernetesVersion`.
pub const NEWEST_KUBERNETES_MINOR: u32 = 37;

/// The oldest `kubernetesVersion` accepted: the removals the rules know start at 1.16.
const OLDEST_KUBERNETES_MINOR: u32 = 16;

/// The minor version of `kubernetesVersion` (`"1.30"`, `"v1.30"`, `"1.30.4"`), or why not.
fn kubernetes_minor(value: &Value) -> Result<u32, String> {
    let text = match value {
        Value::String(s) => s.as_str(),
        // YAML reads 1.30 as the number 1.3: the minor version would be lost.
        Value::Number(n) => {
            return Err(format!(
                "found the number `{n}`; quote the version, as in `kubernetesVersion: \"1.30\"` (YAML reads 1.30 as 1.3)"
            ))
        }
        other => return Err(format!("expected a version such as `\"1.30\"`, found `{other}`")),
    };
    let bare = text.strip_prefix('v').unwrap_or(text);
    let parts: Vec<&str> = bare.split('.').collect();
    let number = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
    let (major, minor) = (number(0), number(1));
    // `1.30` or `1.30.4`: a patch release serves the same APIs as its minor version.
    let patch_ok = parts.len() == 2 || (parts.len() == 3 && number(2).is_some());
    match (major, minor) {
        (Some(1), Some(minor)) if patch_ok && minor >= OLDEST_KUBERNETES_MINOR => Ok(minor),
        (Some(1), Some(_)) if patch_ok => Err(format!(
            "`{text}` is older than the oldest version the rules know (1.{OLDEST_KUBERNETES_MINOR})"
        )),
        _ => Err(format!(
            "expected a Kubernetes version such as `\"1.30\"`, found `{text}`"
        )),
    }
}

/// The placeholders a `serviceAccount` convention may use.
pub(crate) const SERVICE_ACCOUNT_PLACEHOLDERS: &[&str] =
    &["{tenant}", "{app}", "{release}", "{namespace}"];

/// One `ignore:` entry: findings of `rule` (an id or a glob such as `tier/*`) in files matching
/// `paths` are dropped until the `until` date, for the stated `reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreEntry {
    /// Rule id or glob (Go `path.Match`, so `tier/*` matches every `tier/` rule).
    pub rule: String,
    /// Path globs (`**` crosses directories) matched against the displayed and the
    /// repository-relative path; empty means every file.
    pub paths: Vec<String>,
    /// Last day (`YYYY-MM-DD`) the entry applies; after it the findings come back.
    pub until: Option<String>,
    /// Why the findings are accepted.
    pub reason: String,
    /// 1-based line of the entry in the config file (for the `suppress/expired` finding).
    pub line: usize,
}

/// Whether `pattern` (a rule id, or a Go `path.Match` glob such as `tier/*`) names at least one
/// rule `known` accepts. Config entries and inline suppressions are checked with it.
pub fn names_a_rule(pattern: &str, known: impl Fn(&str) -> bool) -> bool {
    if known(pattern) {
        return true;
    }
    pattern.contains(['*', '?', '['])
        && RuleId::all()
            .iter()
            .any(|id| known(id) && path_match(pattern, id).unwrap_or(false))
}

/// "unknown rule id", with the closest catalog id when there is one.
fn unknown_rule_message(id: &str) -> String {
    if id.contains(['*', '?', '[']) {
        return format!(
            "`{id}` matches no rule id (`gitops-lint rules` lists them; a glob such as `tier/*` names a family)"
        );
    }
    let suggestion = RuleId::closest(id)
        .map(|r| format!("; did you mean `{r}`?"))
        .unwrap_or_default();
    format!(
        "unknown rule id `{id}`{suggestion} (`gitops-lint rules` lists them; a rule of your own policies counts when the policy writes it as `\"rule\": \"{id}\"`)"
    )
}

/// A configuration problem: which file, where, which key, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// The key, dotted (`tiers.premium.apps.producer`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// At most `max` characters of `s`, with `…` when cut: an error names a key or a value of the
/// file, but never repeats a long line of it.
fn clip(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]).into(),
        None => s.into(),
    }
}

/// `message` with each `` `quoted` `` part (where messages quote a key or a value of the file)
/// cut to [`SHOWN_KEY_CHARS`], and the whole to [`SHOWN_MESSAGE_CHARS`].
fn clip_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(SHOWN_MESSAGE_CHARS + 8));
    let mut quoted = None;
    for c in message.chars() {
        match (c, quoted) {
            ('`', Some(_)) => quoted = None,
            ('`', None) => quoted = Some(0),
            (_, Some(n)) if n == SHOWN_KEY_CHARS => {
                out.push('…');
                quoted = Some(n + 1);
                continue;
            }
            (_, Some(n)) if n > SHOWN_KEY_CHARS => continue,
            (_, Some(n)) => quoted = Some(n + 1),
            _ => {}
        }
        out.push(c);
    }
    clip(&out, SHOWN_MESSAGE_CHARS).into_owned()
}

/// The longest key (or quoted value) an error shows.
const SHOWN_KEY_CHARS: usize = 80;
/// The longest message an error shows.
const SHOWN_MESSAGE_CHARS: usize = 400;

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        let message = clip_message(&self.message);
        if self.key.is_empty() {
            write!(f, ": {message}")
        } else {
            write!(f, ": `{}`: {message}", clip(&self.key, SHOWN_KEY_CHARS))
        }
    }
}

/// The largest config file read: a config is a page of settings, and a bigger file is not one.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The config file for a repository at `start`: `start/.gitops-lint.yaml`, else the nearest one
/// in a parent directory, up to and including the top of the git checkout `start` lies in (the
/// directory holding `.git`). Outside a checkout only `start` is looked in: a directory above
/// it is no part of any repository being linted. A file in `start` keeps the path's form
/// (relative stays relative). Whatever is found under that name but a directory is returned,
/// symbolic links and FIFOs included, so that [`Config::from_discovered`] refuses them by name
/// instead of another file being used silently.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| !m.is_dir());
    let here = start.join(FILE_NAME);
    if exists(&here) {
        return Some(here);
    }
    let start = std::fs::canonicalize(start).ok()?;
    let top = start.ancestors().find(|d| d.join(".git").exists())?;
    for dir in start
        .ancestors()
        .take_while(|d| *d != top)
        .skip(1)
        .chain([top])
    {
        let candidate = dir.join(FILE_NAME);
        if dir != start && exists(&candidate) {
            return Some(candidate);
        }
    }
    None
}

/// Reads at most [`MAX_CONFIG_BYTES`] of a config file as text.
fn read_config_text(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    let error = |message: String| ConfigError {
        file: path.to_path_buf(),
        line: 0,
        key: String::new(),
        message,
    };
    let file = std::fs::File::open(path)
        .map_err(|e| error(format!("cannot read the config file: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| error(format!("cannot read the config file: {e}")))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(error(format!(
            "the config file is larger than {} KiB; a config is a page of settings, so this is not one",
            MAX_CONFIG_BYTES >> 10
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        error(format!(
            "the config file is not UTF-8 (bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

impl Config {
    /// The level a finding of `rule` gets: the config's `rules:` entry, else `default` (the
    /// rule's own choice or its page's level); `None` when the rule is off, either set off or
    /// a preset rule whose preset is not turned on.
    pub fn level_of(&self, rule: &str, default: Level) -> Option<Level> {
        match self.rules.get(rule) {
            Some(RuleSetting::Off) => None,
            Some(RuleSetting::Level(level)) => Some(*level),
            None => match gitops_lint_core::catalog::preset_of(rule) {
                Some(preset) if !self.presets.iter().any(|p| p == preset) => None,
                _ => Some(default),
            },
        }
    }

    /// Whether findings of `rule` are reported at all (see [`Config::level_of`]).
    pub fn is_enabled(&self, rule: &str) -> bool {
        self.level_of(rule, Level::Info).is_some()
    }

    /// Fails on the first rule id in `rules:` or `ignore:` that names no rule: neither one of
    /// the catalog nor one a loaded policy emits (`is_policy_rule`). A misspelt id would
    /// otherwise be accepted silently and switch nothing off.
    pub fn check_rule_ids(&self, is_policy_rule: impl Fn(&str) -> bool) -> Result<(), ConfigError> {
        match self
            .unknown_rules
            .iter()
            .find(|(id, _)| !names_a_rule(id, &is_policy_rule))
        {
            Some((_, error)) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Reads and validates a config file the user named (`--config`): any path, a symbolic
    /// link or a pipe included, read up to [`MAX_CONFIG_BYTES`].
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = read_config_text(path)?;
        let mut config = Config::from_text(&text, path)?;
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// Reads and validates a config file [`discover`] found in the repository, which a pull
    /// request controls: it must be a regular file, not a symbolic link (which could point at
    /// any file of the machine, whose content an error would then quote) nor a FIFO (which
    /// would block the run), and at most [`MAX_CONFIG_BYTES`].
    pub fn from_discovered(path: &Path) -> Result<Config, ConfigError> {
        let refuse = |message: String| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            key: String::new(),
            message,
        };
        let meta = std::fs::symlink_metadata(path)
            .map_err(|e| refuse(format!("cannot read the config file: {e}")))?;
        if meta.file_type().is_symlink() {
            return Err(refuse("the config file is a symbolic link; a config found in the repository is read only when it is a regular file, so a link cannot make the linter read a file outside the repository (give the file with `--config` to use it anyway)".to_string()));
        }
        if !meta.is_file() {
            let what = gitops_lint_core::read::special_kind(&meta.file_type())
                .unwrap_or("not a regular file");
            return Err(refuse(format!(
                "the config file is {what}, not a regular file; it was not opened"
            )));
        }
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(refuse(format!("the config file is larger than {} KiB; a config is a page of settings, so this is not one", MAX_CONFIG_BYTES >> 10)));
        }
        Config::from_file(path)
    }

    /// Parses and validates config text; `path` is only used in error messages.
    pub fn from_text(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let loaded = yaml::load(text);
        // Positions are only needed for an error message, so the span index is built then.
        let err = |keys: &[PathSeg], message: String| {
            let line = SpanIndex::new(text)
                .locate(0, keys)
                .map(|l| text[..l.key.map_or(l.start, |k| k.0)].matches('\n').count() + 1)
                .unwrap_or(0);
            ConfigError {
                file: path.to_path_buf(),
                line,
                key: gitops_lint_core::source::display_path(keys),
                message,
            }
        };
        // Style findings (an ambiguous `off`, a width) are for linted files; the config only
        // fails on what makes it unreadable or ambiguous in content.
        let fatal = loaded.issues.iter().find(|i| {
            [
                RuleId::YAML_SYNTAX,
                RuleId::YAML_DUPLICATE_KEY,
                RuleId::YAML_TAB,
                RuleId::YAML_BOM_OR_ENCODING,
                // An alias bomb: the config was not read to its end.
                RuleId::GITOPS_BUDGET_EXCEEDED,
            ]
            .contains(&i.rule)
                || i.effect == IssueEffect::StopsParsing
        });
        if let Some(issue) = fatal {
            return Err(ConfigError {
                file: path.to_path_buf(),
                line: text[..issue.start.min(text.len())].matches('\n').count() + 1,
                key: String::new(),
                message: issue.message.clone(),
            });
        }
        let mut config = Config::default();
        let root = match loaded.docs.first().map(|d| &d.value) {
            None | Some(Value::Null) => return Ok(config),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(err(&[], "the config must be a mapping".to_string())),
        };
        let k = |s: &str| PathSeg::Key(s.into());
        for (key, value) in root {
            match key.as_str() {
                "tiers" => {
                    let Value::Object(tiers) = value else {
                        return Err(err(
                            &[k("tiers")],
                            "expected a mapping of tier name to `apps:`".into(),
                        ));
                    };
                    config.tiers.clear();
                    for (tier, spec) in tiers {
                        let apps = spec.get("apps").and_then(Value::as_object);
                        let Some(apps) =
                            apps.filter(|_| spec.as_object().is_some_and(|o| o.len() == 1))
                        else {
                            return Err(err(&[k("tiers"), k(tier)], "expected exactly one key, `apps:`, mapping each app to `silo` or `pool`".into()));
                        };
                        let mut modes = BTreeMap::new();
                        for (app, mode) in apps {
                            let mode = match mode.as_str() {
                                Some("silo") => AppMode::Silo,
                                Some("pool") => AppMode::Pool,
                                _ => {
                                    return Err(err(
                                        &[k("tiers"), k(tier), k("apps"), k(app)],
                                        format!("expected `silo` or `pool`, found `{mode}`"),
                                    ))
                                }
                            };
                            modes.insert(app.clone(), mode);
                        }
                        config.tiers.insert(tier.clone(), modes);
                    }
                }
                "pools" => {
                    let patterns = value.as_array().and_then(|a| {
                        a.iter()
                            .map(|p| p.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                    });
                    let Some(patterns) = patterns else {
                        return Err(err(
                            &[k("pools")],
                            "expected a list of name patterns such as `pool-*`".into(),
                        ));
                    };
                    config.pools = patterns;
                }
                "rules" => {
                    let Value::Object(rules) = value else {
                        return Err(err(
                            &[k("rules")],
                            "expected a mapping of rule id to `error`, `warning`, `info` or `off`"
                                .into(),
                        ));
                    };
                    for (id, setting) in rules {
                        if !id.contains('/') {
                            return Err(err(&[k("rules"), k(id)], "rule ids look like `family/name`; run `gitops-lint rules` to list them".into()));
                        }
                        let setting = match setting {
                            Value::Bool(false) => RuleSetting::Off,
                            Value::String(s) if s == "off" => RuleSetting::Off,
                            Value::String(s) => match Level::parse(s) {
                                Some(level) => RuleSetting::Level(level),
                                None => {
                                    return Err(err(
                                        &[k("rules"), k(id)],
                                        format!(
                                        "expected `error`, `warning`, `info` or `off`, found `{s}`"
                                    ),
                                    ))
                                }
                            },
                            other => {
                                return Err(err(
                                    &[k("rules"), k(id)],
                                    format!(
                                    "expected `error`, `warning`, `info` or `off`, found `{other}`"
                                ),
                                ))
                            }
                        };
                        if RuleId::known(id).is_none() {
                            config.unknown_rules.push((
                                id.clone(),
                                err(&[k("rules"), k(id)], unknown_rule_message(id)),
                            ));
                        }
                        config.rules.insert(id.clone(), setting);
                    }
                }
                "presets" => config.presets = presets(value, &err)?,
                "placeholders" => config.placeholders = placeholders(value, &err)?,
                "yaml" => config.yaml = yaml_options(value, &err)?,
                "repoURLs" => config.repo_urls = repo_urls(value, path, &err)?,
                "schemas" => config.schemas = schemas::parse(value, path, &err)?,
                "serviceAccount" => {
                    let Some(pattern) = value.as_str() else {
                        return Err(err(
                            &[k("serviceAccount")],
                            "expected a name pattern such as `{tenant}-{app}`".into(),
                        ));
                    };
                    let mut rest = pattern.to_string();
                    for p in SERVICE_ACCOUNT_PLACEHOLDERS {
                        rest = rest.replace(p, "");
                    }
                    if rest.contains('{') || rest.contains('}') || !pattern.contains("{app}") {
                        return Err(err(
                            &[k("serviceAccount")],
                            format!("expected a pattern with `{{app}}` and only `{}` placeholders, found `{pattern}`", SERVICE_ACCOUNT_PLACEHOLDERS.join("`, `")),
                        ));
                    }
                    config.service_account = Some(pattern.to_string());
                }
                "clusters" => config.clusters = clusters(value, &err)?,
                "newGitFileGlobbing" => {
                    let Value::Bool(b) = value else {
                        return Err(err(
                            &[k("newGitFileGlobbing")],
                            format!("expected `true` or `false`, found `{value}`"),
                        ));
                    };
                    config.new_git_file_globbing = *b;
                }
                "limits" => config.limits = limits::parse_limits(value, &err)?,
                "kubernetesVersion" => {
                    config.kubernetes_minor = kubernetes_minor(value)
                        .map_err(|message| err(&[k("kubernetesVersion")], message))?;
                }
                "dotIgnore" => {
                    let Value::Bool(b) = value else {
                        return Err(err(
                            &[k("dotIgnore")],
                            format!("expected `true` or `false`, found `{value}`"),
                        ));
                    };
                    config.dot_ignore = *b;
                }
                "ignore" => {
                    config.ignore =
                        ignore::parse_ignore(value, text).map_err(|(keys, message)| {
                            let mut path = vec![k("ignore")];
                            path.extend(keys);
                            err(&path, message)
                        })?;
                    for (i, entry) in config.ignore.iter().enumerate() {
                        if !names_a_rule(&entry.rule, |id| RuleId::known(id).is_some()) {
                            let at = [k("ignore"), PathSeg::Index(i), k("rule")];
                            let unknown = (
                                entry.rule.clone(),
                                err(&at, unknown_rule_message(&entry.rule)),
                            );
                            config.unknown_rules.push(unknown);
                        }
                    }
                }
                other => {
                    return Err(err(
                        &[k(other)],
                        format!("unknown key; the config knows `{}`", KEYS.join("`, `")),
                    ));
                }
            }
        }
        Ok(config)
    }

    /// The files the `schemas:` entries name (folders listed), all inside the config file's
    /// folder; an entry that is missing or leads outside it is a config error naming it.
    pub fn schema_files(&self) -> Result<Vec<SchemaFile>, ConfigError> {
        if self.schemas.is_empty() {
            return Ok(Vec::new());
        }
        let root = self
            .source
            .as_deref()
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        schemas::list(&self.schemas, root)
    }

    /// Whether `name` names a pool release.
    pub fn is_pool_name(&self, name: &str) -> bool {
        self.pools
            .iter()
            .any(|p| path_match(p, name).unwrap_or(false))
    }
}

/// Reads `repoURLs: {<url>: <directory relative to the config file>}`.
fn repo_urls(
    value: &Value,
    config_path: &Path,
    err: &dyn Fn(&[PathSeg], String) -> ConfigError,
) -> Result<BTreeMap<String, PathBuf>, ConfigError> {
    let k = |s: &str| PathSeg::Key(s.into());
    let Value::Object(map) = value else {
        return Err(err(
            &[k("repoURLs")],
            "expected a mapping of repository URL to its local directory, such as `https://github.com/acme/apps-repo: .`".into(),
        ));
    };
    let base = config_path.parent().unwrap_or(Path::new("."));
    let mut out = BTreeMap::new();
    for (url, dir) in map {
        let Some(dir) = dir.as_str().filter(|d| !d.trim().is_empty()) else {
            return Err(err(
                &[k("repoURLs"), k(url)],
                format!("expected the local directory of `{url}` (relative to the config file, `.` for its own directory), found `{dir}`"),
            ));
        };
        let key = gitops_lint_matchers::git_url::same_repo_key(url);
        if key.is_empty() {
            return Err(err(
                &[k("repoURLs"), k(url)],
                "expected a repository URL such as `https://github.com/acme/apps-repo` or `git@github.com:acme/apps-repo.git`".into(),
            ));
        }
        out.insert(key, base.join(dir));
    }
    Ok(out)
}

/// Reads `clusters: [{name, server, labels, annotations, project}]`.
fn clusters(
    value: &Value,
    err: &dyn Fn(&[PathSeg], String) -> ConfigError,
) -> Result<Vec<Cluster>, ConfigError> {
    let k = |s: &str| PathSeg::Key(s.into());
    let Value::Array(items) = value else {
        return Err(err(
            &[k("clusters")],
            "expected a list of clusters such as `- {name: prod, server: https://prod.example.com, labels: {env: prod}}`".into(),
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |key: &str| vec![k("clusters"), PathSeg::Index(i), k(key)];
        let Value::Object(map) = item else {
            return Err(err(
                &[k("clusters"), PathSeg::Index(i)],
                "expected a mapping with `name` and `server`".into(),
            ));
        };
        let mut cluster = Cluster::default();
        for (key, v) in map {
            match key.as_str() {
                "name" | "server" | "project" => {
                    let Value::String(s) = v else {
                        return Err(err(&at(key), format!("expected a string, found `{v}`")));
                    };
                    match key.as_str() {
                        "name" => cluster.name = s.clone(),
                        "server" => cluster.server = s.clone(),
                        _ => cluster.project = s.clone(),
                    }
                }
                "labels" | "annotations" => {
                    let strings = v.as_object().and_then(|m| {
                        m.iter()
                            .map(|(a, b)| b.as_str().map(|b| (a.clone(), b.to_string())))
                            .collect::<Option<BTreeMap<_, _>>>()
                    });
                    let Some(strings) = strings else {
                        return Err(err(
                            &at(key),
                            "expected a mapping of string to string (quote `\"true\"` and numbers)"
                                .into(),
                        ));
                    };
                    if key == "labels" {
                        cluster.labels = strings;
                    } else {
                        cluster.annotations = strings;
                    }
                }
                other => {
                    return Err(err(
                        &at(other),
                        "unknown key; a cluster has `name`, `server`, `labels`, `annotations` and `project`".into(),
                    ))
                }
            }
        }
        if cluster.name.is_empty() || cluster.server.is_empty() {
            return Err(err(
                &[k("clusters"), PathSeg::Index(i)],
                "a cluster needs both `name` and `server`".into(),
            ));
        }
        out.push(cluster);
    }
    Ok(out)
}

/// A template token syntax: what comes before and after the name (`@@` and `@@` for
/// `"@@NAME@@"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    /// Text before the name.
    pub before: String,
    /// Text after the name.
    pub after: String,
}

impl Placeholder {
    /// The first token of this syntax in `line` (the name: letters, digits, `_`, `-`, `.`),
    /// as a byte range.
    pub fn find_in(&self, line: &str) -> Option<(usize, usize)> {
        let mut from = 0;
        while let Some(at) = line[from..].find(&self.before) {
            let start = from + at;
            let name_start = start + self.before.len();
            let name_len = line[name_start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || "_-.".contains(c)))
                .unwrap_or(line.len() - name_start);
            let name_end = name_start + name_len;
            if name_len > 0 && line[name_end..].starts_with(&self.after) {
                return Some((start, name_end + self.after.len()));
            }
            from = start + self.before.len().max(1);
        }
        None
    }
}

/// Reads `placeholders: ["@@NAME@@"]`: each a pattern with `NAME` once, and text around it.
fn placeholders(
    value: &Value,
    err: &impl Fn(&[PathSeg], String) -> ConfigError,
) -> Result<Vec<Placeholder>, ConfigError> {
    let key = || PathSeg::Key("placeholders".into());
    let expected = "expected a list of token patterns such as `\"@@NAME@@\"` (`NAME` stands for the token's name)";
    let Value::Array(items) = value else {
        return Err(err(&[key()], expected.into()));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let parsed = item.as_str().and_then(|p| {
            let (before, after) = p.split_once("NAME")?;
            (!before.is_empty() && !after.is_empty() && !after.contains("NAME")).then(|| {
                Placeholder {
                    before: before.to_string(),
                    after: after.to_string(),
                }
            })
        });
        match parsed {
            Some(p) => out.push(p),
            None => {
                return Err(err(
                    &[key(), PathSeg::Index(i)],
                    format!("`{item}`: {expected}, with text before and after `NAME`"),
                ))
            }
        }
    }
    Ok(out)
}

/// Reads `presets: [style]`: each name must be a preset some rule page names.
fn presets(
    value: &Value,
    err: &impl Fn(&[PathSeg], String) -> ConfigError,
) -> Result<Vec<String>, ConfigError> {
    let known = gitops_lint_core::catalog::presets();
    let expected = || format!("expected a list of presets: {}", known.join(", "));
    let Value::Array(items) = value else {
        return Err(err(&[PathSeg::Key("presets".into())], expected()));
    };
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(name) if known.iter().any(|k| k == name) => names.push(name.to_string()),
            _ => {
                return Err(err(
                    &[PathSeg::Key("presets".into()), PathSeg::Index(i)],
                    format!(
                        "unknown preset `{}`; {}",
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_string),
                        expected()
                    ),
                ))
            }
        }
    }
    Ok(names)
}

/// Reads `yaml: {indent: 2 | consistent, sequences: indented | flush | consistent | any}`.
fn yaml_options(
    value: &Value,
    err: &dyn Fn(&[PathSeg], String) -> ConfigError,
) -> Result<YamlOptions, ConfigError> {
    let k = |s: &str| PathSeg::Key(s.into());
    let Value::Object(map) = value else {
        return Err(err(
            &[k("yaml")],
            "expected a mapping with `indent` and/or `sequences`".into(),
        ));
    };
    let mut options = YamlOptions::default();
    for (key, v) in map {
        match key.as_str() {
            "indent" => {
                options.spaces = match v {
                    Value::String(s) if s == "consistent" => None,
                    Value::Number(n) if n.as_u64().is_some_and(|w| (1..=8).contains(&w)) => {
                        n.as_u64().map(|w| w as usize)
                    }
                    other => {
                        return Err(err(
                            &[k("yaml"), k("indent")],
                            format!("expected a width from 1 to 8, or `consistent` (learn it from each file), found `{other}`"),
                        ))
                    }
                }
            }
            "sequences" => {
                options.sequences = match v.as_str() {
                    Some("consistent") => SequenceStyle::Consistent,
                    Some("indented") => SequenceStyle::Indented,
                    Some("flush") => SequenceStyle::Flush,
                    Some("any") => SequenceStyle::Any,
                    _ => {
                        return Err(err(
                            &[k("yaml"), k("sequences")],
                            format!("expected `indented`, `flush`, `consistent` or `any`, found `{v}`"),
                        ))
                    }
                }
            }
            other => {
                return Err(err(
                    &[k("yaml"), k(other)],
                    "unknown key; `yaml` knows `indent` and `sequences`".into(),
                ))
            }
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_bomb_config_is_an_error() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let e = Config::from_text(&text, Path::new(".gitops-lint.yaml"))
            .err()
            .unwrap_or_else(|| panic!("a config read only in part is no config"));
        assert!(e.message.contains("limits.aliasNodes"), "{e}");
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let text = "tiers:\n  premium:\n    apps:\n      producer: yes\n";
        let e = Config::from_text(text, Path::new(".gitops-lint.yaml"))
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        assert_eq!(e.key, "tiers.premium.apps.producer");
        assert_eq!(e.line, 4);
        assert!(e
            .to_string()
            .starts_with(".gitops-lint.yaml:4: `tiers.premium.apps.producer`"));
    }

    #[test]
    fn errors_quote_keys_and_values_cut_short() {
        let long = "v".repeat(1000);
        let e = Config::from_text(&format!("pools: {long}\n"), Path::new("c.yaml"))
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        assert!(e.to_string().len() < 300, "{e}");
        assert_eq!(
            clip_message(&format!("found `{long}` here")),
            format!("found `{}…` here", "v".repeat(SHOWN_KEY_CHARS))
        );
        let e = Config::from_text(&format!("{long}: 1\n"), Path::new("c.yaml"))
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        assert!(
            e.to_string().contains(&format!("`{}…`", "v".repeat(80))),
            "{e}"
        );
    }

    #[test]
    fn unknown_top_level_key() {
        let e = Config::from_text("tier: {}\n", Path::new("c.yaml"))
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        assert_eq!(e.key, "tier");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn service_account_convention() {
        let path = Path::new(".gitops-lint.yaml");
        let c = Config::from_text("serviceAccount: \"{tenant}-{app}\"\n", path)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.service_account.as_deref(), Some("{tenant}-{app}"));
        for bad in [
            "serviceAccount: \"{tenant}\"\n",
            "serviceAccount: \"{app}-{tier}\"\n",
            "serviceAccount: [x]\n",
        ] {
            let e = Config::from_text(bad, path).err();
            assert!(
                e.is_some_and(|e| e.line == 1 && e.key == "serviceAccount"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_custom_contract() {
        let text = "tiers:\n  gold:\n    apps: {api: silo, worker: pool}\npools: [shared-*]\nrules:\n  tier/app-enablement: warning\n  yaml/syntax: off\n";
        let c = Config::from_text(text, Path::new("c.yaml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.tiers.len(), 1);
        assert_eq!(c.tiers["gold"]["worker"], AppMode::Pool);
        assert!(c.is_pool_name("shared-1"));
        assert_eq!(c.rules[RuleId::YAML_SYNTAX.as_str()], RuleSetting::Off);
    }

    #[test]
    fn repo_urls_map_normalised_urls_to_directories() {
        let c = Config::from_text(
            "repoURLs:\n  git@GitHub.com:acme/apps-repo.git: apps\n",
            Path::new("ci/.gitops-lint.yaml"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.repo_urls.get("github.com/acme/apps-repo"),
            Some(&PathBuf::from("ci/apps"))
        );
        for (text, key) in [
            ("repoURLs: [a]\n", "repoURLs"),
            (
                "repoURLs:\n  https://github.com/acme/r: 3\n",
                "repoURLs.https://github.com/acme/r",
            ),
            ("repoURLs:\n  apps-repo: .\n", "repoURLs.apps-repo"),
        ] {
            let e = Config::from_text(text, Path::new("c.yaml"))
                .err()
                .unwrap_or_else(|| panic!("{text} should fail"));
            assert_eq!(e.key, key, "{text}");
        }
    }

    #[test]
    fn kubernetes_version() {
        let parse = |text: &str| Config::from_text(text, Path::new("c.yaml"));
        let minor = |text: &str| parse(text).map(|c| c.kubernetes_minor).ok();
        assert_eq!(minor(""), Some(NEWEST_KUBERNETES_MINOR));
        assert_eq!(minor("kubernetesVersion: \"1.30\"\n"), Some(30));
        assert_eq!(minor("kubernetesVersion: v1.24.3\n"), Some(24));
        // 1.30 unquoted is the number 1.3: refused with the fix, naming the key and line.
        let e = parse("pools: []\nkubernetesVersion: 1.30\n").err();
        let e = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("c.yaml:2: `kubernetesVersion`"), "{e}");
        assert!(e.contains("quote the version"), "{e}");
        for bad in ["\"2.1\"", "\"1.15\"", "\"1.x\"", "\"1.30.1.2\"", "true"] {
            assert!(
                minor(&format!("kubernetesVersion: {bad}\n")).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn clusters_and_globbing() {
        let text = "clusters:\n  - name: prod\n    server: https://prod.example.com\n    labels: {env: prod}\nnewGitFileGlobbing: true\n";
        let c = Config::from_text(text, Path::new("c.yaml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.clusters.len(), 1);
        assert_eq!(c.clusters[0].labels["env"], "prod");
        assert!(c.new_git_file_globbing);
        let e = Config::from_text("clusters:\n  - name: x\n", Path::new("c.yaml"))
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        assert_eq!(e.key, "clusters[0]");
        let e = Config::from_text(
            "clusters:\n  - name: x\n    sever: y\n",
            Path::new("c.yaml"),
        )
        .err()
        .unwrap_or_else(|| panic!("should fail"));
        assert_eq!(e.key, "clusters[0].sever");
        assert_eq!(e.line, 3);
    }

    #[test]
    fn yaml_style_settings() {
        let c = Config::from_text(
            "yaml:\n  indent: 4\n  sequences: flush\n",
            Path::new("c.yaml"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.yaml.spaces, Some(4));
        assert_eq!(c.yaml.sequences, SequenceStyle::Flush);
        let e = Config::from_text("yaml:\n  sequences: nested\n", Path::new("c.yaml"))
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        assert_eq!(e.key, "yaml.sequences");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn presets_turn_on_their_rules_and_unknown_ones_are_named() {
        let off = Config::default();
        assert!(!off.is_enabled(RuleId::YAML_LIST_STYLE.as_str()));
        assert!(off.is_enabled(RuleId::YAML_INDENTATION.as_str()));
        let on = Config::from_text("presets: [style]\n", Path::new("c.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            on.level_of(RuleId::YAML_LIST_STYLE.as_str(), Level::Warning),
            Some(Level::Warning)
        );
        // A rule set in `rules:` is on without its preset.
        let one = Config::from_text("rules:\n  yaml/indent-width: error\n", Path::new("c.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(one.is_enabled(RuleId::YAML_INDENT_WIDTH.as_str()));
        assert!(!one.is_enabled(RuleId::YAML_LIST_STYLE.as_str()));
        let e = Config::from_text("presets: [styel]\n", Path::new("c.yaml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with(
                "c.yaml:1: `presets[0]`: unknown preset `styel`; expected a list of presets: style"
            ),
            "{e}"
        );
    }

    #[test]
    fn placeholders_are_patterns_around_name() {
        let c = Config::from_text(
            "placeholders: [\"@@NAME@@\", \"#{NAME}#\"]\n",
            Path::new("c.yaml"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.placeholders[0].find_in("host: @@DB_HOST@@:5432"),
            Some((6, 17))
        );
        assert_eq!(c.placeholders[1].find_in("x: #{}# #{A}#"), Some((8, 13)));
        assert_eq!(c.placeholders[0].find_in("mail: a@@b"), None);
        let e = Config::from_text("placeholders: [\"@@\"]\n", Path::new("c.yaml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("c.yaml:1: `placeholders[0]`"), "{e}");
    }
}

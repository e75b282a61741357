//! The loading stage: walk every repository, read and parse every file in parallel, and build
//! the [`World`]. A file that does not read or parse becomes a finding; loading goes on.

use crate::discover::{self, FoundFile, Problem, WalkOptions};
use crate::repo_urls::RepoUrls;
use crate::{tenancy, Repo, World};
use gitops_lint_config::{Config, Placeholder};
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::read::ReadError;
use gitops_lint_core::source::{FileId, FileKind, SourceFile, Span};
use gitops_lint_core::RuleId;
use gitops_lint_syntax::lints::{Reader, YamlOptions};
use gitops_lint_syntax::{yaml::YamlDoc, IssueEffect, ParseIssue};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

/// Texts that replace files on disk, keyed by the path the walk reads (the repository root as
/// given joined with the file's relative path): an editor's unsaved buffers, for
/// `gitops-lint lsp`. The CLI passes an empty overlay, so it reads exactly what is on disk.
/// An overlaid path the walk does not find is not added (the tree is what git deploys).
pub type Overlay = HashMap<PathBuf, String>;

/// Parses kept from one load to the next (the language server lints the whole system on every
/// pause in typing, and almost every file is the same as last time): keyed by the path read,
/// reused only while the text and the YAML options it was parsed with are the same. The CLI
/// loads once and passes none.
#[derive(Debug, Default)]
pub struct ParseCache {
    entries: std::sync::Mutex<HashMap<PathBuf, std::sync::Arc<CachedParse>>>,
}

/// One file's parse, with what it depends on.
#[derive(Debug)]
struct CachedParse {
    text: String,
    kind: FileKind,
    options: YamlOptions,
    yaml: Vec<YamlDoc>,
    json: Option<Value>,
    issues: Vec<ParseIssue>,
}

type Parsed = (Vec<YamlDoc>, Option<Value>, Vec<ParseIssue>);

impl ParseCache {
    /// The parse of `source` from the cache when its text and options are unchanged, else a
    /// new parse, kept for the next load.
    fn parse(&self, path: &std::path::Path, source: &SourceFile, config: &Config) -> Parsed {
        // The YAML options are the only part of the config the parse reads.
        let options = yaml_options_for(source.kind, config);
        let hit = self
            .entries
            .lock()
            .ok()
            .and_then(|e| e.get(path).cloned())
            .filter(|c| c.kind == source.kind && c.text == source.text && c.options == options);
        if let Some(c) = hit {
            return (c.yaml.clone(), c.json.clone(), c.issues.clone());
        }
        let (yaml, json, issues) = parse(source, config);
        let entry = CachedParse {
            text: source.text.clone(),
            kind: source.kind,
            options,
            yaml: yaml.clone(),
            json: json.clone(),
            issues: issues.clone(),
        };
        if let Ok(mut e) = self.entries.lock() {
            e.insert(path.to_path_buf(), std::sync::Arc::new(entry));
        }
        (yaml, json, issues)
    }

    /// Forgets files that are no longer in the tree.
    fn retain(&self, keep: &std::collections::HashSet<&std::path::Path>) {
        if let Ok(mut e) = self.entries.lock() {
            e.retain(|path, _| keep.contains(path.as_path()));
        }
    }
}

/// A repository to lint: where it is, and how to print its paths.
#[derive(Clone, Debug)]
pub struct RepoInput {
    /// The root on disk.
    pub root: PathBuf,
    /// The prefix shown before repo-relative paths (the PATH as typed; empty for `.`).
    pub display: String,
}

/// What loading one file produced.
struct LoadedFile {
    source: SourceFile,
    yaml: Vec<YamlDoc>,
    json: Option<Value>,
    issues: Vec<ParseIssue>,
}

/// Joins the displayed repo prefix and a relative path (the root itself is the prefix, or `.`):
/// how every file of the World is displayed.
pub fn display_path(prefix: &str, rel: &str) -> String {
    if rel.is_empty() {
        if prefix.is_empty() {
            ".".to_string()
        } else {
            prefix.to_string()
        }
    } else if prefix.is_empty() || prefix == "." {
        rel.to_string()
    } else {
        format!("{}/{}", prefix.trim_end_matches('/'), rel)
    }
}

/// Decodes a file's bytes. On failure, the text to show (lossy) and what is wrong, with the
/// byte offset it is wrong at; the caller picks the rule from the file's kind.
fn decode(bytes: Vec<u8>) -> Result<String, (String, usize, String, &'static str)> {
    let probe = &bytes[..bytes.len().min(8192)];
    if probe.starts_with(&[0xFF, 0xFE]) || probe.starts_with(&[0xFE, 0xFF]) {
        let order = if probe[0] == 0xFF { "little" } else { "big" };
        return Err((
            String::new(),
            0,
            format!("the file is UTF-16 ({order}-endian byte-order mark); Kubernetes, Argo CD, Helm and Terraform read only UTF-8, and git diffs show it as binary"),
            "re-save the file as UTF-8 (`iconv -f UTF-16 -t UTF-8`)",
        ));
    }
    if let Some(nul) = probe.iter().position(|b| *b == 0) {
        return Err((
            String::new(),
            0,
            format!("this looks like a binary file (a NUL byte at offset {nul}), not text: kubectl, Argo CD and Terraform cannot read it"),
            "if it is meant to be text, re-save it as UTF-8; if it is binary on purpose, give it a name that does not end in .yaml/.json/.tf",
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        // The valid prefix is byte-identical in the lossy text, so `at` stays exact.
        (
            String::from_utf8_lossy(e.as_bytes()).into_owned(),
            at,
            format!("the file is not valid UTF-8 (bad byte at offset {at}); Kubernetes, Argo CD and Terraform read only UTF-8"),
            "re-save the file as UTF-8",
        )
    })
}

/// The YAML options for a file of `kind`: the config's `yaml:` style and `limits:` alias
/// budgets, with the file's reader.
pub fn yaml_options_for(kind: FileKind, config: &Config) -> YamlOptions {
    let mut options = config.yaml.clone();
    options.alias_nodes = config.limits.alias_nodes;
    options.alias_bytes = config.limits.alias_bytes;
    // GitHub reads workflows with a YAML 1.2 parser: `on:` is the string "on" there.
    options.skip_ambiguous_keys = kind == FileKind::Workflow;
    options.reader = match kind {
        FileKind::ChartValues => Reader::Helm,
        FileKind::Workflow => Reader::Actions,
        FileKind::ToolConfig => Reader::Other,
        _ => Reader::Kubernetes,
    };
    options
}

/// Whether a Kubernetes-side reader (kubectl, Argo CD, Flux, kustomize, Helm) reads the file:
/// a kustomization, chart values, a tier template, or a file with a Kubernetes object
/// (`apiVersion` and `kind`). YAML of unknown purpose gets syntax and duplicate-key checks only.
/// Helm reads a `values*.yaml` file wherever it is (a chart's, or one an Application's
/// `valueFiles` names) with sigs.k8s.io/yaml, as YAML 1.1.
fn read_as_kubernetes(kind: FileKind, name: &str, docs: &[YamlDoc]) -> bool {
    match kind {
        FileKind::Kustomization | FileKind::ChartValues | FileKind::TierTemplate => true,
        FileKind::Manifest => {
            name.starts_with("values")
                || docs.iter().any(|d| {
                    d.value.get("apiVersion").is_some_and(Value::is_string)
                        && d.value.get("kind").is_some_and(Value::is_string)
                })
        }
        _ => false,
    }
}

/// When a file does not parse because a template generator's placeholder (`<AWS_ACCOUNT_ID>`
/// on a line of its own, `{TENANT_ID}`, `__TOKEN__`) sits on the line it breaks at (or the
/// line above), the file is a template that is rendered before anyone reads it: one info
/// finding at the token replaces its syntax errors. (Tier templates are parsed with their
/// `{PLACEHOLDER}`s masked, so only the other tokens can break them.)
fn unrendered_template(
    source: &SourceFile,
    issues: &[ParseIssue],
    custom: &[Placeholder],
) -> Option<ParseIssue> {
    let breaks = issues.iter().find(|i| {
        i.effect == IssueEffect::StopsParsing
            || i.rule == RuleId::YAML_SYNTAX
            || i.rule == RuleId::TERRAFORM_SYNTAX
    })?;
    let text = &source.text;
    let at = breaks.start.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    let previous_start = text[..line_start.saturating_sub(1)]
        .rfind('\n')
        .map_or(0, |n| n + 1);
    // On the line above, only a token alone on its line counts (a whole-line placeholder
    // breaks the parse at the next line); on the line itself, any token does.
    [(line_start, false), (previous_start, true)]
        .into_iter()
        .filter(|(start, above)| !above || *start < line_start)
        .find_map(|(start, above)| {
        let line = text[start..].split('\n').next().unwrap_or("");
        let code = line.split(" #").next().unwrap_or(line);
        if code.trim_start().starts_with('#') {
            return None;
        }
        let (from, to) = gitops_lint_syntax::placeholder::template_token(code)
            .or_else(|| custom.iter().find_map(|p| p.find_in(code)))?;
        if above && code.trim() != &code[from..to] {
            return None;
        }
        let token = &code[from..to];
        let what = if source.kind == FileKind::Terraform { "HCL" } else { "YAML" };
        Some(ParseIssue {
            rule: RuleId::TEMPLATE_UNRENDERED_FILE,
            start: start + from,
            end: start + to,
            message: format!("`{token}` is a placeholder that a template generator replaces before this file is used; unrendered, the file is not {what}, so it was not checked"),
            help: Some("nothing to fix if this repository is a template; lint a rendered copy to check the file".to_string()),
            ..ParseIssue::default()
        })
    })
}

/// Parses a decoded file by kind: its YAML documents, its JSON value, and what went wrong.
fn parse(source: &SourceFile, config: &Config) -> (Vec<YamlDoc>, Option<Value>, Vec<ParseIssue>) {
    match source.kind {
        kind if kind.is_yaml() => {
            let options = yaml_options_for(kind, config);
            let mut loaded = gitops_lint_syntax::yaml::load_with(
                &gitops_lint_syntax::parse_text(source),
                &options,
            );
            let name = source.rel_path.rsplit('/').next().unwrap_or("");
            if !read_as_kubernetes(kind, name, &loaded.docs) {
                // The v2/v3 disagreement behind yaml/ambiguous-scalar is between Kubernetes-side
                // readers; a file none of them reads has one reader, which reads it its way.
                loaded
                    .issues
                    .retain(|i| i.rule != RuleId::YAML_AMBIGUOUS_SCALAR);
            }
            (loaded.docs, None, loaded.issues)
        }
        FileKind::Json => match gitops_lint_syntax::json::load(&source.text) {
            Ok(v) => (Vec::new(), Some(v), Vec::new()),
            Err(issue) => (Vec::new(), None, vec![*issue]),
        },
        FileKind::Terraform => match gitops_lint_syntax::hcl::load(&source.text) {
            Ok(_) => (Vec::new(), None, Vec::new()),
            Err(issue) => (Vec::new(), None, vec![*issue]),
        },
        _ => (Vec::new(), None, Vec::new()),
    }
}

/// A file whose content is not checked, with the one finding that says why: an entry the walk
/// could not list or must not open, an ignore file over the budget, a file that could not be
/// read, or one git-crypt encrypted.
fn unread(
    found: &FoundFile,
    id: FileId,
    repo: usize,
    display: String,
    issue: ParseIssue,
) -> LoadedFile {
    LoadedFile {
        source: SourceFile::new(
            id,
            repo,
            found.rel_path.clone(),
            display,
            found.kind,
            String::new(),
        ),
        yaml: Vec::new(),
        json: None,
        issues: vec![issue],
    }
}

/// The finding for a file over `limits.fileBytes`.
fn too_big(size: u64, limit: u64, what: &str) -> ParseIssue {
    ParseIssue {
        rule: RuleId::GITOPS_BUDGET_EXCEEDED,
        message: format!("this file is {size} bytes, more than the {limit} bytes gitops-lint reads of a file (`limits.fileBytes`); {what}"),
        help: Some(format!("if the file is meant to be this large, raise the budget in `.gitops-lint.yaml`: `limits: {{fileBytes: {}}}`", size.saturating_add(1).max(limit.saturating_mul(2)))),
        ..ParseIssue::default()
    }
}

/// The finding for what the OS would not let the walk or the read see.
fn unreadable(what: &str, error: &str) -> ParseIssue {
    ParseIssue {
        rule: RuleId::GITOPS_UNREADABLE_PATH,
        message: format!("cannot read this {what}: {error}; nothing in it was checked, so the gate cannot pass it"),
        help: Some("make it readable by the user that runs gitops-lint, or remove it from the checkout".to_string()),
        ..ParseIssue::default()
    }
}

fn read_file(
    found: &FoundFile,
    id: FileId,
    repo: usize,
    prefix: &str,
    config: &Config,
    overlay: &Overlay,
    cache: Option<&ParseCache>,
) -> LoadedFile {
    let limit = config.limits.file_bytes;
    let display = display_path(prefix, &found.rel_path);
    match &found.problem {
        Some(Problem::Special(what)) => {
            let issue = ParseIssue {
                rule: RuleId::GITOPS_SPECIAL_FILE,
                message: format!("this is {what}, not a file: it was not opened (reading one can block forever), and git cannot commit one, so Argo CD and Flux never see it"),
                help: Some("nothing to fix if a tool running in this folder made it; otherwise remove it".to_string()),
                ..ParseIssue::default()
            };
            return unread(found, id, repo, display, issue);
        }
        Some(Problem::Unreadable(what, error)) => {
            return unread(found, id, repo, display, unreadable(what, error));
        }
        Some(Problem::IgnoreFileTooBig(size)) => {
            let issue = too_big(
                *size,
                limit,
                "it was not read, so the files it lists were not left out",
            );
            return unread(found, id, repo, display, issue);
        }
        None => {}
    }
    // `Other` files are only part of the tree (ApplicationSet matching); they are never read.
    let bytes = match found.kind {
        FileKind::Other => Vec::new(),
        // An editor buffer stands for the file; it is held to the same size budget.
        _ if overlay.contains_key(&found.path) => {
            let text = overlay.get(&found.path).map_or("", String::as_str);
            if text.len() as u64 > limit {
                let issue = too_big(text.len() as u64, limit, "it was not read or checked");
                return unread(found, id, repo, display, issue);
            }
            text.as_bytes().to_vec()
        }
        _ => match gitops_lint_core::read::regular_file(&found.path, limit) {
            Ok(bytes) => bytes,
            Err(ReadError::TooBig(size)) => {
                let issue = too_big(size, limit, "it was not read or checked");
                return unread(found, id, repo, display, issue);
            }
            Err(ReadError::Io(e)) => {
                return unread(found, id, repo, display, unreadable("file", &e.to_string()));
            }
            Err(ReadError::NotAFile(what)) => {
                let error = format!("it became {what} while the tree was walked");
                return unread(found, id, repo, display, unreadable("file", &error));
            }
        },
    };
    // git-crypt stores the file encrypted in git and `git-crypt unlock` decrypts it in the
    // checkout the consumer reads; the committed bytes are not the file, so nothing about
    // them is checked (git-crypt's header: NUL, "GITCRYPT", NUL).
    if bytes.starts_with(b"\0GITCRYPT\0") {
        let issue = ParseIssue {
            rule: RuleId::GIT_ENCRYPTED_FILE,
            message: "this file is encrypted by git-crypt, so it was not checked; whoever reads it (Argo CD's repo-server, a CI job) must run `git-crypt unlock` first".to_string(),
            help: Some("nothing to fix; lint a decrypted checkout to check its content".to_string()),
            ..ParseIssue::default()
        };
        return unread(found, id, repo, display, issue);
    }
    let decoded = decode(bytes);
    let (text, failure) = match decoded {
        Ok(text) => (text, None),
        Err((text, at, message, help)) => (text, Some((at, message, help))),
    };
    let source = SourceFile::new(id, repo, found.rel_path.clone(), display, found.kind, text);
    let Some((at, message, help)) = failure else {
        let (yaml, json, mut issues) = match cache {
            Some(cache) => cache.parse(&found.path, &source, config),
            None => parse(&source, config),
        };
        if let Some(issue) = unrendered_template(&source, &issues, &config.placeholders) {
            issues = vec![issue];
        }
        return LoadedFile {
            source,
            yaml,
            json,
            issues,
        };
    };
    let issue = ParseIssue {
        rule: if source.kind.is_yaml() {
            RuleId::YAML_BOM_OR_ENCODING
        } else {
            source.syntax_rule()
        },
        start: at,
        end: (at + 1).min(source.text.len()).max(at),
        message,
        help: (!help.is_empty()).then(|| help.to_string()),
        ..ParseIssue::default()
    };
    LoadedFile {
        source,
        yaml: Vec::new(),
        json: None,
        issues: vec![issue],
    }
}

/// The git checkouts (a directory holding `.git`) that PATHs lie strictly inside, each once,
/// with how to show it: the PATH as typed without its trailing folders (`mono/gitops` ->
/// `mono`), else the PATH followed by `..` per folder. A checkout that is itself a PATH is
/// not repeated.
fn enclosing_checkouts(inputs: &[RepoInput]) -> Vec<(PathBuf, String)> {
    let canonical: Vec<Option<PathBuf>> = inputs
        .iter()
        .map(|i| std::fs::canonicalize(&i.root).ok())
        .collect();
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for (input, path) in inputs.iter().zip(&canonical) {
        let Some(path) = path else { continue };
        if path.join(".git").exists() {
            continue;
        }
        let Some(checkout) = path.ancestors().skip(1).find(|a| a.join(".git").exists()) else {
            continue;
        };
        if canonical.iter().flatten().any(|c| c == checkout)
            || out.iter().any(|(c, _)| c == checkout)
        {
            continue;
        }
        let inside: Vec<String> = path
            .strip_prefix(checkout)
            .map(|r| {
                r.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let typed = input.display.as_str();
        let suffix = inside.join("/");
        let display = match typed.strip_suffix(&suffix) {
            Some(rest) if !typed.is_empty() && (rest.is_empty() || rest.ends_with('/')) => {
                let rest = rest.trim_end_matches('/');
                if rest.is_empty() {
                    ".".to_string()
                } else {
                    rest.to_string()
                }
            }
            _ => {
                let up = vec![".."; inside.len()].join("/");
                if typed.is_empty() {
                    up
                } else {
                    format!("{typed}/{up}")
                }
            }
        };
        out.push((checkout.to_path_buf(), display));
    }
    out
}

/// The files of a walk that are files of the tree (not the entries only reported).
fn tree_files(files: Vec<FoundFile>) -> std::collections::BTreeSet<String> {
    files
        .into_iter()
        .filter(FoundFile::is_file)
        .map(|f| f.rel_path)
        .collect()
}

/// Loads every repository into one World. Returns the findings made while loading.
pub fn load(inputs: &[RepoInput], config: &Config) -> (World, Vec<Finding>) {
    load_overlaid(inputs, config, &Overlay::new(), None)
}

/// [`load`], with the files of `overlay` read from it instead of the disk, and parses reused
/// from `cache` (and kept in it) where the text has not changed.
pub fn load_overlaid(
    inputs: &[RepoInput],
    config: &Config,
    overlay: &Overlay,
    cache: Option<&ParseCache>,
) -> (World, Vec<Finding>) {
    let options = WalkOptions::from_config(config);
    let walked: Vec<_> = inputs
        .par_iter()
        .map(|r| discover::walk(&r.root, &options))
        .collect();
    let mut jobs = Vec::new();
    for (repo, w) in walked.iter().enumerate() {
        for found in &w.files {
            jobs.push((repo, found));
        }
    }
    // Batches of at most 64 files: the cores share the last batches evenly (larger ones left a
    // core parsing on its own for 10 ms at the end of this stage).
    let loaded: Vec<LoadedFile> = jobs
        .par_iter()
        .with_max_len(64)
        .enumerate()
        .map(|(i, (repo, found))| {
            read_file(
                found,
                FileId(i as u32),
                *repo,
                &inputs[*repo].display,
                config,
                overlay,
                cache,
            )
        })
        .collect();
    if let Some(cache) = cache {
        cache.retain(&jobs.iter().map(|(_, f)| f.path.as_path()).collect());
    }

    let mut world = World::default();
    let mut findings = Vec::new();
    for (input, w) in inputs.iter().zip(walked) {
        world.repos.push(Repo {
            root: input.root.clone(),
            display: input.display.clone(),
            dirs: w.dirs,
            files: tree_files(w.files),
        });
    }
    // The checkouts that PATHs are subfolders of, as trees only (listed, never read): Argo CD
    // and Flux resolve a repoURL's paths against the repository's root, so a PATH such as
    // `gitops/` in a monorepo needs the whole checkout's tree for its paths to be checked.
    let checkouts = enclosing_checkouts(inputs);
    let trees: Vec<_> = checkouts
        .par_iter()
        .map(|(root, _)| discover::walk(root, &options))
        .collect();
    for ((root, display), w) in checkouts.into_iter().zip(trees) {
        world.repos.push(Repo {
            root,
            display,
            dirs: w.dirs,
            files: tree_files(w.files),
        });
    }
    // Why sized first: both grow by doubling otherwise, and at 10,000 files the spare room was
    // a few MiB kept for the whole run.
    world.yaml.reserve_exact(loaded.len());
    world.files.reserve_exact(loaded.len());
    for file in loaded {
        let id = file.source.id;
        for issue in file.issues {
            let mut f = Finding::new(
                issue.rule,
                issue.message,
                Location::Span(Span {
                    file: id,
                    start: issue.start,
                    end: issue.end,
                }),
            );
            f.help = issue.help;
            for (start, end, message) in issue.related {
                f = f.with_related(
                    Location::Span(Span {
                        file: id,
                        start,
                        end,
                    }),
                    message,
                );
            }
            findings.push(f);
        }
        if let Some(v) = file.json {
            world.json.insert(id, v);
        }
        world.yaml.push(file.yaml);
        world.files.push(file.source);
    }
    world.index_kinds();
    world.repo_urls = RepoUrls::new(&world, config);
    findings.extend(tenancy::collect(&mut world, config));
    (world, findings)
}

/// The CustomResourceDefinitions in the config's `schemas:` files ([`Config::schema_files`]),
/// in the order listed. These files are read only for their CRDs, never linted: a file that
/// cannot be read or does not parse as YAML is a config error naming the entry, since the
/// config asked for it by name.
pub fn schema_crds(
    files: &[gitops_lint_config::SchemaFile],
    config: &Config,
) -> Result<Vec<Value>, gitops_lint_config::ConfigError> {
    let mut out = Vec::new();
    for file in files {
        let fail = |message: String| gitops_lint_config::ConfigError {
            message: format!("`{}`: {message}", file.path.display()),
            ..file.at.clone()
        };
        let bytes = gitops_lint_core::read::regular_file(&file.path, config.limits.file_bytes)
            .map_err(|e| {
                fail(match e {
                    ReadError::Io(e) => format!("cannot read it: {e}"),
                    ReadError::NotAFile(what) => format!("it is {what}, not a regular file"),
                    ReadError::TooBig(n) => format!(
                        "{n} bytes, more than `limits.fileBytes` ({})",
                        config.limits.file_bytes
                    ),
                })
            })?;
        let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
        let loaded = gitops_lint_syntax::yaml::load(&text);
        if let Some(issue) = loaded.issues.iter().find(|i| i.rule == RuleId::YAML_SYNTAX) {
            return Err(fail(format!("not valid YAML: {}", issue.message)));
        }
        out.extend(
            loaded.docs.into_iter().map(|d| d.value).filter(|v| {
                v.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
            }),
        );
    }
    Ok(out)
}

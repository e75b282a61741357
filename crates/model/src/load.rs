//! The loading stage: walk every repository, read and parse every file in parallel, and build
//! the [`World`]. A file that does not read or parse becomes a finding; loading goes on.

use crate::discover::{self, FoundFile};
use crate::repo_urls::RepoUrls;
use crate::{tenancy, Repo, World};
use gitops_lint_config::Config;
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{FileId, FileKind, SourceFile, Span};
use gitops_lint_core::RuleId;
use gitops_lint_syntax::{lints::YamlOptions, yaml::YamlDoc, ParseIssue};
use rayon::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

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

/// Joins the displayed repo prefix and a relative path.
fn display_path(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() || prefix == "." {
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
            format!("this looks like a binary file (a NUL byte at offset {nul}), not text"),
            "remove it from the repository, or rename it so it does not end in .yaml/.json/.tf",
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

/// Parses a decoded file by kind: its YAML documents, its JSON value, and what went wrong.
fn parse(
    source: &SourceFile,
    yaml_options: &YamlOptions,
) -> (Vec<YamlDoc>, Option<Value>, Vec<ParseIssue>) {
    match source.kind {
        kind if kind.is_yaml() => {
            let mut options = yaml_options.clone();
            // GitHub reads workflows with a YAML 1.2 parser: `on:` is the string "on" there.
            options.skip_ambiguous_keys = kind == FileKind::Workflow;
            let loaded = gitops_lint_syntax::yaml::load_with(
                &gitops_lint_syntax::parse_text(source),
                &options,
            );
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

fn read_file(
    found: &FoundFile,
    id: FileId,
    repo: usize,
    prefix: &str,
    yaml_options: &YamlOptions,
) -> LoadedFile {
    let display = display_path(prefix, &found.rel_path);
    // `Other` files are only part of the tree (ApplicationSet matching); they are never read.
    let bytes = match found.kind {
        FileKind::Other => Ok(Vec::new()),
        _ => std::fs::read(&found.path)
            .map_err(|e| (String::new(), 0, format!("cannot read the file: {e}"), "")),
    };
    let decoded = bytes.and_then(decode);
    let (text, failure) = match decoded {
        Ok(text) => (text, None),
        Err((text, at, message, help)) => (text, Some((at, message, help))),
    };
    let source = SourceFile::new(id, repo, found.rel_path.clone(), display, found.kind, text);
    let Some((at, message, help)) = failure else {
        let (yaml, json, issues) = parse(&source, yaml_options);
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

/// Loads every repository into one World. Returns the findings made while loading.
pub fn load(inputs: &[RepoInput], config: &Config) -> (World, Vec<Finding>) {
    let walked: Vec<_> = inputs.par_iter().map(|r| discover::walk(&r.root)).collect();
    let mut jobs = Vec::new();
    for (repo, w) in walked.iter().enumerate() {
        for found in &w.files {
            jobs.push((repo, found));
        }
    }
    let loaded: Vec<LoadedFile> = jobs
        .par_iter()
        .enumerate()
        .map(|(i, (repo, found))| {
            read_file(
                found,
                FileId(i as u32),
                *repo,
                &inputs[*repo].display,
                &config.yaml,
            )
        })
        .collect();

    let mut world = World::default();
    let mut findings = Vec::new();
    for (input, w) in inputs.iter().zip(walked) {
        world.repos.push(Repo {
            root: input.root.clone(),
            display: input.display.clone(),
            dirs: w.dirs,
            files: w.files.into_iter().map(|f| f.rel_path).collect(),
        });
    }
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

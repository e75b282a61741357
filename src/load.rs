//! The loading stage: walk every repository, read and parse every file in parallel, and build
//! the [`World`]. A file that does not read or parse becomes a finding; loading goes on.

use crate::config::Config;
use crate::discover::{self, FoundFile};
use crate::finding::{Finding, Location};
use crate::model::{tenancy, Repo, World};
use crate::parse::{self, yaml::YamlDoc, ParseIssue};
use crate::source::{FileId, FileKind, SourceFile, Span};
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

fn encoding_issue(bytes: &[u8]) -> Option<ParseIssue> {
    let probe = &bytes[..bytes.len().min(8192)];
    if let Some(nul) = probe.iter().position(|b| *b == 0) {
        return Some(ParseIssue {
            rule: "yaml/syntax",
            start: 0,
            end: 0,
            message: format!(
                "this looks like a binary file (a NUL byte at offset {nul}), not text"
            ),
            help: Some(
                "remove it from the repository, or rename it so it does not end in .yaml/.json/.tf"
                    .into(),
            ),
        });
    }
    None
}

fn read_file(found: &FoundFile, id: FileId, repo: usize, prefix: &str) -> LoadedFile {
    let display = display_path(prefix, &found.rel_path);
    let reads = !matches!(found.kind, FileKind::Other);
    let bytes = if reads {
        std::fs::read(&found.path)
    } else {
        Ok(Vec::new())
    };
    let mut issues = Vec::new();
    let text = match bytes {
        Ok(bytes) => {
            if let Some(issue) = encoding_issue(&bytes) {
                issues.push(issue);
                String::new()
            } else {
                match String::from_utf8(bytes) {
                    Ok(t) => t,
                    Err(e) => {
                        let at = e.utf8_error().valid_up_to();
                        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                        // Offsets in the lossy text: the valid prefix is byte-identical.
                        issues.push(ParseIssue {
                            rule: "yaml/syntax",
                            start: at,
                            end: at + 1,
                            message: format!("the file is not valid UTF-8 (bad byte at offset {at}); Kubernetes and Argo CD read only UTF-8"),
                            help: Some("re-save the file as UTF-8".into()),
                        });
                        let source = SourceFile::new(
                            id,
                            repo,
                            found.rel_path.clone(),
                            display,
                            found.kind,
                            text,
                        );
                        return LoadedFile {
                            source,
                            yaml: Vec::new(),
                            json: None,
                            issues,
                        };
                    }
                }
            }
        }
        Err(err) => {
            issues.push(ParseIssue {
                rule: "yaml/syntax",
                start: 0,
                end: 0,
                message: format!("cannot read the file: {err}"),
                help: None,
            });
            String::new()
        }
    };
    let mut yaml = Vec::new();
    let mut json = None;
    if issues.is_empty() {
        match found.kind {
            kind if kind.is_yaml() => {
                let loaded = if kind == FileKind::TierTemplate {
                    parse::yaml::load(&parse::placeholder::mask(&text))
                } else {
                    parse::yaml::load(&text)
                };
                yaml = loaded.docs;
                issues.extend(loaded.issues);
            }
            FileKind::Json => match parse::json::load(&text) {
                Ok(v) => json = Some(v),
                Err(issue) => issues.push(issue),
            },
            FileKind::Terraform => {
                if let Err(issue) = parse::hcl::load(&text) {
                    issues.push(issue);
                }
            }
            _ => {}
        }
    }
    let source = SourceFile::new(id, repo, found.rel_path.clone(), display, found.kind, text);
    LoadedFile {
        source,
        yaml,
        json,
        issues,
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
        .map(|(i, (repo, found))| read_file(found, FileId(i as u32), *repo, &inputs[*repo].display))
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
            findings.push(f);
        }
        if let Some(v) = file.json {
            world.json.insert(id, v);
        }
        world.yaml.push(file.yaml);
        world.files.push(file.source);
    }
    world.index_kinds();
    findings.extend(tenancy::collect(&mut world, config));
    (world, findings)
}

//! Editor navigation over the World: what the language server shows on hover and where
//! go-to-definition jumps, for the joins only the whole system knows.
//!
//! - An IRSA role ARN (a ServiceAccount annotation, the Helm value that decides a rendered
//!   ServiceAccount's ARN, any `arn:aws:iam::…:role/…` string in a loaded file) joins to the
//!   Terraform role that creates it, its trusted subjects and the ServiceAccounts that use it.
//! - A tenant id (`tenantId` of a tenant release, an entry of the infra-repo's `tenants.json`)
//!   joins to the other repository's side and the tier.
//! - An `envId` joins to the pool release it names.
//! - An Argo CD Application's `path` or `helm.valueFiles` entry joins to the folder or file. A
//!   folder opens the file Argo CD builds it from (`kustomization.yaml`, `Chart.yaml`), else
//!   its first file in path order, at span `0..0`: editors open files, not folders.
//! - A tenant file joins to its tier template.
//!
//! Where nothing joins, hover is `None` and definition empty; so for any offset, any file
//! (also files not in the World) and any offset past the end. An ARN, tenant id or `envId`
//! that is recognised but joins to nothing still gets a hover that says so.
//!
//! [`NavIndex::build`] makes one pass over the World's facts into hash maps keyed by what the
//! running system matches (role name, tenant id, pool id, file). It parses nothing: the facts
//! carry node paths, and a path is turned into bytes only when a request needs it, by parsing
//! that one file once more (cached per file, like `report::resolve` does for findings).

use gitops_lint_config::Config;
use gitops_lint_core::finding::Location;
use gitops_lint_core::source::{FileId, FileKind, PathSeg};
use gitops_lint_model::accounts::AccountSource;
use gitops_lint_model::load::{self, RepoInput};
use gitops_lint_model::{Repo, World};
use gitops_lint_syntax::locate::SpanIndex;
use gitops_lint_syntax::pointer::Lookup;
use serde_json::Value;
use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What the editor shows on hover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    /// The text, as Markdown.
    pub markdown: String,
    /// The bytes the hover is about (the value under the cursor), in the hovered file.
    pub span: Range<usize>,
}

/// A place to jump to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The file, as the World displays it (the same string as findings' locations use).
    pub file: String,
    /// Byte range in that file (`0..0` for "the file", e.g. the first file of a folder).
    pub span: Range<usize>,
}

/// Loads `paths` as repository roots and derives the World's facts, as `gitops_lint::lint`
/// does before its rules run (the load and derive findings are returned beside it). Paths are
/// displayed as given, like the command line displays them.
pub fn load_world(
    paths: &[PathBuf],
    config: &Config,
) -> (World, Vec<gitops_lint_core::finding::Finding>) {
    let inputs: Vec<RepoInput> = paths
        .iter()
        .map(|p| {
            // The same display rule as `gitops_lint::repo_inputs`.
            let display = gitops_lint_core::read::slash_path(p);
            let display = display.trim_end_matches('/').to_string();
            RepoInput {
                root: p.clone(),
                display: if display == "." {
                    String::new()
                } else {
                    display
                },
            }
        })
        .collect();
    let (mut world, mut findings) = load::load(&inputs, config);
    findings.extend(gitops_lint_derive::derive(&mut world, config));
    (world, findings)
}

/// What a place in a file is.
#[derive(Clone, Debug)]
enum What {
    /// A ServiceAccount's role ARN is written (or decided) here.
    RoleArn(usize),
    /// An IAM role ARN written in the text: the role's name.
    ArnText(String),
    /// A ServiceAccount is decided here (its name, or the Helm values block that renders it).
    Account(usize),
    /// Terraform writes a role's name here.
    RoleDef(usize),
    /// A tenant release's `tenantId`.
    TenantId(usize),
    /// An entry of the infra-repo's `tenants.json` (or a tf-controller `Terraform` resource).
    InfraTenant(usize),
    /// An `envId`: the pool it names.
    EnvId(String),
    /// An Application `path` or `valueFiles` entry, with what it resolves to.
    AppPath(Arc<AppTarget>),
    /// A tenant release document as a whole: its tier template (definition only).
    TenantDoc(usize),
}

/// A resolved Application path.
#[derive(Clone, Debug)]
struct AppTarget {
    /// `path` or `valueFiles`.
    field: &'static str,
    /// As written.
    written: String,
    /// The repository-relative path it names.
    rel: String,
    /// Whether it names a folder.
    folder: bool,
    /// The file to open: displayed path, `None` when the folder or file does not exist.
    open: Option<String>,
}

/// One place in a file and what it is. Where the place is written is kept once, by the fact
/// (`own` only for places no fact keeps): the index is built on every lint run.
#[derive(Clone, Debug)]
struct Anchor {
    what: What,
    own: Option<Location>,
}

/// What the index keeps of a file.
#[derive(Debug)]
struct FileInfo {
    display: String,
    kind: FileKind,
    /// The text, kept for files a request may need to locate node paths in (files with
    /// anchors or targets); `None` for the rest.
    text: Option<String>,
}

/// A role, as hover shows it.
#[derive(Debug)]
struct RoleInfo {
    name: String,
    address: String,
    location: Location,
    instance_location: Location,
    subjects: Option<Vec<gitops_lint_model::infra::Subject>>,
    pod_identity: bool,
}

/// A ServiceAccount, as hover shows it.
#[derive(Debug)]
struct AccountInfo {
    namespace: Option<String>,
    name: String,
    role: Option<String>,
    location: Location,
    role_location: Option<Location>,
    release: Option<String>,
}

/// A tenant release, as hover shows it.
#[derive(Debug)]
struct TenantInfo {
    id: String,
    tier: String,
    file: FileId,
    doc: usize,
    id_location: Location,
    /// The document root (a path of no step: no allocation).
    doc_location: Location,
}

/// A tenant as the infra-repo lists it.
#[derive(Debug)]
struct InfraTenantInfo {
    id: String,
    tier: Option<String>,
    location: Location,
}

/// A pool release.
#[derive(Debug)]
struct PoolInfo {
    id: String,
    name: Option<String>,
    file: FileId,
    doc: usize,
}

/// Spans of one file's anchors, sorted by start, resolved on first request.
type Resolved = Vec<(Range<usize>, usize)>;

/// Hover and go-to-definition answers over one World. Built once per lint run; every request
/// is a hash lookup plus, the first time a file is asked about, one parse of that file.
pub struct NavIndex {
    files: Vec<FileInfo>,
    by_display: HashMap<String, FileId>,
    /// Anchors by file id.
    anchors: Vec<Vec<Anchor>>,
    roles: Vec<RoleInfo>,
    roles_by_name: HashMap<String, Vec<usize>>,
    accounts: Vec<AccountInfo>,
    accounts_by_role: HashMap<String, Vec<usize>>,
    tenants: Vec<TenantInfo>,
    tenants_by_id: HashMap<String, Vec<usize>>,
    templates_by_tier: HashMap<String, usize>,
    infra_tenants: Vec<InfraTenantInfo>,
    infra_tenants_by_id: HashMap<String, Vec<usize>>,
    pools: Vec<PoolInfo>,
    pools_by_id: HashMap<String, Vec<usize>>,
    has_terraform: bool,
    /// Per-file span trees, parsed on first use.
    spans: Mutex<HashMap<FileId, Arc<SpanIndex>>>,
    /// Per-file anchor spans, resolved on first use.
    resolved: Mutex<HashMap<FileId, Arc<Resolved>>>,
}

/// How many items of a list a hover shows before "and N more".
const SHOWN: usize = 8;

/// The role name of an IAM role ARN (`arn:aws:iam::123456789012:role/path/name` -> `name`).
fn role_name_of_arn(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let _partition = parts.next()?;
    if parts.next()? != "iam" {
        return None;
    }
    let _region = parts.next()?;
    let _account = parts.next()?;
    let resource = parts.next()?.strip_prefix("role/")?;
    let name = resource.rsplit('/').next()?;
    (!name.is_empty()).then_some(name)
}

/// The file go-to-definition opens for a folder: its `kustomization.yaml` or `Chart.yaml` (what
/// Argo CD builds the folder from), else its first file in path order, else the first file
/// below it. `None` for a folder with no file (which Argo CD cannot sync).
fn folder_entry(repo: &Repo, dir: &str) -> Option<String> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    for name in [
        "kustomization.yaml",
        "kustomization.yml",
        "Kustomization",
        "Chart.yaml",
    ] {
        let candidate = format!("{prefix}{name}");
        if repo.files.contains(&candidate) {
            return Some(candidate);
        }
    }
    // Files are sorted: the ones below `dir/` form one range. O(log n) to its start; the
    // scan stops at the first direct child (or takes the first file below when none is).
    let mut below = repo
        .files
        .range(prefix.clone()..)
        .take_while(|f| f.starts_with(&prefix));
    let first = below.next()?.clone();
    if !first[prefix.len()..].contains('/') {
        return Some(first);
    }
    let direct = below
        .take(4096)
        .find(|f| !f[prefix.len()..].contains('/'))
        .cloned();
    Some(direct.unwrap_or(first))
}

/// Whether a value is still a template (`{{path}}`, `${VAR}`, a tier-template `{PLACEHOLDER}`):
/// nothing to navigate to.
fn templated(s: &str) -> bool {
    s.contains('{') || s.contains("${")
}

/// Every `envId` string below `value`, with its path (relative to `value`).
fn env_ids(value: &Value, path: &mut Vec<PathSeg>, out: &mut Vec<(Vec<PathSeg>, String)>) {
    // Helm values are shallow; the bound only guards against a hostile document.
    if path.len() > 16 {
        return;
    }
    if let Value::Object(map) = value {
        for (k, v) in map {
            path.push(PathSeg::Key(k.as_str().into()));
            match v {
                Value::String(s) if k == "envId" => out.push((path.clone(), s.clone())),
                Value::Object(_) => env_ids(v, path, out),
                _ => {}
            }
            path.pop();
        }
    }
}

impl NavIndex {
    /// Built from the World after derive (the same World the lint run produced). One pass over
    /// the facts into hash maps; no file is parsed (see the crate docs).
    pub fn build(world: &World) -> NavIndex {
        let n = world.files.len();
        let mut anchors: Vec<Vec<Anchor>> = (0..n).map(|_| Vec::new()).collect();
        // Files whose text a request may need (to locate node paths, or to read an ARN).
        let mut keep: Vec<bool> = vec![false; n];
        let mut add = |file: FileId, what: What, own: Option<Location>, keep: &mut [bool]| {
            if let Some(k) = keep.get_mut(file.0 as usize) {
                *k = true;
                anchors[file.0 as usize].push(Anchor { what, own });
            }
        };
        let keep_file = |file: FileId, keep: &mut [bool]| {
            if let Some(k) = keep.get_mut(file.0 as usize) {
                *k = true;
            }
        };

        // Roles Terraform creates.
        let mut roles = Vec::with_capacity(world.infra.roles.len());
        let mut roles_by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for role in &world.infra.roles {
            let Some(name) = &role.name else { continue };
            let instance = world.infra.instances.get(role.instance);
            let i = roles.len();
            roles.push(RoleInfo {
                name: name.clone(),
                address: instance.map(|x| x.address.clone()).unwrap_or_default(),
                location: role.location.clone(),
                instance_location: instance
                    .map_or_else(|| role.location.clone(), |x| x.location.clone()),
                subjects: role.subjects.clone(),
                pod_identity: role.pod_identity,
            });
            roles_by_name.entry(name.clone()).or_default().push(i);
            add(role.location.file(), What::RoleDef(i), None, &mut keep);
            keep_file(
                instance.map_or_else(|| role.location.file(), |x| x.location.file()),
                &mut keep,
            );
        }

        // ServiceAccounts and the role ARNs they carry.
        let mut accounts = Vec::with_capacity(world.service_accounts.len());
        let mut accounts_by_role: HashMap<String, Vec<usize>> = HashMap::new();
        for sa in &world.service_accounts {
            let i = accounts.len();
            let role = sa
                .role_arn
                .as_deref()
                .and_then(role_name_of_arn)
                .map(str::to_string);
            accounts.push(AccountInfo {
                namespace: sa.namespace.clone(),
                name: sa.name.clone(),
                role: role.clone(),
                location: sa.location.clone(),
                role_location: sa.role_location.clone(),
                release: match &sa.source {
                    AccountSource::Helm { release, .. } => Some(release.clone()),
                    _ => None,
                },
            });
            add(sa.location.file(), What::Account(i), None, &mut keep);
            if let Some(role) = role {
                accounts_by_role.entry(role).or_default().push(i);
                if let Some(at) = &sa.role_location {
                    add(at.file(), What::RoleArn(i), None, &mut keep);
                }
            }
        }

        // Tenants and tier templates of the apps-repo.
        let mut tenants = Vec::with_capacity(world.tenants.len());
        let mut tenants_by_id: HashMap<String, Vec<usize>> = HashMap::new();
        let mut templates_by_tier: HashMap<String, usize> = HashMap::new();
        let mut envs = Vec::new();
        for t in &world.tenants {
            let i = tenants.len();
            let id_location = t.id_path.as_ref().map_or_else(
                || Location::value(t.file_id, t.doc, Vec::new()),
                |p| Location::value(t.file_id, t.doc, p.clone()),
            );
            tenants.push(TenantInfo {
                id: t.id.clone(),
                tier: t.tier.clone(),
                file: t.file_id,
                doc: t.doc,
                id_location,
                doc_location: Location::value(t.file_id, t.doc, Vec::new()),
            });
            if t.template {
                templates_by_tier.entry(t.tier.clone()).or_insert(i);
                keep_file(t.file_id, &mut keep);
            } else {
                tenants_by_id.entry(t.id.clone()).or_default().push(i);
                if t.id_path.is_some() {
                    add(t.file_id, What::TenantId(i), None, &mut keep);
                }
                add(t.file_id, What::TenantDoc(i), None, &mut keep);
            }
            envs.clear();
            env_ids(&t.values, &mut Vec::new(), &mut envs);
            for (path, id) in envs.drain(..) {
                if templated(&id) {
                    continue;
                }
                let mut full = t.values_path.clone();
                full.extend(path);
                add(
                    t.file_id,
                    What::EnvId(id),
                    Some(Location::value(t.file_id, t.doc, full)),
                    &mut keep,
                );
            }
        }

        // Tenants of the infra-repo.
        let mut infra_tenants = Vec::with_capacity(world.infra.tenants.len());
        let mut infra_tenants_by_id: HashMap<String, Vec<usize>> = HashMap::new();
        for t in &world.infra.tenants {
            let i = infra_tenants.len();
            infra_tenants.push(InfraTenantInfo {
                id: t.id.clone(),
                tier: t.tier.clone(),
                location: t.location.clone(),
            });
            infra_tenants_by_id.entry(t.id.clone()).or_default().push(i);
            add(t.location.file(), What::InfraTenant(i), None, &mut keep);
        }

        // Pools.
        let mut pools = Vec::with_capacity(world.pools.len());
        let mut pools_by_id: HashMap<String, Vec<usize>> = HashMap::new();
        for p in &world.pools {
            let i = pools.len();
            let name = world
                .doc(gitops_lint_model::DocRef {
                    file: p.file_id,
                    doc: p.doc,
                })
                .and_then(|d| d.value.lookup("/metadata/name"))
                .and_then(Value::as_str)
                .map(str::to_string);
            pools.push(PoolInfo {
                id: p.id.clone(),
                name,
                file: p.file_id,
                doc: p.doc,
            });
            pools_by_id.entry(p.id.clone()).or_default().push(i);
            keep_file(p.file_id, &mut keep);
        }

        // Application paths and value files (written Applications: a generated one's path is
        // a template in its ApplicationSet). Thousands of tenant Applications name the same
        // repository and chart folder: each URL and each target is resolved once.
        let mut urls: HashMap<&str, Option<usize>> = HashMap::new();
        let mut targets: HashMap<(usize, &'static str, String, String), Arc<AppTarget>> =
            HashMap::new();
        let mut target = |repo_at: usize, field: &'static str, written: &str, rel: String| {
            let key = (repo_at, field, written.to_string(), rel);
            targets
                .entry(key)
                .or_insert_with_key(|k| {
                    Arc::new(app_target(
                        world,
                        k.0,
                        k.1,
                        &k.2,
                        k.3.clone(),
                        k.1 == "path",
                    ))
                })
                .clone()
        };
        for at in world.kind("Application") {
            let Some(doc) = world.doc(*at) else { continue };
            let app = &doc.value;
            if app
                .get("apiVersion")
                .and_then(Value::as_str)
                .is_none_or(|v| !v.starts_with("argoproj.io/"))
            {
                continue;
            }
            let sources = gitops_lint_model::apps::sources(app);
            for (source, path) in &sources {
                // Most Applications (a tenant's chart from a Helm or OCI repository) have
                // neither: no repository URL to resolve.
                let value_files = source.lookup("/helm/valueFiles").and_then(Value::as_array);
                if source.get("path").is_none() && value_files.is_none() {
                    continue;
                }
                let repo_at = source
                    .get("repoURL")
                    .and_then(Value::as_str)
                    .and_then(|u| local_repo(world, &mut urls, u));
                let base = source.get("path").and_then(Value::as_str);
                if let (Some(repo_at), Some(dir)) = (repo_at, base) {
                    if !templated(dir) {
                        let rel = gitops_lint_matchers::paths::secure_join(dir);
                        let target = target(repo_at, "path", dir, rel);
                        let mut p = path.clone();
                        p.push(PathSeg::Key("path".into()));
                        add(
                            at.file,
                            What::AppPath(target),
                            Some(Location::value(at.file, at.doc, p)),
                            &mut keep,
                        );
                    }
                }
                let files = value_files.into_iter().flatten().enumerate();
                for (i, file) in files {
                    let Some(file) = file.as_str() else { continue };
                    if templated(file) || file.contains("://") || file.contains(['*', '?', '[']) {
                        continue;
                    }
                    // `$ref/path` is relative to the root of the source with that `ref`;
                    // an absolute path to the repository root (Argo CD
                    // `reposerver/repository/repository.go`: `getResolvedValueFiles`); anything
                    // else to this source's `path`.
                    let resolved = if let Some(r) = file.strip_prefix('$') {
                        let (name, rest) = r.split_once('/').unwrap_or((r, ""));
                        sources
                            .iter()
                            .find(|(s, _)| s.get("ref").and_then(Value::as_str) == Some(name))
                            .and_then(|(s, _)| s.get("repoURL").and_then(Value::as_str))
                            .and_then(|u| local_repo(world, &mut urls, u))
                            .map(|r| (r, gitops_lint_matchers::paths::secure_join(rest)))
                    } else if file.starts_with('/') {
                        repo_at.map(|r| (r, gitops_lint_matchers::paths::secure_join(file)))
                    } else {
                        repo_at
                            .zip(base)
                            .filter(|(_, b)| !templated(b))
                            .map(|(r, b)| {
                                (
                                    r,
                                    gitops_lint_matchers::paths::secure_join(&format!(
                                        "{b}/{file}"
                                    )),
                                )
                            })
                    };
                    let Some((r, rel)) = resolved else { continue };
                    let target = target(r, "valueFiles", file, rel);
                    let mut p = path.clone();
                    p.extend([
                        PathSeg::Key("helm".into()),
                        PathSeg::Key("valueFiles".into()),
                        PathSeg::Index(i),
                    ]);
                    add(
                        at.file,
                        What::AppPath(target),
                        Some(Location::value(at.file, at.doc, p)),
                        &mut keep,
                    );
                }
            }
        }

        let files = world
            .files
            .iter()
            .map(|f| FileInfo {
                display: f.display.clone(),
                kind: f.kind,
                text: keep
                    .get(f.id.0 as usize)
                    .copied()
                    .unwrap_or(false)
                    .then(|| f.text.clone()),
            })
            .collect();
        let by_display = world
            .files
            .iter()
            .map(|f| (f.display.clone(), f.id))
            .collect();
        NavIndex {
            files,
            by_display,
            anchors,
            roles,
            roles_by_name,
            accounts,
            accounts_by_role,
            tenants,
            tenants_by_id,
            templates_by_tier,
            infra_tenants,
            infra_tenants_by_id,
            pools,
            pools_by_id,
            has_terraform: world.infra.has_terraform,
            spans: Mutex::new(HashMap::new()),
            resolved: Mutex::new(HashMap::new()),
        }
    }
}

/// The linted repository a URL names (`RepoUrls::local`), once per URL.
fn local_repo<'w>(
    world: &World,
    cache: &mut HashMap<&'w str, Option<usize>>,
    url: &'w str,
) -> Option<usize> {
    *cache
        .entry(url)
        .or_insert_with(|| world.repo_urls.local(url))
}

/// What an Application `path` / `valueFiles` entry opens.
fn app_target(
    world: &World,
    repo_at: usize,
    field: &'static str,
    written: &str,
    rel: String,
    folder: bool,
) -> AppTarget {
    let repo = &world.repos[repo_at];
    let open = if folder {
        (rel.is_empty() || repo.dirs.contains(&rel))
            .then(|| folder_entry(repo, &rel))
            .flatten()
    } else {
        repo.files.contains(&rel).then(|| rel.clone())
    }
    .map(|f| gitops_lint_model::load::display_path(&repo.display, &f));
    AppTarget {
        field,
        written: written.to_string(),
        rel,
        folder,
        open,
    }
}

/// Which requests an anchor answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Request {
    Hover,
    Definition,
}

fn answers(what: &What, request: Request) -> bool {
    // A tenant document as a whole only jumps (a hover anywhere in it would be noise); a
    // role's name in Terraform is the definition itself.
    !matches!(
        (what, request),
        (What::TenantDoc(_), Request::Hover) | (What::RoleDef(_), Request::Definition)
    )
}

impl NavIndex {
    /// What to show on hover at byte `offset` of `file` (displayed path). `None` when nothing
    /// there joins to anything (or the file is not in the World, or the offset is past its end).
    pub fn hover(&self, file: &str, offset: usize) -> Option<Hover> {
        let (id, span, whats) = self.at(file, offset, Request::Hover)?;
        let _ = id;
        // One place may decide many facts (a Terraform module's role name line is every
        // instance's): the first few are shown, the rest counted.
        let mut sections: Vec<String> = whats
            .iter()
            .take(SHOWN)
            .filter_map(|w| self.describe(w))
            .collect();
        if sections.is_empty() {
            return None;
        }
        if whats.len() > SHOWN {
            sections.push(format!("(and {} more)", whats.len() - SHOWN));
        }
        Some(Hover {
            markdown: sections.join("\n\n---\n\n"),
            span,
        })
    }

    /// Where go-to-definition jumps from byte `offset` of `file`: empty when nothing there
    /// joins to anything.
    pub fn definition(&self, file: &str, offset: usize) -> Vec<Target> {
        let Some((_, _, whats)) = self.at(file, offset, Request::Definition) else {
            return Vec::new();
        };
        let mut out: Vec<Target> = Vec::new();
        for w in &whats {
            for t in self.targets(w) {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }

    /// The innermost place at `offset` that answers `request`: its span and what it is (several
    /// facts may share one place: two ServiceAccounts' ARNs rendered from one `accountId`).
    /// Falls back to an ARN written in the text.
    fn at(
        &self,
        file: &str,
        offset: usize,
        request: Request,
    ) -> Option<(FileId, Range<usize>, Vec<What>)> {
        let id = *self.by_display.get(file)?;
        let text_len = self
            .files
            .get(id.0 as usize)?
            .text
            .as_ref()
            .map(String::len);
        if let Some(len) = text_len {
            if offset > len {
                return None;
            }
        }
        if let Some(anchors) = self.anchors.get(id.0 as usize).filter(|a| !a.is_empty()) {
            let resolved = self.resolved_anchors(id, anchors);
            let mut best: Option<&Range<usize>> = None;
            for (span, i) in resolved.iter() {
                if span.start > offset {
                    break; // sorted by start
                }
                if offset > span.end || !answers(&anchors[*i].what, request) {
                    continue;
                }
                if best.is_none_or(|b| span.len() < b.len()) {
                    best = Some(span);
                }
            }
            if let Some(best) = best {
                let whats = resolved
                    .iter()
                    .filter(|(s, i)| s == best && answers(&anchors[*i].what, request))
                    .map(|(_, i)| anchors[*i].what.clone())
                    .collect();
                return Some((id, best.clone(), whats));
            }
        }
        let text = self.files[id.0 as usize].text.as_deref()?;
        let (span, name) = arn_at(text, offset)?;
        Some((id, span, vec![What::ArnText(name)]))
    }

    /// The spans of a file's anchors, sorted by start (resolved on first use, then cached).
    fn resolved_anchors(&self, id: FileId, anchors: &[Anchor]) -> Arc<Resolved> {
        if let Some(r) = self.resolved.lock().ok().and_then(|m| m.get(&id).cloned()) {
            return r;
        }
        let mut out: Resolved = anchors
            .iter()
            .enumerate()
            .filter_map(|(i, a)| Some((self.span_of(self.location_of(a)?, true)?, i)))
            .collect();
        out.sort_by_key(|(s, i)| (s.start, s.end, *i));
        let out = Arc::new(out);
        if let Ok(mut m) = self.resolved.lock() {
            m.insert(id, out.clone());
        }
        out
    }

    /// Where an anchor's place is written (kept by its fact).
    fn location_of<'a>(&'a self, a: &'a Anchor) -> Option<&'a Location> {
        match &a.what {
            What::RoleArn(i) => self.accounts.get(*i)?.role_location.as_ref(),
            What::Account(i) => Some(&self.accounts.get(*i)?.location),
            What::RoleDef(i) => Some(&self.roles.get(*i)?.location),
            What::TenantId(i) => Some(&self.tenants.get(*i)?.id_location),
            What::InfraTenant(i) => Some(&self.infra_tenants.get(*i)?.location),
            // The document's root: the file's tenant release as a whole.
            What::TenantDoc(i) => Some(&self.tenants.get(*i)?.doc_location),
            What::ArnText(_) | What::EnvId(_) | What::AppPath(_) => a.own.as_ref(),
        }
    }

    /// The span tree of a kept file, parsed on first use.
    fn span_index(&self, id: FileId) -> Option<Arc<SpanIndex>> {
        if let Some(s) = self.spans.lock().ok().and_then(|m| m.get(&id).cloned()) {
            return Some(s);
        }
        let info = self.files.get(id.0 as usize)?;
        let text = info.text.as_deref()?;
        let index = Arc::new(SpanIndex::new(&gitops_lint_syntax::parse_text_of(
            info.kind, text,
        )));
        if let Ok(mut m) = self.spans.lock() {
            m.insert(id, index.clone());
        }
        Some(index)
    }

    /// The bytes of a location. `exact`: a node path must be found whole (an anchor must never
    /// stand for an ancestor); else the nearest ancestor will do (a target).
    fn span_of(&self, location: &Location, exact: bool) -> Option<Range<usize>> {
        let len = |f: FileId| {
            self.files
                .get(f.0 as usize)
                .and_then(|i| i.text.as_ref())
                .map(String::len)
        };
        match location {
            Location::Span(s) => {
                let end = len(s.file).map_or(s.end, |l| s.end.min(l));
                Some(s.start.min(end)..end)
            }
            Location::File(_) => Some(0..0),
            Location::Path {
                file,
                doc,
                path,
                key,
            } => {
                let l = self.span_index(*file)?.locate(*doc, path)?;
                if exact && !l.exact {
                    return None;
                }
                let (start, end) = match (l.key, *key) {
                    (Some(k), true) => k,
                    _ => (l.start, l.end),
                };
                Some(start..end.max(start))
            }
        }
    }

    /// A location as a jump target: the first line of the node.
    fn target(&self, location: &Location) -> Option<Target> {
        let file = location.file();
        let info = self.files.get(file.0 as usize)?;
        let mut span = self.span_of(location, false)?;
        if let Some(text) = info.text.as_deref() {
            if let Some(n) = text.get(span.start..).and_then(|t| t.find('\n')) {
                span.end = span.end.min(span.start + n);
            }
        }
        Some(Target {
            file: info.display.clone(),
            span,
        })
    }

    /// `file:line` of a location, for hover text.
    fn place(&self, location: &Location) -> String {
        let file = location.file();
        let Some(info) = self.files.get(file.0 as usize) else {
            return String::new();
        };
        let line = match (self.span_of(location, false), info.text.as_deref()) {
            (Some(span), Some(text)) => {
                let upto = text.as_bytes().get(..span.start).unwrap_or(text.as_bytes());
                Some(upto.iter().filter(|b| **b == b'\n').count() + 1)
            }
            _ => None,
        };
        match line {
            Some(l) => format!("`{}:{l}`", info.display),
            None => format!("`{}`", info.display),
        }
    }

    fn display(&self, file: FileId) -> &str {
        self.files
            .get(file.0 as usize)
            .map_or("", |f| f.display.as_str())
    }

    /// The hover text of one fact.
    fn describe(&self, what: &What) -> Option<String> {
        match what {
            What::RoleArn(i) => {
                let sa = self.accounts.get(*i)?;
                let role = sa.role.as_deref()?;
                Some(format!(
                    "{}{}",
                    self.describe_role(role),
                    self.trust_note(sa, role)
                ))
            }
            What::ArnText(name) => Some(self.describe_role(name)),
            What::Account(i) => {
                let sa = self.accounts.get(*i)?;
                let role = sa.role.as_deref()?;
                let ns = sa.namespace.as_deref().unwrap_or("?");
                let from = sa
                    .release
                    .as_deref()
                    .map(|r| format!(", rendered for release `{r}`"))
                    .unwrap_or_default();
                Some(format!(
                    "**ServiceAccount `{ns}:{}`**{from}\n\n{}{}",
                    sa.name,
                    self.describe_role(role),
                    self.trust_note(sa, role)
                ))
            }
            What::RoleDef(i) => {
                let role = self.roles.get(*i)?;
                Some(self.describe_role(&role.name))
            }
            What::TenantId(i) => {
                let t = self.tenants.get(*i)?;
                Some(self.describe_tenant(&t.id, Some(t)))
            }
            What::InfraTenant(i) => {
                let t = self.infra_tenants.get(*i)?;
                Some(self.describe_tenant(&t.id, None))
            }
            What::EnvId(id) => Some(self.describe_pool(id)),
            What::AppPath(t) => {
                let kind = if t.folder { "folder" } else { "file" };
                Some(match &t.open {
                    Some(open) => format!(
                        "**`{}: {}`**: the {kind} `{}`{}",
                        t.field,
                        t.written,
                        t.rel,
                        if t.folder {
                            format!(" (opens `{open}`)")
                        } else {
                            String::new()
                        }
                    ),
                    None => format!(
                        "**`{}: {}`**: no {kind} `{}` in the linted repository",
                        t.field, t.written, t.rel
                    ),
                })
            }
            What::TenantDoc(_) => None,
        }
    }

    fn describe_role(&self, name: &str) -> String {
        let mut out = format!("**IAM role `{name}`**");
        let roles = self.roles_by_name.get(name).map_or(&[][..], Vec::as_slice);
        if roles.is_empty() {
            out.push_str(if self.has_terraform {
                "\n\nNo Terraform in the linted repositories creates this role."
            } else {
                "\n\nNo Terraform was loaded: lint the infra-repo too to see the role."
            });
        }
        for i in roles.iter().take(SHOWN) {
            let r = &self.roles[*i];
            out.push_str(&format!(
                "\n\nCreated by `{}` at {}",
                r.address,
                self.place(&r.location)
            ));
            if r.instance_location.file() != r.location.file() {
                out.push_str(&format!(
                    " (instantiated at {})",
                    self.place(&r.instance_location)
                ));
            }
            out.push_str("\n\nTrusted subjects: ");
            match &r.subjects {
                None => out.push_str("not known statically"),
                Some(s) if s.is_empty() => out.push_str("none (no ServiceAccount)"),
                Some(s) => out.push_str(&list(s.iter().map(|s| format!("`{s}`")), s.len())),
            }
            if r.pod_identity {
                out.push_str("; also EKS Pod Identity");
            }
        }
        if roles.len() > SHOWN {
            out.push_str(&format!(
                "\n\n(and {} more roles of this name)",
                roles.len() - SHOWN
            ));
        }
        let users = self
            .accounts_by_role
            .get(name)
            .map_or(&[][..], Vec::as_slice);
        out.push_str("\n\nUsed by ServiceAccounts: ");
        if users.is_empty() {
            out.push_str("none in the linted repositories");
        } else {
            out.push_str(&list(
                users.iter().take(SHOWN).map(|i| {
                    let sa = &self.accounts[*i];
                    format!(
                        "`{}:{}` ({})",
                        sa.namespace.as_deref().unwrap_or("?"),
                        sa.name,
                        self.place(&sa.location)
                    )
                }),
                users.len(),
            ));
        }
        out
    }

    /// The join the editor is for: a ServiceAccount whose role's trust (known, from Terraform)
    /// admits it under no subject, so `AssumeRoleWithWebIdentity` will be denied (the
    /// `irsa/trust-mismatch` rule reports it; the hover shows it where the ARN is written).
    fn trust_note(&self, sa: &AccountInfo, role: &str) -> String {
        let Some(ns) = sa.namespace.as_deref() else {
            return String::new();
        };
        let roles = self.roles_by_name.get(role).map_or(&[][..], Vec::as_slice);
        let known: Vec<&Vec<gitops_lint_model::infra::Subject>> = roles
            .iter()
            .filter_map(|i| self.roles[*i].subjects.as_ref())
            .collect();
        // Unknown trust, or any role of this name admitting it: nothing to say.
        if known.is_empty()
            || known.len() < roles.len()
            || known
                .iter()
                .any(|s| s.iter().any(|s| s.admits(ns, &sa.name)))
        {
            return String::new();
        }
        format!(
            "\n\n**The role's trust does not admit `{ns}:{}`**: its pods cannot assume it.",
            sa.name
        )
    }

    fn describe_tenant(&self, id: &str, apps_side: Option<&TenantInfo>) -> String {
        let mut out = format!("**Tenant `{id}`**");
        if let Some(t) = apps_side {
            out.push_str(&format!(" (tier `{}`)", t.tier));
        }
        let infra = self
            .infra_tenants_by_id
            .get(id)
            .map_or(&[][..], Vec::as_slice);
        if infra.is_empty() {
            out.push_str("\n\ntenants.json: not listed in the infra-repo");
        }
        for i in infra.iter().take(SHOWN) {
            let t = &self.infra_tenants[*i];
            out.push_str(&format!(
                "\n\ntenants.json: {}, tier `{}`",
                self.place(&t.location),
                t.tier.as_deref().unwrap_or("?")
            ));
        }
        let apps = self.tenants_by_id.get(id).map_or(&[][..], Vec::as_slice);
        if apps_side.is_none() {
            if apps.is_empty() {
                out.push_str("\n\nApps-repo: no tenant release with this `tenantId`");
            }
            for i in apps.iter().take(SHOWN) {
                let t = &self.tenants[*i];
                out.push_str(&format!(
                    "\n\nApps-repo: {}, tier `{}`",
                    self.place(&t.id_location),
                    t.tier
                ));
            }
        }
        if let Some(template) = apps_side
            .and_then(|t| self.templates_by_tier.get(&t.tier))
            .and_then(|i| self.tenants.get(*i))
        {
            out.push_str(&format!(
                "\n\nTier template: `{}`",
                self.display(template.file)
            ));
        }
        out
    }

    fn describe_pool(&self, id: &str) -> String {
        let pools = self.pools_by_id.get(id).map_or(&[][..], Vec::as_slice);
        if pools.is_empty() {
            return format!(
                "**Pool `{id}`**\n\nNo pool release serves `{id}` in the linted repositories."
            );
        }
        let mut out = format!("**Pool `{id}`**");
        for i in pools.iter().take(SHOWN) {
            let p = &self.pools[*i];
            out.push_str(&format!(
                "\n\nRelease `{}` at {}",
                p.name.as_deref().unwrap_or(&p.id),
                self.place(&self.pool_location(p))
            ));
        }
        out
    }

    fn pool_location(&self, p: &PoolInfo) -> Location {
        Location::value(
            p.file,
            p.doc,
            vec![PathSeg::Key("metadata".into()), PathSeg::Key("name".into())],
        )
    }

    /// Where one fact's definition is.
    fn targets(&self, what: &What) -> Vec<Target> {
        let mut out = Vec::new();
        match what {
            What::ArnText(name) => self.role_targets(name, &mut out),
            What::RoleArn(i) | What::Account(i) => {
                if let Some(role) = self.accounts.get(*i).and_then(|a| a.role.as_deref()) {
                    self.role_targets(role, &mut out);
                }
            }
            What::RoleDef(_) => {}
            What::TenantId(i) => {
                if let Some(t) = self.tenants.get(*i) {
                    for j in self.infra_tenants_by_id.get(&t.id).into_iter().flatten() {
                        out.extend(self.target(&self.infra_tenants[*j].location));
                    }
                }
            }
            What::InfraTenant(i) => {
                if let Some(t) = self.infra_tenants.get(*i) {
                    for j in self.tenants_by_id.get(&t.id).into_iter().flatten() {
                        out.extend(self.target(&self.tenants[*j].id_location));
                    }
                }
            }
            What::EnvId(id) => {
                for i in self.pools_by_id.get(id).into_iter().flatten() {
                    out.extend(self.target(&self.pool_location(&self.pools[*i])));
                }
            }
            What::AppPath(t) => {
                if let Some(open) = &t.open {
                    out.push(Target {
                        file: open.clone(),
                        span: 0..0,
                    });
                }
            }
            What::TenantDoc(i) => {
                if let Some(template) = self
                    .tenants
                    .get(*i)
                    .and_then(|t| self.templates_by_tier.get(&t.tier))
                    .and_then(|j| self.tenants.get(*j))
                {
                    out.extend(self.target(&Location::value(
                        template.file,
                        template.doc,
                        Vec::new(),
                    )));
                }
            }
        }
        out
    }

    /// A role's definition: where Terraform writes its name, then the module block that
    /// instantiates it when that is elsewhere.
    fn role_targets(&self, name: &str, out: &mut Vec<Target>) {
        for i in self.roles_by_name.get(name).into_iter().flatten() {
            let r = &self.roles[*i];
            out.extend(self.target(&r.location));
            if r.instance_location.file() != r.location.file() {
                out.extend(self.target(&r.instance_location));
            }
        }
    }
}

/// `a, b, c` (and N more).
fn list(items: impl Iterator<Item = String>, total: usize) -> String {
    let shown: Vec<String> = items.take(SHOWN).collect();
    let mut out = shown.join(", ");
    if total > shown.len() {
        out.push_str(&format!(" and {} more", total - shown.len()));
    }
    out
}

/// An IAM role ARN written in the text around `offset`: its span and role name.
fn arn_at(text: &str, offset: usize) -> Option<(Range<usize>, String)> {
    let bytes = text.as_bytes();
    if offset > bytes.len() {
        return None;
    }
    // ARN characters are ASCII, so both ends land on character boundaries.
    let arn_char = |b: u8| b.is_ascii_alphanumeric() || b"-_:/.+=,@".contains(&b);
    let mut start = offset;
    while start > 0 && arn_char(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = offset;
    while end < bytes.len() && arn_char(bytes[end]) {
        end += 1;
    }
    let token = text.get(start..end)?;
    let name = role_name_of_arn(token)?;
    Some((start..end, name.to_string()))
}

// The language server answers requests from any thread while the next index is built.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<NavIndex>();
};

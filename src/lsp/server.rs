//! The server loop: the handshake, document sync, debounced re-linting, publishing, and the
//! requests (hover, go-to-definition, code actions).
//!
//! One thread owns the state. Edits only mark the state dirty and set a deadline
//! ([`Settings::debounce`] after the last one); when the deadline passes with no message the
//! whole system is linted once. A request (hover, code action) that arrives while edits are
//! pending lints first, so it always answers about the text the editor shows.

use super::documents::{path_to_uri, uri_to_path, Documents};
use super::{actions, convert, hover};
use crate::{find_config, lint_overlaid, Options};
use gitops_lint_config::Config;
use gitops_lint_core::finding::Finding;
use gitops_lint_core::source::FileId;
use gitops_lint_core::RuleId;
use gitops_lint_gate::suppress;
use gitops_lint_model::load::ParseCache;
use gitops_lint_model::World;
use gitops_lint_nav::NavIndex;
use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{CodeActionRequest, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    CodeActionOrCommand, CodeActionParams, CodeActionProviderCapability, Diagnostic,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, MarkupContent, MarkupKind, MessageType, OneOf,
    PublishDiagnosticsParams, ServerCapabilities, ShowMessageParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Time after the last edit before linting: long enough that typing a word lints once, short
/// enough to feel immediate (the budget is 300 ms from the pause to the diagnostics).
const DEBOUNCE: Duration = Duration::from_millis(120);

/// What the client configured at `initialize`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Repository roots: the workspace folders, then `initializationOptions.roots`.
    pub roots: Vec<PathBuf>,
    /// `initializationOptions.config`, else the CLI's `--config`, else discovered as the
    /// CLI discovers it from the first root.
    pub config: Option<PathBuf>,
    /// Delay after the last edit (`initializationOptions.debounceMs`).
    pub debounce: Duration,
}

/// The last lint: the World it read and its findings after suppressions, resolved.
struct Snapshot {
    world: World,
    config: Config,
    findings: Vec<Finding>,
    /// World files by path on disk.
    files: HashMap<PathBuf, FileId>,
    /// World files by displayed path (how the navigation index names them).
    by_display: HashMap<String, FileId>,
    /// The joins for hover and go-to-definition, built on the first such request after a
    /// lint (typing alone never pays for it).
    nav: std::cell::OnceCell<NavIndex>,
}

impl Snapshot {
    fn nav(&self) -> &NavIndex {
        self.nav.get_or_init(|| NavIndex::build(&self.world))
    }
}

/// Everything the loop owns.
struct Server {
    connection: Connection,
    settings: Settings,
    documents: Documents,
    snapshot: Option<Snapshot>,
    /// Diagnostics last published, per URI (only files with some), to publish changes only
    /// and to clear a file whose problems went away.
    published: BTreeMap<String, (lsp_types::Uri, Vec<Diagnostic>)>,
    /// When to lint: set by an edit, cleared by a lint.
    deadline: Option<Instant>,
    /// Parses of unchanged files, reused from one lint to the next.
    cache: ParseCache,
}

/// Runs the language server on stdin/stdout until the client says `exit`; the exit code is 0
/// after an orderly shutdown, 1 otherwise (the protocol's rule for `exit` without `shutdown`).
pub fn run(config: Option<PathBuf>) -> u8 {
    let (connection, io_threads) = Connection::stdio();
    let code = match serve(connection, config) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("gitops-lint lsp: {e}");
            1
        }
    };
    // The writer thread flushes what is queued; a reader blocked on a closed stdin ends too.
    let _ = io_threads.join();
    code
}

fn serve(
    connection: Connection,
    cli_config: Option<PathBuf>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    };
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams = serde_json::from_value(params)?;
    let settings = settings(&params, cli_config);
    connection.initialize_finish(
        id,
        serde_json::json!({
            "capabilities": capabilities,
            "serverInfo": {"name": "gitops-lint", "version": env!("CARGO_PKG_VERSION")},
        }),
    )?;
    let mut server = Server {
        connection,
        settings,
        documents: Documents::default(),
        snapshot: None,
        published: BTreeMap::new(),
        // The first lint runs as soon as the loop starts: diagnostics for the whole workspace.
        deadline: Some(Instant::now()),
        cache: ParseCache::default(),
    };
    server.main_loop()
}

/// The roots and options from `initialize`.
fn settings(params: &InitializeParams, cli_config: Option<PathBuf>) -> Settings {
    let mut roots: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| uri_to_path(&f.uri))
        .collect();
    #[allow(deprecated)] // `rootUri` is what clients without workspace folders still send.
    if roots.is_empty() {
        roots.extend(params.root_uri.as_ref().and_then(uri_to_path));
    }
    let options = params.initialization_options.as_ref();
    let base = roots.first().cloned().unwrap_or_else(|| PathBuf::from("/"));
    // Relative paths in the options are relative to the first workspace folder.
    let resolve = |p: &str| -> PathBuf {
        let p = Path::new(p);
        normalize(&if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        })
    };
    let extra = options
        .and_then(|o| o.get("roots"))
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str())
        .map(&resolve);
    for root in extra {
        if !roots.contains(&root) {
            roots.push(root);
        }
    }
    let config = options
        .and_then(|o| o.get("config"))
        .and_then(|c| c.as_str())
        .map(&resolve)
        .or(cli_config);
    let debounce = options
        .and_then(|o| o.get("debounceMs"))
        .and_then(serde_json::Value::as_u64)
        .map_or(DEBOUNCE, Duration::from_millis);
    Settings {
        roots,
        config,
        debounce,
    }
}

/// `a/b/../c` as `a/c`, lexically: file URIs from the editor never hold `..`, so a root must
/// not either for its files' paths to compare equal to theirs (not `canonicalize`, which would
/// also resolve links the editor's paths keep).
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
    }
    out
}

type Fallible<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

impl Server {
    fn main_loop(&mut self) -> Fallible {
        loop {
            let message = match self.deadline {
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match self.connection.receiver.recv_timeout(wait) {
                        Ok(m) => m,
                        Err(e) if e.is_timeout() => {
                            self.relint()?;
                            continue;
                        }
                        Err(_) => return Ok(()),
                    }
                }
                None => match self.connection.receiver.recv() {
                    Ok(m) => m,
                    Err(_) => return Ok(()),
                },
            };
            match message {
                Message::Request(request) => {
                    if self.connection.handle_shutdown(&request)? {
                        return Ok(());
                    }
                    self.request(request)?;
                }
                Message::Notification(n) if n.method == "exit" => {
                    return Err("exit without shutdown".into());
                }
                Message::Notification(n) => self.notification(n)?,
                Message::Response(_) => {}
            }
        }
    }

    fn notification(&mut self, n: Notification) -> Fallible {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let p: DidOpenTextDocumentParams = serde_json::from_value(n.params)?;
                let d = p.text_document;
                if self.documents.set(d.uri, d.version, d.text).is_some() {
                    self.schedule();
                }
            }
            DidChangeTextDocument::METHOD => {
                let p: DidChangeTextDocumentParams = serde_json::from_value(n.params)?;
                // Full sync: the last change holds the whole text.
                if let Some(change) = p.content_changes.into_iter().last() {
                    let d = p.text_document;
                    if self.documents.set(d.uri, d.version, change.text).is_some() {
                        self.schedule();
                    }
                }
            }
            DidCloseTextDocument::METHOD => {
                let p: DidCloseTextDocumentParams = serde_json::from_value(n.params)?;
                if self.documents.close(&p.text_document.uri).is_some() {
                    self.schedule();
                }
            }
            // A save or a change on disk (a checkout, a file the editor does not hold).
            DidSaveTextDocument::METHOD | DidChangeWatchedFiles::METHOD => self.schedule(),
            _ => {}
        }
        Ok(())
    }

    /// Lints after the debounce delay, counted from now (each edit pushes it back).
    fn schedule(&mut self) {
        self.deadline = Some(Instant::now() + self.settings.debounce);
    }

    fn request(&mut self, request: Request) -> Fallible {
        // Answer about the text the editor shows: pending edits are linted first.
        if self.deadline.is_some() {
            self.relint()?;
        }
        let response = match request.method.as_str() {
            HoverRequest::METHOD => {
                let (id, params) = request.extract::<HoverParams>(HoverRequest::METHOD)?;
                Response::new_ok(id, self.hover(&params))
            }
            GotoDefinition::METHOD => {
                let (id, params) =
                    request.extract::<GotoDefinitionParams>(GotoDefinition::METHOD)?;
                Response::new_ok(id, self.definition(&params))
            }
            CodeActionRequest::METHOD => {
                let (id, params) =
                    request.extract::<CodeActionParams>(CodeActionRequest::METHOD)?;
                Response::new_ok(id, self.code_actions(&params))
            }
            _ => Response::new_err(
                request.id,
                lsp_server::ErrorCode::MethodNotFound as i32,
                format!("gitops-lint does not answer `{}`", request.method),
            ),
        };
        self.connection.sender.send(response.into())?;
        Ok(())
    }

    /// The World file and its text for a URI, from the last lint.
    fn file_of(&self, uri: &lsp_types::Uri) -> Option<(&Snapshot, FileId)> {
        let snapshot = self.snapshot.as_ref()?;
        let id = *snapshot.files.get(&uri_to_path(uri)?)?;
        Some((snapshot, id))
    }

    /// What the value under the cursor joins to (`gitops_lint_nav`), then the rule page of a
    /// diagnostic there; the range is the joined value's, else the diagnostic's.
    fn hover(&self, params: &HoverParams) -> Option<Hover> {
        let at = &params.text_document_position_params;
        let (snapshot, id) = self.file_of(&at.text_document.uri)?;
        let file = snapshot.world.files.get(id.0 as usize)?;
        let offset = convert::offset(&file.text, at.position);
        let joined = snapshot.nav().hover(&file.display, offset);
        let rule = hover::rule_hover(&snapshot.findings, id, offset);
        let (markdown, span) = match (joined, rule) {
            (Some(j), Some((r, _))) => (format!("{}\n\n---\n\n{r}", j.markdown), j.span),
            (Some(j), None) => (j.markdown, j.span),
            (None, Some(r)) => r,
            (None, None) => return None,
        };
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: markdown,
            }),
            range: Some(convert::range(file, span.start, span.end)),
        })
    }

    /// Where the value under the cursor is defined (a role ARN's Terraform role, an `envId`'s
    /// pool release, an Application path's folder, a tenant file's tier template).
    fn definition(&self, params: &GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
        let at = &params.text_document_position_params;
        let (snapshot, id) = self.file_of(&at.text_document.uri)?;
        let file = snapshot.world.files.get(id.0 as usize)?;
        let offset = convert::offset(&file.text, at.position);
        let targets: Vec<lsp_types::Location> = snapshot
            .nav()
            .definition(&file.display, offset)
            .into_iter()
            .filter_map(|t| {
                let target = *snapshot.by_display.get(&t.file)?;
                let f = snapshot.world.files.get(target.0 as usize)?;
                let path = convert::file_path(&snapshot.world, target)?;
                Some(lsp_types::Location::new(
                    path_to_uri(&path)?,
                    convert::range(f, t.span.start, t.span.end),
                ))
            })
            .collect();
        (!targets.is_empty()).then_some(GotoDefinitionResponse::Array(targets))
    }

    fn code_actions(&self, params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
        let uri = &params.text_document.uri;
        let Some((snapshot, id)) = self.file_of(uri) else {
            return Vec::new();
        };
        let Some(file) = snapshot.world.files.get(id.0 as usize) else {
            return Vec::new();
        };
        let range = (
            convert::offset(&file.text, params.range.start),
            convert::offset(&file.text, params.range.end),
        );
        let diagnostics = &params.context.diagnostics;
        let mut out: Vec<CodeActionOrCommand> = Vec::new();
        out.extend(
            actions::fix_action(&snapshot.world, &snapshot.config, id, uri, diagnostics)
                .map(CodeActionOrCommand::CodeAction),
        );
        out.extend(
            actions::ignore_actions(
                &snapshot.world,
                &snapshot.findings,
                id,
                uri,
                range,
                diagnostics,
            )
            .into_iter()
            .map(CodeActionOrCommand::CodeAction),
        );
        out
    }

    /// Lints the whole system with the open buffers over the disk, and publishes what changed.
    fn relint(&mut self) -> Fallible {
        self.deadline = None;
        let started = Instant::now();
        let snapshot = match lint_now(&self.settings, &self.documents, &self.cache) {
            Ok(s) => s,
            Err(message) => {
                // The last good diagnostics stay; the user is told why nothing updates.
                let params = ShowMessageParams {
                    typ: MessageType::ERROR,
                    message: format!("gitops-lint: {message}"),
                };
                self.connection
                    .sender
                    .send(Notification::new(ShowMessage::METHOD.to_string(), params).into())?;
                return Ok(());
            }
        };
        let linted = started.elapsed();
        self.publish(&snapshot)?;
        eprintln!(
            "gitops-lint lsp: linted {} files in {} ms, published in {} ms",
            snapshot.world.files.len(),
            linted.as_millis(),
            (started.elapsed() - linted).as_millis()
        );
        self.snapshot = Some(snapshot);
        Ok(())
    }

    fn publish(&mut self, snapshot: &Snapshot) -> Fallible {
        let mut now: BTreeMap<String, (lsp_types::Uri, Vec<Diagnostic>)> = BTreeMap::new();
        for finding in &snapshot.findings {
            if let Some((uri, d)) = convert::diagnostic(&snapshot.world, finding) {
                now.entry(uri.as_str().to_string())
                    .or_insert_with(|| (uri, Vec::new()))
                    .1
                    .push(d);
            }
        }
        let gone: Vec<(lsp_types::Uri, Vec<Diagnostic>)> = self
            .published
            .iter()
            .filter(|(key, _)| !now.contains_key(*key))
            .map(|(_, (uri, _))| (uri.clone(), Vec::new()))
            .collect();
        let changed: Vec<(lsp_types::Uri, Vec<Diagnostic>)> = now
            .iter()
            .filter(|(key, (_, ds))| self.published.get(*key).is_none_or(|(_, old)| old != ds))
            .map(|(_, v)| v.clone())
            .collect();
        for (uri, diagnostics) in gone.into_iter().chain(changed) {
            let version = uri_to_path(&uri)
                .and_then(|p| self.documents.get(&p))
                .map(|d| d.version);
            let params = PublishDiagnosticsParams {
                uri,
                diagnostics,
                version,
            };
            self.connection
                .sender
                .send(Notification::new(PublishDiagnostics::METHOD.to_string(), params).into())?;
        }
        self.published = now;
        Ok(())
    }
}

/// One lint of the roots with the open documents overlaid, suppressions applied (as the CLI's
/// gate applies them, so an inline `ignore` takes effect as soon as it is typed).
fn lint_now(
    settings: &Settings,
    documents: &Documents,
    cache: &ParseCache,
) -> Result<Snapshot, String> {
    if settings.roots.is_empty() {
        return Err("no workspace folder: open a folder (a repository root)".to_string());
    }
    let config =
        find_config(settings.config.as_ref(), &settings.roots).map_err(|e| e.to_string())?;
    let options = Options {
        paths: settings.roots.clone(),
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    let outcome = lint_overlaid(&options, &config, &documents.overlay(), Some(cache))
        .map_err(|e| e.to_string())?;
    // Each stage's time goes to the client's log (stderr), for anyone chasing the budget.
    let stages: Vec<String> = outcome
        .timings
        .iter()
        .map(|(name, t)| format!("{name} {} ms", t.as_millis()))
        .collect();
    eprintln!("gitops-lint lsp: {}", stages.join(", "));
    let mut world = outcome.world;
    let policy_rules = outcome.policy_rules;
    let known = |id: &str| RuleId::known(id).is_some() || policy_rules.contains(id);
    let findings = suppress::apply(
        &mut world,
        &config,
        outcome.findings,
        &suppress::today(),
        &known,
    );
    let findings = gitops_lint_report::resolve(&world, findings);
    let files = world
        .files
        .iter()
        .filter_map(|f| Some((convert::file_path(&world, f.id)?, f.id)))
        .collect();
    let by_display = world
        .files
        .iter()
        .map(|f| (f.display.clone(), f.id))
        .collect();
    Ok(Snapshot {
        world,
        config,
        findings,
        files,
        by_display,
        nav: std::cell::OnceCell::new(),
    })
}

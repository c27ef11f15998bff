//! The language server: the protocol's life cycle (initialize, shutdown, exit), the open
//! documents, the workspace's model, re-checking it after edits and publishing the
//! diagnostics of every model file, and the requests answered from the last check.
//!
//! The model is what `cmflow check ROOTS` loads for the workspace folders the client
//! gives, with the text of open documents in place of the files on disk. A check parses
//! only the files whose text changed since the last one ([`crate::load::load_cached`]);
//! flows, verdicts and checks are then rebuilt by [`crate::check::recheck_loaded`], the
//! function `check` runs taking over from the last check the stages an edit did not
//! change, so the editor shows what `check` prints.
//!
//! Edits are coalesced: a change marks the model stale, and it is checked once the
//! messages already waiting have been applied, or before answering a request that reads
//! it. Everything runs on one thread; a second thread only reads the input.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidChangeWorkspaceFolders, DidCloseTextDocument,
    DidOpenTextDocument, DidSaveTextDocument, Exit, Initialized, LogMessage, Notification as _,
    PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{
    CodeActionRequest, Completion, GotoDefinition, HoverRequest, Initialize, References,
    Request as _, Shutdown,
};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, CompletionItem, CompletionItemKind, CompletionOptions,
    CompletionParams, CompletionResponse, DidChangeTextDocumentParams,
    DidChangeWorkspaceFoldersParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, InitializeResult, Location, LogMessageParams,
    MarkupContent, MarkupKind, MessageType, OneOf, PositionEncodingKind, PublishDiagnosticsParams,
    ReferenceParams, ServerCapabilities, ServerInfo, ShowMessageParams, TextDocumentPositionParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Url, WorkspaceFoldersServerCapabilities,
    WorkspaceServerCapabilities,
};

use super::analysis::{self, CompletionKind, Snapshot};
use super::convert::{self, Locator};
use super::position::{Encoding, LineIndex};
use super::transport::{self, Incoming};
use crate::check::{Checked, Timings, recheck_loaded};
use crate::engine::{Phase, required_flows_bounded};
use crate::load::{InputText, ParseCache, discover, display_path, load_cached};
use crate::model::SourceId;

/// Serves the protocol on standard input and output until `exit` or the end of input,
/// reporting the diagnostics of `phases` (as `check --phase`).
/// `Ok(true)` when the client asked for a shutdown before leaving (exit code 0).
pub fn run_stdio(phases: Vec<Phase>) -> io::Result<bool> {
    let stdout = io::stdout();
    serve(io::BufReader::new(io::stdin()), stdout.lock(), phases)
}

/// Serves the protocol on `input` and `output`; see [`run_stdio`].
pub fn serve(
    mut input: impl BufRead + Send + 'static,
    output: impl Write,
    phases: Vec<Phase>,
) -> io::Result<bool> {
    let (sender, receiver) = mpsc::channel();
    // Not joined: a client that never closes our input must not keep us alive.
    std::thread::Builder::new()
        .name("cmflow-lsp-reader".into())
        .spawn(move || {
            loop {
                let next = transport::read(&mut input);
                let stop = !matches!(next, Ok(Some(_)));
                if sender.send(next).is_err() || stop {
                    break;
                }
            }
        })?;
    let mut server = Server::new(output, phases);
    loop {
        let Ok(next) = receiver.recv() else {
            return Ok(false);
        };
        if let Some(done) = server.take(next)? {
            return Ok(done);
        }
        // Coalesce: apply what is already waiting before checking.
        while let Ok(next) = receiver.try_recv() {
            if let Some(done) = server.take(next)? {
                return Ok(done);
            }
        }
        if server.stale {
            server.recheck()?;
        }
    }
}

/// An open document: the client's text, which replaces the file's on disk.
struct Document {
    uri: Url,
    version: i32,
    text: String,
}

/// The last check and where its sources are.
struct Current {
    checked: Checked,
    /// By source id; `None` for built-in sources.
    uris: Vec<Option<Url>>,
    /// The model's KDL files (the first sources, by id), by file key.
    ids: HashMap<PathBuf, SourceId>,
    /// Built at the first hover, definition or references of this model, then kept
    /// (50 ms on the largest generated model: too long to rebuild per request).
    symbols: std::cell::OnceCell<analysis::Symbols>,
    flow_index: std::cell::OnceCell<analysis::FlowIndex>,
}

impl Current {
    fn symbols(&self) -> &analysis::Symbols {
        self.symbols
            .get_or_init(|| analysis::Symbols::new(&self.checked.model))
    }

    fn flow_index(&self) -> &analysis::FlowIndex {
        self.flow_index
            .get_or_init(|| analysis::FlowIndex::new(&self.checked.model, &self.checked.flows))
    }
}

struct Server<W: Write> {
    out: W,
    initialized: bool,
    shutdown: bool,
    encoding: Encoding,
    roots: Vec<PathBuf>,
    documents: HashMap<PathBuf, Document>,
    cache: ParseCache,
    current: Option<Current>,
    /// Whether an edit happened since the last check.
    stale: bool,
    /// Files whose last published diagnostics were not empty.
    published: HashSet<Url>,
    phases: Vec<Phase>,
}

impl<W: Write> Server<W> {
    fn new(out: W, phases: Vec<Phase>) -> Self {
        Self {
            out,
            initialized: false,
            shutdown: false,
            encoding: Encoding::Utf16,
            roots: Vec::new(),
            documents: HashMap::new(),
            cache: ParseCache::default(),
            current: None,
            stale: false,
            published: HashSet::new(),
            phases,
        }
    }

    /// Handles one frame; `Some(shutdown received)` when the server must stop.
    fn take(&mut self, next: io::Result<Option<Incoming>>) -> io::Result<Option<bool>> {
        match next {
            Ok(Some(Incoming::Message(message))) => self.handle(message),
            Ok(Some(Incoming::Malformed { code, id, message })) => {
                transport::write_malformed(&mut self.out, code, id, &message)?;
                Ok(None)
            }
            Ok(None) => Ok(Some(false)),
            Err(e) => {
                eprintln!("cmflow lsp: the input stream is broken: {e}");
                Ok(Some(false))
            }
        }
    }

    fn handle(&mut self, message: Message) -> io::Result<Option<bool>> {
        match message {
            Message::Request(request) => {
                self.request(request)?;
                Ok(None)
            }
            Message::Notification(n) if n.method == Exit::METHOD => Ok(Some(self.shutdown)),
            Message::Notification(n) => {
                if self.initialized && !self.shutdown {
                    self.notification(n)?;
                }
                Ok(None)
            }
            // The server sends no request, so answers are not expected: ignored.
            Message::Response(_) => Ok(None),
        }
    }

    fn request(&mut self, request: Request) -> io::Result<()> {
        let id = request.id.clone();
        if request.method == Initialize::METHOD {
            let response = if self.initialized {
                error(
                    id,
                    ErrorCode::InvalidRequest,
                    "initialize was already received",
                )
            } else {
                match serde_json::from_value::<InitializeParams>(request.params) {
                    Ok(params) => Response::new_ok(id, self.initialize(&params)),
                    Err(e) => error(id, ErrorCode::InvalidParams, &e.to_string()),
                }
            };
            return self.send(&response.into());
        }
        if !self.initialized {
            let response = error(
                id,
                ErrorCode::ServerNotInitialized,
                "the server is not initialized",
            );
            return self.send(&response.into());
        }
        if self.shutdown {
            let response = error(id, ErrorCode::InvalidRequest, "the server is shutting down");
            return self.send(&response.into());
        }
        if request.method == Shutdown::METHOD {
            self.shutdown = true;
            return self.send(&Response::new_ok(id, ()).into());
        }
        // The answers read the model: bring it up to date first (completion reads the
        // document's text only).
        if self.stale && request.method != Completion::METHOD {
            self.recheck()?;
        }
        // A bug in an answer must not take the editor's diagnostics down with it.
        let answered =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.answer(&request)));
        let response = match answered {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err(Answer::Params(e))) => error(id, ErrorCode::InvalidParams, &e.to_string()),
            Ok(Err(Answer::Unknown)) => error(
                id,
                ErrorCode::MethodNotFound,
                &format!("cmflow does not answer {}", request.method),
            ),
            Err(_) => error(
                id,
                ErrorCode::InternalError,
                &format!("cmflow failed to answer {}", request.method),
            ),
        };
        self.send(&response.into())
    }

    fn initialize(&mut self, params: &InitializeParams) -> InitializeResult {
        let offers_utf8 = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
        self.encoding = if offers_utf8 {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        };
        // `rootUri` and `rootPath` are what clients without workspace folders send
        // (Neovim 0.7).
        #[expect(deprecated, reason = "older clients send only these")]
        let (root_uri, root_path) = (params.root_uri.clone(), params.root_path.clone());
        self.roots = match (&params.workspace_folders, &root_uri) {
            (Some(folders), _) if !folders.is_empty() => {
                folders.iter().filter_map(|f| file_path(&f.uri)).collect()
            }
            (_, Some(uri)) => file_path(uri).into_iter().collect(),
            _ => root_path.map(PathBuf::from).into_iter().collect(),
        };
        self.initialized = true;
        let capabilities = ServerCapabilities {
            position_encoding: Some(match self.encoding {
                Encoding::Utf8 => PositionEncodingKind::UTF8,
                Encoding::Utf16 => PositionEncodingKind::UTF16,
            }),
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    ..TextDocumentSyncOptions::default()
                },
            )),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            definition_provider: Some(OneOf::Left(true)),
            references_provider: Some(OneOf::Left(true)),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec!["\"".into(), "=".into(), ":".into()]),
                ..CompletionOptions::default()
            }),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                ..CodeActionOptions::default()
            })),
            workspace: Some(WorkspaceServerCapabilities {
                workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                    supported: Some(true),
                    change_notifications: Some(OneOf::Left(true)),
                }),
                file_operations: None,
            }),
            ..ServerCapabilities::default()
        };
        InitializeResult {
            capabilities,
            server_info: Some(ServerInfo {
                name: "cmflow".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        }
    }

    fn notification(&mut self, n: Notification) -> io::Result<()> {
        match n.method.as_str() {
            m if m == Initialized::METHOD => {
                // The whole workspace's diagnostics, before any file is opened.
                self.stale = !self.roots.is_empty();
            }
            m if m == DidOpenTextDocument::METHOD => {
                if let Some(p) = self.params::<DidOpenTextDocumentParams>(n)? {
                    let doc = p.text_document;
                    if let Some(path) = file_path(&doc.uri) {
                        self.documents.insert(
                            key(&path),
                            Document {
                                uri: doc.uri,
                                version: doc.version,
                                text: doc.text,
                            },
                        );
                        self.stale = true;
                    }
                }
            }
            m if m == DidChangeTextDocument::METHOD => {
                if let Some(p) = self.params::<DidChangeTextDocumentParams>(n)? {
                    self.change(p)?;
                }
            }
            m if m == DidCloseTextDocument::METHOD => {
                if let Some(p) = self.params::<DidCloseTextDocumentParams>(n)? {
                    if let Some(path) = file_path(&p.text_document.uri) {
                        self.documents.remove(&key(&path));
                    }
                    // The file on disk is the model's again.
                    self.stale = true;
                }
            }
            m if m == DidSaveTextDocument::METHOD || m == DidChangeWatchedFiles::METHOD => {
                self.stale = true;
            }
            m if m == DidChangeWorkspaceFolders::METHOD => {
                if let Some(p) = self.params::<DidChangeWorkspaceFoldersParams>(n)? {
                    let removed: HashSet<PathBuf> = p
                        .event
                        .removed
                        .iter()
                        .filter_map(|f| file_path(&f.uri))
                        .collect();
                    self.roots.retain(|r| !removed.contains(r));
                    self.roots
                        .extend(p.event.added.iter().filter_map(|f| file_path(&f.uri)));
                    self.stale = true;
                }
            }
            // `$/cancelRequest` (answers are never queued long enough to cancel),
            // `$/setTrace` and the like.
            _ => {}
        }
        Ok(())
    }

    /// A notification's parameters; malformed ones are logged (a notification has no
    /// answer to carry the error).
    fn params<P: serde::de::DeserializeOwned>(&mut self, n: Notification) -> io::Result<Option<P>> {
        match serde_json::from_value(n.params) {
            Ok(p) => Ok(Some(p)),
            Err(e) => {
                self.log(
                    MessageType::WARNING,
                    &format!("ignored {}: invalid parameters: {e}", n.method),
                )?;
                Ok(None)
            }
        }
    }

    fn change(&mut self, p: DidChangeTextDocumentParams) -> io::Result<()> {
        let Some(path) = file_path(&p.text_document.uri) else {
            return Ok(());
        };
        let encoding = self.encoding;
        let Some(doc) = self.documents.get_mut(&key(&path)) else {
            return self.log(
                MessageType::WARNING,
                &format!(
                    "ignored a change to {}, which is not open",
                    p.text_document.uri
                ),
            );
        };
        for change in p.content_changes {
            match change.range {
                Some(range) => {
                    let index = LineIndex::new(&doc.text);
                    let start = index.offset(range.start, encoding);
                    let end = index.offset(range.end, encoding).max(start);
                    doc.text.replace_range(start..end, &change.text);
                }
                None => doc.text = change.text,
            }
        }
        doc.version = p.text_document.version;
        self.stale = true;
        Ok(())
    }

    /// Loads and checks the workspace's model, then publishes every file's diagnostics.
    fn recheck(&mut self) -> io::Result<()> {
        self.stale = false;
        let mut previous = self.current.take();
        let result = self.check_and_publish(previous.as_mut().map(|c| &mut c.checked));
        // Freeing a large model takes long (about 2 s for the generated max model) and,
        // beside a check, slows it as much: freed once the diagnostics are out, on
        // another thread, while the editor has nothing to ask.
        if let Some(previous) = previous {
            let freed = std::thread::Builder::new()
                .name("cmflow-lsp-free".into())
                .spawn(move || drop(previous));
            if let Err(e) = freed {
                eprintln!("cmflow lsp: freeing the previous model here: {e}");
            }
        }
        result
    }

    /// Loads the model (parsing the changed files only), checks it (taking over from
    /// `previous` what the edit did not change), and publishes. `CMFLOW_TIMINGS` prints
    /// each stage's time on stderr.
    fn check_and_publish(&mut self, previous: Option<&mut Checked>) -> io::Result<()> {
        let started = std::time::Instant::now();
        let timings = Timings::from_env();
        let (texts, unreadable) = self.inputs();
        timings.lap("read");
        for problem in unreadable {
            self.log(MessageType::WARNING, &problem)?;
        }
        let kdl_files = texts.len();
        let mut ids = HashMap::new();
        let mut paths: Vec<Option<PathBuf>> = Vec::with_capacity(kdl_files);
        for (i, t) in texts.iter().enumerate() {
            if let Some(path) = &t.path {
                ids.insert(key(path), SourceId(u32::try_from(i).unwrap_or(u32::MAX)));
            }
            paths.push(t.path.clone());
        }
        if texts.is_empty() {
            return self.publish();
        }
        let (cache, phases) = (&mut self.cache, &self.phases);
        // A bug in a check must not take the server down: the editor keeps its other
        // answers, and the next edit checks again.
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let loaded = load_cached(texts, crate::rules::SPEC_CODES, cache);
            timings.lap("load");
            recheck_loaded(loaded, previous, phases, &timings, |model| {
                required_flows_bounded(model, &Phase::ALL)
            })
        }));
        let checked = match checked {
            Ok(Ok(c)) => c,
            Ok(Err(too_many)) => {
                let message = format!(
                    "cmflow stopped: the model requires more than {} flows (see `cmflow check`); {}",
                    crate::engine::MAX_FLOWS,
                    match too_many.origin {
                        crate::engine::Origin::User(_) =>
                            "a `flow` node names too many hosts or ports",
                        crate::engine::Origin::Catalog(_) => "split the model by site",
                    }
                );
                self.show(MessageType::ERROR, &message)?;
                return self.publish();
            }
            Err(_) => {
                // The cache may hold a parse from before the failure: start afresh.
                self.cache = ParseCache::default();
                self.show(
                    MessageType::ERROR,
                    "cmflow failed to check the model (an internal error; `cmflow check` shows it)",
                )?;
                return self.publish();
            }
        };
        let uris = checked
            .model
            .sources
            .iter()
            .map(|(id, file)| {
                if file.builtin {
                    return None;
                }
                let path = match paths.get(id.0 as usize) {
                    Some(Some(p)) => p.clone(),
                    // Firewall `source` files, named as `check` names them.
                    _ => PathBuf::from(&file.name),
                };
                let absolute = if path.is_absolute() {
                    path
                } else {
                    std::env::current_dir().ok()?.join(path)
                };
                Url::from_file_path(absolute).ok()
            })
            .collect();
        let parsed = self.cache.last_parsed();
        self.current = Some(Current {
            checked,
            uris,
            ids,
            symbols: std::cell::OnceCell::new(),
            flow_index: std::cell::OnceCell::new(),
        });
        self.publish()?;
        timings.lap("publish");
        self.log(
            MessageType::LOG,
            &format!(
                "checked {kdl_files} files ({parsed} parsed) in {} ms",
                started.elapsed().as_millis()
            ),
        )
    }

    /// The model's files: every `.kdl` file under the workspace folders, and every open
    /// `.kdl` document under them (a new file not saved yet), with the open documents'
    /// text. Without workspace folders, the open documents alone.
    fn inputs(&self) -> (Vec<InputText>, Vec<String>) {
        let mut problems = Vec::new();
        let roots: Vec<PathBuf> = self.roots.iter().filter(|r| r.is_dir()).cloned().collect();
        let mut files: Vec<(String, PathBuf)> = if roots.is_empty() {
            Vec::new()
        } else {
            match discover(&roots) {
                Ok(files) => files,
                Err(e) => {
                    problems.push(format!("cannot list the model's files: {e}"));
                    Vec::new()
                }
            }
        };
        let known: HashSet<PathBuf> = files.iter().map(|(_, p)| key(p)).collect();
        for (k, doc) in &self.documents {
            let under_root = roots.is_empty() || roots.iter().any(|r| k.starts_with(key(r)));
            let is_kdl = k.extension().is_some_and(|e| e == "kdl");
            if under_root
                && is_kdl
                && !known.contains(k)
                && let Some(path) = file_path(&doc.uri)
            {
                files.push((display_path(&path), path));
            }
        }
        files.sort();
        files.dedup_by(|a, b| a.0 == b.0);
        let mut texts = Vec::with_capacity(files.len());
        for (name, path) in files {
            let bytes = match self.documents.get(&key(&path)) {
                Some(doc) => doc.text.clone().into_bytes(),
                None => match std::fs::read(&path) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        problems.push(format!("cannot read {}: {e}", path.display()));
                        continue;
                    }
                },
            };
            texts.push(InputText {
                name,
                bytes,
                builtin: false,
                path: Some(path),
            });
        }
        (texts, problems)
    }

    /// Publishes the diagnostics of every file of the model (an empty list for a clean
    /// one) and clears those of files that had some and are no longer in the model.
    fn publish(&mut self) -> io::Result<()> {
        let mut batches: Vec<(Url, Option<i32>, Vec<lsp_types::Diagnostic>)> = Vec::new();
        if let Some(current) = &self.current {
            let checked = &current.checked;
            let mut at = Locator::new(&checked.model.sources, &current.uris, self.encoding);
            let mut by_file: Vec<Vec<lsp_types::Diagnostic>> = vec![Vec::new(); current.uris.len()];
            for d in &checked.diagnostics {
                if let Some(list) = by_file.get_mut(d.primary.span.source.0 as usize) {
                    list.push(convert::diagnostic(d, &mut at));
                }
            }
            for (i, (uri, list)) in current.uris.iter().zip(by_file).enumerate() {
                let Some(uri) = uri else { continue };
                // Every KDL file of the model is published; other sources when they
                // have something to say.
                let kdl = i < current.ids.len();
                if !kdl && list.is_empty() {
                    continue;
                }
                let version = file_path(uri)
                    .and_then(|p| self.documents.get(&key(&p)))
                    .map(|d| d.version);
                batches.push((uri.clone(), version, list));
            }
        }
        let now: HashSet<Url> = batches
            .iter()
            .filter(|(_, _, list)| !list.is_empty())
            .map(|(uri, _, _)| uri.clone())
            .collect();
        let mut gone: Vec<Url> = self
            .published
            .iter()
            .filter(|u| !batches.iter().any(|(b, _, _)| b == *u))
            .cloned()
            .collect();
        gone.sort();
        for uri in gone {
            batches.push((uri, None, Vec::new()));
        }
        self.published = now;
        for (uri, version, diagnostics) in batches {
            let params = PublishDiagnosticsParams::new(uri, diagnostics, version);
            self.send(&Notification::new(PublishDiagnostics::METHOD.into(), params).into())?;
        }
        Ok(())
    }

    /// The answer to a request of the initialized server.
    fn answer(&self, request: &Request) -> Result<serde_json::Value, Answer> {
        let params = request.params.clone();
        let value = match request.method.as_str() {
            m if m == HoverRequest::METHOD => {
                let p: HoverParams = parse(params)?;
                json(self.hover(&p.text_document_position_params))
            }
            m if m == GotoDefinition::METHOD => {
                let p: GotoDefinitionParams = parse(params)?;
                let found = self.locations(&p.text_document_position_params, |c, id, offset| {
                    analysis::definition_with(c.symbols(), id, offset)
                });
                json(GotoDefinitionResponse::Array(found))
            }
            m if m == References::METHOD => {
                let p: ReferenceParams = parse(params)?;
                let declaration = p.context.include_declaration;
                let found = self.locations(&p.text_document_position, |c, id, offset| {
                    analysis::references_with(c.symbols(), id, offset, declaration)
                });
                json(found)
            }
            m if m == Completion::METHOD => {
                let p: CompletionParams = parse(params)?;
                json(CompletionResponse::Array(
                    self.completion(&p.text_document_position),
                ))
            }
            m if m == CodeActionRequest::METHOD => {
                let p: CodeActionParams = parse(params)?;
                json(self.code_actions(&p))
            }
            _ => return Err(Answer::Unknown),
        };
        Ok(value)
    }

    /// The model file at `uri` and the byte offset of `position` in its text.
    fn at(&self, at: &TextDocumentPositionParams) -> Option<(&Current, SourceId, usize)> {
        let current = self.current.as_ref()?;
        let id = *current.ids.get(&key(&file_path(&at.text_document.uri)?))?;
        let text = &current.checked.model.sources.get(id).text;
        let offset = LineIndex::new(text).offset(at.position, self.encoding);
        Some((current, id, offset))
    }

    fn hover(&self, at: &TextDocumentPositionParams) -> Option<Hover> {
        let (current, id, offset) = self.at(at)?;
        let markdown = analysis::hover_with(
            &snapshot(current),
            current.symbols(),
            current.flow_index(),
            id,
            offset,
        )?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: markdown,
            }),
            range: None,
        })
    }

    fn locations(
        &self,
        at: &TextDocumentPositionParams,
        find: impl FnOnce(&Current, SourceId, usize) -> Vec<crate::model::Span>,
    ) -> Vec<Location> {
        let Some((current, id, offset)) = self.at(at) else {
            return Vec::new();
        };
        let spans = find(current, id, offset);
        let mut locator =
            Locator::new(&current.checked.model.sources, &current.uris, self.encoding);
        spans
            .into_iter()
            .filter_map(|span| locator.location(span))
            .collect()
    }

    /// Completions from the document's text: an open document's, else the file's as
    /// last checked.
    fn completion(&self, at: &lsp_types::TextDocumentPositionParams) -> Vec<CompletionItem> {
        let Some(path) = file_path(&at.text_document.uri) else {
            return Vec::new();
        };
        let k = key(&path);
        let text: &str = match self.documents.get(&k) {
            Some(doc) => &doc.text,
            None => match self
                .current
                .as_ref()
                .and_then(|c| Some((c, *c.ids.get(&k)?)))
            {
                Some((c, id)) => &c.checked.model.sources.get(id).text,
                None => return Vec::new(),
            },
        };
        let lines = LineIndex::new(text);
        let offset = lines.offset(at.position, self.encoding);
        analysis::completion(text, offset)
            .into_iter()
            .map(|c| {
                // What is typed of the word is replaced, so that `zo` becomes `zone=`
                // and a half-typed quoted value its quoted form.
                let range = lines.range(c.replace_from.min(offset), offset, self.encoding);
                let new_text = c.insert_text.clone().unwrap_or_else(|| c.label.clone());
                CompletionItem {
                    label: c.label,
                    kind: Some(match c.kind {
                        CompletionKind::Node => CompletionItemKind::KEYWORD,
                        CompletionKind::Property => CompletionItemKind::PROPERTY,
                        CompletionKind::Value => CompletionItemKind::ENUM_MEMBER,
                    }),
                    detail: c.detail,
                    text_edit: Some(lsp_types::CompletionTextEdit::Edit(lsp_types::TextEdit {
                        range,
                        new_text,
                    })),
                    ..CompletionItem::default()
                }
            })
            .collect()
    }

    fn code_actions(&self, p: &CodeActionParams) -> Vec<CodeActionOrCommand> {
        let Some(current) = &self.current else {
            return Vec::new();
        };
        let Some(id) =
            file_path(&p.text_document.uri).and_then(|path| current.ids.get(&key(&path)))
        else {
            return Vec::new();
        };
        let mut locator =
            Locator::new(&current.checked.model.sources, &current.uris, self.encoding);
        convert::code_actions(
            &p.context.diagnostics,
            *id,
            &current.checked.diagnostics,
            &mut locator,
        )
        .into_iter()
        .map(CodeActionOrCommand::CodeAction)
        .collect()
    }

    fn log(&mut self, typ: MessageType, message: &str) -> io::Result<()> {
        let params = LogMessageParams {
            typ,
            message: message.to_owned(),
        };
        self.send(&Notification::new(LogMessage::METHOD.into(), params).into())
    }

    fn show(&mut self, typ: MessageType, message: &str) -> io::Result<()> {
        let params = ShowMessageParams {
            typ,
            message: message.to_owned(),
        };
        self.send(&Notification::new(ShowMessage::METHOD.into(), params).into())
    }

    fn send(&mut self, message: &Message) -> io::Result<()> {
        transport::write(&mut self.out, message)
    }
}

/// Why a request got no result.
enum Answer {
    Params(serde_json::Error),
    Unknown,
}

fn parse<P: serde::de::DeserializeOwned>(params: serde_json::Value) -> Result<P, Answer> {
    serde_json::from_value(params).map_err(Answer::Params)
}

fn json(value: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn error(id: RequestId, code: ErrorCode, message: &str) -> Response {
    Response::new_err(id, code as i32, message.to_owned())
}

fn snapshot(current: &Current) -> Snapshot<'_> {
    Snapshot {
        model: &current.checked.model,
        flows: &current.checked.flows,
        verdicts: &current.checked.verdicts,
    }
}

/// The file a `file:` URI names (other schemes: none).
fn file_path(uri: &Url) -> Option<PathBuf> {
    if uri.scheme() != "file" {
        return None;
    }
    uri.to_file_path().ok()
}

/// One spelling per file (links resolved), to match the client's paths with the
/// discovered ones; a file not on disk yet keeps its path.
fn key(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

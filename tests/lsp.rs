//! `cmflow lsp` end to end: the real binary driven over JSON-RPC with `Content-Length`
//! framing, on the model of `tests/fixtures/lsp/` (two files: `network.kdl`, never opened,
//! and `site.kdl`, opened and edited).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// How long any answer may take (a debug build on a busy machine).
const TIMEOUT: Duration = Duration::from_mins(2);

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: mpsc::Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// `cmflow lsp ARGS`.
    fn start_with(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cmflow"))
            .arg("lsp")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cmflow lsp starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            while let Some(message) = read_frame(&mut stdout) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            incoming,
            next_id: 1,
        }
    }

    fn send_raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        let mut body = json!({"jsonrpc": "2.0", "method": method});
        body["params"] = params;
        self.send_raw(&body.to_string());
    }

    /// Sends a request and returns its response (notifications in between are skipped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut body = json!({"jsonrpc": "2.0", "id": id, "method": method});
        body["params"] = params;
        self.send_raw(&body.to_string());
        self.wait(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none())
    }

    fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self
                .incoming
                .recv_timeout(TIMEOUT)
                .expect("the server answers in time");
            if wanted(&message) {
                return message;
            }
        }
    }

    /// The diagnostics of one check, by file name: every `publishDiagnostics` up to the
    /// log line that ends a check.
    fn check(&mut self) -> BTreeMap<String, Vec<Value>> {
        let mut files = BTreeMap::new();
        loop {
            let m = self.wait(|m| m.get("method").is_some());
            match m["method"].as_str().unwrap() {
                "textDocument/publishDiagnostics" => {
                    let uri = m["params"]["uri"].as_str().unwrap();
                    let name = uri.rsplit('/').next().unwrap().to_owned();
                    let list = m["params"]["diagnostics"].as_array().unwrap().clone();
                    assert!(
                        files.insert(name, list).is_none(),
                        "a file published twice in one check: {uri}"
                    );
                }
                "window/logMessage"
                    if m["params"]["message"]
                        .as_str()
                        .unwrap()
                        .starts_with("checked ") =>
                {
                    return files;
                }
                _ => {}
            }
        }
    }

    fn finish(mut self) -> i32 {
        drop(self.stdin);
        let status = self.child.wait().unwrap();
        status.code().unwrap_or(-1)
    }
}

fn read_frame(input: &mut impl BufRead) -> Option<Value> {
    let mut length = 0;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lsp")
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn initialize(client: &mut Client, encodings: &[&str]) -> Value {
    initialize_at(client, &fixture(), encodings)
}

fn initialize_at(client: &mut Client, root: &Path, encodings: &[&str]) -> Value {
    let response = client.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": uri(root),
            "capabilities": {"general": {"positionEncodings": encodings}},
        }),
    );
    client.notify("initialized", json!({}));
    response
}

fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

/// Replaces `old` (once in `text`) with `new`: the text after, and the change event.
fn edit(text: &str, old: &str, new: &str) -> (String, Value) {
    let at = text.find(old).expect("the text to replace");
    let line = text[..at].matches('\n').count();
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    // UTF-16 columns (the server's default).
    let col = text[line_start..at].encode_utf16().count();
    let change = json!({
        "range": range(
            line.try_into().unwrap(),
            col.try_into().unwrap(),
            line.try_into().unwrap(),
            (col + old.encode_utf16().count()).try_into().unwrap(),
        ),
        "text": new,
    });
    (text.replacen(old, new, 1), change)
}

#[test]
fn the_server_checks_edits_answers_requests_and_exits_cleanly() {
    let mut client = Client::start();
    let init = initialize(&mut client, &["utf-16"]);
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["definitionProvider"], true);
    assert_eq!(caps["referencesProvider"], true);
    assert_eq!(
        caps["completionProvider"]["triggerCharacters"],
        json!(["\"", "=", ":"])
    );
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
    assert_eq!(init["result"]["serverInfo"]["name"], "cmflow");

    // On `initialized`, every file of the workspace's model, none of them open.
    let files = client.check();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["network.kdl", "site.kdl"]
    );
    assert_eq!(files["network.kdl"], Vec::<Value>::new());
    let expected = json!([{
        // `console "poste-é𝄞" zone="lab"`: 𝄞 counts two UTF-16 units.
        "range": range(15, 25, 15, 30),
        "severity": 1,
        "code": "schema/unknown-reference",
        "codeDescription": {"href": "https://github.com/cmflow/cmflow/blob/main/docs/rules.md#schema-unknown-reference"},
        "source": "cmflow",
        "message": "zone `lab` does not exist",
    }]);
    assert_eq!(Value::Array(files["site.kdl"].clone()), expected);

    let site = fixture().join("site.kdl");
    let site_uri = uri(&site);
    let mut text = std::fs::read_to_string(&site).unwrap();
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": site_uri, "languageId": "kdl", "version": 1, "text": text}}),
    );
    assert_eq!(Value::Array(client.check()["site.kdl"].clone()), expected);

    // Fixing the reference clears the error.
    let (fixed, change) = edit(&text, "zone=\"lab\"", "zone=\"north-office\"");
    text = fixed;
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": site_uri, "version": 2}, "contentChanges": [change]}),
    );
    let files = client.check();
    assert_eq!(files["site.kdl"], Vec::<Value>::new());
    assert_eq!(files["network.kdl"], Vec::<Value>::new());

    // A KDL 1 value: a syntax error at `true`.
    let (broken, change) = edit(&text, "http=#true", "http=true");
    text = broken;
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": site_uri, "version": 3}, "contentChanges": [change]}),
    );
    let files = client.check();
    let syntax = &files["site.kdl"];
    assert_eq!(syntax.len(), 1, "{syntax:?}");
    assert_eq!(syntax[0]["code"], "kdl/syntax");
    assert_eq!(syntax[0]["range"], range(6, 30, 6, 34));
    assert_eq!(
        syntax[0]["message"],
        "`true` is not a value in KDL 2\nhelp: cmflow reads KDL 2, where `true` is written `#true`"
    );
    // The unparsed file declares zones, servers and sites others might name: nothing
    // cascades into network.kdl.
    assert_eq!(files["network.kdl"], Vec::<Value>::new());

    // The fix travels with the diagnostic, and a code action applies it.
    assert_eq!(
        syntax[0]["data"],
        json!({"fix": {"uri": site_uri, "range": range(6, 30, 6, 34), "newText": "#true"}})
    );
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": site_uri},
            "range": syntax[0]["range"],
            "context": {"diagnostics": [syntax[0]]},
        }),
    );
    let actions = actions["result"]
        .as_array()
        .expect("a list of code actions");
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(
        actions[0]["title"],
        "Replace `true` with `#true` (kdl/syntax)"
    );
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["isPreferred"], true);
    assert_eq!(
        actions[0]["edit"]["changes"][&site_uri],
        json!([{"range": range(6, 30, 6, 34), "newText": "#true"}])
    );
    // A diagnostic the server did not publish (another range) gets no action.
    let mut moved = syntax[0].clone();
    moved["range"] = range(6, 29, 6, 34);
    let none = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": site_uri},
            "range": moved["range"],
            "context": {"diagnostics": [moved]},
        }),
    );
    assert_eq!(none["result"], json!([]));

    // Two changes sent together: the diagnostics follow the last text.
    let (again, first) = edit(&text, "http=true", "http=#true");
    let (last, second) = edit(&again, "zone=\"north-office\"", "zone=\"nowhere\"");
    text = last;
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": site_uri, "version": 4}, "contentChanges": [first]}),
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": site_uri, "version": 5}, "contentChanges": [second]}),
    );
    let mut files = client.check();
    if files["site.kdl"].is_empty() {
        // The first change was checked alone; the second follows.
        files = client.check();
    }
    let codes: Vec<&Value> = files["site.kdl"].iter().map(|d| &d["code"]).collect();
    assert_eq!(codes, ["schema/unknown-reference"]);
    assert_eq!(
        files["site.kdl"][0]["message"],
        "zone `nowhere` does not exist"
    );
    assert!(text.contains("nowhere"));

    // Requests about a position: on `datacenter` in `zone="datacenter"` of cm01.
    let network_uri = uri(&fixture().join("network.kdl"));
    let position =
        json!({"textDocument": {"uri": site_uri}, "position": {"line": 3, "character": 40}});
    let hover = client.request("textDocument/hover", position.clone());
    assert_eq!(hover["result"]["contents"]["kind"], "markdown", "{hover}");
    let hover_text = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(hover_text.contains("datacenter"), "{hover_text}");
    let definition = client.request("textDocument/definition", position.clone());
    assert_eq!(
        definition["result"],
        json!([{"uri": network_uri, "range": range(3, 6, 3, 16)}]),
        "{definition}"
    );
    let mut references = position.clone();
    references["context"] = json!({"includeDeclaration": true});
    let references = client.request("textDocument/references", references);
    assert_eq!(
        references["result"],
        json!([
            {"uri": network_uri, "range": range(3, 6, 3, 16)},
            {"uri": site_uri, "range": range(3, 37, 3, 47)},
            {"uri": site_uri, "range": range(11, 34, 11, 44)},
        ]),
        "{references}"
    );
    // At the start of a line inside a server: the nodes a server may hold.
    let completion = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": site_uri}, "position": {"line": 4, "character": 8}}),
    );
    let labels: Vec<&str> = completion["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"management-point") && labels.contains(&"sql-instance"),
        "{labels:?}"
    );
    assert!(!labels.contains(&"site"), "{labels:?}");
    let first = &completion["result"][0];
    assert_eq!(first["textEdit"]["range"], range(4, 8, 4, 8), "{first}");

    // A document the server does not know: empty answers, not errors.
    let unknown = json!({"textDocument": {"uri": "file:///nowhere/x.kdl"}, "position": {"line": 0, "character": 0}});
    assert_eq!(
        client.request("textDocument/hover", unknown.clone())["result"],
        Value::Null
    );
    assert_eq!(
        client.request("textDocument/definition", unknown)["result"],
        json!([])
    );

    // Unknown methods, bad parameters and malformed messages get errors; the server
    // goes on.
    let unknown = client.request("cmflow/unknown", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let bad = client.request("textDocument/hover", json!({"textDocument": 3}));
    assert_eq!(bad["error"]["code"], -32602);
    client.send_raw("{this is not json");
    let parse_error = client.wait(|m| m.get("error").is_some());
    assert_eq!(parse_error["error"]["code"], -32700);
    assert_eq!(parse_error["id"], Value::Null);
    client.send_raw(r#"{"id": 99, "jsonrpc": "2.0"}"#);
    let invalid = client.wait(|m| m.get("error").is_some());
    assert_eq!(invalid["error"]["code"], -32600);
    assert_eq!(invalid["id"], 99);

    // Closing the document: the file on disk is the model's again.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": site_uri}}),
    );
    assert_eq!(Value::Array(client.check()["site.kdl"].clone()), expected);

    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.finish(), 0);
}

#[test]
fn utf8_positions_are_used_when_the_client_offers_them() {
    let mut client = Client::start();
    let init = initialize(&mut client, &["utf-8", "utf-16"]);
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-8");
    let files = client.check();
    // é is two bytes, 𝄞 four.
    assert_eq!(files["site.kdl"][0]["range"], range(15, 28, 15, 33));
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.finish(), 0);
}

#[test]
fn requests_before_initialize_and_exit_without_shutdown_are_refused() {
    let mut client = Client::start();
    let early = client.request("textDocument/hover", json!({}));
    assert_eq!(early["error"]["code"], -32002);
    client.notify("exit", Value::Null);
    assert_eq!(client.finish(), 1, "exit without shutdown");
}

/// `cmflow lsp --phase all` reports what `check --phase all` does: with a default-deny
/// firewall between the site and its clients, installed by client push, the site
/// server's push to the clients is blocked too.
#[test]
fn phase_option_chooses_the_phases_checked() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::copy(
        fixture().join("network.kdl"),
        dir.path().join("network.kdl"),
    )
    .expect("copy");
    let site = std::fs::read_to_string(fixture().join("site.kdl")).expect("site.kdl");
    let pushed = site.replace(
        r#"zone="north-office""#,
        r#"zone="north-office" install="push""#,
    );
    assert_ne!(site, pushed);
    std::fs::write(dir.path().join("site.kdl"), pushed).expect("write");
    std::fs::write(
        dir.path().join("firewall.kdl"),
        "firewall \"fw\" default=\"deny\" {\n    zones \"datacenter\" \"north-office\"\n}\n",
    )
    .expect("write");
    let blocked = |args: &[&str]| {
        let mut client = Client::start_with(args);
        initialize_at(&mut client, dir.path(), &["utf-16"]);
        let files = client.check();
        client.request("shutdown", Value::Null);
        client.notify("exit", Value::Null);
        assert_eq!(client.finish(), 0);
        files
            .values()
            .flatten()
            .filter(|d| d["code"] == "firewall/blocked-flow")
            .count()
    };
    let operation = blocked(&[]);
    let all = blocked(&["--phase", "all"]);
    assert_eq!((operation, all), (1, 2), "--phase all adds the client push");
}

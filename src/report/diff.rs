//! `cmflow diff`: what a change to a model does, for a change-advisory board reading a
//! pull request. Compares two checked revisions of one model: required flows added and
//! removed, verdicts changed (and the rule that now decides), firewall rules added,
//! removed, changed or moved (and the verdicts each change turned), diagnostics new and
//! fixed; then writes that comparison as `human`, `markdown` (a pull-request comment) or
//! `json`.
//!
//! Both revisions must name their files alike (the caller loads them so): flows are
//! matched by their row in `cmflow flows` (source, destination, protocol, ports, service,
//! phase), rules by firewall and name (unnamed rules by their text), diagnostics by
//! SARIF's fingerprint, which holds the file name and the text of the lines, not their
//! numbers. This module compares and writes; it does not load or check.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::Place;
use super::flows::{RowOrder, for_each_row};
use crate::diag::{Diagnostic, Severity};
use crate::engine::{DecidedBy, Filter, FlowEndpoint, FlowVerdict, RequiredFlow, describe};
use crate::escape::{markdown, terminal};
use crate::model::{Action, Direction, HostFirewall, Model, Traffic};

/// Output formats of `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// For a terminal.
    Human,
    /// A pull-request comment: a summary table, details folded.
    Markdown,
    /// One JSON document.
    Json,
}

/// One checked revision of a model.
pub struct Revision<'a> {
    /// How the revision is called in the output: a path, `main`, `HEAD~1`, `work tree`.
    pub label: &'a str,
    pub model: &'a Model,
    pub flows: &'a [RequiredFlow],
    /// Parallel to `flows`.
    pub verdicts: &'a [FlowVerdict],
    pub diagnostics: &'a [Diagnostic],
}

/// Identifies a row of the flow list across revisions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FlowKey {
    pub source: String,
    pub destination: String,
    pub protocol: String,
    pub ports: String,
    pub service: String,
    pub phase: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct FlowState {
    verdict: &'static str,
    decided_by: Vec<String>,
}

/// A flow that one revision requires and the other does not.
#[derive(Debug, Serialize)]
pub struct FlowRecord {
    #[serde(flatten)]
    pub flow: FlowKey,
    pub verdict: &'static str,
    pub decided_by: Vec<String>,
}

/// A flow both revisions require, with a different verdict.
#[derive(Debug, Serialize)]
pub struct VerdictChange {
    #[serde(flatten)]
    pub flow: FlowKey,
    pub base_verdict: &'static str,
    pub head_verdict: &'static str,
    pub base_decided_by: Vec<String>,
    pub head_decided_by: Vec<String>,
}

/// What happened to a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleChangeKind {
    Added,
    Removed,
    /// Same name, different match or action.
    Changed,
    /// Same rule, another place in a first-match firewall's order.
    Moved,
}

/// A firewall rule added, removed, changed or moved, with the verdicts it turned.
#[derive(Debug, Serialize)]
pub struct RuleChange {
    pub change: RuleChangeKind,
    /// `fw-core`, or `dp01.contoso.com windows-firewall`.
    pub firewall: String,
    /// The rule's name, or `None` for an unnamed rule.
    pub name: Option<String>,
    /// The rule as KDL properties, in each revision that has it.
    pub base: Option<String>,
    pub head: Option<String>,
    /// Where the rule is written (HEAD's place, BASE's for a removed rule).
    pub file: String,
    pub line: usize,
    /// The changed verdicts this rule decides in HEAD or decided in BASE.
    pub flows: Vec<FlowKey>,
}

/// A diagnostic that one revision reports and the other does not.
#[derive(Debug, Serialize)]
pub struct DiagnosticRecord {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct DiffSummary {
    pub flows_added: usize,
    pub flows_removed: usize,
    pub verdicts_changed: usize,
    /// Of the changed verdicts, how many are `blocked` in HEAD and were not.
    pub now_blocked: usize,
    /// Of the changed verdicts, how many are `allowed` in HEAD and were not.
    pub now_allowed: usize,
    pub rules_added: usize,
    pub rules_removed: usize,
    pub rules_changed: usize,
    pub rules_moved: usize,
    pub diagnostics_new: usize,
    pub diagnostics_fixed: usize,
    /// New diagnostics of severity `error` (exit code 1 when any).
    pub new_errors: usize,
}

/// Everything `diff` reports, sorted.
#[derive(Debug, Serialize)]
pub struct ModelDiff {
    pub version: u32,
    pub base: String,
    pub head: String,
    pub summary: DiffSummary,
    pub flows_added: Vec<FlowRecord>,
    pub flows_removed: Vec<FlowRecord>,
    pub verdicts_changed: Vec<VerdictChange>,
    pub rules: Vec<RuleChange>,
    pub diagnostics_new: Vec<DiagnosticRecord>,
    pub diagnostics_fixed: Vec<DiagnosticRecord>,
}

impl ModelDiff {
    /// Whether HEAD reports errors that BASE did not.
    pub fn has_new_errors(&self) -> bool {
        self.summary.new_errors > 0
    }
}

/// Compares two revisions.
pub fn compare(base: &Revision<'_>, head: &Revision<'_>) -> ModelDiff {
    let base_flows = flow_states(base);
    let head_flows = flow_states(head);
    let mut flows_added = Vec::new();
    let mut verdicts_changed = Vec::new();
    for (key, h) in &head_flows {
        match base_flows.get(key) {
            None => flows_added.push(FlowRecord {
                flow: key.clone(),
                verdict: h.verdict,
                decided_by: h.decided_by.clone(),
            }),
            Some(b) if b.verdict != h.verdict => verdicts_changed.push(VerdictChange {
                flow: key.clone(),
                base_verdict: b.verdict,
                head_verdict: h.verdict,
                base_decided_by: b.decided_by.clone(),
                head_decided_by: h.decided_by.clone(),
            }),
            Some(_) => {}
        }
    }
    let flows_removed: Vec<FlowRecord> = base_flows
        .iter()
        .filter(|(key, _)| !head_flows.contains_key(*key))
        .map(|(key, b)| FlowRecord {
            flow: key.clone(),
            verdict: b.verdict,
            decided_by: b.decided_by.clone(),
        })
        .collect();
    let rules = rule_changes(base, head, &verdicts_changed);
    let (diagnostics_new, diagnostics_fixed) = diagnostic_changes(base, head);
    let count = |kind| rules.iter().filter(|r| r.change == kind).count();
    let summary = DiffSummary {
        flows_added: flows_added.len(),
        flows_removed: flows_removed.len(),
        verdicts_changed: verdicts_changed.len(),
        now_blocked: verdicts_changed
            .iter()
            .filter(|c| c.head_verdict == "blocked")
            .count(),
        now_allowed: verdicts_changed
            .iter()
            .filter(|c| c.head_verdict == "allowed")
            .count(),
        rules_added: count(RuleChangeKind::Added),
        rules_removed: count(RuleChangeKind::Removed),
        rules_changed: count(RuleChangeKind::Changed),
        rules_moved: count(RuleChangeKind::Moved),
        diagnostics_new: diagnostics_new.len(),
        diagnostics_fixed: diagnostics_fixed.len(),
        new_errors: diagnostics_new
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count(),
    };
    ModelDiff {
        version: 1,
        base: base.label.to_owned(),
        head: head.label.to_owned(),
        summary,
        flows_added,
        flows_removed,
        verdicts_changed,
        rules,
        diagnostics_new,
        diagnostics_fixed,
    }
}

/// Every row of the revision's flow list, by key (rows are unique by key: equal rows
/// are left out of the list).
fn flow_states(r: &Revision<'_>) -> BTreeMap<FlowKey, FlowState> {
    let order = RowOrder::new(r.model, r.flows);
    let mut rows = BTreeMap::new();
    let _ = for_each_row::<()>(r.model, r.flows, r.verdicts, &order, |row| {
        rows.entry(FlowKey {
            source: row.source.to_owned(),
            destination: row.destination.to_owned(),
            protocol: row.protocol.to_owned(),
            ports: row.ports.clone(),
            service: row.service.to_owned(),
            phase: row.phase.to_owned(),
        })
        .or_insert_with(|| FlowState {
            verdict: row.verdict,
            decided_by: row.decided_by.to_vec(),
        });
        Ok(())
    });
    rows
}

/// One rule of one revision.
struct RuleEntry {
    firewall: String,
    name: Option<String>,
    text: String,
    /// How flow lists name it (`decided_by`).
    described: String,
    /// Its position among the firewall's rules; `None` where order does not matter
    /// (Windows Firewall).
    position: Option<usize>,
    file: String,
    line: usize,
}

impl RuleEntry {
    /// What pairs a rule with itself across revisions: its firewall and its name, or its
    /// text when it has none.
    fn key(&self) -> (&str, &str) {
        (
            &self.firewall,
            self.name.as_deref().unwrap_or(self.text.as_str()),
        )
    }
}

fn rule_entries(model: &Model) -> Vec<RuleEntry> {
    let place = |span| Place::of(&model.sources, span);
    let mut out = Vec::new();
    for (f, fw) in model.firewalls.iter().enumerate() {
        for (i, rule) in fw.rules.iter().enumerate() {
            let p = place(rule.span);
            out.push(RuleEntry {
                firewall: fw.name.value.clone(),
                name: rule.name.as_ref().map(|n| n.value.clone()),
                text: rule_text(
                    match rule.action {
                        Action::Allow => "allow",
                        Action::Deny => "deny",
                    },
                    &rule.traffic,
                ),
                described: describe(model, Filter::Network(f), DecidedBy::Rule(i)),
                position: Some(i),
                file: p.file.to_owned(),
                line: p.line,
            });
        }
    }
    let hosts = model
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| (FlowEndpoint::Server(i), s.host_firewall.as_ref()))
        .chain(
            model
                .clients
                .iter()
                .enumerate()
                .map(|(i, c)| (FlowEndpoint::Clients(i), c.host_firewall.as_ref())),
        );
    for (endpoint, hf) in hosts {
        let Some(hf) = hf else { continue };
        host_entries(model, endpoint, hf, &mut out);
    }
    out
}

fn host_entries(model: &Model, e: FlowEndpoint, hf: &HostFirewall, out: &mut Vec<RuleEntry>) {
    let firewall = format!("{} windows-firewall", e.name(model));
    for (i, rule) in hf.rules.iter().enumerate() {
        let p = Place::of(&model.sources, rule.span);
        let (direction, filter) = match rule.direction {
            Direction::In => ("in", Filter::HostIn(e)),
            Direction::Out => ("out", Filter::HostOut(e)),
        };
        let action = match rule.action {
            Action::Allow => "allow",
            Action::Deny => "block",
        };
        let mut text = format!("{direction} {}", rule_text(action, &rule.traffic));
        if !rule.profiles.is_empty() {
            let _ = write!(text, " profile=\"{}\"", rule.profiles.join(","));
        }
        if let Some(ports) = &rule.source_ports {
            let side = match rule.direction {
                Direction::In => "remote-port",
                Direction::Out => "local-port",
            };
            let _ = write!(text, " {side}=\"{}\"", ports.value);
        }
        out.push(RuleEntry {
            firewall: firewall.clone(),
            name: rule.name.as_ref().map(|n| n.value.clone()),
            text,
            described: describe(model, filter, DecidedBy::Rule(i)),
            position: None,
            file: p.file.to_owned(),
            line: p.line,
        });
    }
}

/// A rule's action and match as KDL properties: `allow from="zone:hq" tcp="443"`.
fn rule_text(action: &str, t: &Traffic) -> String {
    let list = |es: &[crate::model::Spanned<crate::model::Endpoint>]| {
        es.iter()
            .map(|e| e.value.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut text = format!("{action} from=\"{}\" to=\"{}\"", list(&t.from), list(&t.to));
    if let Some(tcp) = &t.tcp {
        let _ = write!(text, " tcp=\"{}\"", tcp.value);
    }
    if let Some(udp) = &t.udp {
        let _ = write!(text, " udp=\"{}\"", udp.value);
    }
    if t.icmp {
        text.push_str(" icmp=#true");
    }
    text
}

fn rule_changes(
    base: &Revision<'_>,
    head: &Revision<'_>,
    verdicts_changed: &[VerdictChange],
) -> Vec<RuleChange> {
    let base_rules = rule_entries(base.model);
    let head_rules = rule_entries(head.model);
    // Pair equal keys in order of appearance (two unnamed rules may read alike).
    let mut unpaired: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, r) in base_rules.iter().enumerate().rev() {
        unpaired.entry(r.key()).or_default().push(i);
    }
    let mut pairs: Vec<(Option<usize>, Option<usize>)> = Vec::new();
    for (j, r) in head_rules.iter().enumerate() {
        let b = unpaired.get_mut(&r.key()).and_then(Vec::pop);
        pairs.push((b, Some(j)));
    }
    let paired: BTreeSet<usize> = pairs.iter().filter_map(|p| p.0).collect();
    pairs.extend(
        (0..base_rules.len())
            .filter(|i| !paired.contains(i))
            .map(|i| (Some(i), None)),
    );
    let moved = moved_rules(&base_rules, &head_rules, &pairs);
    let mut out = Vec::new();
    for (b, h) in pairs {
        let (b, h) = (b.map(|i| &base_rules[i]), h.map(|j| &head_rules[j]));
        let change = match (b, h) {
            (None, Some(_)) => RuleChangeKind::Added,
            (Some(_), None) => RuleChangeKind::Removed,
            (Some(b), Some(h)) if b.text != h.text => RuleChangeKind::Changed,
            (Some(b), Some(_)) if moved.contains(&(b.firewall.as_str(), b.position)) => {
                RuleChangeKind::Moved
            }
            _ => continue,
        };
        let Some(shown) = h.or(b) else { continue };
        let flows = verdicts_changed
            .iter()
            .filter(|c| {
                h.is_some_and(|h| c.head_decided_by.contains(&h.described))
                    || b.is_some_and(|b| c.base_decided_by.contains(&b.described))
            })
            .map(|c| c.flow.clone())
            .collect();
        out.push(RuleChange {
            change,
            firewall: shown.firewall.clone(),
            name: shown.name.clone(),
            base: b.map(|r| r.text.clone()),
            head: h.map(|r| r.text.clone()),
            file: shown.file.clone(),
            line: shown.line,
            flows,
        });
    }
    out.sort_by(|a, b| {
        (&a.firewall, a.change, &a.file, a.line, &a.name).cmp(&(
            &b.firewall,
            b.change,
            &b.file,
            b.line,
            &b.name,
        ))
    });
    out
}

/// The rules of first-match firewalls whose order relative to the other rules both
/// revisions have changed: (firewall, BASE position). A rule is moved when it is not
/// part of a longest run of pairs kept in the same order.
fn moved_rules<'a>(
    base: &'a [RuleEntry],
    head: &[RuleEntry],
    pairs: &[(Option<usize>, Option<usize>)],
) -> BTreeSet<(&'a str, Option<usize>)> {
    // Per firewall: the BASE positions of the paired rules, in HEAD order.
    let mut sequences: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &(b, h) in pairs {
        if let (Some(b), Some(h)) = (b, h)
            && let (Some(bp), Some(_)) = (base[b].position, head[h].position)
        {
            sequences.entry(&base[b].firewall).or_default().push(bp);
        }
    }
    let mut moved = BTreeSet::new();
    for (firewall, seq) in sequences {
        let kept = longest_increasing(&seq);
        for (k, &p) in seq.iter().enumerate() {
            if !kept.contains(&k) {
                moved.insert((firewall, Some(p)));
            }
        }
    }
    moved
}

/// The indices of a longest strictly increasing subsequence (patience sorting).
fn longest_increasing(seq: &[usize]) -> BTreeSet<usize> {
    let mut tails: Vec<usize> = Vec::new(); // index into seq of the smallest tail per length
    let mut previous: Vec<Option<usize>> = vec![None; seq.len()];
    for (i, &v) in seq.iter().enumerate() {
        let at = tails.partition_point(|&t| seq[t] < v);
        previous[i] = at.checked_sub(1).map(|a| tails[a]);
        if at == tails.len() {
            tails.push(i);
        } else {
            tails[at] = i;
        }
    }
    let mut kept = BTreeSet::new();
    let mut at = tails.last().copied();
    while let Some(i) = at {
        kept.insert(i);
        at = previous[i];
    }
    kept
}

fn diagnostic_changes(
    base: &Revision<'_>,
    head: &Revision<'_>,
) -> (Vec<DiagnosticRecord>, Vec<DiagnosticRecord>) {
    let keyed = |r: &Revision<'_>| -> BTreeMap<(String, &'static str, String), DiagnosticRecord> {
        let fingerprints = super::sarif::fingerprints(&r.model.sources, r.diagnostics);
        r.diagnostics
            .iter()
            .zip(fingerprints)
            .map(|(d, fingerprint)| {
                let p = Place::of(&r.model.sources, d.primary.span);
                let record = DiagnosticRecord {
                    code: d.code,
                    severity: d.severity,
                    message: d.message.clone(),
                    file: p.file.to_owned(),
                    line: p.line,
                    column: p.column,
                };
                ((p.file.to_owned(), d.code, fingerprint), record)
            })
            .collect()
    };
    let mut base = keyed(base);
    let mut new = Vec::new();
    for (key, record) in keyed(head) {
        if base.remove(&key).is_none() {
            new.push(record);
        }
    }
    let sort = |v: &mut Vec<DiagnosticRecord>| {
        v.sort_by(|a, b| {
            (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
        });
    };
    let mut fixed: Vec<DiagnosticRecord> = base.into_values().collect();
    sort(&mut new);
    sort(&mut fixed);
    (new, fixed)
}

/// Writes the comparison.
pub fn write(out: &mut dyn Write, format: DiffFormat, diff: &ModelDiff) -> io::Result<()> {
    match format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, diff)?;
            writeln!(out)
        }
        DiffFormat::Human => write_human(out, diff),
        DiffFormat::Markdown => write_markdown(out, diff),
    }
}

/// How many rows the folded markdown sections and the human lists show at most.
const SHOWN: usize = 200;

fn flow_text(f: &FlowKey) -> String {
    format!(
        "{} → {} {} {} ({}, {})",
        f.source, f.destination, f.protocol, f.ports, f.service, f.phase
    )
}

fn summary_lines(s: &DiffSummary) -> [(&'static str, String); 4] {
    [
        (
            "required flows",
            format!("{} added, {} removed", s.flows_added, s.flows_removed),
        ),
        (
            "verdicts",
            format!(
                "{} changed ({} now blocked, {} now allowed)",
                s.verdicts_changed, s.now_blocked, s.now_allowed
            ),
        ),
        (
            "firewall rules",
            format!(
                "{} added, {} removed, {} changed, {} moved",
                s.rules_added, s.rules_removed, s.rules_changed, s.rules_moved
            ),
        ),
        (
            "diagnostics",
            format!(
                "{} new ({}), {} fixed",
                s.diagnostics_new,
                plural(s.new_errors, "error"),
                s.diagnostics_fixed
            ),
        ),
    ]
}

fn write_human(out: &mut dyn Write, d: &ModelDiff) -> io::Result<()> {
    let t = |s: &str| terminal::line(s).into_owned();
    writeln!(out, "cmflow diff: {} → {}", t(&d.base), t(&d.head))?;
    writeln!(out)?;
    for (what, text) in summary_lines(&d.summary) {
        writeln!(out, "  {what:<15} {text}")?;
    }
    let section = |out: &mut dyn Write, title: &str, n: usize| -> io::Result<bool> {
        if n == 0 {
            return Ok(false);
        }
        writeln!(out, "\n{title} ({n}):")?;
        Ok(true)
    };
    if section(out, "Verdicts changed", d.verdicts_changed.len())? {
        for c in d.verdicts_changed.iter().take(SHOWN) {
            writeln!(
                out,
                "  {} → {}  {}",
                c.base_verdict,
                c.head_verdict,
                t(&flow_text(&c.flow))
            )?;
            writeln!(
                out,
                "      decided by {} (was {})",
                t(&or_none(&c.head_decided_by)),
                t(&or_none(&c.base_decided_by))
            )?;
        }
        more(out, d.verdicts_changed.len())?;
    }
    for (title, list) in [
        ("Flows added", &d.flows_added),
        ("Flows removed", &d.flows_removed),
    ] {
        if section(out, title, list.len())? {
            for f in list.iter().take(SHOWN) {
                writeln!(out, "  {:<13} {}", f.verdict, t(&flow_text(&f.flow)))?;
            }
            more(out, list.len())?;
        }
    }
    if section(out, "Firewall rules", d.rules.len())? {
        for r in d.rules.iter().take(SHOWN) {
            writeln!(
                out,
                "  {:<8} {} {}  {}:{}",
                kind_text(r.change),
                t(&r.firewall),
                t(&rule_label(r)),
                t(&r.file),
                r.line
            )?;
            match (&r.base, &r.head) {
                (Some(b), Some(h)) if b != h => {
                    writeln!(out, "      - {}", t(b))?;
                    writeln!(out, "      + {}", t(h))?;
                }
                (_, Some(text)) | (Some(text), None) => writeln!(out, "      {}", t(text))?,
                (None, None) => {}
            }
            if !r.flows.is_empty() {
                writeln!(out, "      turns {}", plural(r.flows.len(), "verdict"))?;
            }
        }
        more(out, d.rules.len())?;
    }
    for (title, list) in [
        ("New diagnostics", &d.diagnostics_new),
        ("Fixed diagnostics", &d.diagnostics_fixed),
    ] {
        if section(out, title, list.len())? {
            for x in list.iter().take(SHOWN) {
                writeln!(
                    out,
                    "  {}:{}:{}: {}[{}] {}",
                    t(&x.file),
                    x.line,
                    x.column,
                    x.severity,
                    x.code,
                    t(&x.message)
                )?;
            }
            more(out, list.len())?;
        }
    }
    Ok(())
}

fn more(out: &mut dyn Write, n: usize) -> io::Result<()> {
    if n > SHOWN {
        writeln!(
            out,
            "  … and {} more (all of them in --format json)",
            n - SHOWN
        )?;
    }
    Ok(())
}

/// `1 error`, `2 errors`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn or_none(v: &[String]) -> String {
    if v.is_empty() {
        "nothing".to_owned()
    } else {
        v.join("; ")
    }
}

fn kind_text(k: RuleChangeKind) -> &'static str {
    match k {
        RuleChangeKind::Added => "added",
        RuleChangeKind::Removed => "removed",
        RuleChangeKind::Changed => "changed",
        RuleChangeKind::Moved => "moved",
    }
}

fn rule_label(r: &RuleChange) -> String {
    match &r.name {
        Some(name) => format!("\"{name}\""),
        None => "(unnamed rule)".to_owned(),
    }
}

/// A markdown table folded under `<details>`, titled with the item count, showing the
/// first [`SHOWN`] items; nothing when there are none. `cells` writes one item's cells
/// (without the outer pipes; every name in them escaped).
fn folded_table<T>(
    out: &mut dyn Write,
    title: &str,
    columns: &[&str],
    items: &[T],
    cells: impl Fn(&T) -> String,
) -> io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\n<details><summary>{} {title}</summary>\n",
        items.len()
    )?;
    writeln!(out, "| {} |", columns.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(columns.len()))?;
    for item in items.iter().take(SHOWN) {
        writeln!(out, "| {} |", cells(item))?;
    }
    if items.len() > SHOWN {
        writeln!(
            out,
            "\n… and {} more (all of them in `--format json`)",
            items.len() - SHOWN
        )?;
    }
    writeln!(out, "\n</details>")
}

fn write_markdown(out: &mut dyn Write, diff: &ModelDiff) -> io::Result<()> {
    let m = |s: &str| markdown::text(s).into_owned();
    let summary = &diff.summary;
    writeln!(
        out,
        "### cmflow diff: {} → {}",
        m(&diff.base),
        m(&diff.head)
    )?;
    writeln!(out)?;
    if summary.new_errors > 0 {
        writeln!(
            out,
            "**This change adds {}.**\n",
            plural(summary.new_errors, "error")
        )?;
    }
    writeln!(out, "| | |\n|---|---|")?;
    for (what, text) in summary_lines(summary) {
        writeln!(out, "| {what} | {text} |")?;
    }
    let flow_cells = |f: &FlowKey| {
        format!(
            "{} | {} | {} {} | {} | {}",
            m(&f.source),
            m(&f.destination),
            m(&f.protocol),
            m(&f.ports),
            m(&f.service),
            m(&f.phase)
        )
    };
    let flow_columns = ["source", "destination", "ports", "service", "phase"];
    folded_table(
        out,
        "verdicts changed",
        &[&flow_columns[..], &["was", "now", "decided by"]].concat(),
        &diff.verdicts_changed,
        |c| {
            format!(
                "{} | {} | **{}** | {}",
                flow_cells(&c.flow),
                c.base_verdict,
                c.head_verdict,
                m(&or_none(&c.head_decided_by))
            )
        },
    )?;
    for (title, list) in [
        ("flows added", &diff.flows_added),
        ("flows removed", &diff.flows_removed),
    ] {
        folded_table(
            out,
            title,
            &[&flow_columns[..], &["verdict"]].concat(),
            list,
            |f| format!("{} | {}", flow_cells(&f.flow), f.verdict),
        )?;
    }
    folded_table(
        out,
        "firewall rules",
        &["change", "firewall", "rule", "where", "verdicts turned"],
        &diff.rules,
        |r| {
            let text = match (&r.base, &r.head) {
                (Some(was), Some(now)) if was != now => format!("{} → {}", m(was), m(now)),
                (_, Some(x)) | (Some(x), None) => m(x),
                (None, None) => String::new(),
            };
            format!(
                "{} | {} | {}: {} | {}:{} | {}",
                kind_text(r.change),
                m(&r.firewall),
                m(&rule_label(r)),
                text,
                m(&r.file),
                r.line,
                r.flows.len()
            )
        },
    )?;
    for (title, list) in [
        ("new diagnostics", &diff.diagnostics_new),
        ("fixed diagnostics", &diff.diagnostics_fixed),
    ] {
        folded_table(
            out,
            title,
            &["where", "severity", "code", "message"],
            list,
            |x| {
                format!(
                    "{}:{}:{} | {} | {} | {}",
                    m(&x.file),
                    x.line,
                    x.column,
                    x.severity,
                    m(x.code),
                    m(&x.message)
                )
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_increasing_keeps_the_rules_that_did_not_move() {
        // Rule 2 moved to the front: 0, 1, 3 keep their order.
        assert_eq!(longest_increasing(&[2, 0, 1, 3]), BTreeSet::from([1, 2, 3]));
        assert_eq!(longest_increasing(&[0, 1, 2]), BTreeSet::from([0, 1, 2]));
        assert!(longest_increasing(&[]).is_empty());
    }
}

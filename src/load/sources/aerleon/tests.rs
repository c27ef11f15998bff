//! The reader end to end: a policy in a temporary repository with its `def/` folder.

use std::path::{Path, PathBuf};

use super::read;
use crate::load::sources::{ExtraFiles, NetworkRules, SourceError, SourceInput};
use crate::model::{Action, Endpoint, FirewallRule, PortItem, SourceId, Span};

/// Files the reader opened, by id (the policy itself is id 0).
#[derive(Default)]
struct Extra {
    files: Vec<(PathBuf, String)>,
}

impl ExtraFiles for Extra {
    fn add(&mut self, path: &Path, text: String) -> SourceId {
        self.files.push((path.to_path_buf(), text));
        SourceId(u32::try_from(self.files.len()).unwrap())
    }
}

const NETWORKS: &str = "networks:
  CM_SERVERS:
    values:
      - address: 10.0.1.10/32
        comment: site server
      - name: DP_SERVERS
  DP_SERVERS:
    values:
      - address: 10.0.2.0/24
  CLIENTS:
    values:
      - address: 10.10.0.0/16
  QUARANTINE:
    values:
      - address: 10.10.99.0/24
";

const SERVICES: &str = "services:
  HTTPS:
    - port: 443
      protocol: tcp
  WEB:
    - port: 80
      protocol: tcp
    - name: HTTPS
  DNS:
    - port: 53
      protocol: tcp
    - port: 53
      protocol: udp
  HIGH:
    - port: 1024-65535
      protocol: tcp
    - port: 1024-65535
      protocol: udp
";

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let r = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        r.write("def/networks.yaml", NETWORKS);
        r.write("def/services.yaml", SERVICES);
        r
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn read(&self, rel: &str, text: &str) -> (Result<NetworkRules, SourceError>, Extra) {
        let path = self.write(rel, text);
        let mut extra = Extra::default();
        let input = SourceInput {
            id: SourceId(0),
            text,
            path: &path,
            zones: &[],
            attached: None,
        };
        (read(&input, &mut extra), extra)
    }

    fn ok(&self, rel: &str, text: &str) -> NetworkRules {
        match self.read(rel, text).0 {
            Ok(r) => r,
            Err(e) => panic!("{e:?}"),
        }
    }

    fn err(&self, rel: &str, text: &str) -> SourceError {
        match self.read(rel, text).0 {
            Ok(r) => panic!("expected an error, got {r:?}"),
            Err(e) => e,
        }
    }
}

/// A YAML policy of one filter with these terms.
fn policy(targets: &str, terms: &str) -> String {
    format!("filters:\n  - header:\n      targets:\n{targets}    terms:\n{terms}")
}

const IPTABLES: &str = "        iptables: FORWARD DROP\n";

fn at(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

/// 1-based line and column of a span's start.
fn line_col(text: &str, span: Span) -> (usize, usize) {
    let before = &text[..span.start];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

fn cidrs(list: &[crate::model::Spanned<Endpoint>]) -> Vec<String> {
    list.iter().map(|e| e.value.to_string()).collect()
}

fn ports(rule: &FirewallRule, tcp: bool) -> Vec<(u16, u16)> {
    let list = if tcp {
        &rule.traffic.tcp
    } else {
        &rule.traffic.udp
    };
    list.as_ref()
        .map(|l| {
            l.value
                .items
                .iter()
                .map(|i| match i {
                    PortItem::Range(a, b) => (*a, *b),
                    other => panic!("{other:?}"),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn yaml_terms_become_rules_in_order_with_their_spans() {
    let repo = Repo::new();
    let text = policy(
        IPTABLES,
        "      - name: clients-to-dp
        comment: content
        source-address: CLIENTS
        destination-address: DP_SERVERS
        destination-port: WEB
        protocol: tcp
        action: accept
      - name: dns
        destination-port: DNS
        protocol: [udp]
        action: reject
      - name: everything-else
        action: deny
",
    );
    let r = repo.ok("policies/pol/fw.yaml", &text);
    assert_eq!(r.rules.len(), 3);
    let first = &r.rules[0];
    assert_eq!(first.action, Action::Allow);
    assert_eq!(first.name.as_ref().unwrap().value, "clients-to-dp");
    assert_eq!(line_col(&text, first.span), (6, 9));
    assert!(at(&text, first.span).ends_with("action: accept"));
    assert_eq!(cidrs(&first.traffic.from), ["cidr:10.10.0.0/16"]);
    assert_eq!(at(&text, first.traffic.from[0].span), "CLIENTS");
    assert_eq!(cidrs(&first.traffic.to), ["cidr:10.0.2.0/24"]);
    assert_eq!(ports(first, true), [(80, 80), (443, 443)]);
    assert!(first.traffic.udp.is_none() && !first.traffic.icmp);
    assert!(first.uncertain.is_none());
    // Only the service's UDP ports, for a UDP term.
    let dns = &r.rules[1];
    assert_eq!(dns.action, Action::Deny);
    assert!(dns.traffic.tcp.is_none());
    assert_eq!(ports(dns, false), [(53, 53)]);
    assert_eq!(dns.traffic.from[0].value, Endpoint::Any);
    // No protocol: every protocol.
    assert!(r.rules[2].traffic.matches_all_protocols());
    // The header's default, pointed at.
    let default = r.default.unwrap();
    assert_eq!(default.value, Action::Deny);
    assert_eq!(at(&text, default.span), "DROP");
    assert!(r.unsupported.is_empty());
}

#[test]
fn classic_pol_with_net_and_svc_files_reads_the_same() {
    let repo = Repo {
        dir: tempfile::tempdir().unwrap(),
    };
    repo.write(
        "def/NETWORK.net",
        "CLIENTS = 10.10.0.0/16  # all clients\nDP_SERVERS = 10.0.2.0/24\n",
    );
    repo.write(
        "def/SERVICES.svc",
        "HTTPS = 443/tcp\nWEB = 80/tcp\n      HTTPS\n",
    );
    let text = "header {\n  comment:: \"edge\"\n  target:: iptables FORWARD ACCEPT\n}\n\nterm clients-to-dp {\n  source-address:: CLIENTS\n  destination-address:: DP_SERVERS\n  destination-port:: WEB\n  protocol:: tcp\n  action:: accept\n}\n";
    let r = repo.ok("policies/pol/fw.pol", text);
    assert_eq!(r.rules.len(), 1);
    let rule = &r.rules[0];
    assert_eq!(line_col(text, rule.span), (6, 1));
    assert_eq!(cidrs(&rule.traffic.from), ["cidr:10.10.0.0/16"]);
    assert_eq!(ports(rule, true), [(80, 80), (443, 443)]);
    assert_eq!(r.default.as_ref().unwrap().value, Action::Allow);
    assert_eq!(at(text, r.default.unwrap().span), "ACCEPT");
}

#[test]
fn iptables_forward_without_an_action_drops() {
    let repo = Repo::new();
    let text = policy(
        "        iptables: FORWARD\n",
        "      - name: a\n        action: accept\n",
    );
    let r = repo.ok("policies/pol/fw.yaml", &text);
    let d = r.default.unwrap();
    assert_eq!(d.value, Action::Deny);
    assert_eq!(at(&text, d.span), "FORWARD");
    // A filter for another platform states no default: the firewall node's applies.
    let text = policy(
        "        juniper: edge-in\n",
        "      - name: a\n        action: accept\n",
    );
    assert!(repo.ok("policies/pol/fw.yaml", &text).default.is_none());
}

#[test]
fn excludes_are_exact_differences() {
    let repo = Repo::new();
    let text = policy(
        IPTABLES,
        "      - name: not-quarantine
        source-address: CLIENTS
        source-exclude: QUARANTINE
        destination-exclude: 10.0.0.0/8
        action: accept
      - name: nothing-left
        source-address: QUARANTINE
        source-exclude: CLIENTS
        action: accept
",
    );
    let r = repo.ok("policies/pol/fw.yaml", &text);
    assert_eq!(
        r.rules.len(),
        1,
        "a term whose sources are all excluded matches nothing"
    );
    let rule = &r.rules[0];
    assert_eq!(
        cidrs(&rule.traffic.from),
        [
            "cidr:10.10.0.0/18",
            "cidr:10.10.64.0/19",
            "cidr:10.10.96.0/23",
            "cidr:10.10.98.0/24",
            "cidr:10.10.100.0/22",
            "cidr:10.10.104.0/21",
            "cidr:10.10.112.0/20",
            "cidr:10.10.128.0/17"
        ]
    );
    assert!(
        rule.traffic
            .from
            .iter()
            .all(|e| at(&text, e.span) == "CLIENTS")
    );
    // Any destination less 10/8: both families' halves.
    let to = cidrs(&rule.traffic.to);
    assert!(to.contains(&"cidr:11.0.0.0/8".to_owned()), "{to:?}");
    assert!(to.contains(&"cidr:::/0".to_owned()), "{to:?}");
    assert!(!to.iter().any(|c| c.starts_with("cidr:10.")));
    assert!(rule.uncertain.is_none());
}

#[test]
fn options_actions_and_protocols() {
    let repo = Repo::new();
    let text = policy(
        IPTABLES,
        "      - name: replies
        option: tcp-established
        protocol: tcp
        action: accept
      - name: go-on
        action: next
      - name: gre-only
        protocol: gre
        action: accept
      - name: pong-only
        protocol: icmp
        icmp-type: echo-reply
        action: accept
      - name: ping
        protocol: icmp
        icmp-type: echo-request echo-reply
        action: accept
      - name: not-tcp
        protocol-except: tcp
        action: deny
      - name: syn
        option: tcp-initial
        protocol: tcp
        destination-port: 443
        action: accept
      - name: odd
        option: first-fragment
        counter: c
        action: deny
",
    );
    let r = repo.ok("policies/pol/fw.yaml", &text);
    let names: Vec<&str> = r
        .rules
        .iter()
        .map(|x| x.name.as_ref().unwrap().value.as_str())
        .collect();
    assert_eq!(names, ["ping", "not-tcp", "syn", "odd"]);
    assert!(r.rules[0].traffic.icmp && r.rules[0].traffic.tcp.is_none());
    let not_tcp = &r.rules[1].traffic;
    assert!(not_tcp.tcp.is_none() && not_tcp.icmp);
    assert_eq!(ports(&r.rules[1], false), [(1, 65535)]);
    assert_eq!(ports(&r.rules[2], true), [(443, 443)]);
    assert!(r.rules[2].uncertain.is_none());
    // An option cmflow cannot represent: unsupported, and the rule uncertain there.
    let odd = &r.rules[3];
    assert_eq!(at(&text, odd.uncertain.unwrap()), "first-fragment");
    assert_eq!(r.unsupported.len(), 1);
    assert_eq!(
        r.unsupported[0].construct,
        "option `first-fragment` in term `odd`"
    );
    assert_eq!(r.unsupported[0].span, odd.uncertain.unwrap());
}

#[test]
fn source_ports_against_the_ephemeral_range() {
    let repo = Repo::new();
    let text = policy(
        IPTABLES,
        "      - name: high
        source-port: HIGH
        protocol: tcp
        action: accept
      - name: dns-replies
        source-port: DNS
        protocol: udp
        action: accept
      - name: some
        source-port: 50000-60000
        protocol: tcp
        action: accept
",
    );
    let r = repo.ok("policies/pol/fw.yaml", &text);
    assert_eq!(
        r.rules.len(),
        2,
        "a source port outside the range never matches"
    );
    assert!(r.rules[0].uncertain.is_none());
    assert_eq!(ports(&r.rules[0], true), [(1, 65535)]);
    let some = &r.rules[1];
    assert_eq!(at(&text, some.uncertain.unwrap()), "source-port");
    // Partly inside: the verdicts are unknown, but nothing is unsupported.
    assert!(r.unsupported.is_empty());
}

#[test]
fn platforms_expiration_verbatim_and_unknown_keywords() {
    let repo = Repo::new();
    let text = policy(
        "        iptables: FORWARD DROP\n        windows_advfirewall: in\n",
        "      - name: juniper-only
        platform: juniper
        action: accept
      - name: not-windows
        platform-exclude: windows_advfirewall
        action: accept
      - name: expired
        expiration: 2001-01-31
        action: accept
      - name: later
        expiration: 2999-01-31
        action: deny
      - name: raw
        verbatim:
          iptables: \"-A FORWARD -j ACCEPT\"
      - name: iface
        source-interface: eth0
        action: accept
",
    );
    let r = repo.ok("policies/pol/fw.yaml", &text);
    let names: Vec<&str> = r
        .rules
        .iter()
        .map(|x| x.name.as_ref().unwrap().value.as_str())
        .collect();
    // `verbatim` gives an uncertain allow and an uncertain deny: its action is unknown.
    assert_eq!(names, ["not-windows", "later", "raw", "raw", "iface"]);
    assert_eq!(at(&text, r.rules[0].uncertain.unwrap()), "platform-exclude");
    assert!(r.rules[1].uncertain.is_none());
    for (rule, action) in r.rules[2..4].iter().zip([Action::Allow, Action::Deny]) {
        assert_eq!(rule.action, action);
        assert_eq!(at(&text, rule.uncertain.unwrap()), "verbatim");
        assert!(rule.traffic.matches_all_protocols());
        assert_eq!(rule.span, r.rules[2].span);
    }
    assert_eq!(at(&text, r.rules[4].uncertain.unwrap()), "source-interface");
    let constructs: Vec<&str> = r.unsupported.iter().map(|u| u.construct.as_str()).collect();
    assert_eq!(
        constructs,
        [
            "term `not-windows` rendered for some of the filter's platforms only (iptables, windows_advfirewall)",
            "`verbatim` in term `raw`",
            "`source-interface` in term `iface`"
        ]
    );
    let err = repo.err(
        "policies/pol/fw.yaml",
        &policy(
            IPTABLES,
            "      - name: x\n        expiration: soon\n        action: accept\n",
        ),
    );
    assert_eq!(err.message, "`soon` is not a date such as 2030-12-31");
}

#[test]
fn names_that_resolve_to_nothing_are_parse_errors_where_written() {
    let repo = Repo::new();
    let text = policy(
        IPTABLES,
        "      - name: x\n        destination-address: CM_SERVERS NOPE\n        action: accept\n",
    );
    let err = repo.err("policies/pol/fw.yaml", &text);
    assert_eq!(err.message, "no network named `NOPE`");
    assert_eq!(at(&text, err.span.unwrap()), "NOPE");
    let text = policy(
        IPTABLES,
        "      - name: x\n        destination-port: WEB NOPE\n        protocol: tcp\n        action: accept\n",
    );
    let err = repo.err("policies/pol/fw.yaml", &text);
    assert_eq!(err.message, "no service named `NOPE`");
    assert_eq!(at(&text, err.span.unwrap()), "NOPE");
    // Ports need a protocol; a service without the term's protocol gives no port.
    let text = policy(
        IPTABLES,
        "      - name: x\n        destination-port: WEB\n        action: accept\n",
    );
    let err = repo.err("policies/pol/fw.yaml", &text);
    assert_eq!(err.message, "term `x` has ports but no protocol");
    let text = policy(
        IPTABLES,
        "      - name: x\n        destination-port: WEB\n        protocol: udp\n        action: accept\n",
    );
    let err = repo.err("policies/pol/fw.yaml", &text);
    assert!(
        err.message
            .starts_with("no destination-port of the term's protocols (udp)")
    );
    let err = repo.err(
        "policies/pol/fw.yaml",
        &policy(IPTABLES, "      - name: x\n        action: allow\n"),
    );
    assert!(err.message.starts_with("`allow` is not an action"));
    let err = repo.err(
        "policies/pol/fw.yaml",
        &policy(IPTABLES, "      - name: x\n        protocol: tcp\n"),
    );
    assert_eq!(err.message, "term `x` has no action");
}

#[test]
fn without_a_def_folder_names_cannot_resolve() {
    let repo = Repo {
        dir: tempfile::tempdir().unwrap(),
    };
    let text = policy(
        IPTABLES,
        "      - name: x\n        source-address: 10.1.0.0/16\n        destination-address: WEB\n        action: accept\n",
    );
    let err = repo.err("fw.yaml", &text);
    assert_eq!(err.message, "no network named `WEB`");
    assert_eq!(
        err.help.as_deref(),
        Some("no `def/` folder was found beside or above the policy")
    );
}

#[test]
fn errors_in_definition_files_point_into_them() {
    let repo = Repo::new();
    repo.write(
        "def/more.yaml",
        "networks:\n  BROKEN:\n    values:\n      - address: 10.0.0.999\n",
    );
    let (result, extra) = repo.read(
        "policies/pol/fw.yaml",
        &policy(IPTABLES, "      - name: x\n        action: accept\n"),
    );
    let err = result.unwrap_err();
    let span = err.span.unwrap();
    // Definition files are read in name order: more.yaml is the first.
    let (path, text) = &extra.files[usize::try_from(span.source.0).unwrap() - 1];
    assert!(path.ends_with("def/more.yaml"));
    assert_eq!(at(text, span), "10.0.0.999");
}

#[test]
fn includes_of_terms_and_filters() {
    let repo = Repo::new();
    repo.write(
        "policies/includes/deny-quarantine.yaml",
        "terms:\n  - name: deny-quarantine\n    source-address: QUARANTINE\n    action: deny\n",
    );
    let text = policy(
        IPTABLES,
        "      - include: includes/deny-quarantine.yaml\n      - name: clients\n        source-address: CLIENTS\n        action: accept\n",
    );
    let (result, extra) = repo.read("policies/pol/fw.yaml", &text);
    let r = result.unwrap();
    assert_eq!(r.rules.len(), 2);
    let inc = &r.rules[0];
    let (path, inc_text) = &extra.files[usize::try_from(inc.span.source.0).unwrap() - 1];
    assert!(path.ends_with("includes/deny-quarantine.yaml"));
    assert!(at(inc_text, inc.span).starts_with("name: deny-quarantine"));
    // A filter include, and the same in the classic syntax.
    repo.write(
        "policies/common.yaml",
        &format!(
            "filters_include_only:\n{}",
            policy(IPTABLES, "      - name: all\n        action: accept\n")
                .trim_start_matches("filters:\n")
        ),
    );
    let r = repo.ok(
        "policies/pol/f2.yaml",
        "filters:\n  - include: common.yaml\n",
    );
    assert_eq!(r.rules.len(), 1);
    repo.write(
        "policies/includes/q.inc",
        "term deny-quarantine {\n  source-address:: QUARANTINE\n  action:: deny\n}\n",
    );
    let text = "header {\n  target:: iptables FORWARD DROP\n}\n#include 'includes/q.inc'\nterm x {\n  action:: accept\n}\n";
    let (result, extra) = repo.read("policies/pol/fw.pol", text);
    let r = result.unwrap();
    assert_eq!(r.rules.len(), 2);
    assert_ne!(r.rules[0].span.source, SourceId(0));
    assert!(
        extra
            .files
            .iter()
            .any(|(p, _)| p.ends_with("includes/q.inc"))
    );
    let err = repo.err(
        "policies/pol/fw.yaml",
        &policy(IPTABLES, "      - include: missing.yaml\n"),
    );
    assert_eq!(err.message, "no included file `missing.yaml`");
    let err = repo.err(
        "policies/pol/fw.yaml",
        &policy(IPTABLES, "      - include: ../../x.yaml\n"),
    );
    assert!(err.message.contains("inside the policies' folder"));
}

#[test]
fn which_filters_the_firewall_applies() {
    let repo = Repo::new();
    let text = "filters:
  - header:
      targets:
        juniper: edge-in
    terms:
      - name: j
        action: deny
  - header:
      targets:
        iptables: FORWARD DROP
    terms:
      - name: f1
        action: accept
  - header:
      targets:
        iptables: INPUT DROP
    terms:
      - name: i
        action: deny
  - header:
      targets:
        iptables: FORWARD ACCEPT
    terms:
      - name: f2
        protocol: tcp
        action: deny
";
    let r = repo.ok("policies/pol/fw.yaml", text);
    let names: Vec<&str> = r
        .rules
        .iter()
        .map(|x| x.name.as_ref().unwrap().value.as_str())
        .collect();
    assert_eq!(names, ["f1", "f2"]);
    // The last FORWARD filter's policy is the chain's.
    assert_eq!(r.default.unwrap().value, Action::Allow);
    let text = "filters:
  - header:
      targets:
        juniper: a
    terms:
      - name: j
        action: deny
  - header:
      targets:
        juniper: b
    terms:
      - name: k
        action: deny
";
    let err = repo.err("policies/pol/fw.yaml", text);
    assert!(
        err.message
            .starts_with("the policy has 2 filters and none targets the forward chain")
    );
    assert_eq!(line_col(text, err.span.unwrap()), (9, 7));
}

#[test]
fn yaml_syntax_errors_are_parse_errors() {
    let repo = Repo::new();
    let err = repo.err("policies/pol/fw.yaml", "filters: [\n");
    assert!(err.message.starts_with("this YAML cannot be read"));
    let err = repo.err("policies/pol/fw.yaml", "targets: {}\n");
    assert_eq!(err.message, "the policy has no `filters` list");
    let err = repo.err("policies/pol/fw.yaml", "filters:\n  - terms: []\n");
    assert_eq!(err.message, "a filter needs a `header` with its `targets`");
    let err = repo.err(
        "policies/pol/fw.yaml",
        "filters:\n  - header:\n      targets:\n        iptables: FORWARD\n    terms:\n      - action: accept\n",
    );
    assert_eq!(err.message, "a term needs a `name`");
}

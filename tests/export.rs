//! End-to-end tests of `cmflow export`: a snapshot of every target on `examples/contoso`,
//! the other examples, exit codes, the refusal to overwrite a model file, and the round
//! trip: the exported `kdl` rules, loaded back in place of the model's own firewalls,
//! give no `firewall/blocked-flow` and no `firewall/unused-rule`.

mod common;

use common::{root, run};

use std::collections::HashMap;
use std::path::Path;

use kdl::{KdlDocument, KdlNode};

#[path = "../examples/generate/model.rs"]
mod generate;

/// Every file below `dir`, as (relative path with `/`, text), sorted.
fn files(dir: &Path) -> Vec<(String, String)> {
    common::files_below(dir, |_| true)
}

#[test]
fn windows_firewall_contoso() {
    let r = run(
        &root(),
        &["export", "examples/contoso", "--target", "windows-firewall"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Remove-NetFirewallRule -DisplayName 'cmflow:*'")
    );
    assert!(r.stdout.contains("-LocalPort 'RPC'"));
    assert!(r.stdout.contains("-LocalPort 'RPCEPMap'"));
    insta::assert_snapshot!("export-windows-firewall-contoso", r.stdout);
}

/// The windows-firewall script of contoso with `extra` arguments.
fn script(extra: &[&str]) -> String {
    let mut args = vec!["export", "examples/contoso", "--target", "windows-firewall"];
    args.extend_from_slice(extra);
    let r = run(&root(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with('\u{feff}'), "UTF-8 with a BOM");
    r.stdout
}

#[test]
fn windows_firewall_refuses_other_hosts_and_has_what_if() {
    let s = script(&[]);
    assert!(s.contains("[CmdletBinding(SupportsShouldProcess)]\n"));
    assert!(s.contains(
        "$PSDefaultParameterValues = @{ '*-NetFirewallRule:WhatIf' = [bool]$WhatIfPreference }\n"
    ));
    // The refusal comes before the first change.
    let refusal = s
        .find("} elseif ($cmflowServers -notcontains $fqdn) {")
        .expect("refusal");
    let first_change = s.find("Remove-NetFirewallRule").expect("reset");
    assert!(refusal < first_change);
    assert!(s.contains("    exit 1\n"));
    assert!(
        s.contains("$cmflowServers = @(\n    'cm-cas01.contoso.com'\n"),
        "{s}"
    );
    // Without an option, every rule keeps its command line: no store, no session.
    assert!(!s.contains("-PolicyStore") && !s.contains("-GPOSession"));
}

#[test]
fn windows_firewall_policy_store_local() {
    let s = script(&["--policy-store", "localhost"]);
    let rules: Vec<&str> = s
        .lines()
        .filter(|l| l.trim_start().starts_with("New-NetFirewallRule"))
        .collect();
    assert!(!rules.is_empty());
    assert!(
        rules
            .iter()
            .all(|l| l.ends_with(" -PolicyStore 'localhost' | Out-Null"))
    );
    assert!(s.contains("Remove-NetFirewallRule -DisplayName 'cmflow:*' -PolicyStore 'localhost' -ErrorAction SilentlyContinue"));
    // Still bound to its hosts.
    assert!(s.contains("} elseif ($cmflowServers -notcontains $fqdn) {"));
    insta::assert_snapshot!("export-windows-firewall-contoso-localhost", s);
}

#[test]
fn windows_firewall_gpo_session_and_only() {
    let s = script(&[
        "--policy-store",
        "contoso.com\\CM servers (P01)",
        "--only",
        "site:P01,host:dc01.contoso.com",
    ]);
    assert!(s.contains("$gpo = Open-NetGPO -PolicyStore 'contoso.com\\CM servers (P01)'\n"));
    assert!(s.contains("Remove-NetFirewallRule -DisplayName 'cmflow:*' -GPOSession $gpo -ErrorAction SilentlyContinue\n"));
    assert!(s.ends_with("if ($PSCmdlet.ShouldProcess('contoso.com\\CM servers (P01)', 'Save-NetGPO')) {\n    Save-NetGPO -GPOSession $gpo\n}\n"));
    // Runs anywhere: no host check, no -ClientGroup, no local-administrator requirement.
    assert!(!s.contains("$fqdn") && !s.contains("ClientGroup") && !s.contains("#Requires"));
    let rules: Vec<&str> = s
        .lines()
        .filter(|l| l.trim_start().starts_with("New-NetFirewallRule"))
        .collect();
    assert!(
        rules
            .iter()
            .all(|l| l.ends_with(" -GPOSession $gpo | Out-Null"))
    );
    // Only P01's servers and client groups, and the named domain controller.
    assert!(s.contains("# server cm-p01.contoso.com "));
    assert!(s.contains("# server dc01.contoso.com "));
    assert!(s.contains("# client group HQ desktops "));
    assert!(!s.contains("# server cm-p02.contoso.com "));
    assert!(!s.contains("# server cm-cas01.contoso.com "));
    insta::assert_snapshot!("export-windows-firewall-contoso-gpo-only", s);
}

#[test]
fn windows_firewall_only_one_server() {
    let s = script(&["--only", "host:cm-p02.contoso.com"]);
    assert_eq!(
        s.matches("\nif ($ClientGroup -eq '' -and $fqdn").count(),
        1,
        "{s}"
    );
    assert!(
        s.contains(
            "$cmflowServers = @(\n    'cm-p02.contoso.com'\n)\n$cmflowClientGroups = @(\n)\n"
        ),
        "{s}"
    );
    insta::assert_snapshot!("export-windows-firewall-contoso-only-host", s);
}

#[test]
fn windows_firewall_options_fail_on_unknown_names() {
    for (args, expected) in [
        (
            vec!["--only", "host:cm-p0l.contoso.com"],
            "error: --only: the model has no server `cm-p0l.contoso.com`\n  help: did you mean `cm-p01.contoso.com`?\n",
        ),
        (
            vec!["--only", "site:P0l"],
            "error: --only: the model has no site `P0l`\n  help: did you mean `P01`?\n",
        ),
        (
            vec!["--only", "clients:HQ desktop"],
            "error: --only: the model has no client group `HQ desktop`\n  help: did you mean `HQ desktops`?\n",
        ),
        (
            vec!["--policy-store", "PersistantStore"],
            "error: --policy-store: unknown policy store `PersistantStore`\n  help: did you mean `PersistentStore`?\n",
        ),
    ] {
        let mut all = vec!["export", "examples/contoso", "--target", "windows-firewall"];
        all.extend(args);
        let r = run(&root(), &all);
        assert_eq!(r.code, 2, "{all:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{all:?}");
        assert_eq!(r.stderr, expected, "{all:?}");
    }
    let r = run(
        &root(),
        &[
            "export",
            "examples/contoso",
            "--target",
            "csv",
            "--only",
            "site:P01",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--only applies to --target windows-firewall only"),
        "{}",
        r.stderr
    );
}

#[test]
fn csv_contoso() {
    let r = run(&root(), &["export", "examples/contoso", "--target", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.matches("\r\n").count(),
        r.stdout.matches('\n').count(),
        "CRLF line ends"
    );
    insta::assert_snapshot!("export-csv-contoso", r.stdout.replace("\r\n", "\n"));
}

/// The records of a CSV export, header first.
fn csv_records(text: &str) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .expect("CSV")
}

#[test]
fn csv_has_one_row_per_firewall_rule_and_same_zone_rules_with_all() {
    let csv = run(&root(), &["export", "examples/contoso", "--target", "csv"]);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let rows = csv_records(&csv.stdout);
    // As many rows as the kdl export has network rules, every one naming its firewall.
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("kdl");
    let kdl = run(
        &root(),
        &[
            "export",
            "examples/contoso",
            "--target",
            "kdl",
            "--out",
            out.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(kdl.code, 0, "{}", kdl.stderr);
    let firewalls = std::fs::read_to_string(out.join("firewalls.kdl")).expect("firewalls.kdl");
    let kdl_rules: Vec<&str> = firewalls
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("allow \""))
        .filter_map(|l| l.split('"').next())
        .collect();
    assert_eq!(rows.len() - 1, kdl_rules.len());
    assert_eq!(&rows[0][0], "firewall");
    assert!(rows[1..].iter().all(|r| !r[0].is_empty()));
    // Same rule names, same order.
    let names: Vec<&str> = rows[1..].iter().map(|r| &r[1]).collect();
    assert_eq!(names, kdl_rules);
    // Every source is written with its addresses.
    let hq = rows
        .iter()
        .find(|r| r[2].starts_with("HQ desktops ("))
        .expect("a rule from HQ desktops");
    assert!(hq[2].contains("HQ desktops (10.10.0.0/16)"), "{hq:?}");
    assert!(hq[3].split(' ').any(|a| a == "10.10.0.0/16"), "{hq:?}");
    assert!(hq[10].starts_with("https://learn.microsoft.com/"), "{hq:?}");

    let all = run(
        &root(),
        &["export", "examples/contoso", "--target", "csv", "--all"],
    );
    assert_eq!(all.code, 0, "{}", all.stderr);
    let all_rows = csv_records(&all.stdout);
    let same_zone: Vec<&csv::StringRecord> =
        all_rows[1..].iter().filter(|r| r[0].is_empty()).collect();
    assert!(!same_zone.is_empty());
    // The firewalls' rows first, unchanged; the same-zone rules after them.
    assert_eq!(all_rows[..rows.len()], rows[..]);
    assert_eq!(all_rows.len(), rows.len() + same_zone.len());
}

#[test]
fn all_applies_to_csv_only() {
    let r = run(
        &root(),
        &["export", "examples/contoso", "--target", "kdl", "--all"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--all applies to --target csv only"),
        "{}",
        r.stderr
    );
}

#[test]
fn kdl_contoso() {
    let out = tempfile::tempdir().expect("temporary folder");
    let r = run(
        &root(),
        &[
            "export",
            "examples/contoso",
            "--target",
            "kdl",
            "--out",
            out.path().to_str().expect("utf-8"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    let all = files(out.path());
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [".ignore", "firewalls.kdl", "windows-firewall.kdl"]);
    for (name, text) in all {
        insta::assert_snapshot!(format!("export-kdl-contoso-{name}"), text);
    }
}

#[test]
fn aerleon_contoso() {
    let out = tempfile::tempdir().expect("temporary folder");
    let r = run(
        &root(),
        &[
            "export",
            "examples/contoso",
            "--target",
            "aerleon",
            "--out",
            out.path().to_str().expect("utf-8"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let all = files(out.path());
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "def/networks.yaml",
            "def/services.yaml",
            "policies/pol/fw-core.yaml",
            "policies/pol/fw-edge.yaml"
        ]
    );
    for (name, text) in all {
        insta::assert_snapshot!(
            format!("export-aerleon-contoso-{}", name.replace('/', "-")),
            text
        );
    }
}

/// Multi-file targets default to `./cmflow-export`, which the next run in the model's
/// folder does not load (`.ignore`).
#[test]
fn multi_file_targets_default_to_a_folder_the_model_ignores() {
    let dir = tempfile::tempdir().expect("temporary folder");
    for (name, text) in files(&root().join("examples/standalone-primary")) {
        std::fs::write(dir.path().join(name), text).expect("copy");
    }
    let r = run(dir.path(), &["export", "--target", "kdl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let written = files(&dir.path().join("cmflow-export"));
    assert_eq!(written.len(), 3);
    // No firewall in the model: no network rules, but every host's Windows Firewall.
    assert!(!written[1].1.contains("firewall \""));
    assert!(written[2].1.contains("windows-firewall inbound=\"block\""));
    let r = run(dir.path(), &["check", "--format", "short"]);
    common::assert_clean(&r, "");
}

#[test]
fn every_target_on_every_example() {
    for example in ["contoso", "standalone-primary", "broken"] {
        for target in ["windows-firewall", "csv", "aerleon", "kdl"] {
            let out = tempfile::tempdir().expect("temporary folder");
            let path = format!("examples/{example}");
            let r = run(
                &root(),
                &[
                    "export",
                    &path,
                    "--target",
                    target,
                    "--out",
                    out.path().to_str().expect("utf-8"),
                ],
            );
            // `broken` has input errors: printed on stderr, exit 1, the export still made.
            let expected = i32::from(example == "broken");
            assert_eq!(r.code, expected, "{example} {target}: {}", r.stderr);
            if example == "broken" {
                assert!(r.stderr.contains("kdl/syntax"), "{}", r.stderr);
            }
            assert!(!files(out.path()).is_empty(), "{example} {target}");
        }
    }
}

/// The export never writes into a folder of the model (contoso has a `firewalls.kdl`).
#[test]
fn refuses_to_write_into_the_model() {
    let dir = tempfile::tempdir().expect("temporary folder");
    for (name, text) in files(&root().join("examples/contoso")) {
        std::fs::write(dir.path().join(name), text).expect("copy");
    }
    let before = std::fs::read_to_string(dir.path().join("firewalls.kdl")).expect("text");
    let r = run(
        dir.path(),
        &["export", ".", "--target", "kdl", "--out", "."],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("a file of the model"), "{}", r.stderr);
    let after = std::fs::read_to_string(dir.path().join("firewalls.kdl")).expect("text");
    assert_eq!(before, after);
    assert!(!dir.path().join(".ignore").exists());
}

#[test]
fn bad_target_is_exit_2() {
    let r = run(&root(), &["export", "examples/contoso", "--target", "pf"]);
    assert_eq!(r.code, 2);
}

// ---------------------------------------------------------------------------------------
// Round trip
// ---------------------------------------------------------------------------------------

fn first_arg(node: &KdlNode) -> Option<String> {
    node.entry(0)
        .and_then(|e| e.value().as_string())
        .map(str::to_owned)
}

/// The host a node declares: `("server", lower-case FQDN)` or `("clients", name)`.
fn host_key(node: &KdlNode) -> Option<(String, String)> {
    let kind = node.name().value();
    let name = first_arg(node)?;
    match kind {
        "server" => Some(("server".into(), name.to_ascii_lowercase())),
        "clients" => Some(("clients".into(), name)),
        _ => None,
    }
}

/// Removes the model's firewalls and Windows Firewall blocks from one document and
/// pastes the exported blocks into their hosts' nodes.
fn strip_and_paste(doc: &mut KdlDocument, blocks: &mut HashMap<(String, String), KdlNode>) {
    doc.nodes_mut().retain(|n| n.name().value() != "firewall");
    let paste = |node: &mut KdlNode, blocks: &mut HashMap<(String, String), KdlNode>| {
        if let Some(children) = node.children_mut() {
            children
                .nodes_mut()
                .retain(|c| c.name().value() != "windows-firewall");
        }
        if let Some(block) = host_key(node).and_then(|k| blocks.remove(&k)) {
            node.ensure_children().nodes_mut().push(block);
        }
    };
    for node in doc.nodes_mut() {
        if node.name().value() == "site" {
            if let Some(children) = node.children_mut() {
                for server in children.nodes_mut() {
                    paste(server, blocks);
                }
            }
        } else {
            paste(node, blocks);
        }
    }
    doc.autoformat();
}

/// Exports `model` as kdl (every phase), builds model-without-firewalls + export in a
/// temporary folder, and returns `cmflow check`'s short output on it.
fn round_trip(model: &Path, drop_first_network_rule: bool) -> String {
    let joined = joined_model(model, drop_first_network_rule);
    let r = common::check_every_phase(joined.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

/// The model without its firewalls, plus the kdl export of its firewalls.
fn joined_model(model: &Path, drop_first_network_rule: bool) -> tempfile::TempDir {
    let exported = tempfile::tempdir().expect("temporary folder");
    let r = run(
        &root(),
        &[
            "export",
            model.to_str().expect("utf-8"),
            "--target",
            "kdl",
            "--phase",
            "all",
            "--out",
            exported.path().to_str().expect("utf-8"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let hosts_text =
        std::fs::read_to_string(exported.path().join("windows-firewall.kdl")).expect("text");
    let hosts = KdlDocument::parse(&hosts_text).expect("the exported blocks parse");
    let mut blocks: HashMap<(String, String), KdlNode> = hosts
        .nodes()
        .iter()
        .map(|n| {
            let block = n
                .children()
                .and_then(|c| c.get("windows-firewall"))
                .expect("a windows-firewall block")
                .clone();
            (host_key(n).expect("server or clients"), block)
        })
        .collect();
    assert!(!blocks.is_empty());
    let joined = tempfile::tempdir().expect("temporary folder");
    for (name, text) in files(model) {
        if Path::new(&name).extension().is_none_or(|e| e != "kdl") {
            continue;
        }
        let mut doc = KdlDocument::parse(&text).expect("the model parses");
        strip_and_paste(&mut doc, &mut blocks);
        let target = joined.path().join(name.replace('/', "_"));
        std::fs::write(target, doc.to_string()).expect("write");
    }
    assert!(blocks.is_empty(), "hosts not found: {:?}", blocks.keys());
    let mut firewalls =
        std::fs::read_to_string(exported.path().join("firewalls.kdl")).expect("text");
    if drop_first_network_rule {
        let start = firewalls.find("    allow ").expect("a network rule");
        let end = start + firewalls[start..].find('\n').expect("a line");
        firewalls.replace_range(start..=end, "");
    }
    std::fs::write(joined.path().join("cmflow-firewalls.kdl"), firewalls).expect("write");
    joined
}

/// Each flow's (source, destination, protocol, ports, verdict) in `flows --format json`.
fn verdicts(dir: &Path) -> Vec<String> {
    let r = run(dir, &["flows", ".", "--phase", "all", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    doc["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .map(|f| {
            format!(
                "{} -> {} {} {}: {}",
                f["source"], f["destination"], f["protocol"], f["ports"], f["verdict"]
            )
        })
        .collect()
}

/// Exports keep intent: a model with forbids (one in conflict with a required flow), deny
/// rules and a waiver, exported and loaded back, gives the same verdicts and breaks no
/// policy.
#[test]
fn round_trip_keeps_intent() {
    for model in [
        root().join("tests/fixtures/export-intent"),
        root().join("examples/contoso"),
        root().join("examples/standalone-primary"),
    ] {
        let joined = joined_model(&model, false);
        let before = verdicts(&model);
        assert_eq!(before, verdicts(joined.path()), "{}", model.display());
        let out = round_trip(&model, false);
        assert!(!out.contains("[policy/forbidden-flow]"), "{out}");
    }
    let model = root().join("tests/fixtures/export-intent");
    let before = verdicts(&model);
    assert!(
        before.iter().any(|v| v.ends_with(": \"waived\"")),
        "{before:#?}"
    );
    let firewalls = {
        let out = tempfile::tempdir().expect("temporary folder");
        let r = run(
            &root(),
            &[
                "export",
                model.to_str().expect("utf-8"),
                "--target",
                "kdl",
                "--out",
                out.path().to_str().expect("utf-8"),
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        std::fs::read_to_string(out.path().join("firewalls.kdl")).expect("text")
    };
    insta::assert_snapshot!("export-kdl-intent-firewalls", firewalls);
}

fn assert_round_trip(model: &Path) {
    let out = round_trip(model, false);
    for code in [
        "firewall/blocked-flow",
        "firewall/unused-rule",
        "firewall/no-path",
        "kdl/",
        "schema/",
    ] {
        assert!(
            !out.contains(&format!("[{code}]")),
            "{}: {code}\n{out}",
            model.display()
        );
    }
}

#[test]
fn round_trip_contoso() {
    assert_round_trip(&root().join("examples/contoso"));
}

/// The round trip has teeth: without one exported rule, its flows are blocked.
#[test]
fn round_trip_without_a_rule_blocks_its_flows() {
    let out = round_trip(&root().join("examples/contoso"), true);
    assert!(out.contains("[firewall/blocked-flow]"), "{out}");
}

#[test]
fn round_trip_standalone_primary() {
    assert_round_trip(&root().join("examples/standalone-primary"));
}

#[test]
fn round_trip_generated_small() {
    let dir = tempfile::tempdir().expect("temporary folder");
    assert!(generate::SCALE_NAMES.contains(&"small"));
    generate::write_scale("small", dir.path()).expect("the generated model");
    assert_round_trip(dir.path());
}

/// The generated model with boundary groups: the same flows and verdicts as without them
/// (its groups describe the same design), and the round trip with intent holds.
#[test]
fn round_trip_generated_small_with_boundary_groups() {
    let plain = tempfile::tempdir().expect("temporary folder");
    generate::write_scale("small", plain.path()).expect("the generated model");
    let dir = tempfile::tempdir().expect("temporary folder");
    generate::write_scale_with_boundary_groups("small", dir.path()).expect("the model");
    assert!(dir.path().join("boundaries.kdl").exists());
    let before = verdicts(dir.path());
    assert_eq!(before, verdicts(plain.path()));
    let joined = joined_model(dir.path(), false);
    assert_eq!(before, verdicts(joined.path()));
    assert_round_trip(dir.path());
}

/// The same on the larger generated models (about 50 s in a release build, minutes in a
/// debug one): `cargo test --release --test export -- --ignored`.
#[test]
#[ignore = "slow: run with --ignored"]
fn round_trip_generated_medium_and_max() {
    for scale in ["medium", "max"] {
        let dir = tempfile::tempdir().expect("temporary folder");
        generate::write_scale(scale, dir.path()).expect("the generated model");
        assert_round_trip(dir.path());
    }
}

/// A PXE distribution point behind a network firewall from its clients.
const PXE_MODEL: &str = r#"zone "datacenter" { subnet "10.0.0.0/24" }
zone "office" { subnet "10.20.0.0/16" }

site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="datacenter" address="10.0.0.10" {
        site-server
        sms-provider
        management-point
        distribution-point pxe=#true
        sql-instance "MSSQLSERVER"
    }
}
clients "Office PCs" site="P01" zone="office"
firewall "fw-core" default="deny" {
    zones "office" "datacenter"
}
"#;

#[test]
fn dhcp_rules_allow_any_source_in_every_target() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("model.kdl"), PXE_MODEL).expect("write");
    let export = |target: &str| {
        let out = tmp.path().join(format!("out-{target}"));
        let r = run(
            tmp.path(),
            &[
                "export",
                "model.kdl",
                "--target",
                target,
                "--out",
                out.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(r.code, 0, "{target}: {}", r.stderr);
        files(&out)
            .into_iter()
            .map(|(_, text)| text)
            .collect::<String>()
    };
    let kdl = export("kdl");
    assert!(kdl.contains(
        "    // from any: Office PCs ask before they have an address (from 0.0.0.0 to broadcast)\n    allow \"cmflow: Office PCs to cm01.contoso.com (broadcast)\" from=\"any\" to=\"host:cm01.contoso.com\" udp=\"67-68\"\n"
    ), "{kdl}");
    // The other PXE flows keep the clients' subnet.
    assert!(kdl.contains(
        "allow \"cmflow: Office PCs to cm01.contoso.com\" from=\"clients:Office PCs\" to=\"host:cm01.contoso.com\" tcp=\"80,10123\" udp=\"69,4011\"\n"
    ), "{kdl}");
    assert!(kdl.contains("allow in \"cmflow: in DHCP (UDP 67-68)\" udp=\"67-68\" from=\"any\" profile=\"domain\"\n"), "{kdl}");
    let aerleon = export("aerleon");
    assert!(aerleon.contains(
        "        comment: \"cmflow: Office PCs to cm01.contoso.com (broadcast): DHCP (1 flow)\"\n        destination-address: HOST_CM01_CONTOSO_COM\n        destination-port: UDP_67-68\n"
    ), "{aerleon}");
    let ps = export("windows-firewall");
    assert!(ps.contains(
        "    # DHCP requests come from 0.0.0.0 to the broadcast address: any remote address.\n    New-NetFirewallRule -DisplayName 'cmflow: in DHCP (UDP 67-68)' -Group 'cmflow' -Direction Inbound -Action Allow -Protocol UDP -LocalPort '67-68' -RemoteAddress Any -Profile Domain | Out-Null\n"
    ), "{ps}");
    let csv = export("csv");
    assert!(csv.contains(
        "fw-core,cmflow: Office PCs to cm01.contoso.com (broadcast),Office PCs (any),any,cm01.contoso.com (10.0.0.10),10.0.0.10,udp,67-68,DHCP,1,"
    ), "{csv}");
    // The other PXE flows keep the clients' subnet; a rule of two protocols is one row.
    assert!(csv.contains(
        "fw-core,cmflow: Office PCs to cm01.contoso.com,Office PCs (10.20.0.0/16),10.20.0.0/16,cm01.contoso.com (10.0.0.10),10.0.0.10,tcp udp,\"tcp 80,10123; udp 69,4011\","
    ), "{csv}");
}

// ---------------------------------------------------------------------------------------
// Round trip through Windows Firewall: the PowerShell export, as `Get-NetFirewallRule`
// would return its rules, read back with `format="netfirewallrule-json"`.
// ---------------------------------------------------------------------------------------

/// The parameters of one PowerShell command line (`-Name value[,value...]`) up to `|`:
/// single-quoted strings with `''` escapes and barewords, as the exporter writes them.
fn powershell_parameters(line: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut chars = line.chars().peekable();
    let word = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> String {
        let mut w = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\'' {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                        w.push('\'');
                    } else {
                        break;
                    }
                } else {
                    w.push(c);
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == ',' || c == '|' {
                    break;
                }
                w.push(c);
                chars.next();
            }
        }
        w
    };
    while let Some(&c) = chars.peek() {
        match c {
            '|' => break,
            c if c.is_whitespace() => {
                chars.next();
            }
            '-' => {
                chars.next();
                let name = word(&mut chars);
                out.push((name, Vec::new()));
            }
            _ => {
                let mut values = vec![word(&mut chars)];
                while chars.peek() == Some(&',') {
                    chars.next();
                    values.push(word(&mut chars));
                }
                if let Some(last) = out.last_mut() {
                    last.1.extend(values);
                }
            }
        }
    }
    out
}

/// `ConvertTo-Json` writes a one-item array as the item.
fn unwrapped(values: &[String]) -> serde_json::Value {
    match values {
        [one] => serde_json::Value::from(one.as_str()),
        many => serde_json::Value::from(many.to_vec()),
    }
}

/// What `Get-NetFirewallRule` and its filters would return on each host after running
/// the `windows-firewall` script, in the shape of `Export-CmflowFirewallRules.ps1`, by
/// host (`("server", fqdn)` or `("clients", name)`).
fn netfirewallrule_exports(script: &str) -> HashMap<(String, String), serde_json::Value> {
    let mut out = HashMap::new();
    let mut current: Option<((String, String), bool, Vec<serde_json::Value>)> = None;
    let mut outbound_blocked = false;
    for line in script.lines().map(str::trim) {
        if line.starts_with("# server ") || line.starts_with("# client group ") {
            outbound_blocked = line.ends_with(", outbound blocked by default");
        } else if let Some(condition) = line.strip_prefix("if (") {
            // `$fqdn -ieq 'NAME'` or `$ClientGroup -eq 'NAME'`: the section's host.
            let (kind, operator) = if condition.contains("$fqdn") {
                ("server", "-ieq ")
            } else {
                ("clients", "-eq ")
            };
            let quoted = condition
                .rfind(operator)
                .map(|i| &condition[i + operator.len()..]);
            let Some(quoted) = quoted else { continue };
            let name = powershell_parameters(&format!("-x {quoted}"))
                .remove(0)
                .1
                .remove(0);
            let name = if kind == "server" {
                name.to_ascii_lowercase()
            } else {
                name
            };
            current = Some(((kind.into(), name), outbound_blocked, Vec::new()));
        } else if line.starts_with("New-NetFirewallRule") {
            let params: HashMap<String, Vec<String>> =
                powershell_parameters(line).into_iter().collect();
            let get = |k: &str| params.get(k).cloned().unwrap_or_else(|| vec!["Any".into()]);
            let one = |k: &str| get(k).remove(0);
            let profile: u32 = get("Profile")
                .iter()
                .map(|p| match p.as_str() {
                    "Domain" => 1,
                    "Private" => 2,
                    "Public" => 4,
                    _ => 0,
                })
                .sum();
            let rule = serde_json::json!({
                "Name": format!("{{cmflow-{}-{}}}", out.len(), current.as_ref().map_or(0, |c| c.2.len())),
                "DisplayName": one("DisplayName"),
                "Group": one("Group"),
                "Enabled": 1,
                "Profile": profile,
                "Direction": if one("Direction") == "Inbound" { 1 } else { 2 },
                "Action": if one("Action") == "Allow" { 2 } else { 4 },
                "EdgeTraversalPolicy": 0,
                "PolicyStoreSourceType": 1,
                "PortFilter": {
                    "Protocol": one("Protocol"),
                    "LocalPort": unwrapped(&get("LocalPort")),
                    "RemotePort": unwrapped(&get("RemotePort")),
                    "IcmpType": unwrapped(&get("IcmpType")),
                    "DynamicTarget": 0
                },
                "AddressFilter": {
                    "LocalAddress": "Any",
                    "RemoteAddress": unwrapped(&get("RemoteAddress"))
                },
                "ApplicationFilter": { "Program": "Any", "Package": null },
                "ServiceFilter": { "Service": "Any" },
                "InterfaceFilter": { "InterfaceAlias": "Any" },
                "InterfaceTypeFilter": { "InterfaceType": 0 },
                "SecurityFilter": { "Authentication": 0, "Encryption": 0, "RemoteUser": null, "RemoteMachine": null, "LocalUser": null }
            });
            if let Some(c) = current.as_mut() {
                c.2.push(rule);
            }
        } else if line == "}"
            && let Some((host, blocked, rules)) = current.take()
        {
            // Windows' defaults (inbound blocked, outbound allowed), but for hosts whose
            // administrator blocks outbound traffic, as the script's header says.
            let outbound = if blocked { 4 } else { 2 };
            let profiles: Vec<serde_json::Value> = ["Domain", "Private", "Public"]
                .iter()
                .map(|p| serde_json::json!({"Name": p, "Enabled": 1, "DefaultInboundAction": 4, "DefaultOutboundAction": outbound}))
                .collect();
            out.insert(
                host.clone(),
                serde_json::json!({
                    "Schema": "cmflow-netfirewallrule/1",
                    "ComputerName": host.1,
                    "PolicyStore": "ActiveStore",
                    "ExportedAt": "2026-12-01T00:00:00Z",
                    "Profiles": profiles,
                    "Rules": rules,
                }),
            );
        }
    }
    out
}

/// The same rules as [MS-GPFAS] rule strings, one per line (`gpo-registry`).
fn rule_strings(export: &serde_json::Value) -> String {
    let list = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            serde_json::Value::String(one) => vec![one.clone()],
            _ => Vec::new(),
        }
    };
    let mut out = String::new();
    for rule in export["Rules"].as_array().expect("rules") {
        let inbound = rule["Direction"] == 1;
        let mut fields = vec![
            "v2.31".to_owned(),
            format!(
                "Action={}",
                if rule["Action"] == 2 {
                    "Allow"
                } else {
                    "Block"
                }
            ),
            "Active=TRUE".to_owned(),
            format!("Dir={}", if inbound { "In" } else { "Out" }),
        ];
        let ports = &rule["PortFilter"];
        match ports["Protocol"].as_str().expect("protocol") {
            "TCP" => fields.push("Protocol=6".into()),
            "UDP" => fields.push("Protocol=17".into()),
            "ICMPv4" => fields.extend(["Protocol=1".into(), "ICMP4=8:*".into()]),
            _ => {}
        }
        let profile = rule["Profile"].as_u64().expect("profile flags");
        for (bit, name) in [(1, "Domain"), (2, "Private"), (4, "Public")] {
            if profile & bit != 0 {
                fields.push(format!("Profile={name}"));
            }
        }
        let (side, key) = if inbound {
            (&ports["LocalPort"], "LPort")
        } else {
            (&ports["RemotePort"], "RPort")
        };
        for port in list(side).into_iter().filter(|p| p != "Any") {
            fields.push(match port.as_str() {
                "RPCEPMap" => format!("{key}=RPC-EPMap"),
                p if p.contains('-') => format!("{key}2_10={p}"),
                p => format!("{key}={p}"),
            });
        }
        for address in list(&rule["AddressFilter"]["RemoteAddress"])
            .into_iter()
            .filter(|a| a != "Any")
        {
            let key = if address.contains(':') { "RA6" } else { "RA4" };
            fields.push(format!("{key}={address}"));
        }
        fields.push(format!(
            "Name={}",
            rule["DisplayName"].as_str().expect("name")
        ));
        out.push_str(&fields.join("|"));
        out.push_str("|\n");
    }
    out
}

/// The model without its firewalls, plus the exported network firewalls (as in
/// [`joined_model`]), each host's Windows Firewall read from the `netfirewallrule-json`
/// of the `windows-firewall` script.
fn joined_model_with_exports(model: &Path, format: &str) -> tempfile::TempDir {
    let joined = joined_model(model, false);
    let r = run(
        &root(),
        &[
            "export",
            model.to_str().expect("utf-8"),
            "--target",
            "windows-firewall",
            "--phase",
            "all",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut exports = netfirewallrule_exports(&r.stdout);
    assert!(!exports.is_empty());
    std::fs::create_dir(joined.path().join("hosts")).expect("folder");
    let mut written = 0;
    for (name, text) in files(joined.path()) {
        if Path::new(&name).extension().is_none_or(|e| e != "kdl") {
            continue;
        }
        let mut doc = KdlDocument::parse(&text).expect("the joined model parses");
        let mut replace = |node: &mut KdlNode| {
            let Some(key) = host_key(node) else { return };
            let Some(children) = node.children_mut() else {
                return;
            };
            for child in children.nodes_mut() {
                if child.name().value() != "windows-firewall" {
                    continue;
                }
                let export = exports
                    .remove(&key)
                    .unwrap_or_else(|| panic!("no section for {key:?} in {:?}", exports.keys()));
                written += 1;
                let (file, text, defaults) = if format == "gpo-registry" {
                    // Rule strings state no profile defaults: the node's stay.
                    let defaults: Vec<String> = child
                        .entries()
                        .iter()
                        .filter(|e| e.name().is_some())
                        .map(ToString::to_string)
                        .collect();
                    (
                        format!("hosts/{written}.txt"),
                        rule_strings(&export),
                        defaults.join(""),
                    )
                } else {
                    (
                        format!("hosts/{written}.json"),
                        serde_json::to_string_pretty(&export).expect("json"),
                        String::new(),
                    )
                };
                std::fs::write(joined.path().join(&file), text).expect("write");
                *child = KdlDocument::parse(&format!(
                    "windows-firewall source=\"{file}\" format=\"{format}\"{defaults}"
                ))
                .expect("a node")
                .nodes()[0]
                    .clone();
            }
        };
        for node in doc.nodes_mut() {
            if node.name().value() == "site" {
                for server in node
                    .children_mut()
                    .iter_mut()
                    .flat_map(KdlDocument::nodes_mut)
                {
                    replace(server);
                }
            } else {
                replace(node);
            }
        }
        std::fs::write(joined.path().join(&name), doc.to_string()).expect("write");
    }
    assert!(exports.is_empty(), "hosts not found: {:?}", exports.keys());
    assert!(written > 0);
    joined
}

/// Round trip (c): every required flow has the same verdict whether the hosts' Windows
/// Firewalls are the model's own KDL or what the PowerShell export leaves on the hosts,
/// read back from `Get-NetFirewallRule`'s JSON.
fn assert_windows_round_trip(model: &Path) {
    let before = verdicts(model);
    let kdl = joined_model(model, false);
    assert_eq!(before, verdicts(kdl.path()), "{}", model.display());
    for format in ["netfirewallrule-json", "gpo-registry"] {
        let joined = joined_model_with_exports(model, format);
        let after = verdicts(joined.path());
        assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            assert_eq!(b, a, "{} ({format})", model.display());
        }
        let r = common::check_every_phase(joined.path());
        assert!(!r.stdout.contains("[source/"), "{format}: {}", r.stdout);
    }
}

#[test]
fn windows_round_trip_contoso() {
    assert_windows_round_trip(&root().join("examples/contoso"));
}

#[test]
fn windows_round_trip_generated_small() {
    let dir = tempfile::tempdir().expect("temporary folder");
    generate::write_scale("small", dir.path()).expect("the generated model");
    assert_windows_round_trip(dir.path());
}

#[test]
fn powershell_parameters_read_the_exporter_quoting() {
    let p = powershell_parameters(
        "New-NetFirewallRule -DisplayName 'it''s a, test' -Profile Domain,Private -LocalPort '80','443' | Out-Null",
    );
    assert_eq!(
        p,
        [
            ("DisplayName".to_owned(), vec!["it's a, test".to_owned()]),
            (
                "Profile".to_owned(),
                vec!["Domain".to_owned(), "Private".to_owned()]
            ),
            (
                "LocalPort".to_owned(),
                vec!["80".to_owned(), "443".to_owned()]
            ),
        ]
    );
}

/// The Windows round trip has teeth: without one exported allow rule in a host's JSON,
/// some required flow is no longer allowed.
#[test]
fn windows_round_trip_without_a_rule_changes_a_verdict() {
    let model = root().join("examples/contoso");
    let json = joined_model_with_exports(&model, "netfirewallrule-json");
    let before = verdicts(json.path());
    let hosts = json.path().join("hosts");
    let mut dropped = false;
    for entry in std::fs::read_dir(&hosts).expect("hosts") {
        let path = entry.expect("entry").path();
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("text")).expect("json");
        let rules = doc["Rules"].as_array_mut().expect("rules");
        if let Some(i) = rules.iter().position(|r| r["Action"] == 2) {
            rules.remove(i);
            std::fs::write(&path, doc.to_string()).expect("write");
            dropped = true;
            break;
        }
    }
    assert!(dropped);
    let after = verdicts(json.path());
    assert_eq!(before.len(), after.len());
    assert!(
        before
            .iter()
            .zip(&after)
            .any(|(b, a)| b.ends_with("\"allowed\"") && a.ends_with("\"blocked\"")),
        "{after:#?}"
    );
}

//! Every exporter against hostile names: a model whose client group, console, zone,
//! firewall and user flow carry arbitrary Unicode (line and paragraph separators, quotes
//! of every script, controls, bidi controls, BOM) exports files with exactly the shape of
//! the same model with plain names: no name can add a command, a term, a node or a
//! column. (The loader refuses most of these characters; these tests do not rely on it.)

use std::collections::BTreeMap;
use std::io::{self, Write};

use proptest::prelude::*;

use super::{ExportInput, Output, Target, export};
use crate::engine::{Network, Phase, evaluate, required_flows, test_model};
use crate::escape::powershell::tokenizer;
use crate::escape::strategies;
use crate::model::Model;

/// Files in memory.
#[derive(Default)]
struct Memory(BTreeMap<String, std::rc::Rc<std::cell::RefCell<Vec<u8>>>>);

struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Output for Memory {
    fn create(&mut self, path: &str) -> io::Result<Box<dyn Write + '_>> {
        let file = self.0.entry(path.to_owned()).or_default().clone();
        Ok(Box::new(Shared(file)))
    }
}

const MODEL: &str = r#"
zone "office" { subnet "10.1.0.0/16" }
zone "dc" { subnet "10.0.0.0/24" }
zone "admin" { subnet "10.9.0.0/24" }
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="dc" address="10.0.0.10" {
        site-server
        sms-provider
        management-point
        distribution-point
        sql-instance "MSSQLSERVER"
        windows-firewall inbound="block" outbound="block" {
            block in "no telnet" from="zone:office" tcp="23"
        }
    }
}
clients "HQ" site="P01" zone="office" remote-control=#true {
    windows-firewall inbound="block"
}
console "ops" site="P01" zone="admin"
firewall "core" {
    zones "office" "dc" "admin"
    deny "no smb from offices" from="zone:office" to="zone:dc" tcp="139"
}
policy "no rdp" {
    forbid from="zone:office" to="zone:dc" tcp="3389"
}
flow "backup" from="host:cm01.contoso.com" to="zone:admin" tcp="445"
"#;

/// The model with its names replaced by `name` (each with a suffix, so they differ).
fn renamed(name: &str) -> Model {
    let mut m = test_model(MODEL);
    let group = format!("{name}g");
    let console = format!("{name}c");
    let zone = format!("{name}z");
    m.clients[0].name.value.clone_from(&group);
    m.index.clients.insert(group, 0);
    m.consoles[0].name.value.clone_from(&console);
    m.index.consoles.insert(console, 0);
    m.firewalls[0].name.value = format!("{name}f");
    m.flows[0].name.value = format!("{name}u");
    m.policies[0].name.value = format!("{name}p");
    for rule in &mut m.firewalls[0].rules {
        if let Some(n) = &mut rule.name {
            n.value = format!("{name}r");
        }
    }
    if let Some(fw) = &mut m.servers[0].host_firewall {
        for rule in &mut fw.rules {
            if let Some(n) = &mut rule.name {
                n.value = format!("{name}b");
            }
        }
    }
    // The admin zone, everywhere it is named.
    m.zones[2].name.value.clone_from(&zone);
    m.index.zones.insert(zone.clone(), 2);
    m.consoles[0].zone.value.clone_from(&zone);
    for z in &mut m.firewalls[0].zones {
        if z.value == "admin" {
            z.value.clone_from(&zone);
        }
    }
    m
}

/// Every file of `target` for the model with `name`.
fn files(target: Target, name: &str) -> BTreeMap<String, String> {
    files_with(target, name, &super::ExportOptions::default())
}

/// [`files`] with options.
fn files_with(
    target: Target,
    name: &str,
    options: &super::ExportOptions,
) -> BTreeMap<String, String> {
    let model = renamed(name);
    let phases = [Phase::Operation];
    let net = Network::new(&model);
    // As `cmflow export` does: the flows an export opens, and the intent it carries.
    let flows = crate::engine::intent::exported_flows(&net, &required_flows(&model, &phases));
    let verdicts = evaluate(&net, &flows);
    let carried = crate::engine::intent::carried(&net, &flows, &verdicts);
    let input = ExportInput {
        model: &model,
        flows: &flows,
        verdicts: &verdicts,
        phases: &phases,
        carried: &carried,
        options,
    };
    let mut out = Memory::default();
    export(target, &input, &mut out).expect("export");
    out.0
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8(v.borrow().clone()).expect("UTF-8")))
        .collect()
}

/// A YAML document's shape: mappings and sequences with their sizes, scalars blanked.
fn yaml_shape(y: &yaml_rust2::Yaml) -> String {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Hash(h) => format!(
            "{{{}}}",
            h.iter()
                .map(|(_, v)| yaml_shape(v))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Yaml::Array(a) => format!(
            "[{}]",
            a.iter().map(yaml_shape).collect::<Vec<_>>().join(",")
        ),
        _ => "_".into(),
    }
}

/// A KDL document's shape: node names and entry counts, values blanked.
fn kdl_shape(doc: &::kdl::KdlDocument) -> String {
    doc.nodes()
        .iter()
        .map(|n| {
            format!(
                "{}/{}{{{}}}",
                n.name().value(),
                n.entries().len(),
                n.children().map(kdl_shape).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(";")
}

const PLAIN: &str = "plain";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn powershell_scripts_keep_their_shape(name in strategies::name()) {
        let script = |n: &str| files(Target::WindowsFirewall, n).into_values().next().expect("one file");
        let hostile = tokenizer::tokenize(&script(&name)).map_err(TestCaseError::fail)?;
        let plain = tokenizer::tokenize(&script(PLAIN)).map_err(TestCaseError::fail)?;
        prop_assert_eq!(tokenizer::shape(&hostile), tokenizer::shape(&plain));
        let group = format!("{name}g");
        prop_assert!(hostile.contains(&tokenizer::Token::Verbatim(group)));
    }

    /// A GPO named by the user and a subset of hosts (`--policy-store`, `--only`): the
    /// GPO's name is a string and a comment, never code.
    #[test]
    fn powershell_gpo_scripts_keep_their_shape(name in strategies::name()) {
        let script = |n: &str| {
            let options = super::ExportOptions {
                policy_store: Some(super::windows_firewall::PolicyStore::Gpo(format!("contoso.com\\{n}"))),
                only: Some(vec![crate::engine::FlowEndpoint::Clients(0)]),
                ..Default::default()
            };
            files_with(Target::WindowsFirewall, n, &options).into_values().next().expect("one file")
        };
        let hostile = tokenizer::tokenize(&script(&name)).map_err(TestCaseError::fail)?;
        let plain = tokenizer::tokenize(&script(PLAIN)).map_err(TestCaseError::fail)?;
        prop_assert_eq!(tokenizer::shape(&hostile), tokenizer::shape(&plain));
        let gpo = format!("contoso.com\\{name}");
        prop_assert!(hostile.contains(&tokenizer::Token::Verbatim(gpo)));
    }

    #[test]
    fn aerleon_policies_keep_their_shape(name in strategies::name()) {
        let hostile = files(Target::Aerleon, &name);
        let plain = files(Target::Aerleon, PLAIN);
        prop_assert_eq!(hostile.len(), plain.len());
        for ((_, h), (_, p)) in hostile.iter().zip(&plain) {
            let h = yaml_rust2::YamlLoader::load_from_str(h).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let p = yaml_rust2::YamlLoader::load_from_str(p).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(h.iter().map(yaml_shape).collect::<Vec<_>>(), p.iter().map(yaml_shape).collect::<Vec<_>>());
        }
    }

    #[test]
    fn kdl_exports_keep_their_shape(name in strategies::name()) {
        let hostile = files(Target::Kdl, &name);
        let plain = files(Target::Kdl, PLAIN);
        for (file, text) in &hostile {
            if std::path::Path::new(file).extension().is_none_or(|e| e != "kdl") {
                continue;
            }
            let h = ::kdl::KdlDocument::parse_v2(text).map_err(|e| TestCaseError::fail(format!("{file}: {e:?}")))?;
            let p = ::kdl::KdlDocument::parse_v2(&plain[file]).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(kdl_shape(&h), kdl_shape(&p));
        }
        let firewalls = ::kdl::KdlDocument::parse_v2(&hostile["firewalls.kdl"]).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let fw_name = format!("{name}f");
        prop_assert_eq!(firewalls.nodes()[0].entries()[0].value().as_string(), Some(fw_name.as_str()));
    }

    #[test]
    fn csv_rows_keep_their_columns(name in strategies::name()) {
        let read = |text: &str| -> Result<Vec<usize>, TestCaseError> {
            let mut r = ::csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
            r.records().map(|rec| rec.map(|x| x.len()).map_err(|e| TestCaseError::fail(e.to_string()))).collect()
        };
        let hostile = files(Target::Csv, &name).into_values().next().expect("one file");
        let plain = files(Target::Csv, PLAIN).into_values().next().expect("one file");
        let widths = read(&plain)?;
        // A header and one row per rule of the one firewall, eleven columns each.
        prop_assert!(widths.len() > 1 && widths.iter().all(|&n| n == 11), "{:?}", widths);
        prop_assert_eq!(read(&hostile)?, widths);
        // The client group's name reaches its rules' `sources` cell whole (behind the
        // formula guard when it starts the cell and starts like a formula).
        let group = format!("{name}g");
        let mut r = ::csv::ReaderBuilder::new().has_headers(true).from_reader(hostile.as_bytes());
        let sources: Vec<String> = r.records().filter_map(Result::ok).map(|rec| rec[2].to_owned()).collect();
        let shown = format!("{group} (");
        prop_assert!(sources.iter().any(|s| s.contains(&shown)), "{:?}", sources);
    }
}

#[test]
fn names_reach_every_target_intact_or_escaped() {
    // The reproducers of the red-team run.
    let name =
        "x\n}\nRemove-Item C:\\ -Recurse # \u{2019} \u{2028}- name: evil\u{85}allow from=\"any\"";
    let script = files(Target::WindowsFirewall, name)
        .into_values()
        .next()
        .expect("script");
    assert!(script.starts_with('\u{feff}'), "UTF-8 with a BOM");
    let tokens = tokenizer::tokenize(&script).expect("tokens");
    assert!(
        !tokens
            .iter()
            .any(|t| matches!(t, tokenizer::Token::Code(c) if c.contains("Remove-Item")))
    );
    // The carried intent (deny rules, forbids, host block rules) is exported too.
    assert!(script.contains("-Action Block"), "{script}");
    let kdl = files(Target::Kdl, name);
    assert!(
        kdl["firewalls.kdl"].contains("\n    deny "),
        "{}",
        kdl["firewalls.kdl"]
    );
    assert!(
        !kdl["firewalls.kdl"]
            .lines()
            .any(|l| l.trim_start().starts_with("allow from=\"any\""))
    );
    let aerleon = files(Target::Aerleon, name);
    for text in aerleon.values() {
        assert!(!text.contains(['\u{2028}', '\u{85}']), "{text}");
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start().starts_with("- name: evil"))
        );
    }
}

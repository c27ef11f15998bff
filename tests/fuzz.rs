//! The fuzz harness: hostile KDL (deep nesting of every kind, comments and raw strings
//! that hide or reveal braces, escapes, KDL 1 habits, control characters, repeated nodes)
//! through every entry point: the loader, the formatter, the flow engine and every export
//! target. Nothing may panic or overflow the stack; everything must end in diagnostics.
//!
//! `cargo test --test fuzz` runs a fixed budget with a fixed seed (CI). A longer run:
//! `CMFLOW_FUZZ_CASES=200000 CMFLOW_FUZZ_SEED=$RANDOM cargo test --release --test fuzz`
//! (see `docs/decisions.md` § Hostile input for the runs made).

use std::collections::BTreeMap;
use std::io::{self, Write};

use cmflow::engine::{Network, Phase, evaluate, required_flows_bounded};
use cmflow::export::{ExportInput, Output, Target, export};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

/// Pieces of KDL syntax, with the ones that open or close something weighted up.
const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "{",
    "}",
    "/*",
    "*/",
    "/-",
    "//",
    "\n",
    "\r\n",
    ";",
    " ",
    "\t",
    "\"",
    "\"\"\"",
    "#\"",
    "\"#",
    "##\"",
    "\"##",
    "r#\"",
    "\\",
    "\\\"",
    "=",
    "(",
    ")",
    "#true",
    "true",
    "null",
    "#null",
    "1",
    "-0x7f",
    "1e999",
    "zone",
    "site",
    "server",
    "clients",
    "firewall",
    "allow",
    "from=\"any\"",
    "tcp=\"80\"",
    "\"P01\"",
    "\"a.b.com\"",
    "\u{2028}",
    "\u{85}",
    "\u{feff}",
    "\u{1b}[31m",
    "\u{202e}",
    "\u{0}",
    "é",
    "’",
];

/// A model that loads, so that engine and exports run, with a hostile tail.
const BASE: &str = r#"zone "office" { subnet "10.1.0.0/16" }
zone "dc" { subnet "10.0.0.0/24" }
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="dc" address="10.0.0.10" {
        site-server
        management-point
        distribution-point
        sql-instance "MSSQLSERVER"
    }
}
clients "HQ" site="P01" zone="office"
firewall "core" { zones "office" "dc"; allow "web" from="zone:office" to="zone:dc" tcp="80,443" }
"#;

fn document() -> impl Strategy<Value = String> {
    let soup =
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..300).prop_map(|v| v.concat());
    let deep = (
        prop::sample::select(FRAGMENTS),
        prop::sample::select(FRAGMENTS),
        1usize..3000,
    )
        .prop_map(|(a, b, n)| format!("{}x{}", a.repeat(n), b.repeat(n)));
    let mixed = (prop::collection::vec((prop::sample::select(FRAGMENTS), 1usize..400), 1..6))
        .prop_map(|parts| parts.iter().map(|(f, n)| f.repeat(*n)).collect::<String>());
    let based = prop_oneof![soup.clone(), mixed.clone()].prop_map(|tail| format!("{BASE}{tail}"));
    prop_oneof![soup, deep, mixed, based]
}

#[derive(Default)]
struct Sink(BTreeMap<String, usize>);

struct Counter<'a>(&'a mut usize);

impl Write for Counter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        *self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Output for Sink {
    fn create(&mut self, path: &str) -> io::Result<Box<dyn Write + '_>> {
        Ok(Box::new(Counter(
            self.0.entry(path.to_owned()).or_default(),
        )))
    }
}

/// Every entry point on one text.
fn exercise(text: &str) {
    let loaded = cmflow::load::load_texts(
        vec![("f.kdl".into(), text.as_bytes().to_vec(), false)],
        cmflow::rules::SPEC_CODES,
    );
    for d in &loaded.diagnostics {
        assert!(d.primary.span.end <= text.len() + 3, "span inside the file");
    }
    let _ = cmflow::load::on_parse_threads(|| cmflow::format::format_kdl(text));
    let model = loaded.model;
    let phases = Phase::ALL;
    let Ok(flows) = required_flows_bounded(&model, &phases) else {
        return;
    };
    let net = Network::new(&model);
    let flows = cmflow::engine::intent::exported_flows(&net, &flows);
    let verdicts = evaluate(&net, &flows);
    let carried = cmflow::engine::intent::carried(&net, &flows, &verdicts);
    let input = ExportInput {
        model: &model,
        flows: &flows,
        verdicts: &verdicts,
        phases: &phases,
        carried: &carried,
        options: &cmflow::export::ExportOptions::default(),
    };
    for target in [
        Target::WindowsFirewall,
        Target::Aerleon,
        Target::Csv,
        Target::Kdl,
    ] {
        export(target, &input, &mut Sink::default()).expect("export to memory");
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `CMFLOW_FUZZ_CASES` cases from `CMFLOW_FUZZ_SEED`; with `CMFLOW_FUZZ_SECONDS`, rounds of
/// that many cases from successive seeds until the time is up, with the count printed.
#[test]
fn hostile_documents_end_in_diagnostics() {
    let cases = u32::try_from(env("CMFLOW_FUZZ_CASES", 96)).unwrap_or(u32::MAX);
    let seconds = env("CMFLOW_FUZZ_SECONDS", 0);
    let start = std::time::Instant::now();
    let mut seed = env("CMFLOW_FUZZ_SEED", 15);
    let mut tried = 0u64;
    loop {
        let config = Config {
            cases,
            rng_seed: RngSeed::Fixed(seed),
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        runner
            .run(&document(), |text| {
                exercise(&text);
                Ok(())
            })
            .expect("no failure");
        tried += u64::from(cases);
        seed += 1;
        if start.elapsed().as_secs() >= seconds {
            break;
        }
    }
    println!(
        "fuzz: {tried} documents in {:.0} s, seeds {}..{seed}",
        start.elapsed().as_secs_f64(),
        env("CMFLOW_FUZZ_SEED", 15)
    );
}

#[test]
fn the_red_team_reproducers_end_in_diagnostics() {
    for text in [
        format!("{}{}", "/*".repeat(1000), "*/".repeat(1000)),
        format!("a #\"C:\\\"# {}", "{".repeat(400)),
        format!("a /* #\"C:\\\"# */ {}", "{".repeat(400)),
        format!("{}a", "/- ".repeat(5000)),
        format!("a \"\"\"\n\" {}", "{".repeat(3000)),
        format!("{BASE}{}", "{".repeat(100_000)),
        // Found by the long run: the KDL 1 parser panicked on a line separator after `/-`.
        "(true/-\u{2028}".to_owned(),
    ] {
        exercise(&text);
    }
}

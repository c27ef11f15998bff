//! Verdicts at firewall scale: `cmflow::engine::evaluate` of 10,000 required flows
//! through one network firewall of 500 or 5,000 rules, generated here.
//!
//! The model: 50 zones (`10.Z.0.0/16`) of 40 servers each, a few with their own
//! `rpc-ports`; one `firewall` joining every zone, `default="deny"`, whose rules mix
//! `from`/`to` lists of `any`, zones, hosts and `cidr:` ranges, TCP, UDP, ICMP and
//! protocol-less rules, single ports, port lists, ranges and `rpc`, with deny rules
//! interleaved; 2,500 `flow`s of four ports each (some `rpc`, some ranges) between
//! pseudo-random server pairs, so that about 10,000 flows between as many pairs are
//! evaluated. Everything is drawn from a fixed-seed generator: every run measures the
//! same model.
//!
//! ```text
//! cargo bench --bench verdicts              # 500 and 5,000 rules
//! cargo bench --bench verdicts -- 5000      # one size (a criterion filter)
//! ```
//!
//! Criterion reports the time of the whole `evaluate` and, as throughput, verdicts per
//! second; the time per verdict is the inverse.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use cmflow::engine::{Network, Phase, Verdict, evaluate, required_flows};
use cmflow::load::load_texts;
use cmflow::rules::SPEC_CODES;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ZONES: u32 = 50;
const SERVERS_PER_ZONE: u32 = 40;
const FLOW_STATEMENTS: u32 = 2_500;

/// A fixed-seed linear congruential generator: the model is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        u32::try_from(self.0 >> 33).expect("31 bits")
    }

    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }

    fn percent(&mut self, p: u32) -> bool {
        self.below(100) < p
    }
}

const COMMON_TCP: &[u32] = &[
    80, 443, 445, 135, 1433, 4022, 8530, 8531, 10123, 3389, 22, 389, 636, 88, 53, 5985,
];
const COMMON_UDP: &[u32] = &[53, 67, 69, 123, 161, 389, 4011, 9, 25536];

fn server(zone: u32, index: u32) -> String {
    format!("s{zone}-{index}.contoso.com")
}

fn endpoint(rng: &mut Lcg) -> String {
    match rng.below(20) {
        0 => "any".into(),
        1..=6 => format!("zone:z{}", rng.below(ZONES)),
        7..=13 => format!(
            "host:{}",
            server(rng.below(ZONES), rng.below(SERVERS_PER_ZONE))
        ),
        14..=17 => format!("cidr:10.{}.{}.0/24", rng.below(ZONES), rng.below(2)),
        _ => format!("cidr:10.{}.0.0/16", rng.below(ZONES)),
    }
}

fn endpoints(rng: &mut Lcg) -> String {
    let n = 1 + rng.below(3);
    let items: Vec<String> = (0..n).map(|_| endpoint(rng)).collect();
    items.join(",")
}

fn rule_ports(rng: &mut Lcg, common: &[u32]) -> String {
    let one = |rng: &mut Lcg| -> String {
        match rng.below(10) {
            0..=4 => {
                common[rng.below(u32::try_from(common.len()).expect("small")) as usize].to_string()
            }
            5 | 6 => (1024 + rng.below(60_000)).to_string(),
            7 => {
                let a = 1024 + rng.below(60_000);
                format!("{a}-{}", (a + rng.below(2_000)).min(65_535))
            }
            8 => "rpc".into(),
            _ => {
                let a = 1 + rng.below(1_023);
                format!("{a}-{}", a + rng.below(64))
            }
        }
    };
    let n = 1 + rng.below(3);
    let items: Vec<String> = (0..n).map(|_| one(rng)).collect();
    items.join(",")
}

/// The model text: zones, servers, the firewall of `rules` rules and the flows.
fn model(rules: u32) -> String {
    let mut rng = Lcg(0x5eed_0000 + u64::from(rules));
    let mut kdl = String::new();
    for z in 0..ZONES {
        writeln!(kdl, "zone \"z{z}\" {{ subnet \"10.{z}.0.0/16\" }}").expect("a string");
        for s in 0..SERVERS_PER_ZONE {
            let rpc = if s % 10 == 3 {
                format!(" rpc-ports=\"{}-{}\"", 50_000 + z * 10, 50_100 + z * 10)
            } else {
                String::new()
            };
            writeln!(
                kdl,
                "server \"{}\" zone=\"z{z}\" address=\"10.{z}.{}.{}\"{rpc}",
                server(z, s),
                s / 20,
                1 + s % 20
            )
            .expect("a string");
        }
    }
    kdl.push_str("firewall \"fw\" default=\"deny\" {\n    zones");
    for z in 0..ZONES {
        write!(kdl, " \"z{z}\"").expect("a string");
    }
    kdl.push('\n');
    for r in 0..rules {
        let action = if rng.percent(15) { "deny" } else { "allow" };
        write!(kdl, "    {action} \"r{r}\"").expect("a string");
        if !rng.percent(3) {
            write!(kdl, " from=\"{}\"", endpoints(&mut rng)).expect("a string");
        }
        if !rng.percent(2) {
            write!(kdl, " to=\"{}\"", endpoints(&mut rng)).expect("a string");
        }
        match rng.below(100) {
            0..=64 => write!(kdl, " tcp=\"{}\"", rule_ports(&mut rng, COMMON_TCP)),
            65..=84 => write!(kdl, " udp=\"{}\"", rule_ports(&mut rng, COMMON_UDP)),
            85..=92 => write!(
                kdl,
                " tcp=\"{}\" udp=\"{}\"",
                rule_ports(&mut rng, COMMON_TCP),
                rule_ports(&mut rng, COMMON_UDP)
            ),
            93..=97 => write!(kdl, " icmp=#true"),
            // Every protocol and port.
            _ => Ok(()),
        }
        .expect("a string");
        kdl.push('\n');
    }
    kdl.push_str("}\n");
    for f in 0..FLOW_STATEMENTS {
        let (mut a, mut b) = (rng.below(ZONES), rng.below(ZONES));
        if a == b {
            b = (b + 1) % ZONES;
        }
        let from = server(a, rng.below(SERVERS_PER_ZONE));
        let to = server(b, rng.below(SERVERS_PER_ZONE));
        a = rng.below(4);
        let ports = match a {
            0 => format!(
                "tcp=\"{},{},rpc\" udp=\"{}\"",
                COMMON_TCP[f as usize % COMMON_TCP.len()],
                1024 + rng.below(60_000),
                COMMON_UDP[f as usize % COMMON_UDP.len()]
            ),
            1 => format!(
                "tcp=\"{},{},{}-{}\" icmp=#true",
                COMMON_TCP[f as usize % COMMON_TCP.len()],
                COMMON_TCP[(f as usize + 5) % COMMON_TCP.len()],
                2_000 + f,
                2_100 + f
            ),
            _ => format!(
                "tcp=\"{},{},{}\" udp=\"{}\"",
                COMMON_TCP[f as usize % COMMON_TCP.len()],
                COMMON_TCP[(f as usize + 3) % COMMON_TCP.len()],
                1024 + rng.below(60_000),
                COMMON_UDP[(f as usize + 1) % COMMON_UDP.len()]
            ),
        };
        writeln!(
            kdl,
            "flow \"f{f}\" from=\"host:{from}\" to=\"host:{to}\" {ports}"
        )
        .expect("a string");
    }
    kdl
}

fn verdicts(c: &mut Criterion) {
    let mut group = c.benchmark_group("verdicts");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    for rules in [500, 5_000] {
        let loaded = load_texts(
            vec![("verdicts.kdl".into(), model(rules).into_bytes(), false)],
            SPEC_CODES,
        );
        assert!(
            loaded.diagnostics.is_empty(),
            "the generated model has input diagnostics: {:#?}",
            loaded.diagnostics
        );
        let model = loaded.model;
        let flows = required_flows(&model, &[Phase::Operation]);
        let net = Network::new(&model);
        let result = evaluate(&net, &flows);
        let count = |v: Verdict| result.iter().filter(|r| r.verdict == v).count();
        eprintln!(
            "{rules} rules: {} flows, {} allowed, {} blocked, {} indeterminate, {} decisions",
            flows.len(),
            count(Verdict::Allowed),
            count(Verdict::Blocked),
            count(Verdict::Indeterminate),
            result.iter().map(|r| r.decisions.len()).sum::<usize>()
        );
        group.throughput(Throughput::Elements(flows.len() as u64));
        group.bench_function(rules.to_string(), |b| {
            b.iter(|| evaluate(black_box(&net), black_box(&flows)));
        });
    }
    group.finish();
}

criterion_group!(benches, verdicts);
criterion_main!(benches);

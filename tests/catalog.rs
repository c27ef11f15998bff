//! The catalog is complete: every table row of seed 001 and of seed 002's client
//! deployment tables (transcribed in `tests/fixtures/seed-rows.tsv`) is matched by a
//! catalog row or listed as not applicable with a reason.

use cmflow::catalog::builtin;

#[test]
fn every_documented_row_is_in_the_catalog_or_justified() {
    let catalog = builtin();
    assert!(catalog.diagnostics.is_empty(), "{:?}", catalog.diagnostics);
    let tsv = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/seed-rows.tsv"
    ))
    .expect("tsv");
    let mut missing = Vec::new();
    let mut count = 0;
    for line in tsv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (seed, anchor, description) = (cols[0], cols[1], cols[2]);
        count += 1;
        let in_catalog = catalog
            .rows
            .iter()
            .any(|r| r.seed == seed && r.anchor == anchor && r.seed_row == description);
        let justified = catalog.not_applicable.iter().any(|n| {
            n.seed == seed
                && n.anchor == anchor
                && n.row == description
                && !n.reason.trim().is_empty()
        });
        if !in_catalog && !justified {
            missing.push(format!("{seed} {anchor}: {description}"));
        }
    }
    assert!(count > 150, "the transcription has {count} rows");
    assert!(missing.is_empty(), "rows not in the catalog: {missing:#?}");
}

#[test]
fn every_catalog_row_has_a_port_and_a_known_vocabulary() {
    use cmflow::load::vocabulary::{infra_role_names, site_role_names};
    let kinds: Vec<&str> = site_role_names()
        .chain(infra_role_names())
        .chain([
            "clients",
            "console",
            "internet",
            "sql-server",
            "domain-member",
            "cloud-management-gateway",
            "cloud-distribution-point",
        ])
        .collect();
    let every = [
        builtin(),
        cmflow::catalog::for_choice(
            cmflow::model::Edition::E2025,
            &["windows-domain".to_owned()],
        ),
    ];
    for r in every.iter().flat_map(|c| &c.rows) {
        assert!(
            r.tcp.is_some() || r.udp.is_some() || r.icmp,
            "{} {}: no port",
            r.anchor,
            r.service
        );
        assert!(
            kinds.contains(&r.from.as_str()),
            "{}: unknown from {}",
            r.anchor,
            r.from
        );
        assert!(
            kinds.contains(&r.to.as_str()),
            "{}: unknown to {}",
            r.anchor,
            r.to
        );
        assert!(!r.title.is_empty(), "{}: no title", r.anchor);
    }
}

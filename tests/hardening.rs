//! Regression tests for the red-team findings (hardening issue): every reproducer runs the
//! real binary and asserts the exact outcome. Escaping itself is proven by the property
//! tests beside each output language (`src/escape/`) and over every exporter
//! (`src/export/tests.rs`); the fuzz harness is `tests/fuzz.rs`.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{root, run};

/// A small model that passes, to build the file-system reproducers on.
fn write_model(dir: &Path) {
    common::copy_tree(&root().join("examples/standalone-primary"), dir);
}

fn has_raw_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n')
}

#[test]
fn names_with_control_characters_are_refused_and_shown_escaped() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("m.kdl"),
        "zone \"a\\u{1b}[2Jb\"\nclients \"x\\ny\" site=\"P01\" zone=\"a\"\n",
    )
    .expect("write");
    let r = run(tmp.path(), &["check", "--format", "short"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains(
            "m.kdl:1:6: error[schema/invalid-value] `name` holds the control character \\u{001b}"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("`name` holds the control character \\u{000a}")
    );
    let human = run(tmp.path(), &["check", "--format", "human"]);
    for out in [&r.stdout, &human.stdout] {
        assert!(!has_raw_control(out), "{out:?}");
    }
}

#[test]
fn a_comma_in_a_name_that_endpoints_name_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("m.kdl"), "zone \"a,any\"\n").expect("write");
    let r = run(tmp.path(), &["check", "--format", "short"]);
    assert_eq!(
        r.stdout,
        "m.kdl:1:6: error[schema/invalid-value] a `zone` name cannot hold a comma or start or end with a space\n    \
         help: rules name it in comma-separated endpoint lists (`from=\"clients:A,zone:B\"`): choose a name without commas\n"
    );
}

#[test]
fn terminal_escapes_in_file_names_are_shown_escaped() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("a\u{1b}[31m.kdl"), "zone \"a\" {\n").expect("write");
    for format in ["short", "human", "github", "azure"] {
        let r = run(tmp.path(), &["check", "--format", format]);
        assert_eq!(r.code, 1, "{format}");
        assert!(!has_raw_control(&r.stdout), "{format}: {:?}", r.stdout);
        assert!(
            r.stdout.contains("a\\u{001b}[31m.kdl"),
            "{format}: {}",
            r.stdout
        );
    }
}

#[test]
fn deep_input_ends_in_a_diagnostic_not_a_stack_overflow() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = [
        (
            "comments.kdl",
            format!("{}{}\n", "/*".repeat(1000), "*/".repeat(1000)),
            "comments.kdl:1:257: error[kdl/syntax] block comments are nested more than 128 levels deep",
        ),
        (
            "raw.kdl",
            format!("zone \"a\" #\"C:\\\"# {}\n", "{".repeat(400)),
            "raw.kdl:1:146: error[kdl/syntax] nodes are nested more than 128 levels deep",
        ),
        (
            "slashdash.kdl",
            format!("{}zone \"a\"\n", "/- ".repeat(5000)),
            "slashdash.kdl:1:385: error[kdl/syntax] more than 128 `/-` in a row",
        ),
        (
            "v1.kdl",
            format!("zone \"a\" \"\"\"\n\" {}\n", "{".repeat(3000)),
            "v1.kdl:2:131: error[kdl/syntax] nodes are nested more than 128 levels deep",
        ),
    ];
    for (name, text, expected) in &cases {
        std::fs::write(tmp.path().join(name), text).expect("write");
        let r = run(tmp.path(), &["check", name, "--format", "short"]);
        let first = r.stdout.lines().next().unwrap_or_default();
        assert_eq!((r.code, first), (1, *expected));
        for command in ["flows", "graph"] {
            let r = run(tmp.path(), &[command, name]);
            assert_eq!(r.code, 1, "{name} {command}: {}", r.stderr);
            assert!(
                r.stderr.contains(&expected[name.len() + 1..]),
                "{}",
                r.stderr
            );
        }
        let r = run(tmp.path(), &["fmt", "--check", name]);
        assert_ne!(r.code, 134);
    }
    // A valid file whose comments hold many braces is not refused.
    let braces = tempfile::tempdir().expect("tmp");
    std::fs::write(
        braces.path().join("ok.kdl"),
        format!(
            "// {}\nzone \"a\" /* {} */\nzone \"b\" // #\"C:\\\"# {{\n",
            "{".repeat(129),
            "{".repeat(300)
        ),
    )
    .expect("write");
    let r = run(braces.path(), &["check", "--format", "short"]);
    common::assert_clean(&r, "");
}

#[test]
fn too_many_tokens_and_flows_are_refused_with_the_count() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("big.kdl"), "zone \"z\"\n".repeat(260_000)).expect("write");
    let r = run(tmp.path(), &["check", "--format", "short"]);
    assert_eq!(
        r.stdout,
        "big.kdl:250001:1: error[kdl/syntax] the file holds 520000 names and values; cmflow reads at most 500000 per file\n    help: split the model into several files\n"
    );
    // A user flow that alone would require 9,000,000 flows: refused before any is built.
    let flows = tempfile::tempdir().expect("tmp");
    let mut text = String::from(
        "zone \"a\"\nzone \"b\"\nsite \"P01\" type=\"primary\" {\n    database server=\"s0.a.com\" instance=\"MSSQLSERVER\"\n    server \"s0.a.com\" zone=\"a\" {\n        site-server\n        sql-instance \"MSSQLSERVER\"\n    }\n}\n",
    );
    for i in 1..=1500 {
        let _ = write!(
            text,
            "server \"a{i}.x.com\" zone=\"a\"\nserver \"b{i}.x.com\" zone=\"b\"\n"
        );
    }
    text.push_str("flow \"all\" from=\"zone:a\" to=\"zone:b\" tcp=\"1,2,3,4\"\n");
    std::fs::write(flows.path().join("m.kdl"), text).expect("write");
    for command in [&["check"][..], &["flows"], &["graph", "--view", "flows"]] {
        let r = run(flows.path(), command);
        assert_eq!(r.code, 2, "{command:?}");
        assert!(
            r.stderr.contains(
                "m.kdl:3010:1: error[schema/invalid-value] the model requires more than 2000000 flows"
            ),
            "{command:?}: {}",
            r.stderr
        );
    }
}

#[cfg(unix)]
#[test]
fn export_never_writes_through_a_link_nor_into_a_hard_linked_model_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let model = tmp.path().join("model");
    write_model(&model);
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "precious").expect("write");
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    std::os::unix::fs::symlink(&victim, out.join("windows-firewall.ps1")).expect("link");
    let r = run(
        tmp.path(),
        &[
            "export",
            "model",
            "--target",
            "windows-firewall",
            "--out",
            "out",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
    let written = std::fs::symlink_metadata(out.join("windows-firewall.ps1")).expect("meta");
    assert!(written.is_file(), "the link is replaced by a file");

    // A linked folder inside --out is refused, and nothing is written through it.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    let aerleon = tmp.path().join("aerleon");
    std::fs::create_dir(&aerleon).expect("mkdir");
    std::os::unix::fs::symlink(&elsewhere, aerleon.join("def")).expect("link");
    let r = run(
        tmp.path(),
        &["export", "model", "--target", "aerleon", "--out", "aerleon"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a symbolic link"), "{}", r.stderr);
    assert_eq!(std::fs::read_dir(&elsewhere).expect("dir").count(), 0);
    assert!(!aerleon.join("policies").exists(), "nothing half-written");

    // --out itself a link: refused.
    std::os::unix::fs::symlink(&elsewhere, tmp.path().join("linked")).expect("link");
    let r = run(
        tmp.path(),
        &["export", "model", "--target", "kdl", "--out", "linked"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--out linked is a symbolic link"),
        "{}",
        r.stderr
    );

    // A model file hard-linked into --out keeps its text.
    let hard = tmp.path().join("hard");
    std::fs::create_dir(&hard).expect("mkdir");
    let model_file = model.join("fabrikam.kdl");
    let before = std::fs::read_to_string(&model_file).expect("read");
    std::fs::hard_link(&model_file, hard.join("firewalls.kdl")).expect("hard link");
    let r = run(
        tmp.path(),
        &["export", "model", "--target", "kdl", "--out", "hard"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&model_file).expect("read"), before);
    let leftovers: Vec<_> = std::fs::read_dir(&hard)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn aerleon_policies_have_one_file_per_firewall_and_stale_ones_go() {
    let tmp = tempfile::tempdir().expect("tmp");
    let model = tmp.path().join("model");
    std::fs::create_dir(&model).expect("mkdir");
    let long = "f".repeat(300);
    std::fs::write(
        model.join("m.kdl"),
        format!(
            "zone \"a\" {{ subnet \"10.1.0.0/16\" }}\nzone \"b\" {{ subnet \"10.2.0.0/16\" }}\n\
             firewall \"fw a\" {{ zones \"a\" \"b\" }}\nfirewall \"fw_a\" {{ zones \"a\" \"b\" }}\n\
             firewall \"{long}\" {{ zones \"a\" \"b\" }}\n"
        ),
    )
    .expect("write");
    let out = tmp.path().join("out");
    let pol = out.join("policies/pol");
    std::fs::create_dir_all(&pol).expect("mkdir");
    // A policy an earlier export wrote for a firewall that is gone, and a user's file.
    std::fs::write(
        pol.join("gone.yaml"),
        "# Firewall gone: ...\n# Written by `cmflow export --target aerleon`; render with aclgen.\n",
    )
    .expect("write");
    std::fs::write(pol.join("mine.yaml"), "# my own policy\n").expect("write");
    let r = run(
        tmp.path(),
        &["export", "model", "--target", "aerleon", "--out", "out"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut names: Vec<String> = std::fs::read_dir(&pol)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("{}.yaml", "f".repeat(100)),
            "fw_a.yaml".to_owned(),
            "fw_a_2.yaml".to_owned(),
            "mine.yaml".to_owned(),
        ]
    );
}

#[cfg(unix)]
#[test]
fn fmt_keeps_links_owner_and_permissions_and_cleans_leftovers() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tmp");
    let real = tmp.path().join("real.kdl");
    std::fs::write(&real, "zone   \"a\"\n").expect("write");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let dir = tmp.path().join("model");
    std::fs::create_dir(&dir).expect("mkdir");
    std::os::unix::fs::symlink(&real, dir.join("link.kdl")).expect("link");
    // A leftover of a killed run beside the real file.
    std::fs::write(tmp.path().join(".real.kdl.cmflow-fmt-1-0.tmp"), "x").expect("write");
    let r = run(tmp.path(), &["fmt", "model"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "model/link.kdl\n");
    assert!(
        std::fs::symlink_metadata(dir.join("link.kdl"))
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(&real).expect("read"),
        "zone \"a\"\n"
    );
    let mode = std::fs::metadata(&real).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains(".cmflow-fmt-")),
        "{names:?}"
    );

    // A hard-linked file is left as it is, with a note.
    let other = tmp.path().join("other.kdl");
    std::fs::write(&other, "zone   \"b\"\n").expect("write");
    std::fs::hard_link(&other, tmp.path().join("model/hard.kdl")).expect("link");
    let r = run(tmp.path(), &["fmt", "model/hard.kdl"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("has 2 hard links"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&other).expect("read"),
        "zone   \"b\"\n"
    );
}

#[cfg(unix)]
#[test]
fn linked_files_are_loaded_once_never_skipped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let model = tmp.path().join("model");
    std::fs::create_dir(&model).expect("mkdir");
    let shared = tmp.path().join("shared.kdl");
    std::fs::write(&shared, "zone \"a\" {\n").expect("write");
    std::os::unix::fs::symlink(&shared, model.join("linked.kdl")).expect("link");
    let r = run(tmp.path(), &["check", "model", "--format", "short"]);
    assert_eq!(r.code, 1, "the linked file is part of the model");
    assert!(r.stdout.starts_with("model/linked.kdl:"), "{}", r.stdout);
    // One file named twice (a folder and a link to the same file): loaded once.
    std::fs::write(&shared, "zone \"a\"\n").expect("write");
    let r = run(
        tmp.path(),
        &["check", "model", "shared.kdl", "--format", "short"],
    );
    common::assert_clean(&r, "");
}

#[test]
fn smaller_findings() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Invalid UTF-8 on stdin: a position, not exit 2.
    let out = common::cmflow(tmp.path())
        .args(["check", "--stdin-filename", "s.kdl", "--format", "short"])
        .write_stdin(b"zone \"a\xff\"\n".to_vec())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "s.kdl:1:8: error[kdl/syntax] the file is not valid UTF-8\n    help: save the file as UTF-8\n"
    );
    // An unreadable path: the cause once.
    let r = run(tmp.path(), &["check", "missing.kdl"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        r.stderr
    );
    // A flow from `any` to `any` says why it requires nothing.
    std::fs::write(
        tmp.path().join("m.kdl"),
        "flow \"all\" from=\"any\" to=\"any\" tcp=\"80\"\n",
    )
    .expect("write");
    let r = run(tmp.path(), &["check", "m.kdl", "--format", "short"]);
    assert_eq!(
        r.stdout,
        "m.kdl:1:1: error[schema/invalid-value] flow `all` goes from `any` to `any`: it requires no flow\n    \
         help: in a `flow`, `any` is the Internet: name the hosts, e.g. from=\"zone:office\" to=\"role:management-point\"\n"
    );
}

/// The commands compute flows from the model's own catalog edition (the bounded flow
/// computation once used the built-in 2020 catalog whatever the model chose).
#[test]
fn commands_use_the_models_catalog_edition() {
    let tmp = tempfile::tempdir().expect("tmp");
    common::copy_tree(&root().join("examples/contoso"), tmp.path());
    let browser = |dir: &Path| {
        run(dir, &["flows", "--format", "csv"])
            .stdout
            .lines()
            .filter(|l| l.contains(",udp,1434,"))
            .count()
    };
    assert_eq!(browser(tmp.path()), 0);
    std::fs::write(tmp.path().join("catalog.kdl"), "catalog edition=\"2025\"\n").expect("write");
    assert!(browser(tmp.path()) > 0);
    let r = run(tmp.path(), &["check", "--format", "short"]);
    assert!(r.stdout.contains("[policy/conflict]"), "{}", r.stdout);
}

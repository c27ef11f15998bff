//! End-to-end tests of `cmflow fmt`: `--check` changes nothing and lists what would
//! change, formatting keeps the model identical and is idempotent over every example and
//! fixture, files that do not parse (and KDL v1 files) are left untouched.

mod common;

use std::path::{Path, PathBuf};

use common::{copy_tree, root, run};

/// Every `.kdl` file below `dir`, sorted, with its bytes.
fn kdl_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    common::paths_below(dir, |p| p.extension().is_some_and(|e| e == "kdl"))
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read");
            (path, bytes)
        })
        .collect()
}

/// What a model means, independent of layout: every required flow of every phase with
/// its verdict, and every diagnostic's code, severity and message.
fn meaning(dir: &Path) -> (String, Vec<(String, String, String)>) {
    let flows = run(dir, &["flows", "--format", "csv", "--phase", "all"]).stdout;
    let check = run(dir, &["check", "--format", "json", "--phase", "all"]);
    let json: serde_json::Value = serde_json::from_str(&check.stdout).expect("json");
    let mut diagnostics: Vec<(String, String, String)> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_owned(),
                d["severity"].as_str().unwrap_or_default().to_owned(),
                d["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    diagnostics.sort();
    (flows, diagnostics)
}

/// The models the examples and fixtures hold: each folder with `.kdl` files directly in
/// it (relative to the tree's root).
fn model_folders(dir: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = kdl_files(dir)
        .into_iter()
        .filter_map(|(p, _)| p.parent().map(Path::to_path_buf))
        .collect();
    folders.sort();
    folders.dedup();
    folders
}

#[test]
fn formatting_keeps_every_model_identical_and_is_idempotent() {
    let tmp = tempfile::tempdir().expect("tmp");
    copy_tree(&root().join("examples"), &tmp.path().join("examples"));
    copy_tree(&root().join("tests/fixtures"), &tmp.path().join("fixtures"));
    copy_tree(
        &root().join("tests/data/escaping"),
        &tmp.path().join("escaping"),
    );
    let folders = model_folders(tmp.path());
    assert!(folders.len() > 20);
    let before: Vec<_> = folders.iter().map(|f| meaning(f)).collect();
    let original = kdl_files(tmp.path());

    let check = run(tmp.path(), &["fmt", "--check"]);
    assert_eq!(
        check.code, 1,
        "some files are not formatted, and some do not parse"
    );
    assert_eq!(kdl_files(tmp.path()), original, "--check changes nothing");
    let listed: Vec<&str> = check.stdout.lines().collect();
    assert!(listed.contains(&"fixtures/checks/base.kdl"), "{listed:?}");
    assert!(
        !listed.iter().any(|f| f.starts_with("examples/")),
        "the shipped examples are in fmt layout: {listed:?}"
    );

    let first = run(tmp.path(), &["fmt"]);
    assert_eq!(
        first.code, 1,
        "the files that do not parse: {}",
        first.stderr
    );
    assert_eq!(
        first.stdout, check.stdout,
        "fmt rewrites what --check lists"
    );
    assert!(
        first.stderr.contains("error[kdl/syntax]"),
        "{}",
        first.stderr
    );
    assert!(
        !first.stderr.contains("would not say the same"),
        "every example and fixture formats without loss: {}",
        first.stderr
    );
    let formatted = kdl_files(tmp.path());
    for ((path, old), (_, new)) in original.iter().zip(&formatted) {
        let listed = first.stdout.lines().any(|l| path.ends_with(l));
        assert_eq!(old != new, listed, "{}", path.display());
    }
    let after: Vec<_> = folders.iter().map(|f| meaning(f)).collect();
    for ((folder, b), a) in folders.iter().zip(&before).zip(&after) {
        assert_eq!(b.0, a.0, "{}: the flows changed", folder.display());
        assert_eq!(b.1, a.1, "{}: the diagnostics changed", folder.display());
    }

    let second = run(tmp.path(), &["fmt", "--check"]);
    assert_eq!(second.stdout, "", "idempotent");
    let third = run(tmp.path(), &["fmt"]);
    assert_eq!(third.stdout, "");
    assert_eq!(
        kdl_files(tmp.path()),
        formatted,
        "a second run changes nothing"
    );
}

#[test]
fn check_exits_0_when_formatted_and_1_listing_the_files_otherwise() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("good.kdl"),
        "zone \"a\" {\n    subnet \"10.0.0.0/8\"\n}\n",
    )
    .expect("write");
    assert_eq!(
        (
            run(tmp.path(), &["fmt", "--check"]).code,
            run(tmp.path(), &["fmt", "--check"]).stdout
        ),
        (0, String::new())
    );
    let messy = "zone   \"b\"{subnet \"10.1.0.0/16\"}\n";
    std::fs::write(tmp.path().join("messy.kdl"), messy).expect("write");
    let r = run(tmp.path(), &["fmt", "--check"]);
    assert_eq!((r.code, r.stdout.as_str()), (1, "messy.kdl\n"));
    assert!(
        r.stderr.contains("1 file would be reformatted"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("messy.kdl")).expect("read"),
        messy
    );
    let r = run(tmp.path(), &["fmt", "messy.kdl"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "messy.kdl\n"));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("messy.kdl")).expect("read"),
        "zone \"b\" {\n    subnet \"10.1.0.0/16\"\n}\n"
    );
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn unparsable_and_v1_files_are_left_untouched() {
    let tmp = tempfile::tempdir().expect("tmp");
    let broken = "zone \"a\" {\n  subnet \"10.0.0.0/8\"\n";
    std::fs::write(tmp.path().join("broken.kdl"), broken).expect("write");
    let v1 = std::fs::read(root().join("tests/fixtures/bad-input/kdl-v1.kdl")).expect("v1");
    std::fs::write(tmp.path().join("v1.kdl"), &v1).expect("write");
    let r = run(tmp.path(), &["fmt"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("broken.kdl:"), "{}", r.stderr);
    assert!(r.stderr.contains("error[kdl/syntax]"), "{}", r.stderr);
    assert!(
        r.stderr.contains("v1.kdl is a KDL v1 document"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("broken.kdl")).expect("read"),
        broken
    );
    assert_eq!(std::fs::read(tmp.path().join("v1.kdl")).expect("read"), v1);
    // The v1 file alone is not a failure.
    assert_eq!(run(tmp.path(), &["fmt", "--check", "v1.kdl"]).code, 0);
}

#[test]
fn unreadable_paths_exit_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    let r = run(tmp.path(), &["fmt", "missing"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read missing"), "{}", r.stderr);
    assert_eq!(
        run(tmp.path(), &["fmt", "--check", "."]).code,
        2,
        "no .kdl file"
    );
}

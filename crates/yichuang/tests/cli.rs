//! The binary's administrative commands, run as a user would run them.

use std::process::Command;

fn yichuang(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yichuang"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("YICHUANG_DATABASE_URL")
        .output()
        .expect("run yichuang");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const BAD: &str = r#"
[[region]]
code = "360822"
name = "吉水县"

[[department]]
code = "360822-ZJJ"
name = "住建局"
region = "360822"

[[item]]
code = "BAD-1"
name = "坏事项"
item_type = "01"
exercise_level = "4"
service_objects = ["1"]
handling_forms = ["1"]
case_type = "2"
department = "360822-ZJJ"
region = "360822"
legal_limit = 5
promised_limit = 9

[[item]]
code = "BAD-1"
name = "重复"
item_type = "99"
exercise_level = "4"
service_objects = ["1"]
handling_forms = ["1"]
case_type = "2"
department = "NOPE"
region = "360822"
legal_limit = 5
promised_limit = 5
"#;

#[test]
fn catalog_import_is_all_or_nothing_and_export_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, BAD).unwrap();
    let (ok, _, err) = yichuang(dir.path(), &["catalog", "import", bad.to_str().unwrap()]);
    assert!(!ok);
    for want in [
        "BAD-1: promised_limit",
        "BAD-1: code",
        "BAD-1: item_type",
        "BAD-1: department",
        "nothing was imported",
    ] {
        assert!(err.contains(want), "stderr lacks {want:?}:\n{err}");
    }
    assert!(err.contains("bad.toml"), "the error names the file:\n{err}");
    let (_, out, _) = yichuang(dir.path(), &["catalog", "export"]);
    assert!(!out.contains("BAD-1"), "a refused import left data behind");

    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo/catalog.toml");
    let (ok, out, err) = yichuang(dir.path(), &["catalog", "import", demo]);
    assert!(ok, "{err}");
    assert!(out.contains("items"), "{out}");
    let exported = dir.path().join("out.toml");
    let (ok, _, err) = yichuang(
        dir.path(),
        &["catalog", "export", exported.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    let a: yichuang_core::catalog::CatalogFile =
        toml::from_str(&std::fs::read_to_string(demo).unwrap()).unwrap();
    let b: yichuang_core::catalog::CatalogFile =
        toml::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    assert_eq!(a.items.len(), b.items.len());
    let first = a.items.iter().find(|i| i.code == b.items[0].code).unwrap();
    assert_eq!(first, &b.items[0], "export changed an item");
    // A second import of the export changes nothing and succeeds.
    let (ok, _, err) = yichuang(
        dir.path(),
        &["catalog", "import", exported.to_str().unwrap()],
    );
    assert!(ok, "{err}");
}

#[test]
fn admin_commands_validate() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = yichuang(
        dir.path(),
        &["admin", "region", "--code", "360000", "--name", "江西省"],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = yichuang(
        dir.path(),
        &[
            "admin",
            "region",
            "--code",
            "360800",
            "--name",
            "吉安市",
            "--parent",
            "360000",
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = yichuang(
        dir.path(),
        &["admin", "region", "--code", "12", "--name", "坏"],
    );
    assert!(!ok && err.contains("code"), "{err}");
    let (ok, _, err) = yichuang(
        dir.path(),
        &[
            "admin",
            "department",
            "--code",
            "360800-SJ",
            "--name",
            "市局",
            "--region",
            "360800",
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = yichuang(
        dir.path(),
        &[
            "admin",
            "hall",
            "--id",
            "JA",
            "--name",
            "吉安市政务服务中心",
            "--region",
            "360800",
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = yichuang(
        dir.path(),
        &[
            "admin",
            "window",
            "--id",
            "JA-W1",
            "--hall",
            "JA",
            "--name",
            "1号窗口",
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = yichuang(
        dir.path(),
        &[
            "admin",
            "staff",
            "--login",
            "clerk.ja",
            "--name",
            "吉安受理",
            "--role",
            "boss",
            "--region",
            "360800",
            "--password",
            "Str0ng!pass",
        ],
    );
    assert!(!ok && err.contains("role"), "{err}");
    let (ok, out, err) = yichuang(
        dir.path(),
        &[
            "admin",
            "staff",
            "--login",
            "clerk.ja",
            "--name",
            "吉安受理",
            "--role",
            "clerk",
            "--region",
            "360800",
            "--password",
            "Str0ng!pass",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("clerk.ja"));
}

#[test]
fn calendar_answers_like_a_clerk() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = yichuang(
        dir.path(),
        &["calendar", "add-working-days", "2025-09-30", "1"],
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "2025-10-09");
    let (_, out, _) = yichuang(dir.path(), &["calendar", "is-working-day", "2024-02-04"]);
    assert_eq!(out.trim(), "yes");
    let (_, out, _) = yichuang(dir.path(), &["calendar", "is-working-day", "2026-10-07"]);
    assert_eq!(out.trim(), "no");
    let (ok, _, err) = yichuang(
        dir.path(),
        &["calendar", "add-working-days", "2026-01-01", "-5"],
    );
    assert!(!ok && err.contains("N must be between 0 and"), "{err}");
    let (ok, _, err) = yichuang(
        dir.path(),
        &["calendar", "add-working-days", "2026-01-01", "1000000"],
    );
    assert!(!ok && err.contains("N must be between 0 and"), "{err}");
    let (ok, _, err) = yichuang(dir.path(), &["calendar", "is-working-day", "2026/01/01"]);
    assert!(!ok && err.contains("not a date"), "{err}");
    let twice = dir.path().join("twice.toml");
    std::fs::write(
        &twice,
        "[[holiday]]\nname='a'\nfrom='2027-01-01'\n[[holiday]]\nname='b'\nfrom='2027-01-01'\n",
    )
    .unwrap();
    let (ok, _, err) = yichuang(dir.path(), &["calendar", "import", twice.to_str().unwrap()]);
    assert!(!ok && err.contains("listed twice"), "{err}");
    let (ok, _, err) = yichuang(
        dir.path(),
        &["calendar", "set", "2027-01-01", "holiday", "--name", "元旦"],
    );
    assert!(ok, "{err}");
    let (_, out, _) = yichuang(dir.path(), &["calendar", "is-working-day", "2027-01-01"]);
    assert_eq!(out.trim(), "no");
}

//! The systemd unit in `deploy/`: systemd's own checker accepts it, and the
//! user guide shows it as it is.

use std::fs;
use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn unit() -> String {
    fs::read_to_string(repo().join("deploy/bulletin.service")).expect("deploy/bulletin.service exists")
}

#[test]
fn the_systemd_unit_runs_serve_and_systemd_analyze_verify_accepts_it() {
    let unit = unit();
    assert!(unit.contains("ExecStart=/usr/local/bin/bulletin serve "), "{unit}");
    for hardening in ["NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes"] {
        assert!(unit.lines().any(|l| l == hardening), "the unit lacks {hardening}");
    }
    let analyze = Path::new("/usr/bin/systemd-analyze");
    assert!(analyze.exists(), "systemd-analyze (Debian's systemd package) is needed to check the unit");
    // The unit as a user would install it, its paths pointing at this
    // build's program and a newsletter folder that exists.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("srv");
    for sub in ["subscribers", ".bulletin"] {
        fs::create_dir_all(folder.join(sub)).unwrap();
    }
    let installed = unit
        .replace("/usr/local/bin/bulletin", env!("CARGO_BIN_EXE_bulletin"))
        .replace("/srv/bulletin", folder.to_str().unwrap());
    let verify = |unit: &str| {
        let path = dir.path().join("bulletin.service");
        fs::write(&path, unit).unwrap();
        let output = Command::new(analyze).arg("verify").arg(&path).output().unwrap();
        let said =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        // Only what concerns this unit counts: in a container without
        // systemd running, verify may also speak of the system's own units.
        let about_it = said.lines().any(|l| l.contains("bulletin.service"));
        (output.status.success() && !about_it, said)
    };
    let (accepted, said) = verify(&installed);
    assert!(accepted, "systemd-analyze verify:\n{said}");
    // The check sees a mistake: a misspelt setting is only a warning to
    // systemd, and still fails here.
    let (accepted, said) = verify(&installed.replace("ProtectHome=yes", "ProtectHomes=yes"));
    assert!(!accepted && said.contains("ProtectHomes"), "systemd-analyze verify:\n{said}");
}

#[test]
fn the_user_guide_shows_the_unit_as_deploy_holds_it() {
    let guide = fs::read_to_string(repo().join("docs/src/deliverability.md")).unwrap();
    assert!(
        guide.contains(&format!("```ini\n{}```", unit())),
        "docs/src/deliverability.md shows another unit"
    );
}

//! The embedded catalogue loads, validates, and holds exactly the stable ids.

use rulelint::Knowledge;

const IDS: &[&str] = &[
    "ephemeral-port",
    "dns-server",
    "ftp-server",
    "mail-server",
    "rdp-gateway",
    "ssh-bastion",
    "irc-client",
    "vpn-pptp",
    "tor-client",
    "proxy-port",
    "ci-build-agent",
    "security-scanner",
    "dual-use-network-tool",
    "debugger-tracer",
    "kernel-module-tool",
    "mknod-automation",
    "cron-job",
    "discovery-command",
    "file-enumeration",
    "network-troubleshooting",
    "windows-developer-tool",
    "auth-retry-automation",
    "cloud-snapshot-export",
    "group-membership-change",
    "missing-user-agent",
    "webserver-shell",
    "remote-terminal-service",
    "installer-updater",
    "security-product",
    "windows-admin-utility",
    "autorun-installer",
    "rmm-tool",
    "cloud-admin-change",
    "iam-role-change",
    "network-config-change",
    "cloud-storage-change",
    "logging-change",
    "kubernetes-operator",
    "cloud-service-principal",
    "oauth-app-consent",
    "mailbox-admin",
    "mfa-lifecycle-change",
    "secrets-rotation",
    "cloud-backup-replication",
    "vpn-travel-signin",
    "legacy-auth",
    "domain-controller-peer",
    "gpo-admin-change",
    "mfa-exempt-account",
    "public-web-api",
    "tunnel-client",
    "file-sync-client",
    "backup-agent",
    "scheduled-task",
    "crash-dump-forensics",
    "linux-package-maintenance",
    "macos-mdm",
    "container-runtime",
    "config-management-agent",
    "monitoring-agent",
    "signed-dll-load",
    "office-file-types",
    "browser-app",
    "developer-ide",
    "portable-app-path",
    "oem-driver",
    "vdi-virtualization",
];

#[test]
fn builtin_catalogue_loads_and_validates() {
    let k = match Knowledge::builtin() {
        Ok(k) => k,
        Err(errs) => panic!(
            "catalogue errors:\n{}",
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    let mut ids: Vec<&str> = k.patterns.iter().map(|p| p.id.as_str()).collect();
    ids.sort_unstable();
    let mut want = IDS.to_vec();
    want.sort_unstable();
    assert_eq!(
        ids, want,
        "the catalogue's pattern ids are stable and exactly these"
    );
    for p in &k.patterns {
        assert!(k.validate(p).is_empty(), "{}: {:?}", p.id, k.validate(p));
        assert!(!p.references.is_empty(), "{} has no references", p.id);
        assert!(!p.benign.is_empty(), "{} names no benign actors", p.id);
    }
}

#[test]
fn invalid_user_pattern_is_rejected_with_a_position() {
    let mut k = Knowledge::builtin().expect("builtin catalogue");
    let bad = "patterns:\n  - id: Bad_Id\n    title: t\n    rationale: r\n    benign: [x]\n    trigger:\n      - concepts: [destination.port]\n    exclusion:\n      summary: s\n      name: x\n      fields:\n        - concept: source.ip\n          placeholder: '<x>'\n";
    let errs = k
        .add_patterns("team.yml", bad)
        .expect_err("must be rejected");
    let all = errs
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("kebab-case"), "{all}");
    assert!(all.contains("exactly one of"), "{all}");
    assert!(errs.iter().any(|e| e.line == Some(2)), "{all}");

    let unknown_key = "patterns:\n  - id: x\n    titel: t\n";
    let errs = k
        .add_patterns("team.yml", unknown_key)
        .expect_err("unknown key");
    assert!(errs[0].line.is_some(), "{:?}", errs[0]);
}

#[test]
fn duplicate_ids_are_rejected() {
    let mut k = Knowledge::builtin().expect("builtin catalogue");
    let dup = "patterns:\n  - id: ephemeral-port\n    title: t\n    rationale: r\n    benign: [x]\n    trigger:\n      - concepts: [destination.port]\n        ports: [1024]\n    exclusion:\n      summary: s\n      name: x\n      fields:\n        - concept: source.ip\n          placeholder: '<x>'\n";
    let errs = k.add_patterns("team.yml", dup).expect_err("duplicate");
    assert!(errs.iter().any(|e| e.message.contains("defined twice")));
}

#[test]
fn field_table_resolves_each_schema() {
    let k = Knowledge::builtin().expect("builtin catalogue");
    use rulelint::rule::Schema;
    let f = &k.fields;
    assert_eq!(
        f.concept_of(Schema::Sigma, "DestinationPort"),
        Some("destination.port")
    );
    assert_eq!(
        f.concept_of(Schema::Sigma, "Image"),
        Some("process.executable")
    );
    assert_eq!(
        f.concept_of(Schema::Ecs, "destination.port"),
        Some("destination.port")
    );
    assert_eq!(
        f.concept_of(Schema::Ecs, "process.name"),
        Some("process.name")
    );
    assert_eq!(
        f.concept_of(Schema::Splunk, "Processes.process_name"),
        Some("process.name")
    );
    assert_eq!(
        f.concept_of(Schema::Splunk, "All_Traffic.dest_port"),
        Some("destination.port")
    );
    assert_eq!(
        f.preferred(Schema::Sigma, "source.port"),
        Some("SourcePort")
    );
}

//! Mangled versions of the shipped files never make `check` or `test` panic: every truncation point of each
//! file, and seeded byte corruptions, give exit status 0, 1 or 2 (never 101) and no panic message.

use assert_cmd::Command;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sources() -> Vec<(String, Vec<u8>)> {
    [
        "rules/chat2sql-prometheus-rules.yaml",
        "rules/alertmanager-config.yaml",
        "fixtures/invalid/chat2sql-alertmanager-original.yaml",
        "tests/rules/failing.test.yml",
    ]
    .iter()
    .map(|p| (p.to_string(), std::fs::read(root().join(p)).unwrap()))
    .collect()
}

/// Variants of `bytes`: truncations every 97 bytes and 40 seeded corruptions (byte flips, deletions,
/// duplicated spans).
fn variants(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for cut in (0..bytes.len()).step_by(97) {
        out.push(bytes[..cut].to_vec());
    }
    let mut seed: u64 = 0x2545F4914F6CDD1D;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    for i in 0..40 {
        let mut b = bytes.to_vec();
        let at = next(b.len());
        match i % 4 {
            0 => b[at] = b"{}[]:-'\"\t\n|>*&!%@`#"[next(19)],
            1 => {
                let end = (at + next(40)).min(b.len());
                b.drain(at..end);
            }
            2 => {
                let end = (at + next(60)).min(b.len());
                let span = b[at..end].to_vec();
                b.splice(at..at, span);
            }
            _ => b[at] = next(256) as u8,
        }
        out.push(b);
    }
    out
}

#[test]
fn mangled_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    // The test file's rule_files points here.
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::copy(
        root().join("rules/chat2sql-prometheus-rules.yaml"),
        dir.path().join("rules/chat2sql-prometheus-rules.yaml"),
    )
    .unwrap();
    let mut runs = 0;
    for (name, bytes) in sources() {
        for (i, v) in variants(&bytes).into_iter().enumerate() {
            let file = dir.path().join(format!("case-{i}.yaml"));
            std::fs::write(&file, &v).unwrap();
            for cmd in ["check", "test"] {
                let out = Command::cargo_bin("ruletest")
                    .unwrap()
                    .arg(cmd)
                    .arg(&file)
                    .timeout(std::time::Duration::from_secs(20))
                    .output()
                    .unwrap();
                let code = out.status.code();
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(
                    matches!(code, Some(0..=2)) && !err.contains("panicked"),
                    "{cmd} on variant {i} of {name} exited {code:?}:\n{err}\n--- input ---\n{}",
                    String::from_utf8_lossy(&v)
                );
                runs += 1;
            }
        }
    }
    assert!(runs > 200, "only {runs} runs");
}

/// Output into a pipe that is already closed (`ruletest ... | head -0`) stops the command quietly instead of
/// panicking on the write error.
#[test]
fn closed_stdout_pipe_is_not_a_panic() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ruletest"))
        .args(["check", "--format", "json"])
        .arg(root().join("rules"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

//! Every native histogram written in Prometheus's own PromQL engine tests (../shared/promqltest, read at test
//! time) reads with our notation reader (`series::histogram`, issue #15), including the expanding forms
//! `{{h}}xN`, `{{a}}+{{b}}xN` and `{{a}}-{{b}}xN`.

use ruletest::series::histogram::parse_sequence_item;

#[test]
fn every_histogram_of_the_promqltest_files_reads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/promqltest");
    let re = regex::Regex::new(r"\{\{[^}]*\}\}(?:[+-]\{\{[^}]*\}\}x\d+|x\d+)?").unwrap();
    let (mut read, mut expanded) = (0, 0);
    let mut failed = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            // Comments and expected error messages are not values.
            let t = line.trim_start();
            if t.starts_with('#') || t.starts_with("expect") || t.starts_with("eval") {
                continue;
            }
            for m in re.find_iter(line) {
                match parse_sequence_item(m.as_str()) {
                    Ok(v) => {
                        read += 1;
                        expanded += v.len();
                    }
                    Err(e) => failed.push(format!(
                        "{}:{}: {}: {e}",
                        f.file_name().unwrap().to_string_lossy(),
                        n + 1,
                        m.as_str()
                    )),
                }
            }
        }
    }
    eprintln!("{read} histogram items read, {expanded} histograms");
    assert!(read >= 700, "{read}");
    assert!(
        failed.is_empty(),
        "{} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

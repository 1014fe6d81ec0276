//! Inputs beside the project's documents, for the commands that read series over a window (`dry-run`, `tune`,
//! `eval`, ...): fixtures, raw series from a live server, and an Alertmanager configuration given on its own.

use crate::series::store::Store;
use std::path::Path;

pub use crate::load::documents::LoadError;

/// Loads a fixture of any format (promtool input_series YAML, `.test` load blocks, OpenMetrics / Prometheus
/// text with timestamps, Prometheus API JSON). Fixtures with relative times start at their
/// `start_timestamp`, or at `from`. Exposition text and API JSON over [`STREAM_ABOVE`] bytes are read as a
/// stream, a line or a series at a time (a recorded history may be gigabytes); YAML is read whole.
pub fn load_series(path: &Path, from: i64, store: &mut Store) -> Result<(), LoadError> {
    load_series_at(path, Start::FixtureOr(from), store).map(|_| ())
}

pub use crate::series::fixture::Start;

/// [`load_series`] with the start chosen by the caller; returns the format read.
pub fn load_series_at(
    path: &Path,
    start: Start,
    store: &mut Store,
) -> Result<crate::series::formats::Format, LoadError> {
    use crate::series::formats::Format;
    let fail = |e| LoadError::io(path, e);
    crate::load::reads::note(crate::load::reads::Read::Fixture);
    let mut file = std::fs::File::open(path).map_err(fail)?;
    let len = file.metadata().map_err(fail)?.len();
    if len > STREAM_ABOVE {
        let format = streamed_format(&mut file, len).map_err(fail)?;
        let input = std::io::BufReader::with_capacity(1 << 20, file);
        match format {
            Some(Format::ApiJson) => {
                crate::series::api_json::load_api_json_from(input, store)
                    .map_err(|e| LoadError::content(path, &e.to_string()))?;
                return Ok(Format::ApiJson);
            }
            Some(f @ (Format::OpenMetrics | Format::PrometheusText)) => {
                crate::series::openmetrics::load_exposition_from(
                    input,
                    store,
                    f == Format::OpenMetrics,
                )
                .map_err(|e| LoadError::content(path, &e))?;
                return Ok(f);
            }
            _ => file = input.into_inner(),
        }
    }
    let text = std::io::read_to_string(file).map_err(fail)?;
    crate::series::formats::load_any_from(&text, store, start)
        .map_err(|e| LoadError::content(path, &e))
}

/// Fixtures larger than this are streamed when they are exposition text or API JSON.
pub const STREAM_ABOVE: u64 = 1 << 20;

/// The format of a file to stream: API JSON, OpenMetrics (its last line is `# EOF`, or one of its first lines
/// is, as `formats::detect` decides on the whole text) or Prometheus text; `None` for the formats read
/// whole (YAML). Reads the first 64 KiB, and the last 64 KiB of exposition text; leaves the file at its start.
fn streamed_format(
    file: &mut std::fs::File,
    len: u64,
) -> std::io::Result<Option<crate::series::formats::Format>> {
    use crate::series::formats::{detect, Format};
    use std::io::{Read, Seek, SeekFrom};
    const PART: u64 = 64 * 1024;
    let mut read_at = |at: u64| -> std::io::Result<String> {
        file.seek(SeekFrom::Start(at))?;
        let mut buf = Vec::with_capacity(PART as usize);
        file.by_ref().take(PART).read_to_end(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    let head = read_at(0)?;
    // Cut at the last full line, so a partial line does not decide anything (a file of one long line, JSON
    // say, is decided by its start).
    let head = match head.rfind('\n') {
        Some(i) => &head[..=i],
        None => &head[..],
    };
    let format = match detect(head) {
        Format::ApiJson => Some(Format::ApiJson),
        f @ (Format::OpenMetrics | Format::PrometheusText) => {
            let tail = read_at(len.saturating_sub(PART))?;
            let last = tail.lines().map(str::trim).rfind(|l| !l.is_empty());
            Some(if last == Some("# EOF") || f == Format::OpenMetrics {
                Format::OpenMetrics
            } else {
                Format::PrometheusText
            })
        }
        Format::InputSeries | Format::LoadBlock => None,
    };
    file.seek(SeekFrom::Start(0))?;
    Ok(format)
}

/// The `local` strategy: every series the rules select, raw, over the window plus how far back the
/// expressions look.
pub fn fetch_raw(
    client: &crate::live::Client,
    files: &[crate::load::rules::RuleFile],
    from: i64,
    to: i64,
    engine: &crate::promql::Engine,
    store: &mut Store,
) -> anyhow::Result<()> {
    let mut selectors = Vec::new();
    let mut reach = 0;
    for r in files
        .iter()
        .flat_map(|f| f.groups.iter().flat_map(|g| g.rules.iter()))
    {
        let expr = r
            .parsed_expr()
            .map_err(|e| anyhow::anyhow!("{}: {e}", r.name.value))?;
        let (s, back) =
            crate::rules::group::selectors_and_reach(&expr, engine.opts.lookback_delta_ms);
        selectors.extend(s);
        reach = reach.max(back);
    }
    selectors.sort();
    selectors.dedup();
    // Recorded series are computed here, not fetched.
    let recorded: std::collections::HashSet<String> = files
        .iter()
        .flat_map(|f| f.groups.iter().flat_map(|g| g.rules.iter()))
        .filter(|r| r.kind == crate::load::rules::RuleKind::Recording)
        .map(|r| r.name.value.clone())
        .collect();
    selectors.retain(|s| {
        !recorded
            .iter()
            .any(|name| s.starts_with(&format!("{name}{{")) || s == name)
    });
    client.load_raw(&selectors, from - reach, to, store)?;
    Ok(())
}

/// An Alertmanager configuration given on its own (`--alertmanager FILE`, `routes --config FILE`, or the text
/// a running Alertmanager reports).
pub enum AlertmanagerFile {
    /// The configuration, the directory its template globs are relative to, and the warnings found reading it.
    Config {
        config: Box<crate::alertmanager::config::Config>,
        base: std::path::PathBuf,
        warnings: Vec<crate::diag::Diagnostic>,
    },
    /// It has errors (problems found: exit status 1, as `check` gives for the same file), with the files read
    /// for code frames.
    Errors {
        errors: Vec<crate::diag::Diagnostic>,
        files: Vec<crate::load::documents::SourceFile>,
    },
}

/// Loads the Alertmanager configuration `path` (a plain file, or a ConfigMap/Secret holding one). A file
/// that cannot be read, or that holds no Alertmanager configuration at all, is an error (exit status 2).
pub fn load_alertmanager(path: &Path) -> anyhow::Result<AlertmanagerFile> {
    let loaded = crate::load::documents::load_paths(&[path.to_path_buf()])?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    alertmanager_from(loaded, &path.display().to_string(), base)
}

/// Reads an Alertmanager configuration from text already in hand (what a running Alertmanager reports as
/// `config.original`); `name` stands for the file in messages. The same classifier as for files finds the
/// configuration, so a ConfigMap or Secret holding one reads the same way.
pub fn alertmanager_from_text(name: &str, text: &str) -> anyhow::Result<AlertmanagerFile> {
    let mut loaded = crate::load::documents::Loaded::default();
    crate::load::documents::load_bytes(std::sync::Arc::from(name), text.as_bytes(), &mut loaded);
    alertmanager_from(loaded, name, std::path::PathBuf::new())
}

fn alertmanager_from(
    loaded: crate::load::documents::Loaded,
    name: &str,
    base: std::path::PathBuf,
) -> anyhow::Result<AlertmanagerFile> {
    let mut diags = loaded.diagnostics.clone();
    if let Some(item) = loaded
        .items_of(crate::load::documents::Kind::Alertmanager)
        .next()
    {
        let (config, d) = crate::alertmanager::config::from_node(&item.root, &item.file);
        diags.extend(d);
        if let Some(config) = config {
            return Ok(AlertmanagerFile::Config {
                config: Box::new(config),
                base,
                warnings: diags,
            });
        }
    }
    let errors: Vec<_> = diags
        .into_iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .collect();
    if errors.is_empty() {
        anyhow::bail!(
            "{name}: no Alertmanager configuration in this file (give an alertmanager.yml, or a ConfigMap or Secret holding one)"
        );
    }
    Ok(AlertmanagerFile::Errors {
        errors,
        files: loaded.files,
    })
}

/// Merges the Prometheus Operator AlertmanagerConfig objects found under `paths` into `base`, as the operator
/// does. `None` with the diagnostics when an object has errors; paths holding no such object are an error
/// (exit status 2).
pub fn merge_alertmanager_configs(
    base: &crate::alertmanager::config::Config,
    paths: &[std::path::PathBuf],
) -> anyhow::Result<(
    Option<crate::alertmanager::config::Config>,
    Vec<crate::diag::Diagnostic>,
)> {
    let loaded = crate::load::documents::load_paths(paths)?;
    let items: Vec<_> = loaded
        .items_of(crate::load::documents::Kind::AlertmanagerConfigCrd)
        .collect();
    if items.is_empty() {
        anyhow::bail!("no AlertmanagerConfig object in the paths given");
    }
    Ok(crate::alertmanager::crd::merge(base, &items))
}

/// Known incidents for `tune --incidents`: a YAML list (or `incidents:` key) of `{start, end, labels}`,
/// times as `--from` takes them.
pub fn load_incidents(path: &Path) -> Result<Vec<crate::rules::tune::Incident>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::io(path, e))?;
    let stream = crate::text::yaml::parse_stream(&text)
        .map_err(|e| LoadError::at_line(path, e.pos.line as usize, e.message))?;
    let Some(doc) = stream.documents.first() else {
        return Ok(Vec::new());
    };
    let list = doc.root.get("incidents").unwrap_or(&doc.root);
    let items = list.as_seq().ok_or_else(|| LoadError::Content {
        path: path.display().to_string(),
        line: None,
        column: None,
        message: "expected a list of incidents".into(),
    })?;
    let now = crate::text::time::now_ms();
    let mut out = Vec::new();
    for it in items {
        let at = |k: &str| -> Result<i64, LoadError> {
            let v = it.get(k).and_then(|n| n.as_str()).ok_or_else(|| {
                LoadError::at_line(path, it.pos.line as usize, format!("incident needs `{k}`"))
            })?;
            crate::text::time::parse_time(v, now)
                .map_err(|e| LoadError::at_line(path, it.pos.line as usize, e))
        };
        let labels = it
            .get("labels")
            .and_then(|l| l.as_map())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        out.push(crate::rules::tune::Incident {
            start_ms: at("start")?,
            end_ms: at("end")?,
            labels,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{alertmanager_from_text, AlertmanagerFile, LoadError};
    use crate::text::yaml::Pos;
    use base64::Engine as _;
    use std::path::Path;

    #[test]
    fn configmap_positions_point_into_the_outer_file() {
        let src = "apiVersion: v1\nkind: ConfigMap\ndata:\n  alertmanager.yml: |\n    route:\n      receiver: nope\n    receivers: [{name: x}]\n";
        let Ok(AlertmanagerFile::Errors { errors, .. }) = alertmanager_from_text("cm.yaml", src)
        else {
            panic!("an undefined receiver was accepted");
        };
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, "alertmanager/undefined-receiver");
        // The value `nope` on line 6 of the ConfigMap.
        assert_eq!(errors[0].location.as_ref().unwrap().pos, Pos::new(6, 17));
    }

    #[test]
    fn secret_data_is_base64() {
        let inner = "route: {receiver: x}\nreceivers: [{name: x}]\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(inner);
        let src = format!("kind: Secret\ndata:\n  alertmanager.yaml: {b64}\n");
        let Ok(AlertmanagerFile::Config {
            config, warnings, ..
        }) = alertmanager_from_text("s.yaml", &src)
        else {
            panic!("the Secret's config does not load");
        };
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.route.receiver, "x");
        let src = "kind: Secret\ndata:\n  alertmanager.yaml: '%%%'\n";
        let Ok(AlertmanagerFile::Errors { errors, .. }) = alertmanager_from_text("s.yaml", src)
        else {
            panic!("bad base64 was accepted");
        };
        assert_eq!(errors[0].code, "load/bad-base64");
    }

    #[test]
    fn loader_lines_become_path_line_column() {
        let p = Path::new("f.yml");
        let e = LoadError::content(p, "line 4: bad value");
        assert!(matches!(
            &e,
            LoadError::Content { line: Some(4), column: None, message, .. } if message == "bad value"
        ));
        assert_eq!(e.to_string(), "f.yml:4: bad value");
        let e = LoadError::content(p, "line 3, column 1: invalid JSON");
        assert!(matches!(
            e,
            LoadError::Content {
                line: Some(3),
                column: Some(1),
                ..
            }
        ));
        assert_eq!(e.to_string(), "f.yml:3:1: invalid JSON");
        assert_eq!(
            LoadError::content(p, "no series").to_string(),
            "f.yml: no series"
        );
        assert_eq!(
            LoadError::content(p, "line x: odd").to_string(),
            "f.yml: line x: odd"
        );
        assert_eq!(LoadError::content(p, "no series").path(), "f.yml");
    }

    #[test]
    fn incidents_name_the_line_of_the_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("incidents.yml");
        std::fs::write(
            &p,
            "incidents:\n- start: 2026-01-01T00:00:00Z\n  end: 2026-01-01T01:00:00Z\n- start: soon\n  end: 2026-01-01T01:00:00Z\n",
        )
        .unwrap();
        let e = super::load_incidents(&p).unwrap_err();
        assert!(
            matches!(e, LoadError::Content { line: Some(4), .. }),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with(&format!("{}:4: ", p.display())),
            "{e}"
        );
        std::fs::write(&p, "incidents:\n- start: 2026-01-01T00:00:00Z\n").unwrap();
        let e = super::load_incidents(&p).unwrap_err().to_string();
        assert!(e.ends_with(":2: incident needs `end`"), "{e}");
        std::fs::write(&p, "[a: b").unwrap();
        assert!(super::load_incidents(&p).is_err());
        let gone = dir.path().join("gone.yml");
        assert!(matches!(
            super::load_incidents(&gone),
            Err(LoadError::NotFound { .. })
        ));
    }
}

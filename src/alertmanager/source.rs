//! Finding the Alertmanager configuration in a file: a plain alertmanager.yml, or a Kubernetes ConfigMap or
//! Secret whose `data`/`stringData` holds `alertmanager.yml` (or `alertmanager.yaml`). Positions of an embedded
//! config point into the outer file. (The lead will replace the ConfigMap part with the shared document
//! classifier; it is kept in [`embedded_config`] alone for that reason.)

use super::config::{from_node, Config};
use crate::diag::Diagnostic;
use crate::text::yaml::{parse_stream, parse_stream_at, Node, Pos};
use base64::Engine;
use std::sync::Arc;

const KEYS: [&str; 2] = ["alertmanager.yml", "alertmanager.yaml"];

/// The config text inside a ConfigMap/Secret document, with where it starts in the outer file.
pub struct Embedded {
    pub text: String,
    pub origin: Pos,
}

/// `Some` when `root` is a ConfigMap or Secret holding an Alertmanager config.
pub fn embedded_config(root: &Node) -> Result<Option<Embedded>, Diagnostic> {
    let kind = root.get("kind").and_then(|k| k.as_str());
    if !matches!(kind, Some("ConfigMap" | "Secret")) {
        return Ok(None);
    }
    for section in ["stringData", "data"] {
        let Some(data) = root.get(section) else {
            continue;
        };
        for key in KEYS {
            let Some(v) = data.get(key) else { continue };
            let Some(text) = v.as_str() else { continue };
            // A Secret's `data` is base64; its decoded text has no place in the file, so its positions are
            // relative to the value's start.
            if kind == Some("Secret") && section == "data" {
                let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact.as_bytes())
                    .map_err(|e| {
                        Diagnostic::error(
                            "alertmanager/bad-secret",
                            format!("`{section}.{key}` is not valid base64: {e}"),
                        )
                    })?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    Diagnostic::error(
                        "alertmanager/bad-secret",
                        format!("`{section}.{key}` does not decode to UTF-8 text"),
                    )
                })?;
                return Ok(Some(Embedded {
                    text,
                    origin: v.pos,
                }));
            }
            return Ok(Some(Embedded {
                text: text.to_string(),
                origin: v.content_origin(),
            }));
        }
    }
    Ok(None)
}

/// Loads the Alertmanager config from the text of a file (plain or ConfigMap/Secret, first matching
/// document of a stream).
pub fn load_config_text(src: &str, file: &Arc<str>) -> (Option<Config>, Vec<Diagnostic>) {
    let stream = match parse_stream(src) {
        Ok(s) => s,
        Err(e) => {
            return (
                None,
                vec![Diagnostic::error("yaml/syntax", e.message).at(file, e.pos)],
            )
        }
    };
    for doc in &stream.documents {
        match embedded_config(&doc.root) {
            Err(d) => return (None, vec![d.at(file, doc.root.pos)]),
            Ok(Some(emb)) => {
                let inner = match parse_stream_at(&emb.text, emb.origin) {
                    Ok(s) => s,
                    Err(e) => {
                        return (
                            None,
                            vec![Diagnostic::error("yaml/syntax", e.message).at(file, e.pos)],
                        )
                    }
                };
                return match inner.documents.first() {
                    Some(d) => from_node(&d.root, file),
                    None => (
                        None,
                        vec![Diagnostic::error(
                            "alertmanager/empty",
                            "the embedded Alertmanager config is empty",
                        )
                        .at(file, emb.origin)],
                    ),
                };
            }
            Ok(None) => {}
        }
        if doc.root.get("route").is_some() || doc.root.get("receivers").is_some() {
            return from_node(&doc.root, file);
        }
    }
    match stream.documents.first() {
        Some(d) => from_node(&d.root, file),
        None => (
            None,
            vec![Diagnostic::error(
                "alertmanager/empty",
                "the file holds no YAML document",
            )],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configmap_positions_point_into_the_outer_file() {
        let src = "apiVersion: v1\nkind: ConfigMap\ndata:\n  alertmanager.yml: |\n    route:\n      receiver: nope\n    receivers: [{name: x}]\n";
        let (c, d) = load_config_text(src, &Arc::from("cm.yaml"));
        assert!(c.is_none());
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, "alertmanager/undefined-receiver");
        // The value `nope` on line 6 of the ConfigMap.
        assert_eq!(d[0].location.as_ref().unwrap().pos, Pos::new(6, 17));
    }

    #[test]
    fn secret_data_is_base64() {
        let inner = "route: {receiver: x}\nreceivers: [{name: x}]\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(inner);
        let src = format!("kind: Secret\ndata:\n  alertmanager.yaml: {b64}\n");
        let (c, d) = load_config_text(&src, &Arc::from("s.yaml"));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(c.unwrap().route.receiver, "x");
        let src = "kind: Secret\ndata:\n  alertmanager.yaml: '%%%'\n";
        let (c, d) = load_config_text(src, &Arc::from("s.yaml"));
        assert!(c.is_none() && d[0].code == "alertmanager/bad-secret");
    }
}

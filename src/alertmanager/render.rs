//! The bridge between the simulator's notification data and the Go-template adapter: Alertmanager's default
//! templates plus the config's own template files render each integration's fields.

use super::notify::{NotificationData, Renderer};
use crate::template::{AlertStatus, NotificationAlert, TemplateSet};
use std::path::Path;

/// Renders with Alertmanager's default templates and the config's `templates:` files.
pub struct GoRenderer {
    set: TemplateSet,
}

impl GoRenderer {
    /// `now_ms` pins the clock templates see (`since`); `base_dir` resolves the config's template globs.
    pub fn new(
        template_globs: &[String],
        base_dir: &Path,
        now_ms: i64,
    ) -> Result<GoRenderer, String> {
        let set = if template_globs.is_empty() {
            TemplateSet::with_defaults(now_ms)
        } else {
            TemplateSet::load_globs(template_globs, base_dir, now_ms)
        }
        .map_err(|e| e.to_string())?;
        Ok(GoRenderer { set })
    }
}

/// The simulator escapes the receiver name as Alertmanager does; the template data model escapes it itself.
fn unquote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Renderer for GoRenderer {
    fn render(&self, text: &str, data: &NotificationData) -> Result<String, String> {
        let alerts = data
            .alerts
            .iter()
            .map(|a| NotificationAlert {
                status: if a.status == "firing" {
                    AlertStatus::Firing
                } else {
                    AlertStatus::Resolved
                },
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at_ms: a.starts_at,
                ends_at_ms: a.ends_at,
                generator_url: a.generator_url.clone(),
                fingerprint: Some(a.fingerprint.clone()),
            })
            .collect();
        let d = crate::template::NotificationData {
            receiver: unquote_meta(&data.receiver),
            alerts,
            group_labels: data.group_labels.clone(),
            external_url: data.external_url.clone(),
            notification_reason: String::new(),
        };
        self.set.render(text, &d).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes() {
        assert_eq!(unquote_meta(r"web\.hook"), "web.hook");
        assert_eq!(unquote_meta("plain"), "plain");
    }
}

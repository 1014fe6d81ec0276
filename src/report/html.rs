//! The frame of every HTML report: one self-contained page (inline CSS, inline SVG, a little inline
//! JavaScript; nothing fetched from anywhere), escaping, and the page's behaviours: paged tables (a large run
//! shows its rows a page at a time), sortable tables, and a record of script errors the browser test reads.
//!
//! Everything that comes from the user's files or from live data goes through [`escape`]: an annotation
//! `<script>alert(1)</script>` shows as that text.
//!
//! The page marks itself when its script has run: `<html data-ready="1">`; `data-errors` on `<html>` holds
//! any script error, and `data-load-ms` the time from navigation to its `load` event with the layout done
//! (the browser test reads all three).

/// Text made safe for HTML content and attribute values (double- or single-quoted).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A table whose rows are shown a page at a time when there are more than `page` of them.
pub struct Table<'a> {
    pub id: &'a str,
    pub headers: &'a [&'a str],
    /// Each row's cells, already HTML (escape what comes from the user).
    pub rows: Vec<Vec<String>>,
    pub page: usize,
    pub sortable: bool,
    /// A class per row (`current`, say), or empty.
    pub row_class: Vec<&'static str>,
}

impl Table<'_> {
    pub fn html(&self) -> String {
        let mut s = String::new();
        let paged = self.rows.len() > self.page;
        s.push_str("<div class=\"table-wrap\">");
        s.push_str(&format!(
            "<table id=\"{}\" class=\"{}{}\" data-page-size=\"{}\"><thead><tr>",
            escape(self.id),
            if self.sortable { "sortable" } else { "" },
            if paged { " paged" } else { "" },
            self.page
        ));
        for h in self.headers {
            s.push_str(&format!("<th>{}</th>", escape(h)));
        }
        s.push_str("</tr></thead><tbody>");
        for (i, row) in self.rows.iter().enumerate() {
            let class = self.row_class.get(i).copied().unwrap_or("");
            let hidden = if paged && i >= self.page {
                " hidden"
            } else {
                ""
            };
            if class.is_empty() {
                s.push_str(&format!("<tr{hidden}>"));
            } else {
                s.push_str(&format!("<tr class=\"{class}\"{hidden}>"));
            }
            for c in row {
                s.push_str("<td>");
                s.push_str(c);
                s.push_str("</td>");
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></div>");
        s
    }
}

const STYLE: &str = r#"
:root { --fg: #1b1b1b; --muted: #5f6368; --line: #d9d9d9; --accent: #0072B2; --warn: #D55E00; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       margin: 0 auto; padding: 16px 24px 48px; max-width: 1200px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.sub { color: var(--muted); margin: 0 0 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card b { display: block; font-size: 20px; }
.card span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; margin: 6px 0 10px; width: 100%; }
.table-wrap { overflow-x: auto; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: " ▲"; }
table.sortable th[aria-sort=descending]::after { content: " ▼"; }
tr.current td { background: #fff2cc; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .labels { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
.labels { overflow-wrap: anywhere; }
.tag { white-space: nowrap; display: inline-block; border-radius: 3px; padding: 0 5px; font-size: 12px; border: 1px solid; }
.tag.firing { color: #8a3100; border-color: #D55E00; }
.tag.resolved { color: #00563f; border-color: #009E73; }
.tag.muted, .tag.inhibited { color: #5f6368; border-color: #999; }
.tag.missing { color: #8a3100; border-color: #D55E00; }
.tag.unexpected { color: #004a7a; border-color: #0072B2; }
table.diff td { width: 50%; }
.alert { margin: 2px 0 6px; }
.failure { margin: 6px 0 14px; }
details { margin: 2px 0; }
details pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f7f7f7; padding: 6px 8px;
              border-radius: 4px; margin: 4px 0; max-height: 24em; overflow: auto; }
.pager { margin: 2px 0 14px; color: var(--muted); }
.pager button { margin: 0 6px; }
.note { color: var(--muted); font-size: 12.5px; }
a { color: var(--accent); }
time { white-space: nowrap; }
"#;

/// The plots' CSS (`report::plot`), for the page's `<style>` and a plot's file of its own.
pub const PLOT_STYLE: &str = "
svg.plot { max-width: 100%; height: auto; display: block; }
svg.plot .plot-title { font-size: 13px; font-weight: 600; }
svg.plot text { font-family: system-ui, sans-serif; font-size: 11px; fill: #333; }
svg.plot .axis { font-size: 12px; fill: #555; }
";

const SCRIPT: &str = r#"
(function () {
  var root = document.documentElement;
  window.addEventListener('error', function (e) {
    root.setAttribute('data-errors', (root.getAttribute('data-errors') || '') + (e.message || 'error') + '\n');
  });
  function pager(table) {
    var size = parseInt(table.getAttribute('data-page-size'), 10) || 100;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var pages = Math.ceil(rows.length / size);
    var nav = document.createElement('div');
    nav.className = 'pager';
    var prev = document.createElement('button'), next = document.createElement('button');
    var label = document.createElement('span');
    prev.textContent = '‹ previous'; next.textContent = 'next ›';
    nav.appendChild(prev); nav.appendChild(label); nav.appendChild(next);
    table.parentNode.insertBefore(nav, table.nextSibling);
    var page = 0;
    function show() {
      rows = Array.prototype.slice.call(table.tBodies[0].rows);
      rows.forEach(function (r, i) { r.hidden = Math.floor(i / size) !== page; });
      label.textContent = 'page ' + (page + 1) + ' of ' + pages + ' (' + rows.length + ' rows)';
      prev.disabled = page === 0; next.disabled = page >= pages - 1;
    }
    prev.onclick = function () { page = Math.max(0, page - 1); show(); };
    next.onclick = function () { page = Math.min(pages - 1, page + 1); show(); };
    table.repage = function () { page = 0; show(); };
    show();
  }
  function sorter(table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        function key(r) {
          var c = r.cells[col]; var k = c.querySelector('[data-sort]');
          var v = k ? k.getAttribute('data-sort') : c.textContent;
          var n = parseFloat(v);
          return isNaN(n) || !/^\s*[-+0-9.]/.test(v) ? v.toLowerCase() : n;
        }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          var r = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === 'number' ? -1 : 1);
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        if (table.repage) { table.repage(); }
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.paged'), pager);
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), sorter);
  window.addEventListener('load', function () {
    void document.body.offsetHeight;
    root.setAttribute('data-load-ms', String(Math.round(performance.now())));
  });
  root.setAttribute('data-ready', '1');
})();
"#;

/// The whole page around `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n<title>{}</title>\n<style>{STYLE}{}</style>\n</head>\n<body>\n{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(title),
        PLOT_STYLE
    )
}

/// Labels as `{a="b", c="d"}`, escaped, in a span that wraps anywhere.
pub fn labels(l: &std::collections::BTreeMap<String, String>, skip: &[&str]) -> String {
    format!(
        "<span class=\"labels\">{}</span>",
        escape(&super::labels::braces(l, skip))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(escape("ünïcödé ✓"), "ünïcödé ✓");
    }

    #[test]
    fn the_page_fetches_nothing_and_pages_long_tables() {
        let t = Table {
            id: "t",
            headers: &["a"],
            rows: (0..5).map(|i| vec![i.to_string()]).collect(),
            page: 2,
            sortable: true,
            row_class: vec![],
        };
        let html = page("<t>", &t.html());
        assert!(html.contains("<title>&lt;t&gt;</title>"));
        assert_eq!(html.matches("<tr hidden>").count(), 3);
        assert!(html.contains("class=\"sortable paged\""));
        // No address the page could fetch from.
        for needle in ["http://", "https://", "src=\"", "href=\"//", "@import"] {
            let outside_policy = html.replace("http-equiv", "");
            assert!(!outside_policy.contains(needle), "{needle}");
        }
        assert!(html.contains("default-src 'none'"));
    }
}

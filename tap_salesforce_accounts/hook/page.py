"""The hook service's status page: plain HTML and an SVG latency chart drawn on the server.

No script and nothing loaded from elsewhere: the page is one document, styled inline, so it
works on a host without internet access and under a strict Content-Security-Policy.
"""

from __future__ import annotations

import statistics
from html import escape
from typing import Any, Final

CHART_WIDTH: Final = 640
CHART_HEIGHT: Final = 160
CHART_PAD: Final = 28
# A content security policy for the page: inline style only, no script, no request elsewhere.
PAGE_POLICY: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_COLOURS: Final = {"ok": "#2e7d32", "not_found": "#607d8b", "stale": "#ef6c00", "error": "#c62828"}
_STYLE: Final = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.2rem; }
dt { font-weight: 600; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; }
.ok { color: #2e7d32; } .not_found { color: #607d8b; }
.stale { color: #ef6c00; } .error { color: #c62828; }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: .6rem; color: #fff; }
.ready { background: #2e7d32; } .not-ready { background: #c62828; }
"""


def _text(value: object) -> str:
    return escape("" if value is None else str(value))


def latency_chart(history: list[dict[str, Any]]) -> str:
    """An SVG bar chart of the lookups' durations, oldest on the left, coloured by status.

    >>> "<svg" in latency_chart([{"duration_ms": 21.5, "status": "ok"}])
    True
    >>> "No lookups yet" in latency_chart([])
    True
    """
    rows = [row for row in reversed(history) if isinstance(row.get("duration_ms"), int | float)]
    label = "Lookup latency, most recent syncs"
    if not rows:
        return (
            f'<svg role="img" aria-label="{label}" width="{CHART_WIDTH}" height="40" '
            f'xmlns="http://www.w3.org/2000/svg"><text x="0" y="24">No lookups yet</text></svg>'
        )
    durations = [float(row["duration_ms"]) for row in rows]
    top = max(durations) or 1.0
    inner_w = CHART_WIDTH - 2 * CHART_PAD
    inner_h = CHART_HEIGHT - 2 * CHART_PAD
    step = inner_w / len(rows)
    bar = max(1.0, step * 0.8)
    svg = (
        f'<svg role="img" aria-label="{label}" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
        f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
    )
    axis = (
        f'<line x1="{CHART_PAD}" y1="{CHART_HEIGHT - CHART_PAD}" x2="{CHART_WIDTH - CHART_PAD}" '
        f'y2="{CHART_HEIGHT - CHART_PAD}" stroke="#999"/>'
    )
    median = (
        f'<text x="{CHART_WIDTH - CHART_PAD}" y="{CHART_PAD - 8}" font-size="11" '
        f'text-anchor="end">median {statistics.median(durations):.1f} ms</text>'
    )
    parts = [
        svg,
        f"<title>{label}</title>",
        axis,
        f'<text x="{CHART_PAD}" y="{CHART_PAD - 8}" font-size="11">max {top:.1f} ms</text>',
        median,
    ]
    for index, (row, duration) in enumerate(zip(rows, durations, strict=True)):
        height = max(1.0, inner_h * duration / top)
        x = CHART_PAD + index * step
        y = CHART_HEIGHT - CHART_PAD - height
        status = str(row.get("status"))
        colour = _COLOURS.get(status, "#555")
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
            f'fill="{colour}"><title>{_text(row.get("at"))}: {_text(status)}, '
            f"{duration:.1f} ms</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _history_table(history: list[dict[str, Any]]) -> str:
    if not history:
        return "<p>No syncs recorded yet.</p>"
    head = (
        "<tr><th>At (UTC)</th><th>Status</th><th>ms</th><th>Salesforce requests</th>"
        "<th>Host</th><th>Error</th></tr>"
    )
    rows = []
    for row in history:
        status = _text(row.get("status"))
        error = row.get("error") or {}
        error_text = f"{_text(error.get('code'))}: {_text(error.get('message'))}" if error else ""
        duration = row.get("duration_ms")
        shown = f"{duration:.1f}" if isinstance(duration, int | float) else ""
        rows.append(
            f'<tr><td>{_text(row.get("at"))}</td><td class="{status}">{status}</td>'
            f"<td>{shown}</td><td>{_text(row.get('salesforce_calls'))}</td>"
            f"<td>{_text(row.get('host'))}</td><td>{error_text}</td></tr>"
        )
    return f'<table id="history">{head}{"".join(rows)}</table>'


def render(status: dict[str, Any], history: list[dict[str, Any]], *, ready: bool) -> str:
    """The status page."""
    integration = _text(status.get("integration_id"))
    last_error = status.get("last_error")
    error_text = (
        f"{_text(last_error.get('code'))}: {_text(last_error.get('message'))}"
        if isinstance(last_error, dict)
        else "none"
    )
    badge = (
        '<span class="badge ready">ready</span>'
        if ready
        else '<span class="badge not-ready">not ready</span>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Salesforce Accounts hook: {integration}</title>
<style>{_STYLE}</style></head>
<body>
<h1>Salesforce Accounts hook: {integration} {badge}</h1>
<dl id="status">
<dt>Last success</dt><dd id="last-success">{_text(status.get("last_success_at") or "never")}</dd>
<dt>Last failure</dt><dd id="last-failure">{_text(status.get("last_failure_at") or "never")}</dd>
<dt>Last error</dt><dd id="last-error">{error_text}</dd>
<dt>Successful syncs</dt><dd id="successes">{_text(status.get("successes"))}</dd>
<dt>Failed syncs</dt><dd id="failures">{_text(status.get("failures"))}</dd>
<dt>Status store</dt><dd>{_text(status.get("store"))}</dd>
</dl>
<h2>Latency</h2>
<figure id="latency">{latency_chart(history)}</figure>
<h2>Recent syncs</h2>
{_history_table(history)}
</body></html>
"""


def unavailable(message: str) -> str:
    """The page when the status store cannot be read."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Salesforce Accounts hook</title><style>{_STYLE}</style></head><body>"
        "<h1>Salesforce Accounts hook</h1>"
        f'<p id="store-error" class="error">The status store cannot be read: {_text(message)}</p>'
        "</body></html>"
    )

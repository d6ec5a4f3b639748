import type { Incident } from '../alerts/engine.js';
import { formatAgo, formatBytes, formatTime } from '../util/format.js';
import { DAY_MS, MINUTE_MS } from '../util/time.js';
import { type FleetStatus, fleetAttention } from './fleetStatus.js';
import type { HistoryEntry } from './history.js';

/**
 * The fleet page (pure): one self-contained HTML file — inline CSS and SVG, no script, no font, no image, no
 * request of any kind — that opens from the Drive or the clone in any browser, a phone's too. The leader writes it
 * into the shared state with its fleet digest (`maintenance/fleet.html`); `roosync-maint report --out` on demand.
 * Every name and text in it comes from files other machines wrote: all of it is escaped.
 */

export const PAGE_REL = 'maintenance/fleet.html';

/** The days the trend charts cover. */
export const TREND_DAYS = 30;

export interface PageInputs {
  fleet: FleetStatus;
  history: readonly HistoryEntry[];
  incidents: readonly Incident[];
  now: number;
  /** Who wrote the page (a machine id) and with which version. */
  writer: string;
  version: string;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A template tag that escapes every interpolated value unless it is already markup (`Html`). */
class Html {
  constructor(readonly text: string) {}
}
function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    const part = Array.isArray(v) ? v.map(piece).join('') : piece(v);
    out += part + strings[i + 1]!;
  });
  return new Html(out);
}
function piece(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(String(v));
}

const CSS = `
:root{color-scheme:light dark;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--mute:#6e7781;--line:#d0d7de;--bg:#fff;--fg:#1f2328}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--line:#30363d;--mute:#8b949e}}
*{box-sizing:border-box}body{margin:0;padding:12px;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;
background:var(--bg);color:var(--fg);max-width:1100px;margin-inline:auto}
h1{font-size:20px;margin:4px 0}h2{font-size:16px;margin:20px 0 8px;border-bottom:1px solid var(--line)}
.verdict{padding:8px 12px;border-radius:6px;font-weight:600;margin:8px 0}
.verdict.ok{background:color-mix(in srgb,var(--ok) 15%,transparent)}
.verdict.bad{background:color-mix(in srgb,var(--bad) 15%,transparent)}
.mute{color:var(--mute)}table{border-collapse:collapse;width:100%}
td,th{padding:4px 6px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
.scroll{overflow-x:auto}.cell{display:inline-block;min-width:64px;padding:2px 6px;border-radius:4px;text-align:center}
.c-ok{background:color-mix(in srgb,var(--ok) 20%,transparent)}.c-bad{background:color-mix(in srgb,var(--bad) 25%,transparent)}
.c-warn{background:color-mix(in srgb,var(--warn) 20%,transparent)}.c-na{color:var(--mute)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px}figcaption{font-weight:600}
svg{width:100%;height:auto}svg text{font-size:10px;fill:var(--mute)}
.lead{stroke:none}ul{padding-left:18px}`;

export function renderFleetPage(p: PageInputs): string {
  const attention = fleetAttention(p.fleet);
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>RooSync fleet — ${formatTime(p.now)}</title><style>${new Html(CSS)}</style></head>
<body>
<h1>RooSync fleet</h1>
<div class="mute">written ${formatTime(p.now)} by ${p.writer} (roosync-maint ${p.version}) — as the shared state told it then</div>
${verdict(attention)}
${leaderSection(p)}
<h2>Machines</h2>
${machineTable(p)}
${versionLine(p.fleet)}
${componentLines(p.fleet)}
<h2>Trends (${TREND_DAYS} days)</h2>
${trendCharts(p)}
<h2>Recent alerts</h2>
${alertsSection(p)}
</body></html>
`;
  return body.text;
}

function verdict(attention: readonly string[]): Html {
  if (attention.length === 0)
    return html`<div class="verdict ok" id="verdict">All well: a live leader, every machine heard from, nothing failing</div>`;
  const items = attention.map((a) => html`<li>${a}</li>`);
  return html`<div class="verdict bad" id="verdict">Needs attention (${attention.length})<ul>${items}</ul></div>`;
}

function leaderSection(p: PageInputs): Html {
  const l = p.fleet.leader;
  const now =
    l === null
      ? html`<p id="leader">No leader yet: no machine holds the lease.</p>`
      : 'unreadable' in l
        ? html`<p id="leader">The lease file is unreadable: ${l.unreadable}</p>`
        : html`<p id="leader"><strong>${l.holder}</strong> leads, term ${l.term}, since ${formatTime(Date.parse(l.acquiredAt))};
renewed ${formatAgo(l.ageMinutes * MINUTE_MS)}${l.live ? '' : html` — <strong>the lease has run out</strong>`}</p>`;
  const spans = leaderSpans(p.history);
  return html`<h2>Leader</h2>${now}${
    spans.length
      ? html`<div class="scroll"><table id="leaders"><tr><th>leader</th><th>term</th><th>from</th><th>to</th></tr>${spans.map(
          (s) =>
            html`<tr><td>${s.leader ?? 'none'}</td><td>${s.term ?? ''}</td><td>${formatTime(s.from)}</td><td>${formatTime(s.to)}</td></tr>`,
        )}</table></div><div class="mute">who led at each daily digest</div>`
      : ''
  }`;
}

/** Who led when, from the digests' history: consecutive entries with the same leader and term, newest first. */
export function leaderSpans(history: readonly HistoryEntry[]) {
  const spans: { leader: string | null; term: number | null; from: number; to: number }[] = [];
  for (const e of history) {
    const at = Date.parse(e.at);
    const last = spans.at(-1);
    if (last && last.leader === e.leader && last.term === e.term) last.to = at;
    else spans.push({ leader: e.leader, term: e.term, from: at, to: at });
  }
  return spans.reverse().slice(0, 12);
}

function cell(state: 'ok' | 'bad' | 'warn' | 'na', text: string): Html {
  return html`<span class="cell c-${state}">${text}</span>`;
}

function machineTable(p: PageInputs): Html {
  const { fleet } = p;
  if (fleet.machines.length === 0) return html`<p>No machine has ticked yet.</p>`;
  const holder = fleet.leader && !('unreadable' in fleet.leader) ? fleet.leader.holder : undefined;
  const rows = fleet.machines.map((m) => {
    const failing = (m.health?.failing ?? []).filter(
      (f) => !fleet.machines.some((x) => !x.silent && f.startsWith(`${x.machine} has sent no status`)),
    );
    return html`<tr class="machine" data-machine="${m.machine}"><td><strong>${m.machine}</strong></td>
<td>${formatTime(Date.parse(m.lastTickAt))}<br><span class="mute">${formatAgo(m.sinceMinutes * MINUTE_MS)}</span></td>
<td>${m.machine === holder ? 'leader' : 'follower'}</td>
<td>${m.silent ? cell('bad', 'silent') : cell('ok', 'alive')}</td>
<td>${m.offline ? cell('bad', 'offline') : cell('ok', 'synced')}</td>
<td>${m.failed.length ? cell('bad', `${m.failed.length} failed`) : cell('ok', 'ok')}</td>
<td>${m.health ? (failing.length ? cell('bad', `${failing.length} failing`) : cell('ok', 'ok')) : cell('na', 'n/a')}</td>
<td>${m.version}</td></tr>${
      failing.length || m.failed.length
        ? html`<tr><td></td><td colspan="7" class="mute">${[...m.failed.map((f) => `failed: ${f}`), ...failing].join(' · ')}</td></tr>`
        : ''
    }`;
  });
  const head = ['machine', 'last tick', 'role', 'alive', 'sync', 'tasks', 'health', 'version'].map(
    (h) => html`<th>${h}</th>`,
  );
  return html`<div class="scroll"><table id="machines"><tr>${head}</tr>${rows}</table></div>`;
}

function versionLine(fleet: FleetStatus): Html {
  if (fleet.versions.length <= 1) return html``;
  const skew = fleet.versions.map((v) => `${v.version} on ${v.machines.join(', ')}`).join('; ');
  return html`<p class="verdict bad" id="skew">Version skew: ${skew}</p>`;
}

/** Each component (rollouts): which machines are at which commit; more than one commit is skew. */
function componentLines(fleet: FleetStatus): Html {
  if (fleet.components.length === 0) return html``;
  const rows = fleet.components.map(
    (c) =>
      html`<tr><td>${c.component}${c.commits.length > 1 ? html` ${cell('warn', 'skew')}` : ''}</td><td>${c.commits.map(
        (x) => html`<div><code>${x.commit.slice(0, 12)}</code> × ${x.machines.length}: ${x.machines.join(', ')}</div>`,
      )}</td></tr>`,
  );
  return html`<div class="scroll"><table id="components"><tr><th>component</th><th>commits</th></tr>${rows}</table></div>`;
}

interface Series {
  id: string;
  title: string;
  target?: string;
  value: (e: HistoryEntry) => number | null;
  format: (v: number) => string;
}

const SERIES: Series[] = [
  { id: 'inbox', title: 'Inbox messages', target: '< 100', value: (e) => e.inbox, format: String },
  { id: 'rollback', title: '.rollback folders', target: '< 10', value: (e) => e.rollbackDirs, format: String },
  { id: 'freed', title: 'Space freed per day', value: (e) => e.freedBytes, format: formatBytes },
  { id: 'uptime', title: 'MCP uptime', target: '> 99 %', value: (e) => e.mcpUptimePercent, format: (v) => `${v} %` },
  { id: 'mttr', title: 'MTTR', target: '< 30 min', value: (e) => e.mttrMinutes, format: (v) => `${v} min` },
];

function trendCharts(p: PageInputs): Html {
  const from = p.now - TREND_DAYS * DAY_MS;
  const recent = p.history.filter((e) => Date.parse(e.at) >= from && Date.parse(e.at) <= p.now);
  if (recent.length === 0)
    return html`<p class="mute">No history yet: the leader adds a point with each daily fleet digest.</p>`;
  return html`<div class="charts">${SERIES.map((s) => chart(s, recent, from, p.now))}</div>`;
}

/** One KPI over the window as an inline SVG line (points where the digests had a value, a gap where not). */
function chart(s: Series, entries: readonly HistoryEntry[], from: number, to: number): Html {
  const W = 300;
  const H = 110;
  const pad = { l: 6, r: 6, t: 16, b: 18 };
  const pts = entries.flatMap((e) => {
    const v = s.value(e);
    return v === null ? [] : [{ t: Date.parse(e.at), v }];
  });
  const latest = pts.at(-1);
  const target = s.target ? html` <span class="mute">(target ${s.target})</span>` : '';
  const caption = html`<figcaption>${s.title}: ${latest ? s.format(latest.v) : 'n/a'}${target}</figcaption>`;
  if (pts.length === 0)
    return html`<figure class="chart" data-kpi="${s.id}">${caption}<p class="mute">no value yet</p></figure>`;
  const max = Math.max(...pts.map((q) => q.v));
  const min = Math.min(0, ...pts.map((q) => q.v));
  const x = (t: number) => pad.l + ((t - from) / (to - from)) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - (v - min) / (max - min || 1)) * (H - pad.t - pad.b);
  const line = pts.map((q) => `${x(q.t).toFixed(1)},${y(q.v).toFixed(1)}`).join(' ');
  const dots = pts.map((q) => {
    const tip = html`<title>${formatTime(q.t)}: ${s.format(q.v)}</title>`;
    return html`<circle cx="${x(q.t).toFixed(1)}" cy="${y(q.v).toFixed(1)}" r="2.5" fill="#0969da">${tip}</circle>`;
  });
  const day = (t: number) => new Date(t).toISOString().slice(5, 10);
  return html`<figure class="chart" data-kpi="${s.id}">${caption}
<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${s.title} over ${TREND_DAYS} days">
<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#8c959f" stroke-width="0.5"/>
<polyline points="${line}" fill="none" stroke="#0969da" stroke-width="1.5"/>${dots}
<text x="${pad.l}" y="${H - 4}">${day(from)}</text><text x="${W - pad.r}" y="${H - 4}" text-anchor="end">${day(to)}</text>
<text x="${pad.l}" y="10">max ${s.format(max)}</text></svg></figure>`;
}

function alertsSection(p: PageInputs): Html {
  const closed = [...p.incidents].sort((a, b) => Date.parse(b.end) - Date.parse(a.end)).slice(0, 15);
  if (closed.length === 0)
    return html`<p class="mute" id="alerts">No incident closed yet (open problems are listed at the top).</p>`;
  return html`<div class="scroll"><table id="alerts"><tr><th>machine</th><th>what</th><th>from</th><th>lasted</th></tr>${closed.map(
    (i) =>
      html`<tr><td>${i.machine}</td><td>${i.check} ${i.subject}</td><td>${formatTime(Date.parse(i.start))}</td>
<td>${Math.round((Date.parse(i.end) - Date.parse(i.start)) / MINUTE_MS)} min</td></tr>`,
  )}</table></div>`;
}

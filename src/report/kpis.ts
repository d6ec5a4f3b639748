import type { Incident } from '../alerts/engine.js';
import { MINUTE_MS, DAY_MS } from '../util/time.js';

/** MCP uptime over a window and MTTR, from closed incidents (the plan's KPIs). */
export function kpisFromIncidents(
  incidents: readonly Incident[],
  now: number,
  windowDays = 30,
): { mcpUptimePercent: number | null; mttrMinutes: number | null } {
  const windowStart = now - windowDays * DAY_MS;
  const mcp = incidents.filter((i) => i.check === 'mcp' && Date.parse(i.end) > windowStart);
  const servers = new Set(mcp.map((i) => `${i.machine}|${i.subject}`)).size || 1;
  const down = mcp.reduce((s, i) => s + (Date.parse(i.end) - Math.max(windowStart, Date.parse(i.start))), 0);
  const mttr = incidents.length
    ? incidents.reduce((s, i) => s + (Date.parse(i.end) - Date.parse(i.start)), 0) / incidents.length / MINUTE_MS
    : null;
  return {
    mcpUptimePercent:
      incidents.length === 0 ? null : Math.round(10_000 * (1 - down / (servers * windowDays * DAY_MS))) / 100,
    mttrMinutes: mttr === null ? null : Math.round(mttr),
  };
}

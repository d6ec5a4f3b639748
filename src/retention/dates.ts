/** A timestamp found in a file or folder name, and where it stood (so a family name can be derived). */
export interface NameDate {
  ms: number;
  text: string;
  index: number;
}

const ISO = /(\d{4})-(\d{2})-(\d{2})T(\d{2})[-:](\d{2})[-:](\d{2})(?:[-.](\d{1,3}))?Z?/;
const COMPACT = /(?<!\d)(\d{4})(\d{2})(\d{2})(?:[T-](\d{2})(\d{2})(\d{2}))?(?!\d)/;
const DAY = /(?<!\d)(\d{4})-(\d{2})-(\d{2})(?![\dT])/;
const EPOCH_MS = /(?<!\d)(1\d{12})(?!\d)/;

function utc(y: string, mo: string, d: string, h = '0', mi = '0', s = '0', frac = '0'): number | undefined {
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Number(frac.padEnd(3, '0')));
  const date = new Date(ms);
  // Date.UTC rolls 2026-02-31 over into March; a real timestamp round-trips.
  if (
    date.getUTCFullYear() !== +y ||
    date.getUTCMonth() !== +mo - 1 ||
    date.getUTCDate() !== +d ||
    +h > 23 ||
    +mi > 59 ||
    +s > 59
  )
    return undefined;
  if (+y < 2000 || +y > 2200) return undefined;
  return ms;
}

/**
 * Dates a name the way RooSync writes them: ISO-dashed (`2026-08-22T02-01-33-123Z`),
 * compact (`20260822`, `20260822T020133`, as in message ids and log names), a plain day
 * (`2026-08-22`), or epoch milliseconds (`baselines/<m>.json.backup.1724292093123`).
 */
export function dateFromName(name: string): NameDate | undefined {
  const iso = ISO.exec(name);
  if (iso) {
    const ms = utc(iso[1]!, iso[2]!, iso[3]!, iso[4], iso[5], iso[6], iso[7]);
    if (ms !== undefined) return { ms, text: iso[0], index: iso.index };
  }
  const compact = COMPACT.exec(name);
  if (compact) {
    const ms = utc(compact[1]!, compact[2]!, compact[3]!, compact[4], compact[5], compact[6]);
    if (ms !== undefined) return { ms, text: compact[0], index: compact.index };
  }
  const day = DAY.exec(name);
  if (day) {
    const ms = utc(day[1]!, day[2]!, day[3]!);
    if (ms !== undefined) return { ms, text: day[0], index: day.index };
  }
  const epoch = EPOCH_MS.exec(name);
  if (epoch) {
    const ms = Number(epoch[1]);
    const year = new Date(ms).getUTCFullYear();
    if (year >= 2001 && year <= 2200) return { ms, text: epoch[0], index: epoch.index };
  }
  return undefined;
}

/** The family of a dated name: the name with its timestamp replaced by `*` (`x.backup.*.json`). */
export function familyOf(name: string, date: NameDate | undefined): string {
  return date ? name.slice(0, date.index) + '*' + name.slice(date.index + date.text.length) : name;
}

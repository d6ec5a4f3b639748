import { formatBytes, plural } from '../util/format.js';

export type UnitKind = 'file' | 'dir' | 'any';

/**
 * One retention rule, logrotate-style: everything about what it may remove stands here.
 * A rule with no olderThanDays, keepNewest or maxTotalBytes keeps everything.
 */
export interface RetentionRule {
  /** `rollback-cleanup/folders` — task name, then which of its rules. */
  name: string;
  /** Absolute folder the rule works in; nothing outside it is ever touched. */
  root: string;
  /** How the root is shown to the operator, e.g. `.rollback/`. */
  label: string;
  /**
   * The folder the root must really lie in once symlinks are resolved (the shared state for
   * fleet rules, the configured folder for local ones).
   */
  boundary: string;
  /** Globs relative to the root, one per path segment (`*`, `*.backup*`, `* /checkpoints`, `* /v*`). */
  match: string[];
  unit: UnitKind;
  olderThanDays?: number;
  keepNewest?: number;
  /** `family`: name with its timestamp replaced by `*`; `parent`: the folder holding it; `none`: all together. */
  groupBy: 'family' | 'parent' | 'none';
  /** Globs on names; an entry, or anything at any depth inside a folder unit, that matches is never touched. */
  exclude: string[];
  maxTotalBytes?: number;
  maxDeletionsPerRun?: number;
  /** `name-or-mtime`: the timestamp in the name, else the newest mtime in the unit. */
  dateFrom: 'name-or-mtime' | 'mtime';
  /** Also count the mtimes of the files directly beside the unit (a Roo task touched recently keeps its checkpoints). */
  ageIncludesParentFiles?: boolean;
  /** Folders inside the root that are never touched whatever matches (`env/`). */
  forbidden?: string[];
}

function unitWords(unit: UnitKind): string {
  return unit === 'file' ? 'files' : unit === 'dir' ? 'folders' : 'files and folders';
}

/** The rule as one sentence, so that a dry run explains itself. */
export function describeRule(rule: RetentionRule): string {
  const parts: string[] = [`in ${rule.label}: ${unitWords(rule.unit)} matching ${rule.match.join(' or ')}`];
  const limits: string[] = [];
  if (rule.olderThanDays !== undefined) {
    const from =
      rule.dateFrom === 'mtime'
        ? 'dated by its newest file'
        : 'dated by the timestamp in the name, else the newest file inside';
    limits.push(
      `removed when older than ${plural(rule.olderThanDays, 'day')} ` +
        `(${from}${rule.ageIncludesParentFiles ? ' or the newest file beside it' : ''})`,
    );
  }
  if (rule.keepNewest !== undefined) {
    const group = rule.groupBy === 'family' ? 'family' : rule.groupBy === 'parent' ? 'folder' : 'rule';
    limits.push(
      `${rule.olderThanDays !== undefined ? 'but ' : ''}the newest ` +
        `${rule.keepNewest === 1 ? '' : `${rule.keepNewest} `}of each ${group} always ` +
        `kept${rule.olderThanDays === undefined ? ', the rest removed' : ''}`,
    );
  }
  if (rule.maxTotalBytes !== undefined)
    limits.push(`then oldest first until the total is under ${formatBytes(rule.maxTotalBytes)}`);
  if (limits.length === 0) limits.push('nothing removed (an empty policy keeps everything)');
  parts.push(limits.join(', '));
  if (rule.exclude.length > 0) parts.push(`never anything matching ${rule.exclude.join(' or ')}, at any depth`);
  if (rule.maxDeletionsPerRun !== undefined) parts.push(`at most ${rule.maxDeletionsPerRun} removals a run`);
  return parts.join('; ');
}

/**
 * Code-unit order for names (machine ids, task names, config paths, versions): stable across machines and cheap.
 * `localeCompare` would load ICU's collation data, ~5 ms of CPU on the first call of every process.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

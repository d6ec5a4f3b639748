import path from 'node:path';

/** True when `child` is `parent` or lies below it (lexically; symlinks are checked where used). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

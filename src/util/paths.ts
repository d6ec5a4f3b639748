import path from 'node:path';

/** True when `child` is `parent` or lies below it (lexically; symlinks are checked where used). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Whether this OS's file systems ignore case by default (NTFS on Windows, APFS on macOS): `ENV` is `env` there. */
export function caseInsensitiveFs(platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'win32' || platform === 'darwin';
}

/** A path as the file system tells paths apart: lowercased where it ignores case (`Z:\x` and `z:\X` are one). */
export function pathKey(p: string, platform: NodeJS.Platform = process.platform): string {
  return caseInsensitiveFs(platform) ? p.toLowerCase() : p;
}

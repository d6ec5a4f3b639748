import { pathKey } from '../util/paths.js';
import os from 'node:os';
import path from 'node:path';

/** Where VS Code keeps extension storage on this OS (Roo's tasks and settings live under it). */
export function vscodeGlobalStorage(env: NodeJS.ProcessEnv, platform = process.platform, home = os.homedir()): string {
  if (platform === 'win32')
    return path.win32.join(env.APPDATA ?? path.win32.join(home, 'AppData', 'Roaming'), 'Code', 'User', 'globalStorage');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Code', 'User', 'globalStorage');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Code', 'User', 'globalStorage');
}

export const PLACEHOLDERS = ['<tmp>', '<vscode-global-storage>', '<shared-state>'] as const;

export type Expanded = { ok: true; path: string } | { ok: false; missing: string };

export interface ExpandContext {
  env: NodeJS.ProcessEnv;
  home: string;
  tmp: string;
  globalStorage: string;
  /** The shared state's folder, for paths that name a file in it (`<shared-state>/sync-config.json`). */
  sharedState?: string;
}

export function defaultExpandContext(env: NodeJS.ProcessEnv): ExpandContext {
  return { env, home: os.homedir(), tmp: os.tmpdir(), globalStorage: vscodeGlobalStorage(env) };
}

/**
 * Resolves a config path for this machine: `~`, `%VAR%`, `$VAR`, `${VAR}`, `<tmp>` and
 * `<vscode-global-storage>`. A variable this machine does not define is reported, not guessed,
 * because one config serves Windows and Linux machines alike.
 */
export function expandPath(raw: string, ctx: ExpandContext): Expanded {
  let missing: string | undefined;
  const lookup = (name: string, shown: string): string => {
    const v = ctx.env[name];
    if (v === undefined || v === '') {
      missing ??= shown;
      return '';
    }
    return v;
  };
  let out = raw
    .replace(/^<tmp>/, ctx.tmp)
    .replace(/^<vscode-global-storage>/, ctx.globalStorage)
    .replace(/^<shared-state>/, () => ctx.sharedState ?? '<shared-state>')
    .replace(/%([A-Za-z_][A-Za-z0-9_]*)%/g, (_, name: string) => lookup(name, `%${name}%`))
    .replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (_, braced: string | undefined, bare: string | undefined) => {
        const name = (braced ?? bare)!;
        return lookup(name, `$${name}`);
      },
    );
  if (missing) return { ok: false, missing };
  if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) out = path.join(ctx.home, out.slice(1));
  return { ok: true, path: path.normalize(out) };
}

/** Folders too broad to ever be a cleanup root: a filesystem root or a home folder itself. */
export function isTooBroad(p: string, home: string, platform: NodeJS.Platform = process.platform): boolean {
  const resolved = path.resolve(p);
  // `c:\USERS\me` is the home folder `C:\Users\me` where the file system ignores case
  const key = (q: string) => pathKey(q.replace(/[\\/]+$/, '') || q, platform);
  return resolved === path.parse(resolved).root || key(resolved) === key(path.resolve(home));
}

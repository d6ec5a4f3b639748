import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** git with a fixed identity and none of this machine's global or system config. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' },
  });
}

export interface Fleet {
  base: string;
  remote: string;
  machines: string[];
  dir: (machine: string) => string;
  /** This machine's local folder (its logs, checkpoints, settings), outside the shared state. */
  local: (machine: string) => string;
  /** This machine's own config (its local paths), for ROOSYNC_MAINT_MACHINE_CONFIG. */
  machineConfig: (machine: string) => string;
  /** The environment a machine's runs get: its local folder and its machine config. */
  localEnv: (machine: string) => { RM_LOCAL: string; ROOSYNC_MAINT_MACHINE_CONFIG: string };
}

const MACHINE_CONFIG = 'machine.jsonc';
/** The same local layout buildAgedTree makes under a machine's local folder (`$RM_LOCAL`). */
const ROO = '$RM_LOCAL/globalStorage/rooveterinaryinc.roo-cline';
const LOCAL_PATHS = {
  localLogs: { dirs: ['$RM_LOCAL/tmp/roo-state-manager-logs'] },
  checkpoints: { roots: [`${ROO}/tasks`] },
  localBackups: { files: [`${ROO}/settings/mcp_settings.json`] },
  configBackup: { files: [`${ROO}/settings/mcp_settings.json`] },
  health: { mcpSettingsPath: `${ROO}/settings/mcp_settings.json` },
};

/**
 * A throw-away fleet in `base`: a bare remote seeded with a shared state whose config points
 * every local task at `$RM_LOCAL`, and `n` clones as machines `myia-m1`… (`seed` adds files first).
 */
export async function createFleet(
  base: string,
  n: number,
  seed: (seedDir: string) => void | Promise<void> = () => undefined,
  names?: string[],
): Promise<Fleet> {
  mkdirSync(base, { recursive: true });
  const remote = path.join(base, 'remote.git');
  git(base, 'init', '-q', '--bare', '-b', 'main', remote);
  const seedDir = path.join(base, 'seed');
  git(base, 'clone', '-q', remote, seedDir);
  git(seedDir, 'config', 'user.name', 'seed');
  git(seedDir, 'config', 'user.email', 'seed@roosync-maint.invalid');
  // the fleet config holds policy only; each machine's local paths are in its own machine config
  writeFileSync(
    path.join(seedDir, '.maintenance-config.json'),
    JSON.stringify({ election: { leaseSeconds: 3600 } }, null, 2),
  );
  mkdirSync(path.join(seedDir, 'messages', 'inbox'), { recursive: true });
  writeFileSync(path.join(seedDir, 'messages', 'inbox', '.keep'), '');
  await seed(seedDir);
  git(seedDir, 'add', '-A');
  git(seedDir, 'commit', '-q', '-m', 'seed');
  git(seedDir, 'push', '-q', 'origin', 'main');
  const machines = names ?? Array.from({ length: n }, (_, i) => `myia-m${i + 1}`);
  for (const m of machines) {
    git(base, 'clone', '-q', remote, path.join(base, m));
    mkdirSync(path.join(base, `${m}-local`), { recursive: true });
    writeFileSync(path.join(base, `${m}-local`, MACHINE_CONFIG), `${JSON.stringify(LOCAL_PATHS, null, 2)}\n`);
  }
  return {
    base,
    remote,
    machines,
    dir: (m) => path.join(base, m),
    local: (m) => path.join(base, `${m}-local`),
    machineConfig: (m) => path.join(base, `${m}-local`, MACHINE_CONFIG),
    localEnv: (m) => ({
      RM_LOCAL: path.join(base, `${m}-local`),
      ROOSYNC_MAINT_MACHINE_CONFIG: path.join(base, `${m}-local`, MACHINE_CONFIG),
    }),
  };
}

/** Every version the lease file had on the remote, oldest first. */
export function leaseHistory(fleet: Fleet): { holder: string; term: number; commit: string }[] {
  const commits = git(fleet.remote, 'log', '--reverse', '--format=%H', 'main', '--', 'maintenance/leader.json')
    .trim()
    .split('\n')
    .filter(Boolean);
  return commits.flatMap((c) => {
    try {
      const r = JSON.parse(git(fleet.remote, 'show', `${c}:maintenance/leader.json`)) as {
        holder: string;
        term: number;
      };
      return [{ holder: r.holder, term: r.term, commit: c }];
    } catch {
      return [];
    }
  });
}

export function remoteFile(fleet: Fleet, rel: string): string | undefined {
  try {
    return git(fleet.remote, 'show', `main:${rel}`);
  } catch {
    return undefined;
  }
}

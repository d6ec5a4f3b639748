import { loadGitHubClient } from '../github/issues.js';
import { loadEveryTask } from '../tasks/registry.js';
import { loadEveryFamily } from './catalogue.js';

/**
 * A long-running process (the daemon, the MCP server) loads all of its code before it starts. The installed CLI is
 * a bundle whose chunks load when first needed (scripts/build.mjs), and an update of the package under a running
 * process replaces those files with others: a tick that loaded a task module only then would fail. Loaded at start,
 * the process goes on with the code it started with until it is restarted.
 */
export async function loadAllCode(): Promise<void> {
  await Promise.all([loadEveryFamily(), loadEveryTask(), loadGitHubClient(), import('chokidar')]);
}

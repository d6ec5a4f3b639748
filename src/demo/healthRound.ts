import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DAY_MS } from '../util/time.js';

/**
 * The demo's health round: two real stdio MCP servers (one healthy, built with the official SDK; one that
 * dies at start as a server with a bad token does), and a token that expires in three days.
 */

/**
 * A stdio MCP server with one tool, on the official SDK this package ships with, imported by absolute URL so the
 * script runs from any folder.
 */
export function sdkServerSource(name: string, tool: string): string {
  // resolved as require would (the installed CLI is a CommonJS bundle, without import.meta.resolve), and imported
  // whole: a CommonJS module's default export is its exports object
  const sdk = (p: string) => pathToFileURL(createRequire(import.meta.url).resolve(`@modelcontextprotocol/sdk/${p}`));
  return [
    `import serverIndex from '${sdk('server/index.js')}';`,
    `import serverStdio from '${sdk('server/stdio.js')}';`,
    `import types from '${sdk('types.js')}';`,
    'const { Server } = serverIndex;',
    'const { StdioServerTransport } = serverStdio;',
    'const { ListToolsRequestSchema } = types;',
    `const server = new Server({ name: '${name}', version: '1.0.0' }, { capabilities: { tools: {} } });`,
    'server.setRequestHandler(ListToolsRequestSchema, async () => ({',
    `  tools: [{ name: '${tool}', description: '${tool}', inputSchema: { type: 'object', properties: {} } }],`,
    '}));',
    'await server.connect(new StdioServerTransport());',
    '',
  ].join('\n');
}

/** Writes the two servers under `dir`: a healthy one, and one that dies at start. */
export function writeDemoServers(dir: string): { healthy: string; dead: string } {
  mkdirSync(dir, { recursive: true });
  const healthy = path.join(dir, 'roo-state-manager.mjs');
  const dead = path.join(dir, 'github-mcp.mjs');
  writeFileSync(healthy, sdkServerSource('roo-state-manager', 'roosync_read_inbox'));
  writeFileSync(
    dead,
    "process.stderr.write('github-mcp: Bad credentials (GITHUB_TOKEN rejected)\\n');\nprocess.exit(3);\n",
  );
  return { healthy, dead };
}

/** Roo's mcp_settings.json naming both servers, as Roo would start them. */
export function demoMcpSettings(servers: { healthy: string; dead: string }): string {
  const entry = (file: string) => ({ command: process.execPath, args: [file], disabled: false });
  return JSON.stringify({ mcpServers: { 'roo-state-manager': entry(servers.healthy), github: entry(servers.dead) } });
}

/** A token that expires in three days: a MEDIUM alert at the first check. */
export function expiringToken(now: number) {
  return { name: 'github-pat', expiresAt: new Date(now + 3 * DAY_MS).toISOString().slice(0, 10), usedBy: 'github' };
}

interface Listed {
  from: string;
  to: string;
  priority: string;
  subject: string;
  timestamp: string;
}

/** Our messages in a clone's inbox as RooSync lists them: recipient, priority, subject, oldest first. */
export function listMaintenanceMessages(sharedState: string): string[] {
  const inbox = path.join(sharedState, 'messages', 'inbox');
  const ours = readdirSync(inbox)
    .filter((n) => n.endsWith('.json'))
    .flatMap((n) => {
      try {
        const m = JSON.parse(readFileSync(path.join(inbox, n), 'utf8')) as Listed;
        return m.from?.endsWith(':maintenance') ? [m] : [];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  return [
    `  ${'to'.padEnd(6)} ${'priority'.padEnd(8)} subject`,
    ...ours.map((m) => `  ${m.to.padEnd(6)} ${m.priority.padEnd(8)} ${m.subject}`),
  ];
}

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { failureLine, failureOf } from '../errors.js';
import { TASK_NAMES } from '../config/taskCatalogue.js';
import type { Outcome } from './kit.js';

/**
 * The maintenance state as MCP tools, for the agents that run the fleet. Every tool is a CLI command run
 * in-process with `--json` (`invoke`), so a tool's `structuredContent` is exactly the command's JSON
 * document and its errors are the command's errors, in one line. Only `maintenance_run` acts, through the
 * same lock as the CLI, and only when the config says `mcp.allowRun: true`.
 */
export interface McpServerOptions {
  version: string;
  /** Runs one CLI command (argv without the global identity options) and returns its outcome; throws as the CLI would. */
  invoke: (argv: string[]) => Promise<Outcome>;
  /** Whether the config of this machine allows maintenance_run (read at each call: an edit takes effect at once). */
  allowRun: () => Promise<{ allowed: boolean; configFile: string }>;
}

const anyObject = z.looseObject({});

/** A tool result from a command's outcome: its JSON document, and its text for a person. */
function resultOf(o: Outcome): CallToolResult {
  return {
    content: [{ type: 'text', text: o.lines.join('\n') || JSON.stringify(o.doc) }],
    structuredContent: o.doc,
  };
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** Runs a command for a tool: a thrown error becomes a tool error with the CLI's one-line reason, never a crash. */
async function viaCommand(invoke: McpServerOptions['invoke'], argv: string[]): Promise<CallToolResult> {
  try {
    return resultOf(await invoke(argv));
  } catch (err) {
    return errorResult(failureLine(failureOf(err)));
  }
}

export function maintenanceMcpServer(o: McpServerOptions): McpServer {
  const server = new McpServer({ name: 'roosync-maint', version: o.version });
  const readOnly = { readOnlyHint: true, openWorldHint: false };
  const read = (name: string, title: string, description: string, argv: string[]) =>
    server.registerTool(
      name,
      { title, description, inputSchema: {}, outputSchema: anyObject, annotations: readOnly },
      () => viaCommand(o.invoke, argv),
    );

  read(
    'maintenance_status',
    'Fleet status',
    'The fleet as this clone last synced it: leader and term, each machine (last status, role, failed tasks, ' +
      'silent or not), and the KPIs against their targets. The same document as `roosync-maint status --json`.',
    ['status'],
  );
  read(
    'maintenance_health',
    "This machine's health",
    "Runs this machine's health checks now (MCP servers, git and the clone, tokens, disk) and returns each with " +
      'its state, summary and fixes. The same document as `roosync-maint health --json`.',
    ['health'],
  );
  read(
    'maintenance_leader',
    'The leader lease',
    'The lease as the remote has it (holder, term, renewed, expiry by its writer) and how this machine judges ' +
      'it. The same document as `roosync-maint leader status --json`.',
    ['leader', 'status'],
  );
  read(
    'maintenance_plan',
    'What a tick would do now',
    'A dry run of one tick: which tasks are due and why, and for each the actions it would take with their ' +
      'reasons. Nothing is changed, committed or pushed. The same document as `roosync-maint run --dry-run --json`.',
    ['run', '--dry-run'],
  );

  server.registerTool(
    'maintenance_run',
    {
      title: 'Run one maintenance tick',
      description:
        'Runs one tick exactly like `roosync-maint run`: through the same lock (busy when another run holds it), ' +
        'the due tasks or the named ones. Off unless the config says `mcp.allowRun: true`.',
      inputSchema: {
        tasks: z
          .array(z.string().min(1))
          .optional()
          .describe(`task names or groups (health, update, cleanup, fleet, all); tasks: ${TASK_NAMES.join(', ')}`),
        dryRun: z.boolean().optional().describe('plan only: nothing changed, committed or pushed'),
      },
      outputSchema: anyObject,
      annotations: { destructiveHint: true, openWorldHint: false },
    },
    async ({ tasks, dryRun }) => {
      let policy: { allowed: boolean; configFile: string };
      try {
        policy = await o.allowRun();
      } catch (err) {
        return errorResult(failureLine(failureOf(err)));
      }
      if (!policy.allowed)
        return errorResult(
          `refused: maintenance_run is off for agents → set "mcp": { "allowRun": true } in this machine's own ` +
            `config ${policy.configFile} (the shared fleet config cannot turn it on)`,
        );
      const argv = ['run', ...(tasks ?? []).flatMap((t) => ['--task', t]), ...(dryRun ? ['--dry-run'] : [])];
      return viaCommand(o.invoke, argv);
    },
  );
  return server;
}

import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { packageVersion } from '../../util/version.js';
import { invoke } from '../commands.js';
import { load, type CliEnv, type Handler, type Outcome } from '../kit.js';
import { maintenanceMcpServer } from '../mcpServer.js';
import { loadAllCode } from '../preload.js';

/** The identity options the server was started with, passed on to every command a tool runs. */
function identityArgv(cli: CliEnv): string[] {
  const g = cli.args.global;
  return [
    ...(g.sharedState ? ['--shared-state', g.sharedState] : []),
    ...(g.machine ? ['--machine', g.machine] : []),
    ...(g.config ? ['--config', g.config] : []),
    ...(g.machineConfig ? ['--machine-config', g.machineConfig] : []),
    // a plain folder's server (`mcp --no-sync --leader`): its plan and run tools act the same way
    ...(g.noSync ? ['--no-sync'] : []),
    ...(g.noSync && g.leader ? ['--leader'] : []),
    '--log-level',
    g.logLevel,
  ];
}

/** `roosync-maint mcp`: serves the maintenance tools over stdio until the client closes stdin. */
async function serve(cli: CliEnv): Promise<Outcome> {
  await loadAllCode();
  const server = maintenanceMcpServer({
    version: packageVersion(),
    invoke: (argv) => invoke(cli, [...argv, '--json', ...identityArgv(cli)]),
    allowRun: async () => {
      const { config } = await load(cli);
      // honoured from this machine's own config only (config/layers.ts)
      const machineFile = config.layers.machineFile ?? 'the machine config';
      return { allowed: config.config.mcp.allowRun, configFile: machineFile };
    },
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.once('end', resolve);
  });
  await server.connect(transport);
  cli.log.info('MCP server ready on stdio');
  await closed;
  await server.close();
  // stdout belongs to the protocol: nothing is printed after it ends
  return { exitCode: 0, doc: {}, lines: [] };
}

/** The mcp family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = { mcp: serve };

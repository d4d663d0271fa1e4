import { watch, type FSWatcher } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Environment } from '../broker/context.js';
import { loadRequestContext } from '../broker/context.js';
import { handleRequest, type BrokerDeps } from '../broker/exec.js';
import { asOutloopError, Exit } from '../errors.js';
import { VERSION } from '../version.js';
import { tenantGates } from '../policy/tenant.js';
import { didYouMean } from '../util/suggest.js';
import { errorResult, failureResult, loadCatalogue, outcomeResult, toParams, type ToolResult } from './tools.js';

/**
 * `outloop mcp`: an MCP server over stdio. Each recipe the project's tenant may run is one tool; a call is
 * the same request as `outloop exec` (handleRequest, mode "mcp"): policy, secret, child, redaction, audit.
 * stdout belongs to the transport alone: the child's output is collected, diagnostics go to stderr.
 * Config and recipes are read again for every list and call; a watcher tells the client when to re-list.
 */
export interface McpServerOptions {
  env: Environment;
  backends: BrokerDeps['backends'];
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  log?: (line: string) => void;
  /** --tenant / OUTLOOP_TENANT: every call asserts it, as `outloop exec --tenant` does. */
  assertedTenant?: string;
}

const INSTRUCTIONS =
  'Each tool runs one approved outloop recipe for this project\'s tenant. Credentials are injected by outloop and never shown; output is redacted. A tool error names a code, the reason and the next step.';

/** Why this server offers no tools, if it offers none for a reason the agent and the person should know. */
async function whyNoTools(o: McpServerOptions): Promise<string | undefined> {
  let ctx;
  try {
    ctx = await loadRequestContext(o.env);
  } catch (err) {
    return `outloop cannot load its configuration: ${asOutloopError(err).message}. A person must fix it (\`outloop config check\`).`;
  }
  const t = tenantGates(ctx.binding, o.assertedTenant, ctx.cwd, ctx.config.file);
  return t.ok ? undefined : `No tools: ${t.reason}. ${t.next}`;
}

export async function serveMcp(o: McpServerOptions): Promise<void> {
  const log = o.log ?? ((line: string) => process.stderr.write(`outloop mcp: ${line}\n`));
  // Said once at start, to the agent (the instructions) and to the person (stderr, the client's log).
  const why = await whyNoTools(o);
  if (why) log(why);
  const server = new Server(
    { name: 'outloop', version: VERSION },
    { capabilities: { tools: { listChanged: true } }, instructions: why ? `${why}\n\n${INSTRUCTIONS}` : INSTRUCTIONS },
  );
  const deps: BrokerDeps = { ...o.env, output: 'collect', backends: o.backends };

  let lastList: string | undefined;
  const listTools = async () => {
    const cat = await loadCatalogue(o.env, o.assertedTenant);
    for (const c of cat.clashes) log(`two recipes share the tool name ${c}; only the first is listed`);
    lastList = JSON.stringify(cat.tools);
    return cat;
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    try {
      return { tools: (await listTools()).tools };
    } catch (err) {
      const e = asOutloopError(err);
      throw new McpError(ErrorCode.InternalError, `${e.message} [${e.code}]${e.next ? ` next: ${e.next}` : ''}`);
    }
  });

  server.setRequestHandler(CallToolRequestSchema, async (req): Promise<ToolResult> => {
    const name = req.params.name;
    try {
      const cat = await loadCatalogue(o.env, o.assertedTenant);
      const target = cat.targets.get(name);
      if (!target) {
        return errorResult('unknown_tool', Exit.usage, `no recipe is exposed as the tool "${name}"${didYouMean(name, cat.tools.map((t) => t.name))}`, 'List the tools again (tools/list) and call one of those; `outloop recipes list` shows every recipe and whether it is granted here.');
      }
      const args = toParams(req.params.arguments);
      if (!args.ok) return args.error;
      const out = await handleRequest({ service: target.service, recipe: target.recipe, params: args.params, assertedTenant: o.assertedTenant, mode: 'mcp' }, deps);
      return outcomeResult(out);
    } catch (err) {
      return failureResult(err);
    }
  });

  const transport = new StdioServerTransport(o.stdin as never, o.stdout as never);
  const watcher = new ConfigWatcher(o.env, log, async () => {
    let next: string;
    try {
      next = JSON.stringify((await loadCatalogue(o.env, o.assertedTenant)).tools);
    } catch (err) {
      // A half-written or invalid file: the client re-lists and sees the error there.
      log(`config or recipes changed and do not load: ${asOutloopError(err).message}`);
      next = '';
    }
    if (next === lastList) return;
    lastList = next;
    await server.sendToolListChanged().catch((err: unknown) => log(`cannot send tools/list_changed: ${String(err)}`));
  });

  const stdin = o.stdin ?? process.stdin;
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    stdin.once('end', () => resolve());
    stdin.once('close', () => resolve());
  });
  await server.connect(transport);
  // The baseline the watcher compares against, so an unrelated save does not make the client re-list.
  await listTools().catch(() => undefined);
  await watcher.start();
  await closed;
  watcher.stop();
  await server.close().catch(() => undefined);
}

/**
 * Watches config.yaml and the recipe folders (fs.watch, debounced) and calls `changed`. Missing folders
 * are skipped; the config folder is always watched, so a recipes/ folder created later (or a new
 * recipePaths entry) is picked up when the watch list is rebuilt after each change.
 */
export class ConfigWatcher {
  private watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly env: Environment,
    private readonly log: (line: string) => void,
    private readonly changed: () => Promise<void>,
    private readonly debounceMs = 150,
  ) {}

  async start(): Promise<void> {
    await this.rewatch();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private async rewatch(): Promise<void> {
    const { configDir, configFile, recipesDir } = this.env.homes;
    const dirs = new Set([configDir, recipesDir, this.env.builtinRecipesDir]);
    try {
      const ctx = await loadRequestContext(this.env);
      for (const d of ctx.recipeDirs) dirs.add(d);
    } catch {
      // Invalid config: keep watching what we know; a fix is a change too.
    }
    if (this.stopped) return;
    for (const [d, w] of this.watchers) {
      if (!dirs.has(d)) {
        w.close();
        this.watchers.delete(d);
      }
    }
    const configName = configFile.slice(configDir.length + 1);
    for (const d of dirs) {
      if (this.watchers.has(d)) continue;
      // In the config folder only config.yaml and recipes/ matter: the audit log lives there too.
      const relevant = d === configDir ? (f: string | null) => f === null || f === configName || f === 'recipes' : () => true;
      try {
        const w = watch(d, { persistent: false }, (_event, file) => {
          if (relevant(file === null ? null : String(file))) this.poke();
        });
        w.on('error', () => {
          w.close();
          this.watchers.delete(d);
          this.poke();
        });
        this.watchers.set(d, w);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') this.log(`cannot watch ${d}: ${(err as Error).message}`);
      }
    }
  }

  private poke(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.rewatch()
        .then(() => (this.stopped ? undefined : this.changed()))
        .catch((err: unknown) => this.log(`watch: ${String(err)}`));
    }, this.debounceMs);
  }
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { type Api, configYaml, type E2E, makeE2E, plantedSecret, startApi } from '../e2e/helpers.js';

/**
 * `outloop mcp` driven by the SDK's own client over stdio, against the built CLI: the tool list is the
 * tenant's grants, a call is the exec pipeline (redaction, the tenant's own secret, audit mode "mcp"), and
 * every refusal is a tool error carrying code, reason and next step.
 */
const recipe = (port: number) => `service: svc
description: a local stand-in API
hosts: ["127.0.0.1:${port}"]
secrets: [TOKEN]
recipes:
  list:
    description: List things
    risk: read
    params:
      limit: { type: integer, default: 10, min: 1, max: 100, description: How many }
    run: [curl, -sS, --fail-with-body, -K, -, "http://127.0.0.1:${port}/v1/x?limit={{params.limit}}"]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
    timeout: 20s
  search:
    description: Search things
    risk: read
    params:
      q: { type: string, pattern: "[a-z]+", maxLength: 20 }
      mode: { type: enum, enum: [fast, slow], default: fast }
      verbose: { type: boolean, required: false }
    run: [echo, "{{params.q}}", "{{params.mode}}"]
  purge:
    description: Delete everything
    risk: admin
    run: [echo, purged]
  export:
    description: Export all data
    risk: write
    run: [echo, exported]
`;

const SEARCH_SCHEMA = {
  type: 'object',
  properties: {
    q: { type: 'string', pattern: '^(?:[a-z]+)$', maxLength: 20 },
    mode: { type: 'string', enum: ['fast', 'slow'], default: 'fast' },
    verbose: { type: 'boolean' },
  },
  required: ['q'],
  additionalProperties: false,
};

type Text = { type: string; text: string }[];
const textOf = (r: unknown) => ((r as { content: Text }).content).map((c) => c.text).join('\n');

describe('outloop mcp', () => {
  let e: E2E;
  let api: Api;
  const acmeKey = plantedSecret('acme');
  const globexKey = plantedSecret('globex');
  const clients: Client[] = [];
  const grants = (acmeAllow: string) =>
    configYaml(e, {
      acme: `svc:\n  secrets: { TOKEN: "local:acme/svc" }\n  allow: ${acmeAllow}`,
      globex: 'svc:\n  secrets: { TOKEN: "local:globex/svc" }\n  allow: ["*"]',
    });

  async function connect(args: string[] = ['mcp'], cwd = e.projects.acme!): Promise<Client> {
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, ...args], cwd, env: e.env as Record<string, string>, stderr: 'pipe' });
    const client = new Client({ name: 'outloop-test', version: '0.0.0' });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    e = makeE2E(['acme', 'globex']);
    api = await startApi([acmeKey, globexKey]);
    e.writeRecipe('svc', recipe(api.port));
    e.writeConfig(grants('[list, search, purge]'));
    await e.setSecret('local:acme/svc', acmeKey);
    await e.setSecret('local:globex/svc', globexKey);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await api?.close();
    e?.cleanup();
  });

  it('lists exactly the granted recipes, with their schemas and annotations', async () => {
    const c = await connect();
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['svc_list', 'svc_purge', 'svc_search']);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.svc_search!.description).toBe('Search things');
    expect(byName.svc_search!.inputSchema).toEqual(SEARCH_SCHEMA);
    expect(byName.svc_list!.inputSchema).toEqual({
      type: 'object',
      properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 10, description: 'How many' } },
      required: [],
      additionalProperties: false,
    });
    expect(byName.svc_list!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(byName.svc_purge!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
  });

  it('--project serves another folder\'s tenant', async () => {
    const c = await connect(['mcp', '--project', e.projects.globex!], e.root);
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['svc_export', 'svc_list', 'svc_purge', 'svc_search']);
  });

  it('from a folder with no tenant: no tools, and the server says why in its instructions and on stderr', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], cwd: e.root, env: e.env as Record<string, string>, stderr: 'pipe' });
    let stderr = '';
    transport.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const c = new Client({ name: 'outloop-test', version: '0.0.0' });
    await c.connect(transport);
    clients.push(c);
    expect((await c.listTools()).tools).toEqual([]);
    expect(c.getInstructions()).toContain(`No tools: ${e.root} is not inside any project bound to a tenant`);
    expect(c.getInstructions()).toContain('tenants.<name>.projects');
    expect(stderr).toContain('No tools:');
  });

  for (const how of ['--tenant', 'OUTLOOP_TENANT'] as const) {
    it(`honours ${how} as exec does: acme asserted in globex's project lists nothing and a call is denied wrong_tenant`, async () => {
      const args = how === '--tenant' ? ['mcp', '--tenant', 'acme'] : ['mcp'];
      const transport = new StdioClientTransport({
        command: process.execPath, args: [BIN, ...args], cwd: e.projects.globex!, stderr: 'pipe',
        env: { ...(e.env as Record<string, string>), ...(how === 'OUTLOOP_TENANT' ? { OUTLOOP_TENANT: 'acme' } : {}) },
      });
      const c = new Client({ name: 'outloop-test', version: '0.0.0' });
      await c.connect(transport);
      clients.push(c);
      expect((await c.listTools()).tools).toEqual([]);
      expect(c.getInstructions()).toContain('asserts tenant "acme"');
      const before = api.seen.length;
      const r = await c.callTool({ name: 'svc_list', arguments: {} });
      expect(r.isError).toBe(true);
      expect((r.structuredContent as { code: string }).code).toBe('wrong_tenant');
      expect(api.seen.length).toBe(before);
      expect(JSON.stringify(r)).not.toContain(globexKey);
      const rec = e.audit().filter((a) => a.mode === 'mcp' && a.code === 'wrong_tenant').at(-1)!;
      expect(rec).toMatchObject({ tenant: 'globex', decision: 'deny' });
      // Asserting the folder's own tenant changes nothing.
      const ok = await connect(['mcp', '--tenant', 'globex'], e.projects.globex!);
      expect((await ok.listTools()).tools.length).toBe(4);
    });
  }

  it('a call runs the exec pipeline: the tenant\'s secret, redacted output, an audit record with mode mcp', async () => {
    const c = await connect();
    const before = api.seen.length;
    const r = await c.callTool({ name: 'svc_list', arguments: { limit: 7 } });
    expect(r.isError).toBe(false);
    const text = textOf(r);
    expect(text).toContain('"limit":"7"');
    expect(text).toContain('Bearer [REDACTED:TOKEN]');
    expect(text).toContain('exit code 0');
    expect(text).not.toContain(acmeKey);
    expect(JSON.stringify(r)).not.toContain(acmeKey);
    const seen = api.seen.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.authorization).toBe(`Bearer ${acmeKey}`);
    const end = e.audit().filter((a) => a.recipe === 'list' && a.phase === 'end').at(-1)!;
    expect(end).toMatchObject({ mode: 'mcp', tenant: 'acme', service: 'svc', decision: 'allow', exitCode: 0 });
    expect(readFileSync(join(e.home, 'audit.jsonl'), 'utf8')).not.toContain(acmeKey);
  });

  it('booleans and numbers arrive as JSON values and are validated as text', async () => {
    const c = await connect();
    const r = await c.callTool({ name: 'svc_search', arguments: { q: 'abc', verbose: true } });
    expect(r.isError).toBe(false);
    expect(textOf(r)).toContain('abc fast');
  });

  it('bad arguments are a tool error with bad_param', async () => {
    const c = await connect();
    const range = await c.callTool({ name: 'svc_list', arguments: { limit: 500 } });
    expect(range.isError).toBe(true);
    expect(textOf(range)).toContain('bad_param');
    expect(textOf(range)).toContain('limit');
    expect(textOf(range)).toMatch(/next: /);
    const pattern = await c.callTool({ name: 'svc_search', arguments: { q: 'abc; rm -rf' } });
    expect(pattern.isError).toBe(true);
    expect(textOf(pattern)).toContain('bad_param');
    const object = await c.callTool({ name: 'svc_search', arguments: { q: { a: 1 } } });
    expect(object.isError).toBe(true);
    expect(textOf(object)).toContain('bad_param');
    expect(textOf(object)).toContain('"q"');
    const unknown = await c.callTool({ name: 'svc_search', arguments: { q: 'abc', extra: 1 } });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toContain('bad_param');
    const denied = e.audit().filter((a) => a.mode === 'mcp' && a.code === 'bad_param');
    expect(denied.length).toBeGreaterThanOrEqual(3);
  });

  it('a recipe granted only to another tenant, or a name not in the list, is a clear tool error', async () => {
    const c = await connect();
    const other = await c.callTool({ name: 'svc_export', arguments: {} });
    expect(other.isError).toBe(true);
    expect(textOf(other)).toContain('recipe_not_allowed');
    expect(textOf(other)).toMatch(/next: /);
    const rec = e.audit().filter((a) => a.recipe === 'export').at(-1)!;
    expect(rec).toMatchObject({ mode: 'mcp', tenant: 'acme', decision: 'deny', code: 'recipe_not_allowed' });
    const none = await c.callTool({ name: 'nothing_here', arguments: {} });
    expect(none.isError).toBe(true);
    expect(textOf(none)).toContain('unknown_tool');
    expect(textOf(none)).toContain('tools/list');
    const typo = await c.callTool({ name: 'svc_lst', arguments: {} });
    expect(textOf(typo)).toContain('did you mean "svc_list"?');
  });

  it('recipes list --json carries the same tool names and input schemas', async () => {
    const c = await connect();
    const { tools } = await c.listTools();
    const r = await e.cli(['recipes', 'list', '--json'], { cwd: e.projects.acme });
    expect(r.status).toBe(0);
    const cat = JSON.parse(r.stdout) as { recipes: { name: string; tool: string; granted: boolean; inputSchema: unknown; approvalRequired: boolean }[] };
    const svc = cat.recipes.filter((x) => x.name.startsWith('svc.'));
    expect(svc.filter((x) => x.granted).map((x) => x.tool).sort()).toEqual(tools.map((t) => t.name).sort());
    for (const t of tools) {
      const entry = svc.find((x) => x.tool === t.name)!;
      expect(entry.inputSchema).toEqual(t.inputSchema);
      expect(entry.approvalRequired).toBe(false);
    }
    expect(svc.find((x) => x.name === 'svc.search')!.inputSchema).toEqual(SEARCH_SCHEMA);
  });

  it('sends tools/list_changed when the config changes, and lists the new grant', async () => {
    const c = await connect();
    await c.listTools();
    const changed = new Promise<void>((resolve) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    // Let the server's watcher start before the change.
    await new Promise((r) => setTimeout(r, 300));
    e.writeConfig(grants('["*"]'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([changed, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no tools/list_changed within 10 s')), 10_000)))]);
    clearTimeout(timer);
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name)).toContain('svc_export');
  });
});

describe('outloop init --agent', () => {
  let e: E2E;
  // A PATH with an `outloop` on it, as after `npm install -g outloop`.
  let withOutloop: NodeJS.ProcessEnv;
  beforeAll(() => {
    e = makeE2E(['acme', 'globex']);
    e.writeConfig(configYaml(e, { acme: 'svc:\n  secrets: {}\n  allow: []', globex: 'svc:\n  secrets: {}\n  allow: []' }));
    const bin = join(e.root, 'globalbin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'outloop'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    withOutloop = { PATH: `${bin}:${e.env.PATH}` };
  });
  afterAll(() => e?.cleanup());

  it('claude-code writes .mcp.json and prints rules that deny reading and editing outloop\'s folders', async () => {
    const dir = e.projects.acme!;
    const r = await e.cli(['init', '--agent', 'claude-code'], { cwd: dir, env: withOutloop });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, '.mcp.json'), 'utf8'))).toEqual({ mcpServers: { outloop: { command: 'outloop', args: ['mcp'] } } });
    expect(r.stdout).toContain('mcp__outloop__*');
    expect(r.stdout).toContain('Bash(outloop exec:*)');
    expect(r.stdout).toContain('Read(./.env)');
    const perms = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'), r.stdout.lastIndexOf('}') + 1)) as { permissions: { deny: string[] } };
    for (const tool of ['Read', 'Edit', 'Write', 'MultiEdit']) expect(perms.permissions.deny).toContain(`${tool}(/${e.home}/**)`);
    // The existing config.yaml is kept.
    expect(readFileSync(join(e.home, 'config.yaml'), 'utf8')).toContain('acme');
  });

  it('writes the absolute launcher, and warns, when outloop is not on PATH', async () => {
    const dir = join(e.root, 'nopath');
    mkdirSync(dir);
    const r = await e.cli(['init', '--agent', 'claude-code'], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('outloop is not on PATH');
    // No tenant here: said, not silently set up.
    expect(r.stderr).toContain('[no_tenant]');
    expect(JSON.parse(readFileSync(join(dir, '.mcp.json'), 'utf8'))).toEqual({ mcpServers: { outloop: { command: process.execPath, args: [BIN, 'mcp'] } } });
  });

  it('merges into an existing .mcp.json without dropping other servers', async () => {
    const dir = e.projects.globex!;
    writeFileSync(join(dir, '.mcp.json'), JSON.stringify({ mcpServers: { other: { command: 'x', args: ['y'] } }, extra: true }));
    const r = await e.cli(['init', '--agent', 'claude-code'], { cwd: dir, env: withOutloop });
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, '.mcp.json'), 'utf8'))).toEqual({
      mcpServers: { other: { command: 'x', args: ['y'] }, outloop: { command: 'outloop', args: ['mcp'] } },
      extra: true,
    });
  });

  it('refuses to overwrite a .mcp.json that is not JSON', async () => {
    const dir = join(e.root, 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, '.mcp.json'), '{ not json');
    const r = await e.cli(['init', '--agent', 'claude-code'], { cwd: dir });
    expect(r.status).toBe(64);
    expect(readFileSync(join(dir, '.mcp.json'), 'utf8')).toBe('{ not json');
  });

  it('cursor is given the project folder; codex gets a project config and a per-tenant global table', async () => {
    for (const t of ['acme', 'globex']) {
      const dir = e.projects[t]!;
      const cur = await e.cli(['init', '--agent', 'cursor'], { cwd: dir, env: withOutloop });
      expect(cur.status).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, '.cursor', 'mcp.json'), 'utf8'))).toEqual({ mcpServers: { outloop: { command: 'outloop', args: ['mcp', '--project', dir] } } });
      const cx = await e.cli(['init', '--agent', 'codex'], { cwd: dir, env: withOutloop });
      expect(cx.status).toBe(0);
      // Two clients never share a table name in ~/.codex/config.toml.
      expect(cx.stdout).toContain(`[mcp_servers.outloop-${t}]\ncommand = "outloop"\nargs = ["mcp", "--project", ${JSON.stringify(dir)}]`);
      expect(readFileSync(join(dir, '.codex', 'config.toml'), 'utf8')).toBe(`[mcp_servers.outloop]\ncommand = "outloop"\nargs = ["mcp", "--project", ${JSON.stringify(dir)}]\n`);
      const again = await e.cli(['init', '--agent', 'codex'], { cwd: dir, env: withOutloop });
      expect(again.stdout).toContain('nothing changed');
    }
    expect(existsSync(join(e.env.HOME!, '.codex'))).toBe(false);
  });
});

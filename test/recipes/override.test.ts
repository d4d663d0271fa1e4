import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E, stripeGrant } from '../e2e/helpers.js';

// Every sandbox made here is removed after the file, so no outloop-test-* folder is left in /tmp.
const made: E2E[] = [];
const track = (e: E2E) => (made.push(e), e);
afterAll(() => {
  for (const e of made.splice(0)) e.cleanup();
});

/**
 * A team's own file for a built-in service (same `service` name in $OUTLOOP_HOME/recipes or a recipePaths
 * folder) overrides the built-in actions it names and adds new ones; every other built-in action stays.
 * Each action keeps the hosts and secrets of the file that defined it.
 */
const BUILTIN = resolve('recipes/stripe.yaml');

const TEAM = `service: stripe
hosts: [files.stripe.com]
secrets: [STRIPE_KEY]
recipes:
  get-invoice:
    description: Team version of get-invoice
    risk: read
    params:
      id: { type: string, pattern: "in_[A-Za-z0-9]{1,64}" }
    run: [curl, -sS, -K, "-", "https://files.stripe.com/v1/invoices/{{params.id}}"]
    stdin: |
      header = "Authorization: Bearer {{secrets.STRIPE_KEY}}"
  team-export:
    description: Team-only action reaching the built-in file's host
    risk: read
    run: [curl, -sS, -K, "-", "https://api.stripe.com/v1/invoices"]
    stdin: |
      header = "Authorization: Bearer {{secrets.STRIPE_KEY}}"
`;

describe('a team recipe file extends and overrides a built-in service', () => {
  it('recipes show says where each action came from', async () => {
    const e = track(makeE2E(['acme']));
    e.writeRecipe('stripe', TEAM);
    const team = join(e.home, 'recipes', 'stripe.yaml');
    const text = await e.cli(['recipes', 'show', 'stripe']);
    expect(text.status, text.stderr).toBe(0);
    const block = (name: string) => text.stdout.split('\n\n').find((b) => b.startsWith(`stripe.${name} `)) ?? '';
    expect(block('get-invoice')).toContain(`source: ${team} (overrides ${BUILTIN})`);
    expect(block('get-invoice')).toContain('Team version of get-invoice');
    expect(block('team-export')).toContain(`source: ${team}\n`);
    expect(block('list-invoices')).toContain(`source: ${BUILTIN}\n`);

    const json = await e.cli(['recipes', 'show', 'stripe', '--json']);
    const got = JSON.parse(json.stdout) as { files: string[]; recipes: { recipe: string; source: string; overrides?: string; hosts: string[] }[] };
    expect(got.files).toEqual([BUILTIN, team]);
    const by = Object.fromEntries(got.recipes.map((r) => [r.recipe, r]));
    expect(by['get-invoice']).toMatchObject({ source: team, overrides: BUILTIN, hosts: ['files.stripe.com'] });
    expect(by['list-invoices']).toMatchObject({ source: BUILTIN, hosts: ['api.stripe.com'] });
    expect(by['list-invoices']!.overrides).toBeUndefined();
    expect(by['team-export']).toMatchObject({ source: team, hosts: ['files.stripe.com'] });
  });

  it('hosts are per file: a team action cannot use the built-in file\'s hosts, nor a built-in one the team\'s', async () => {
    const e = track(makeE2E(['acme']));
    e.writeRecipe('stripe', TEAM);
    e.writeConfig(configYaml(e, { acme: stripeGrant('acme') }));
    const denied = await e.cli(['check', 'stripe.team-export', '--json']);
    expect(denied.status).toBe(77);
    expect(JSON.parse(denied.stdout)).toMatchObject({ code: 'host_not_allowed' });
    const allowed = await e.cli(['check', 'stripe.get-invoice', '-p', 'id=in_1', '--json']);
    expect(allowed.status, allowed.stdout).toBe(0);
    expect(JSON.stringify(JSON.parse(allowed.stdout))).toContain('https://files.stripe.com/v1/invoices/in_1');
    const builtin = await e.cli(['check', 'stripe.list-invoices', '--json']);
    expect(builtin.status, builtin.stdout).toBe(0);
  });

  it('a recipePaths folder overrides $OUTLOOP_HOME/recipes, which overrides the built-in', async () => {
    const e = track(makeE2E(['acme']));
    e.writeRecipe('stripe', TEAM);
    const extra = join(e.root, 'team-recipes');
    mkdirSync(extra, { recursive: true });
    writeFileSync(join(extra, 'stripe.yaml'), TEAM.replace('Team version of get-invoice', 'Shared-folder version').replace(/  team-export:[\s\S]*$/, ''));
    e.writeConfig(`recipePaths: [${JSON.stringify(extra)}]\n${configYaml(e, { acme: stripeGrant('acme') })}`);
    const json = await e.cli(['recipes', 'show', 'stripe', '--json']);
    expect(json.status, json.stderr).toBe(0);
    const by = Object.fromEntries((JSON.parse(json.stdout) as { recipes: { recipe: string; description: string; source: string; overrides?: string }[] }).recipes.map((r) => [r.recipe, r]));
    expect(by['get-invoice']).toMatchObject({ description: 'Shared-folder version', source: join(extra, 'stripe.yaml'), overrides: join(e.home, 'recipes', 'stripe.yaml') });
  });
});

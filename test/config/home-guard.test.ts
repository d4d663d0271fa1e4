import { chmodSync, chownSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkConfigHome, unsafeConfigPath } from '../../src/config/home-guard.js';
import { OutloopError } from '../../src/errors.js';
import { resolveHomes } from '../../src/paths.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});
function root(): string {
  const d = mkdtempSync(join(tmpdir(), 'outloop-home-guard-'));
  made.push(d);
  return d;
}
/** A personal-mode layout: ~/.config/outloop/config.yaml and ~/.local/state/outloop. */
function personal(base: string) {
  const env = { HOME: base, XDG_CONFIG_HOME: join(base, '.config'), XDG_STATE_HOME: join(base, '.local', 'state') };
  const homes = resolveHomes(env);
  mkdirSync(homes.recipesDir, { recursive: true });
  mkdirSync(homes.stateDir, { recursive: true });
  writeFileSync(homes.configFile, 'tenants: {}\n');
  return { env, homes };
}
const uid = process.geteuid!();
const OTHER = 4242;

function refusal(fn: () => void): OutloopError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OutloopError);
    return err as OutloopError;
  }
  throw new Error('expected a refusal');
}

describe('personal mode refuses a config another user could swap', () => {
  it('a private config passes', () => {
    const { homes } = personal(root());
    expect(() => checkConfigHome(homes, uid)).not.toThrow();
  });

  it('config folder owned by another uid: refused, exit 78, naming the folder and the owner', () => {
    const { homes } = personal(root());
    chownSync(homes.configDir, OTHER, OTHER);
    const err = refusal(() => checkConfigHome(homes, uid));
    expect(err.exitCode).toBe(78);
    expect(err.code).toBe('unsafe_config');
    expect(err.message).toContain(`${homes.configDir} is owned by uid ${OTHER}, not by you (uid ${uid}) or root`);
    expect(err.next).toContain(`chown ${uid} ${homes.configDir}`);
  });

  it('config.yaml owned by another uid: refused', () => {
    const { homes } = personal(root());
    chownSync(homes.configFile, OTHER, OTHER);
    expect(refusal(() => checkConfigHome(homes, uid)).message).toContain(`${homes.configFile} is owned by uid ${OTHER}`);
  });

  it('an ancestor writable by every user (not sticky): refused', () => {
    const base = root();
    const { homes } = personal(base);
    chmodSync(join(base, '.config'), 0o777);
    expect(refusal(() => checkConfigHome(homes, uid)).message).toContain(`${join(base, '.config')} is writable by every user (mode 0777)`);
  });

  it('a group-writable recipes folder: refused', () => {
    const { homes } = personal(root());
    chmodSync(homes.recipesDir, 0o775);
    expect(refusal(() => checkConfigHome(homes, uid)).message).toContain(`${homes.recipesDir} is writable by its group`);
  });

  it('a sticky world-writable ancestor (/tmp) is fine; the same folder made non-sticky is not', () => {
    const base = root();
    const shared = join(base, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const { homes } = personal(join(shared, 'me'));
    expect(unsafeConfigPath(homes.configFile, uid)).toBeUndefined();
    chmodSync(shared, 0o777);
    expect(unsafeConfigPath(homes.configFile, uid)?.path).toBe(shared);
  });

  it('a symlinked config folder is checked along its real path too', () => {
    const base = root();
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere);
    chown(elsewhere);
    const { homes } = personal(join(base, 'h'));
    rmSync(homes.configDir, { recursive: true });
    mkdirSync(join(elsewhere, 'outloop', 'recipes'), { recursive: true });
    writeFileSync(join(elsewhere, 'outloop', 'config.yaml'), 'tenants: {}\n');
    symlinkSync(join(elsewhere, 'outloop'), homes.configDir);
    expect(refusal(() => checkConfigHome(homes, uid)).message).toContain(`${elsewhere} is owned by uid ${OTHER}`);
  });
});

function chown(p: string) {
  chownSync(p, OTHER, OTHER);
}

describe('the state folder keeps to the config it was set up with', () => {
  it('XDG_CONFIG_HOME pointed at a config of the agent\'s own, the real state kept: refused', () => {
    const base = root();
    const { env, homes } = personal(base);
    checkConfigHome(homes, uid); // the first run pins the real config
    const evil = join(base, 'evil');
    mkdirSync(join(evil, 'outloop'), { recursive: true });
    writeFileSync(join(evil, 'outloop', 'config.yaml'), 'tenants: {}\n');
    const swapped = resolveHomes({ ...env, XDG_CONFIG_HOME: evil });
    expect(swapped.stateDir).toBe(homes.stateDir);
    const err = refusal(() => checkConfigHome(swapped, uid));
    expect(err.exitCode).toBe(78);
    expect(err.code).toBe('config_swapped');
    expect(err.message).toContain(`the config is now ${join(evil, 'outloop')} (XDG_CONFIG_HOME?), but this state folder serves ${homes.configDir}`);
    expect(err.next).toContain(`delete ${join(homes.stateDir, 'config.pin')}`);
    // The real one still works.
    expect(() => checkConfigHome(homes, uid)).not.toThrow();
  });

  it('the real config folder moved aside and another made in its place: refused', () => {
    const { homes } = personal(root());
    checkConfigHome(homes, uid);
    renameSync(homes.configDir, `${homes.configDir}.bak`);
    mkdirSync(homes.recipesDir, { recursive: true });
    writeFileSync(homes.configFile, 'tenants: {}\n');
    expect(refusal(() => checkConfigHome(homes, uid)).message).toContain(`${homes.configDir} was replaced by another folder of the same name`);
  });

  it('OUTLOOP_HOME (config and state in one folder, as tests use it) needs no pin and keeps working', () => {
    const home = root();
    writeFileSync(join(home, 'config.yaml'), 'tenants: {}\n');
    expect(() => checkConfigHome(resolveHomes({ OUTLOOP_HOME: home }), uid)).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { assertedTenant, classify, isPerson } from '../../src/system/access.js';
import { sessionFor } from '../../src/system/daemon.js';

describe('what a daemon caller may ask for', () => {
  it('lets the agent run and read, and keeps every policy, secret and session change for a person', () => {
    for (const argv of [['exec', 'a.b'], ['run', '--service', 's', '--', 'x'], ['check', '--tenant', 'acme', 'a.b'], ['recipes', 'list'], ['recipes', 'show', 'x'], ['audit', 'verify'], ['secrets', 'list'], ['redact'], ['mcp'], ['doctor', '--json'], ['approvals'], []]) {
      expect(classify(argv), argv.join(' ')).toBe('agent');
    }
    for (const argv of [['approve', 'ap_1'], ['deny', 'ap_1'], ['secrets', 'set', 'local:a/b'], ['secrets', 'rm', 'x'], ['secrets', 'import', '.env'], ['init', '--tenant', 'x'], ['grant', 'x'], ['tenant', 'add'], ['demo'], ['some-new-command'], ['recipes', 'lint', '/var/lib/outloop/store.key'], ['policy', 'test', '/var/lib/outloop/store.key']]) {
      expect(classify(argv), argv.join(' ')).toBe('person');
    }
    expect(classify(['session', '--tenant', 'acme'])).toBe('session');
    expect(isPerson(0)).toBe(true);
    expect(isPerson(1000)).toBe(false);
  });

  it('reads the tenant a request asserts, before any --', () => {
    expect(assertedTenant(['exec', '--tenant', 'acme', 'a.b'])).toBe('acme');
    expect(assertedTenant(['exec', '--tenant=globex', 'a.b'])).toBe('globex');
    expect(assertedTenant(['run', '--service', 's', '--', 'x', '--tenant', 'evil'])).toBeUndefined();
  });

  it('binds a process to a session only when the root pid has the same start time (a reused pid does not pass)', () => {
    const session = { tenant: 'acme', pid: 100, startTime: '5000' };
    const chain = [{ pid: 300, ppid: 200, startTime: '7000' }, { pid: 200, ppid: 100, startTime: '6000' }, { pid: 100, ppid: 1, startTime: '5000' }];
    expect(sessionFor(chain, [session])).toBe(session);
    const reused = [{ pid: 300, ppid: 100, startTime: '7000' }, { pid: 100, ppid: 1, startTime: '9999' }];
    expect(sessionFor(reused, [session])).toBeUndefined();
  });
});

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inPidNamespace } from '../../src/runner/contain.js';
import { wrappedArgv } from '../../src/runner/spawn.js';

// The exec that actually starts. bwrap's --die-with-parent sets the kernel's parent-death signal on bwrap
// itself (the shield shell execs it, so its parent is outloop), so a namespaced child needs no setpriv in
// front: one exec fewer per call. The SIGKILL tests (test/faults/children, test/sandbox/sandbox-e2e) show
// that everything still dies with outloop.
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

describe.runIf(process.platform === 'linux' && setpriv)('wrappedArgv', () => {
  const boxed = inPidNamespace('/usr/bin/bwrap', ['/usr/bin/true']);

  it('a namespaced child (bwrap --die-with-parent) starts with the shield shell, not setpriv', () => {
    const argv = wrappedArgv({ argv: boxed, dieWithParent: true, namespaced: true });
    expect(argv[0]).toBe('/bin/sh');
    expect(argv).not.toContain(setpriv);
    expect(argv).toContain('--die-with-parent');
  });

  it('any other child that must die with outloop still gets setpriv --pdeathsig', () => {
    expect(wrappedArgv({ argv: ['/usr/bin/true'], dieWithParent: true }).slice(0, 4)).toEqual([setpriv, '--pdeathsig', 'KILL', '--']);
    expect(wrappedArgv({ argv: boxed, dieWithParent: true }).slice(0, 4)).toEqual([setpriv, '--pdeathsig', 'KILL', '--']);
  });
});

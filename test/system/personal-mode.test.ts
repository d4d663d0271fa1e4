import { afterAll, describe, expect, it } from 'vitest';
import { makeSandbox } from '../helpers/cli.js';
import { PERSONAL_LINE } from '../../src/system/checks.js';

describe('personal mode says what it protects against', () => {
  const sb = makeSandbox(['acme']);
  afterAll(() => sb.cleanup());

  it('doctor --json has mode personal and the plain line', () => {
    const r = sb.run(['doctor', '--json']);
    const report = JSON.parse(r.stdout) as { mode: string; findings: { section: string; message: string }[] };
    expect(report.mode).toBe('personal');
    expect(report.findings.find((f) => f.section === 'mode')?.message).toBe(PERSONAL_LINE);
    expect(sb.run(['doctor']).stdout).toContain('Mode: personal\n  ok    personal: same user as the agent: guards against accidental leaks, not a hostile agent');
  });

  it('outloop session says it needs system mode (64), and runs nothing', () => {
    const r = sb.run(['session', '--tenant', 'acme', '--', 'sh', '-c', 'echo ran']);
    expect(r.status).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('this machine is in personal mode (no system install) [usage]');
    expect(r.stderr).toContain('next: Install system mode (sudo outloop system install)');
  });

  it('an unreachable OUTLOOP_SOCKET is exit 69, with no fall back to personal mode', () => {
    const r = sb.run(['exec', 'x.y'], { env: { OUTLOOP_SOCKET: `${sb.root}/no.sock` } });
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('cannot reach the outloop daemon');
    expect(r.stderr).toContain('[daemon_unavailable]');
  });
});

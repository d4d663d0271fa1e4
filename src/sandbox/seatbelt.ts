/**
 * macOS: a sandbox-exec (Seatbelt) profile. Deny by default; read the system; read and write only the
 * run's folder (and declared paths); network only to the egress proxy on its localhost port. macOS has no
 * network namespace, so the proxy listens on 127.0.0.1 itself and the profile is what keeps the child off
 * every other address. sandbox-exec is deprecated by Apple but still shipped and used (Chromium, Codex).
 */
export interface SeatbeltSpec {
  runDir: string;
  /** Extra paths from the recipe. */
  extra: { path: string; mode: 'ro' | 'rw' }[];
  /** Folders of the command and of node when outside the system. */
  programDirs: string[];
  /** The proxy's port on 127.0.0.1; none when the recipe has no hosts (no network at all). */
  proxyPort: number | undefined;
}

const SYSTEM_READ = ['/usr', '/bin', '/sbin', '/System', '/Library', '/private/etc', '/private/var/db/timezone', '/dev', '/opt/homebrew'];

/** A string literal in the profile's Scheme syntax. */
export function sbString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function seatbeltProfile(spec: SeatbeltSpec): string {
  const sub = (p: string) => `(subpath ${sbString(p)})`;
  const reads = [...SYSTEM_READ, ...spec.programDirs, ...spec.extra.map((e) => e.path)];
  const writes = [spec.runDir, ...spec.extra.filter((e) => e.mode === 'rw').map((e) => e.path)];
  const lines = [
    '(version 1)',
    '(deny default)',
    '(allow process-exec process-fork)',
    '(allow signal (target same-sandbox))',
    '(allow sysctl-read)',
    '(allow mach-lookup (global-name "com.apple.system.opendirectoryd.libinfo") (global-name "com.apple.trustd.agent"))',
    '(allow file-read-metadata)',
    `(allow file-read* (literal "/") ${reads.map(sub).join(' ')})`,
    `(allow file-read* file-write* ${writes.map(sub).join(' ')})`,
    '(allow file-write* (literal "/dev/null") (literal "/dev/tty"))',
  ];
  if (spec.proxyPort !== undefined) lines.push(`(allow network-outbound (remote ip ${sbString(`localhost:${spec.proxyPort}`)}))`);
  return `${lines.join('\n')}\n`;
}

export function seatbeltArgv(profile: string, inner: string[]): string[] {
  return ['/usr/bin/sandbox-exec', '-p', profile, ...inner];
}

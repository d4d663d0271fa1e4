import type { CliOptions } from './main.js';

/** `outloop system install|uninstall`: see src/system/install.ts. */
export async function systemInstallCommand(o: { prefix?: string; user?: string }, opts: CliOptions): Promise<number> {
  const { install } = await import('../system/install.js');
  install({ ...o, packageRoot: opts.packageRoot, say: (l) => process.stdout.write(`${l}\n`) });
  return 0;
}

export async function systemUninstallCommand(o: { prefix?: string; purge?: boolean }): Promise<number> {
  const { uninstall } = await import('../system/install.js');
  uninstall({ ...o, say: (l) => process.stdout.write(`${l}\n`) });
  return 0;
}

export async function systemImportCommand(home: string | undefined, o: { prefix?: string }): Promise<number> {
  const { importHome } = await import('../system/import.js');
  await importHome({ ...(home ? { home } : {}), ...o, say: (l) => process.stdout.write(`${l}\n`) });
  return 0;
}

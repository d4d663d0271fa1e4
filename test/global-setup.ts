import { execFileSync } from 'node:child_process';

// End-to-end tests drive the built CLI; build it once so they never run a stale dist/.
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}

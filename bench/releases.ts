// The previous releases, checked out beside this tree so that a benchmark can
// run their processes in the same run as this one's (these machines are noisy:
// only figures of one run compare).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Release {
  label: string;
  /** The directory whose src/cli.ts runs this release. */
  dir: string;
}

/** The last commits of the releases before this one, newest first. */
export const previousReleases = [
  { label: 'third release (7a6701e)', commit: '7a6701e' },
  { label: 'second release (fa9e947)', commit: 'fa9e947' },
];

export const thisTree: Release = { label: 'this tree', dir: process.cwd() };

/** Checks a commit out into a temporary worktree sharing this tree's node_modules; remove() takes it away. */
export function checkOut(label: string, commit: string): Release & { remove(): void } {
  // A shallow clone has no history: say so instead of measuring nothing.
  execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`]);
  const dir = mkdtempSync(path.join(tmpdir(), `release-${commit}-`));
  execFileSync('git', ['worktree', 'add', '--detach', '--force', dir, commit], { stdio: 'ignore' });
  symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'));
  return {
    label,
    dir,
    remove() {
      if (!existsSync(dir)) return;
      execFileSync('git', ['worktree', 'remove', '--force', dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A release's command line (`serve`, `worker`, `migrate`) in its own process. */
export function startReleaseCli(release: Release, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: release.dir,
    stdio: ['ignore', process.env.BENCH_LOGS === '1' ? 'inherit' : 'ignore', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
  });
}

export async function runReleaseCli(release: Release, args: string[], env: Record<string, string>): Promise<void> {
  const child = startReleaseCli(release, args, env);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${release.label}: ${args.join(' ')} exited with ${code}`);
}

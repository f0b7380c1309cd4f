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

/**
 * This tree and the previous releases, each checked out for the length of
 * `work`. BENCH_PREVIOUS=0 gives this tree alone, for quick looks while
 * working; documented figures always have the previous releases beside.
 */
export async function withReleases<T>(work: (releases: Release[]) => Promise<T>): Promise<T> {
  const previous = process.env.BENCH_PREVIOUS === '0' ? [] : previousReleases.map(({ label, commit }) => checkOut(label, commit));
  try {
    return await work([thisTree, ...previous]);
  } finally {
    for (const release of previous) release.remove();
  }
}

/**
 * `rounds` measurements of each release, the order reversed every other round
 * so that a slow minute of the machine falls on every release alike; `afterRound`
 * runs once a round has measured them all.
 */
export async function alternately<T>(releases: Release[], rounds: number, measure: (release: Release, round: number) => Promise<T>, afterRound?: () => Promise<void>): Promise<Map<Release, T[]>> {
  const runs = new Map<Release, T[]>(releases.map((release) => [release, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const release of round % 2 === 0 ? releases : [...releases].reverse()) runs.get(release)!.push(await measure(release, round));
    await afterRound?.();
  }
  return runs;
}

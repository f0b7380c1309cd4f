// What an in-process benchmark measures: this tree, or a previous release
// checked out beside it and loaded into the same process, so that both are
// measured in one run on one machine (these machines are noisy).
import path from 'node:path';
import type { Application as ThisApplication } from '../src/main.js';
import type { loadConfig as thisLoadConfig } from '../src/config.js';
import type { createAccount as thisCreateAccount } from '../src/services/accounts.js';
import type { Logger } from '../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/database.js';
import { checkOut, previousReleases, thisTree, type Release } from './releases.js';

/** The parts of a release a benchmark drives; the previous release has the same shapes where benchmarks touch them. */
export interface Subject {
  label: string;
  /** The release's directory: child processes of this subject run there (bench/servers.ts reads BENCH_RELEASE_DIR). */
  dir: string;
  Application: typeof ThisApplication;
  loadConfig: typeof thisLoadConfig;
  createAccount: typeof thisCreateAccount;
  silentLogger: Logger;
  createLogger(level: string): Logger;
  /** A throwaway database migrated by this subject's own sql/. */
  createDatabase(): Promise<TestDatabase>;
}

export async function subjectOf(release: Release): Promise<Subject> {
  const load = (file: string) => import(path.join(release.dir, 'src', file));
  const [main, config, accounts, logger, migrator] = await Promise.all([load('main.ts'), load('config.ts'), load('services/accounts.ts'), load('logger.ts'), load('storage/migrator.ts')]);
  return {
    label: release.label,
    dir: release.dir,
    Application: main.Application,
    loadConfig: config.loadConfig,
    createAccount: accounts.createAccount,
    silentLogger: logger.silentLogger,
    createLogger: logger.createLogger,
    async createDatabase() {
      const database = await createTestDatabase({ migrated: false });
      await migrator.migrate(database.url, path.join(release.dir, 'sql'));
      return database;
    },
  };
}

/**
 * Runs `measure` for this tree and the previous release, alternating
 * (this tree, previous, this tree, previous, … `runs` times each), and
 * returns each one's results in run order.
 */
export async function besidePreviousRelease<T>(measure: (subject: Subject) => Promise<T>, runs = 1): Promise<{ current: T[]; previous: T[]; previousLabel: string }> {
  const { label, commit } = previousReleases[0]!;
  const previousTree = checkOut(label, commit);
  try {
    const current = await subjectOf(thisTree);
    const previous = await subjectOf(previousTree);
    const results = { current: [] as T[], previous: [] as T[], previousLabel: label };
    for (let run = 0; run < runs; run += 1) {
      results.current.push(await measure(current));
      results.previous.push(await measure(previous));
    }
    return results;
  } finally {
    previousTree.remove();
  }
}

/** "a–b" of a few figures, or the one figure. */
export function spread(values: number[], format: (value: number) => string): string {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return format(low) === format(high) ? format(low) : `${format(low)}–${format(high)}`;
}

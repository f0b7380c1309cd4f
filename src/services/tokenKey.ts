import { randomBytes } from 'node:crypto';
import type { Pool } from '../storage/database.js';
import { settingOrInsert } from '../storage/settingsStore.js';

/**
 * The key that signs reactivation links: TOKEN_SECRET when configured, else a
 * random key made by the first process and kept in the database, so that every
 * process (and every machine) signs and checks alike.
 */
export async function loadTokenKey(pool: Pool, configured: string | undefined): Promise<Buffer> {
  const secret = configured ?? (await settingOrInsert(pool, 'token_secret', randomBytes(32).toString('hex')));
  return Buffer.from(secret, 'utf8');
}

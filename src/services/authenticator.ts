import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { authenticationFailed, limitReached } from '../domain/errors.js';
import { decoyHash, verifyPassword } from '../domain/passwords.js';
import { findAccountByUsername, type AccountRecord } from '../storage/accountsStore.js';
import type { Pool } from '../storage/database.js';
import {
  clearLoginFailures,
  countRecentLoginFailures,
  recordLoginFailure,
  type FailureSubject,
} from '../storage/loginFailuresStore.js';

export type Account = Omit<AccountRecord, 'passwordHash'>;

export interface AuthenticatorOptions {
  loginFailureLimit: number;
  loginFailureWindowSeconds: number;
  credentialCacheSeconds: number;
}

const maxCachedCredentials = 10_000;
// A client address is shared by many users behind one NAT: it may fail more often.
const addressLimitFactor = 5;

/**
 * Checks username and password on every call, as the platform's webservice
 * does. A slow hash per call would cap the service at a few dozen calls per
 * second, so a verified pair is remembered for a short time, keyed by an HMAC
 * with a per-process random key, so the cache holds no password. Entries live
 * credentialCacheSeconds, so a changed password takes effect within that time.
 */
export class Authenticator {
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Map<string, { account: Account; expiresAt: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly options: AuthenticatorOptions,
  ) {}

  async authenticate(username: string, password: string, clientAddress: string | undefined): Promise<Account> {
    const key = createHmac('sha256', this.cacheKey).update(username).update('\0').update(password).digest('base64');
    const now = this.clock.now();
    const cached = this.verified.get(key);
    if (cached && cached.expiresAt > now.getTime()) return cached.account;
    if (cached) this.verified.delete(key);

    const subjects = failureSubjects(username, clientAddress);
    const windowStart = new Date(now.getTime() - this.options.loginFailureWindowSeconds * 1000);
    const failures = await countRecentLoginFailures(this.pool, subjects, windowStart);
    if (
      (failures.get('username') ?? 0) >= this.options.loginFailureLimit ||
      (failures.get('address') ?? 0) >= this.options.loginFailureLimit * addressLimitFactor
    ) {
      throw limitReached('too many failed logins, try again later');
    }

    const record = await findAccountByUsername(this.pool, username);
    const ok = await verifyPassword(password, record?.passwordHash ?? (await decoyHash()));
    if (!record || !ok) {
      for (const subject of subjects) await recordLoginFailure(this.pool, subject, now, windowStart);
      throw authenticationFailed();
    }
    if ((failures.get('username') ?? 0) > 0) await clearLoginFailures(this.pool, subjects[0]!);

    const { passwordHash: _hash, ...account } = record;
    if (this.options.credentialCacheSeconds > 0) {
      if (this.verified.size >= maxCachedCredentials) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, { account, expiresAt: now.getTime() + this.options.credentialCacheSeconds * 1000 });
    }
    return account;
  }
}

function failureSubjects(username: string, clientAddress: string | undefined): FailureSubject[] {
  const sha = (text: string) => createHash('sha256').update(text).digest();
  const subjects: FailureSubject[] = [{ scope: 'username', hash: sha(username) }];
  if (clientAddress) subjects.push({ scope: 'address', hash: sha(clientAddress) });
  return subjects;
}

import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { ApiError, authenticationFailed, ErrorCode, limitReached } from '../domain/errors.js';
import { decoyHash, verifyPassword } from '../domain/passwords.js';
import { currentPasswordHash, findAccountByUsername, type AccountRecord } from '../storage/accountsStore.js';
import type { Pool } from '../storage/database.js';
import { clearLoginFailures, giveBackLoginAttempts, reserveLoginAttempt, type FailureScope, type FailureSubject } from '../storage/loginFailuresStore.js';

export type Account = Omit<AccountRecord, 'passwordHash'>;

export interface AuthenticatorOptions {
  loginFailureLimit: number;
  loginFailureWindowSeconds: number;
  credentialCacheSeconds: number;
}

const maxCachedCredentials = 10_000;
// Per (account, client address) the limit itself; per account from all
// addresses ten times that, so that one address cannot lock the owner out;
// per address, whatever it tried, five times that (many users share a NAT).
const limitFactor: Record<FailureScope, number> = { account_address: 1, account: 10, address: 5 };
// A remembered pair is verified again in the background once this share of its life has passed.
const refreshAfter = 0.75;
// How long a process trusts what it read of an account's current hash: a
// changed password or a closed account reaches every process within this.
const recheckMs = 1000;

interface Remembered {
  account: Account;
  /** The hash the pair was verified against: a pair stops counting when the account's hash is another. */
  passwordHash: string;
  refreshAt: number;
  expiresAt: number;
}

/**
 * Checks username and password on every call, as the platform's webservice
 * does. A slow hash per call would cap the service at a few dozen calls per
 * second, so a verified pair is remembered for a short time, keyed by an HMAC
 * with a per-process random key, so the cache holds no password.
 *
 * One verification per pair is in flight at a time (callers arriving meanwhile
 * wait for it), and a pair in use is verified again in the background before
 * it expires, so an expiry never sends a crowd of callers to scrypt at once.
 * A remembered pair counts only while its account's stored hash is the one
 * it was verified against (read again at most once a second per account,
 * and at once after this process changed the account): a changed password
 * or a closed account stops it within a second in every process.
 *
 * Usernames are compared exactly as stored. Failed logins are throttled on
 * the account a username names, reserved before the hash runs.
 */
export class Authenticator {
  private readonly cacheKey = randomBytes(32);
  private readonly remembered = new Map<string, Remembered>();
  private readonly verifying = new Map<string, Promise<Account>>();
  private readonly currentHashes = new Map<number, { hash: Promise<string | undefined>; readAt: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly options: AuthenticatorOptions,
    private readonly checkPassword: (password: string, hash: string) => Promise<boolean> = verifyPassword,
  ) {}

  async authenticate(username: string, password: string, clientAddress: string | undefined): Promise<Account> {
    const key = createHmac('sha256', this.cacheKey).update(username).update('\0').update(password).digest('base64');
    const now = this.clock.now().getTime();
    const known = this.remembered.get(key);
    if (known && known.expiresAt > now) {
      if ((await this.currentHash(known.account.id, now)) === known.passwordHash) {
        if (now >= known.refreshAt && !this.verifying.has(key)) {
          // The caller does not wait; a failure here (the database, throttling) leaves the pair as it is until it expires.
          this.verifyOnce(key, username, password, clientAddress).catch(() => undefined);
        }
        return known.account;
      }
      // The password changed, or the account is gone: the pair is checked as if new.
      this.remembered.delete(key);
    }
    return this.verifying.get(key) ?? this.verifyOnce(key, username, password, clientAddress);
  }

  /** The account changed here (password, closing): what this process remembers of it goes at once. */
  forget(accountId: number): void {
    this.currentHashes.delete(accountId);
    for (const [key, entry] of this.remembered) if (entry.account.id === accountId) this.remembered.delete(key);
  }

  private currentHash(accountId: number, now: number): Promise<string | undefined> {
    const read = this.currentHashes.get(accountId);
    if (read && now - read.readAt < recheckMs) return read.hash;
    if (this.currentHashes.size >= maxCachedCredentials) this.currentHashes.clear();
    const hash = currentPasswordHash(this.pool, accountId);
    this.currentHashes.set(accountId, { hash, readAt: now });
    hash.catch(() => this.currentHashes.delete(accountId));
    return hash;
  }

  private verifyOnce(key: string, username: string, password: string, clientAddress: string | undefined): Promise<Account> {
    const verification = this.verify(username, password, clientAddress).then(
      ({ account, passwordHash }) => {
        this.remember(key, account, passwordHash);
        return account;
      },
      (error: unknown) => {
        if (error instanceof ApiError && error.code === ErrorCode.authenticationFailed) this.remembered.delete(key);
        throw error;
      },
    ).finally(() => this.verifying.delete(key));
    this.verifying.set(key, verification);
    return verification;
  }

  private async verify(username: string, password: string, clientAddress: string | undefined): Promise<{ account: Account; passwordHash: string }> {
    const now = this.clock.now();
    const windowStart = new Date(now.getTime() - this.options.loginFailureWindowSeconds * 1000);
    const found = await findAccountByUsername(this.pool, username);
    // The column's collation ignores trailing spaces; a login does not.
    const record = found?.username === username ? found : undefined;
    const subjects = failureSubjects(record?.id, clientAddress);
    const counts = await Promise.all(subjects.map((subject) => reserveLoginAttempt(this.pool, subject, now, windowStart)));
    if (subjects.some((subject, i) => counts[i]! > this.options.loginFailureLimit * limitFactor[subject.scope])) {
      // Refused unchecked, it counts nowhere: hammering from one address must not lock the account for every address.
      await giveBackLoginAttempts(this.pool, subjects);
      throw limitReached(`too many failed logins: try again in ${Math.ceil(this.options.loginFailureWindowSeconds / 60)} minutes at the latest`);
    }
    const ok = await this.checkPassword(password, record?.passwordHash ?? (await decoyHash()));
    if (!record || !ok) throw authenticationFailed();
    const own = subjects.find((subject) => subject.scope === 'account_address');
    await giveBackLoginAttempts(this.pool, subjects.filter((subject) => subject !== own));
    if (own) await clearLoginFailures(this.pool, own);
    const { passwordHash, ...account } = record;
    return { account, passwordHash };
  }

  private remember(key: string, account: Account, passwordHash: string): void {
    const ttl = this.options.credentialCacheSeconds * 1000;
    if (ttl <= 0) return;
    if (this.remembered.size >= maxCachedCredentials && !this.remembered.has(key)) this.remembered.delete(this.remembered.keys().next().value!);
    const now = this.clock.now().getTime();
    this.remembered.set(key, { account, passwordHash, refreshAt: now + ttl * refreshAfter, expiresAt: now + ttl });
    this.currentHashes.set(account.id, { hash: Promise.resolve(passwordHash), readAt: now });
  }
}

function failureSubjects(accountId: number | undefined, clientAddress: string | undefined): FailureSubject[] {
  const sha = (text: string) => createHash('sha256').update(text).digest();
  const subjects: FailureSubject[] = [];
  if (accountId !== undefined) {
    subjects.push({ scope: 'account', hash: sha(`account:${accountId}`), accountId });
    if (clientAddress) subjects.push({ scope: 'account_address', hash: sha(`account:${accountId}\0${clientAddress}`), accountId });
  }
  if (clientAddress) subjects.push({ scope: 'address', hash: sha(`address:${clientAddress}`) });
  return subjects;
}

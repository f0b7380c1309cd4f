import type { Clock } from '../clock.js';
import { checkEmail, checkLanguage, checkPassword, checkPasswordHash, checkUsername, type Language } from '../domain/account.js';
import { ApiError, ErrorCode, invalid, missing } from '../domain/errors.js';
import { hashPassword } from '../domain/passwords.js';
import {
  findAccountByUsername,
  findAccountView,
  insertAccount,
  listAccountViews,
  lockAccount,
  updateAccount,
  type AccountView,
} from '../storage/accountsStore.js';
import { closeAccountData, type ClosedAccount } from '../storage/accountClosingStore.js';
import { inTransaction, type Pool } from '../storage/database.js';
import { endPortalAccess } from '../storage/portalStore.js';

export interface NewAccount {
  username: string;
  password: string;
  email: string;
  language: string;
}

/** Creates an account with a plaintext password (the command line, tests); returns its id. */
export async function createAccount(pool: Pool, clock: Clock, input: NewAccount): Promise<number> {
  checkUsername(input.username);
  checkPassword(input.password);
  const fields = { email: checkEmail(input.email), language: checkLanguage(input.language) };
  try {
    return await insertAccount(pool, { username: input.username, passwordHash: await hashPassword(input.password), ...fields }, clock.now());
  } catch (error) {
    if ((error as { code?: string }).code === 'ER_DUP_ENTRY') throw new ApiError(ErrorCode.invalidParameter, `an account named '${input.username}' exists already`);
    throw error;
  }
}

/** What the platform may set of an account; every field optional, as a PUT gives them. */
export interface AccountChange {
  password?: unknown;
  passwordHash?: unknown;
  email?: unknown;
  language?: unknown;
}

const noAccount = () => new ApiError(ErrorCode.webhookNotFound, 'no account with this username');

const text = (name: string, value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(name, 'must be a string');
  return value;
};

/**
 * The accounts as the platform keeps them: created or changed by one
 * idempotent call, read without secrets, closed with everything stored for
 * them. `onChanged` tells the process's authenticator, so that its
 * remembered credentials of that account are gone at once here (other
 * processes notice within a second).
 */
export class AccountService {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly onChanged: (accountId: number) => void,
  ) {}

  /** Creates the account or changes what is given; `created` tells which. A password is hashed here, a hash kept as given. */
  async put(username: string, change: AccountChange): Promise<{ created: boolean; account: AccountView }> {
    checkUsername(username);
    const password = text('password', change.password);
    const givenHash = text('passwordHash', change.passwordHash);
    if (password !== undefined && givenHash !== undefined) throw invalid('password', 'and passwordHash cannot both be given');
    const email = text('email', change.email);
    const language = text('language', change.language);
    const fields = {
      passwordHash: givenHash !== undefined ? checkPasswordHash(givenHash) : password !== undefined ? await hashPassword(checkPassword(password)) : undefined,
      email: email === undefined ? undefined : checkEmail(email),
      language: language === undefined ? undefined : checkLanguage(language),
    };
    const created = await inTransaction(this.pool, async (tx) => {
      const existing = await findAccountByUsername(tx, username);
      if (existing?.username === username) {
        await lockAccount(tx, existing.id);
        await updateAccount(tx, existing.id, fields);
        // Whoever signed in with the old password is out; the same hash again changes nothing.
        if (fields.passwordHash !== undefined && fields.passwordHash !== existing.passwordHash) await endPortalAccess(tx, existing.id);
        return { id: existing.id, created: false };
      }
      if (fields.passwordHash === undefined) throw missing('password');
      if (fields.email === undefined) throw missing('email');
      const newAccount = { username, passwordHash: fields.passwordHash, email: fields.email, language: fields.language ?? ('de' as Language) };
      return { id: await insertAccount(tx, newAccount, this.clock.now()), created: true };
    });
    this.onChanged(created.id);
    return { created: created.created, account: (await this.get(username)) };
  }

  async get(username: string): Promise<AccountView> {
    const account = await findAccountView(this.pool, username);
    if (!account) throw noAccount();
    return account;
  }

  list(): Promise<AccountView[]> {
    return listAccountViews(this.pool);
  }

  /**
   * Closes an account: its webhooks deleted and everything stored for it
   * erased (events, deliveries, attempts with the answers they kept, outbox
   * rows, notifications, throttling rows), in one transaction. An attempt in
   * flight finds its lease gone and records nothing; nothing is sent after.
   */
  async close(username: string): Promise<ClosedAccount> {
    const closed = await inTransaction(this.pool, async (tx) => {
      const account = await findAccountByUsername(tx, username);
      if (account?.username !== username) throw noAccount();
      return { id: account.id, counts: await closeAccountData(tx, account.id, username) };
    });
    this.onChanged(closed.id);
    return closed.counts;
  }
}

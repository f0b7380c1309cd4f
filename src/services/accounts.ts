import type { Clock } from '../clock.js';
import { ApiError, ErrorCode, invalid } from '../domain/errors.js';
import { hashPassword } from '../domain/passwords.js';
import { insertAccount } from '../storage/accountsStore.js';
import type { Pool } from '../storage/database.js';

export interface NewAccount {
  username: string;
  password: string;
  email: string;
  language: string;
}

export async function createAccount(pool: Pool, clock: Clock, input: NewAccount): Promise<number> {
  if (input.username.length > 255) throw invalid('username', 'is longer than 255 characters');
  // Logins compare the username exactly, so a name must not hide characters at its ends or inside.
  if (input.username.trim() !== input.username || input.username === '') throw invalid('username', 'must not be empty or begin or end with white space');
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(input.username)) throw invalid('username', 'must not contain control characters or line breaks');
  if (input.password.length < 8) throw invalid('password', 'must be at least 8 characters long');
  if (!/^[^\s@]+@[^\s@]+$/.test(input.email)) throw invalid('email', 'is not an e-mail address');
  if (input.language !== 'de' && input.language !== 'en') throw invalid('language', 'must be de or en');
  try {
    return await insertAccount(
      pool,
      { username: input.username, passwordHash: await hashPassword(input.password), email: input.email, language: input.language },
      clock.now(),
    );
  } catch (error) {
    if ((error as { code?: string }).code === 'ER_DUP_ENTRY') {
      throw new ApiError(ErrorCode.invalidParameter, `an account named '${input.username}' exists already`);
    }
    throw error;
  }
}

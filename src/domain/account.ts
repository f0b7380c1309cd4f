import { invalid } from './errors.js';
import { platformHashFormat } from './passwords.js';

/**
 * The rules of an API account's fields, wherever they come from (the command
 * line, the platform's PUT /internal/accounts).
 */

export type Language = 'de' | 'en';

export function checkUsername(username: string): string {
  if (username.length > 255) throw invalid('username', 'is longer than 255 characters');
  // Logins compare the username exactly, so a name must not hide characters at its ends or inside.
  if (username.trim() !== username || username === '') throw invalid('username', 'must not be empty or begin or end with white space');
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(username)) throw invalid('username', 'must not contain control characters or line breaks');
  return username;
}

export function checkPassword(password: string): string {
  if (password.length < 8) throw invalid('password', 'must be at least 8 characters long');
  if (password.length > 1024) throw invalid('password', 'is longer than 1024 characters');
  return password;
}

export function checkPasswordHash(hash: string): string {
  if (!platformHashFormat(hash)) throw invalid('passwordHash', "is not a hash of PHP's password_hash(): bcrypt ($2y$…) or argon2 ($argon2id$…, $argon2i$…), whole");
  return hash;
}

export function checkEmail(email: string): string {
  if (email.length > 320 || !/^[^\s@]+@[^\s@]+$/.test(email)) throw invalid('email', 'is not an e-mail address');
  return email;
}

export function checkLanguage(language: string): Language {
  if (language !== 'de' && language !== 'en') throw invalid('language', 'must be de or en');
  return language;
}

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { verify as verifyArgon2 } from '@node-rs/argon2';
import { verify as verifyBcrypt } from '@node-rs/bcrypt';

// scrypt at N=2^15 costs ~30-50 ms of one core: slow for a guesser, and the
// credential cache keeps it off the path of a customer's repeated calls.
const defaults = { N: 32768, r: 8, p: 1 };

function derive(password: string, salt: Buffer, options: { N: number; r: number; p: number }): Promise<Buffer> {
  const scryptOptions: ScryptOptions = { ...options, maxmem: 256 * options.N * options.r };
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, scryptOptions, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, defaults);
  return ['scrypt', defaults.N, defaults.r, defaults.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/**
 * What PHP's password_hash() writes, which the platform may hand over instead
 * of a plaintext: bcrypt ($2y$, $2b$, $2a$, cost 4–31) and argon2id/argon2i
 * (PHC strings). Anything else, a truncated hash included, is not taken.
 */
const platformHashes: Array<[format: 'bcrypt' | 'argon2', pattern: RegExp]> = [
  ['bcrypt', /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/],
  ['argon2', /^\$argon2(id|i)\$v=19\$m=\d{1,10},t=\d{1,10},p=\d{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/],
];

export function platformHashFormat(hash: string): 'bcrypt' | 'argon2' | undefined {
  return platformHashes.find(([, pattern]) => pattern.test(hash))?.[0];
}

/**
 * Checks a password against a stored hash of any format we keep: our own
 * scrypt, or a bcrypt or argon2 hash the platform handed over. bcrypt and
 * argon2 run in native code on libuv's thread pool, as scrypt does: never on
 * the event loop.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const format = platformHashFormat(stored);
  if (format === 'bcrypt') return verifyBcrypt(password, stored);
  if (format === 'argon2') return verifyArgon2(stored, password);
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// Unknown usernames are checked against this hash so that they take as long to
// refuse as a wrong password.
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

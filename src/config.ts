// The one place configuration is read. Every option has a default that works on
// a developer machine with a local MariaDB/MySQL; docs/configuration.md lists them.

export interface Config {
  databaseUrl: string;
  host: string;
  port: number;
  publicUrl: string;
  allowPrivateTargets: boolean;
  smtpUrl: string | undefined;
  mailFrom: string;
  internalToken: string | undefined;
  tokenSecret: string | undefined;
  tokenTtlDays: number;
  retryScheduleSeconds: number[];
  deactivateAfterFailures: number;
  bufferDays: number;
  bufferRetentionDays: number;
  attemptRetentionDays: number;
  deliveryTimeoutMs: number;
  leaseSeconds: number;
  pollIntervalMs: number;
  workerConcurrency: number;
  maxWebhooksPerAccount: number;
  maxRequestBytes: number;
  maxPayloadBytes: number;
  loginFailureLimit: number;
  loginFailureWindowSeconds: number;
  credentialCacheSeconds: number;
  trustProxy: string;
  logLevel: string;
  metricsPort: number | undefined;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) {
    throw new ConfigError(`${name} must be a whole number of at least ${min}, got "${raw}"`);
  }
  return Number(raw);
}

function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive number, got "${raw}"`);
  }
  return value;
}

function flag(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be 0 or 1, got "${raw}"`);
}

function retrySchedule(raw: string | undefined): number[] {
  const text = raw === undefined || raw === '' ? '30,120,600,1800,3600,7200,14400' : raw;
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new ConfigError(
      `RETRY_SCHEDULE must be a comma-separated list of seconds (fractions allowed), got "${text}"`,
    );
  }
  return values;
}

function absoluteUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL such as https://webhooks.example.com, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must start with http:// or https://, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

function databaseUrl(raw: string | undefined): string {
  const text = raw || 'mysql://root@127.0.0.1:3306/webhooks';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`DATABASE_URL must look like mysql://user:password@host:3306/database`);
  }
  if (url.protocol !== 'mysql:' || url.pathname.length < 2) {
    throw new ConfigError(`DATABASE_URL must look like mysql://user:password@host:3306/database (scheme mysql, with a database name)`);
  }
  return text;
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0);
  const host = env.HOST || '127.0.0.1';
  const tokenSecret = env.TOKEN_SECRET || undefined;
  if (tokenSecret !== undefined && tokenSecret.length < 32) {
    throw new ConfigError('TOKEN_SECRET must be at least 32 characters long (for example: openssl rand -hex 32)');
  }
  if (env.NODE_ENV === 'production' && tokenSecret === undefined) {
    throw new ConfigError('TOKEN_SECRET must be set when NODE_ENV=production, so that reactivation links survive a database restore');
  }
  return {
    databaseUrl: databaseUrl(env.DATABASE_URL),
    host,
    port,
    publicUrl: absoluteUrl('PUBLIC_URL', env.PUBLIC_URL || `http://127.0.0.1:${port}`),
    allowPrivateTargets: flag(env, 'ALLOW_PRIVATE_TARGETS'),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM || 'Webhooks <webhooks@localhost>',
    internalToken: env.INTERNAL_TOKEN || undefined,
    tokenSecret,
    tokenTtlDays: positiveNumber(env, 'TOKEN_TTL_DAYS', 30),
    retryScheduleSeconds: retrySchedule(env.RETRY_SCHEDULE),
    deactivateAfterFailures: integer(env, 'DEACTIVATE_AFTER_FAILURES', 8, 1),
    bufferDays: positiveNumber(env, 'BUFFER_DAYS', 5),
    bufferRetentionDays: positiveNumber(env, 'BUFFER_RETENTION_DAYS', 30),
    attemptRetentionDays: positiveNumber(env, 'ATTEMPT_RETENTION_DAYS', 30),
    deliveryTimeoutMs: integer(env, 'DELIVERY_TIMEOUT_MS', 10000, 1),
    leaseSeconds: positiveNumber(env, 'LEASE_SECONDS', 30),
    pollIntervalMs: integer(env, 'POLL_INTERVAL_MS', 100, 1),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 64, 1),
    maxWebhooksPerAccount: integer(env, 'MAX_WEBHOOKS_PER_ACCOUNT', 100, 1),
    maxRequestBytes: integer(env, 'MAX_REQUEST_BYTES', 1024 * 1024, 1024),
    maxPayloadBytes: integer(env, 'MAX_PAYLOAD_BYTES', 256 * 1024, 16),
    loginFailureLimit: integer(env, 'LOGIN_FAILURE_LIMIT', 10, 1),
    loginFailureWindowSeconds: integer(env, 'LOGIN_FAILURE_WINDOW_SECONDS', 300, 1),
    credentialCacheSeconds: integer(env, 'CREDENTIAL_CACHE_SECONDS', 60, 0),
    trustProxy: env.TRUST_PROXY || 'loopback',
    logLevel: env.LOG_LEVEL || 'info',
    metricsPort: env.METRICS_PORT ? integer(env, 'METRICS_PORT', 0, 0) : undefined,
  };
}

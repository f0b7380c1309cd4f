// The one place configuration is read. Every option has a default that works on
// a developer machine with a local MariaDB/MySQL; README.md lists them. Values
// that cannot work, alone or together, are refused here with one line that
// names the variables and what would work.

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
  circuitAfterFailures: number;
  warnAfterFailures: number;
  recoverMaxDeliveries: number;
  responseExcerptBytes: number;
  portalLinkMinutes: number;
  portalSessionMinutes: number;
  /** Who may frame the portal (CSP frame-ancestors sources); undefined: nobody. */
  portalFrameAncestors: string | undefined;
  webhookTestsPerMinute: number;
  bufferDays: number;
  bufferRetentionDays: number;
  attemptRetentionDays: number;
  payloadRetentionDays: number;
  deliveryTimeoutMs: number;
  leaseSeconds: number;
  pollIntervalMs: number;
  workerConcurrency: number;
  accountConcurrency: number;
  directDelivery: boolean;
  webhookParallelism: number;
  maxWebhooksPerAccount: number;
  maxRequestBytes: number;
  maxCallBytes: number;
  maxPayloadBytes: number;
  maxPayloadDepth: number;
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
  // The first step is short: a subscriber's later events wait behind its failed one.
  const text = raw === undefined || raw === '' ? '5,60,300,1200,3600,7200,14400' : raw;
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
  const shape = 'DATABASE_URL must look like mysql://user:password@host:3306/database, or with several nodes mysql://user:password@h1:3306,h2:3306,h3:3306/database';
  // Several hosts, comma-separated, are several nodes of one cluster; the URL parser takes one.
  const match = /^mysql:\/\/(?:[^@/]*@)?([^/?#]+)\/[^/?#]+/.exec(text);
  if (!match) throw new ConfigError(`${shape} (scheme mysql, with a database name)`);
  for (const host of match[1]!.split(',')) {
    try {
      if (!new URL(`mysql://${host}`).hostname) throw new Error('no host');
    } catch {
      throw new ConfigError(`${shape}; "${host}" is not a host[:port]`);
    }
  }
  return text;
}

// Origins that may frame the portal, as CSP frame-ancestors takes them: https://host[:port] or 'self'.
function frameAncestors(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const sources = raw.trim().split(/\s+/);
  const bad = sources.find((source) => source !== "'self'" && !/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(source));
  if (bad) throw new ConfigError(`PORTAL_FRAME_ANCESTORS must list origins such as https://app.example.com (space-separated) or 'self', got "${bad}"`);
  return sources.join(' ');
}

// An answer's excerpt is read within the body a success may send before its connection is closed.
function responseExcerptBytes(env: Env): number {
  const bytes = integer(env, 'RESPONSE_EXCERPT_BYTES', 1024, 0);
  if (bytes > 16_384) throw new ConfigError(`RESPONSE_EXCERPT_BYTES must be at most 16384, got "${bytes}"`);
  return bytes;
}

// A lease is renewed every quarter of its length and an attempt starts only if
// its deadline ends a clock margin before the lease does.
function checkLease(leaseSeconds: number, deliveryTimeoutMs: number): void {
  const needed = 2 * (deliveryTimeoutMs + 1000);
  if (leaseSeconds * 1000 >= needed) return;
  const longestTimeout = Math.floor(leaseSeconds * 500 - 1000);
  throw new ConfigError(
    `LEASE_SECONDS=${leaseSeconds} cannot work with DELIVERY_TIMEOUT_MS=${deliveryTimeoutMs}: a lease must last twice an attempt plus 1 s; ` +
      `set LEASE_SECONDS to at least ${Math.ceil(needed / 1000)}` + (longestTimeout > 0 ? ` or DELIVERY_TIMEOUT_MS to at most ${longestTimeout}` : ''),
  );
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
  const deliveryTimeoutMs = integer(env, 'DELIVERY_TIMEOUT_MS', 10000, 1);
  const leaseSeconds = positiveNumber(env, 'LEASE_SECONDS', 30);
  checkLease(leaseSeconds, deliveryTimeoutMs);
  const workerConcurrency = integer(env, 'WORKER_CONCURRENCY', 256, 1);
  const accountConcurrency = integer(env, 'ACCOUNT_CONCURRENCY', Math.max(1, Math.floor(workerConcurrency / 4)), 1);
  if (accountConcurrency > workerConcurrency) {
    throw new ConfigError(
      `ACCOUNT_CONCURRENCY=${accountConcurrency} is more than WORKER_CONCURRENCY=${workerConcurrency}: one account could take the whole worker; ` +
        `set ACCOUNT_CONCURRENCY to at most ${workerConcurrency} (a quarter, ${Math.max(1, Math.floor(workerConcurrency / 4))}, leaves room for three others)`,
    );
  }
  const webhookParallelism = integer(env, 'WEBHOOK_PARALLELISM', 8, 1);
  const deactivateAfterFailures = integer(env, 'DEACTIVATE_AFTER_FAILURES', 8, 1);
  const circuitAfterFailures = integer(env, 'CIRCUIT_AFTER_FAILURES', Math.min(3, deactivateAfterFailures), 0);
  if (circuitAfterFailures < 1 || circuitAfterFailures > deactivateAfterFailures) {
    throw new ConfigError(
      `CIRCUIT_AFTER_FAILURES=${circuitAfterFailures} must lie between 1 and DEACTIVATE_AFTER_FAILURES=${deactivateAfterFailures}: ` +
        `an endpoint must count as down before it can be deactivated; set CIRCUIT_AFTER_FAILURES to a value from 1 to ${deactivateAfterFailures}`,
    );
  }
  // The default warns at 4 of the default 8; when deactivation comes sooner than that, only a warning asked for explicitly is sent.
  const warnAfterFailures = integer(env, 'WARN_AFTER_FAILURES', deactivateAfterFailures > 4 ? 4 : 0, 0);
  if (warnAfterFailures >= deactivateAfterFailures) {
    throw new ConfigError(
      `WARN_AFTER_FAILURES=${warnAfterFailures} is not below DEACTIVATE_AFTER_FAILURES=${deactivateAfterFailures}: the warning would never come before the deactivation; ` +
        `set WARN_AFTER_FAILURES to at most ${deactivateAfterFailures - 1}, or to 0 for no warning`,
    );
  }
  const maxRequestBytes = integer(env, 'MAX_REQUEST_BYTES', 1024 * 1024, 1024);
  const maxPayloadBytes = integer(env, 'MAX_PAYLOAD_BYTES', 256 * 1024, 16);
  if (maxPayloadBytes > maxRequestBytes) {
    throw new ConfigError(
      `MAX_PAYLOAD_BYTES=${maxPayloadBytes} is more than MAX_REQUEST_BYTES=${maxRequestBytes}: such a payload could never arrive over HTTP; ` +
        `raise MAX_REQUEST_BYTES to at least ${maxPayloadBytes} or lower MAX_PAYLOAD_BYTES`,
    );
  }
  const bufferDays = positiveNumber(env, 'BUFFER_DAYS', 5);
  const bufferRetentionDays = positiveNumber(env, 'BUFFER_RETENTION_DAYS', 30);
  if (bufferRetentionDays < bufferDays) {
    throw new ConfigError(
      `BUFFER_RETENTION_DAYS=${bufferRetentionDays} is shorter than BUFFER_DAYS=${bufferDays}: events would be discarded while the buffer still takes new ones; ` +
        `set BUFFER_RETENTION_DAYS to at least ${bufferDays}`,
    );
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
    deactivateAfterFailures,
    circuitAfterFailures,
    warnAfterFailures,
    recoverMaxDeliveries: integer(env, 'RECOVER_MAX_DELIVERIES', 10_000, 1),
    responseExcerptBytes: responseExcerptBytes(env),
    portalLinkMinutes: integer(env, 'PORTAL_LINK_MINUTES', 60, 1),
    portalSessionMinutes: integer(env, 'PORTAL_SESSION_MINUTES', 60, 1),
    portalFrameAncestors: frameAncestors(env.PORTAL_FRAME_ANCESTORS),
    webhookTestsPerMinute: integer(env, 'WEBHOOK_TESTS_PER_MINUTE', 5, 1),
    bufferDays,
    bufferRetentionDays,
    attemptRetentionDays: positiveNumber(env, 'ATTEMPT_RETENTION_DAYS', 30),
    payloadRetentionDays: positiveNumber(env, 'PAYLOAD_RETENTION_DAYS', 30),
    deliveryTimeoutMs,
    leaseSeconds,
    pollIntervalMs: integer(env, 'POLL_INTERVAL_MS', 1000, 1),
    directDelivery: env.DIRECT_DELIVERY === undefined || env.DIRECT_DELIVERY === '' ? true : flag(env, 'DIRECT_DELIVERY'),
    workerConcurrency,
    accountConcurrency,
    webhookParallelism,
    maxWebhooksPerAccount: integer(env, 'MAX_WEBHOOKS_PER_ACCOUNT', 100, 1),
    maxRequestBytes,
    maxCallBytes: integer(env, 'MAX_CALL_BYTES', 64 * 1024, 1024),
    maxPayloadBytes,
    maxPayloadDepth: integer(env, 'MAX_PAYLOAD_DEPTH', 32, 1),
    loginFailureLimit: integer(env, 'LOGIN_FAILURE_LIMIT', 10, 1),
    loginFailureWindowSeconds: integer(env, 'LOGIN_FAILURE_WINDOW_SECONDS', 300, 1),
    credentialCacheSeconds: integer(env, 'CREDENTIAL_CACHE_SECONDS', 60, 0),
    trustProxy: env.TRUST_PROXY || 'loopback',
    logLevel: env.LOG_LEVEL || 'info',
    metricsPort: env.METRICS_PORT ? integer(env, 'METRICS_PORT', 0, 0) : undefined,
  };
}

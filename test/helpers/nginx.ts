import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';

export interface RunningNginx {
  httpPort: number;
  httpsPort: number;
  stop(): Promise<void>;
}

/**
 * Debian's nginx with the repository's nginx.conf: only the lines marked
 * SETTING are replaced (ports, upstream instances, a test certificate made with
 * openssl, file paths); everything else runs as shipped.
 */
export async function startNginx(upstreamPorts: [number, number]): Promise<RunningNginx> {
  const directory = mkdtempSync(path.join(tmpdir(), 'nginx-'));
  chmodSync(directory, 0o755);
  const certificate = path.join(directory, 'cert.pem');
  const key = path.join(directory, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', certificate], { stdio: 'ignore' });
  const httpPort = await freePort();
  const httpsPort = await freePort();
  let upstream = 0;
  const config = readFileSync(path.resolve('nginx.conf'), 'utf8')
    .split('\n')
    .flatMap((line) => {
      if (!line.includes('# SETTING')) return [line];
      if (/listen \[::\]/.test(line)) return []; // the sandbox may have no IPv6
      return [
        line
          .replace(/^(\s*pid )\S+;/, `$1${path.join(directory, 'nginx.pid')};`)
          .replace(/^(\s*error_log )\S+/, `$1${path.join(directory, 'error.log')}`)
          .replace(/^(\s*access_log )\S+/, `$1${path.join(directory, 'access.log')}`)
          .replace(/listen 80;/, `listen 127.0.0.1:${httpPort};`)
          .replace(/listen 443 ssl/, `listen 127.0.0.1:${httpsPort} ssl`)
          .replace(/server 127\.0\.0\.1:\d+/, () => `server 127.0.0.1:${upstreamPorts[upstream++ % 2]}`)
          .replace(/^(\s*ssl_certificate )\S+;/, `$1${certificate};`)
          .replace(/^(\s*ssl_certificate_key )\S+;/, `$1${key};`),
      ];
    })
    .join('\n');
  const file = path.join(directory, 'nginx.conf');
  writeFileSync(file, config);
  execFileSync('nginx', ['-t', '-q', '-c', file, '-p', directory], { stdio: 'inherit' });
  const child: ChildProcess = spawn('nginx', ['-c', file, '-p', directory, '-g', 'daemon off;'], { stdio: 'inherit' });
  await waitForPort(httpsPort);
  return {
    httpPort,
    httpsPort,
    async stop() {
      child.kill('SIGQUIT');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}


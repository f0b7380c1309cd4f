import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';

export interface PhpShopOptions {
  /** PHP-FPM's pm.max_children (a static pool). */
  children: number;
  /** PHP-FPM's listen.backlog: connections that may wait for a child. */
  backlog: number;
  /** What the receiver script takes per request. */
  scriptMs: number;
}

/** One request as nginx logged it. */
export interface ShopRequest {
  status: number;
  /** The body, for requests the PHP script took (the others never reached it). */
  body?: string;
}

/**
 * A shop's receiver as it really runs: Debian's nginx in front of Debian's
 * PHP-FPM over a Unix socket, a static pool and a short backlog, and a PHP
 * script that takes a few tens of milliseconds and appends what it received
 * to a file. When the pool and its backlog are full, nginx answers whatever
 * it answers (502 for a refused connect): that is what the pace must handle.
 */
export class PhpShop {
  private readonly directory = mkdtempSync(path.join(tmpdir(), 'php-shop-'));
  private readonly children: ChildProcess[] = [];
  private port = 0;

  constructor(private readonly options: PhpShopOptions) {
    chmodSync(this.directory, 0o777);
  }

  async start(): Promise<this> {
    const dir = this.directory;
    const socket = path.join(dir, 'fpm.sock');
    const received = path.join(dir, 'received.log');
    writeFileSync(path.join(dir, 'hook.php'), `<?php
$body = file_get_contents('php://input');
usleep(${this.options.scriptMs * 1000});
file_put_contents(${JSON.stringify(received)}, base64_encode($body) . "\\n", FILE_APPEND | LOCK_EX);
header('Content-Type: text/plain');
echo "ok";
`);
    writeFileSync(path.join(dir, 'fpm.conf'), `[global]
error_log = ${path.join(dir, 'fpm.log')}
daemonize = no
[shop]
user = nobody
group = nogroup
listen = ${socket}
listen.mode = 0666
listen.backlog = ${this.options.backlog}
pm = static
pm.max_children = ${this.options.children}
catch_workers_output = yes
`);
    this.port = await freePort();
    for (const temp of ['body', 'fastcgi', 'proxy', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, temp), { mode: 0o777 });
    writeFileSync(path.join(dir, 'nginx.conf'), `worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'nginx-error.log')};
events { worker_connections 1024; }
http {
  log_format shop '$status';
  access_log ${path.join(dir, 'access.log')} shop;
  client_body_temp_path ${path.join(dir, 'body')};
  fastcgi_temp_path ${path.join(dir, 'fastcgi')};
  proxy_temp_path ${path.join(dir, 'proxy')};
  uwsgi_temp_path ${path.join(dir, 'uwsgi')};
  scgi_temp_path ${path.join(dir, 'scgi')};
  server {
    listen 127.0.0.1:${this.port};
    location / {
      fastcgi_pass unix:${socket};
      fastcgi_param SCRIPT_FILENAME ${path.join(dir, 'hook.php')};
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param REQUEST_URI $request_uri;
    }
  }
}
`);
    this.children.push(spawn(phpFpm(), ['--nodaemonize', '--allow-to-run-as-root', '--fpm-config', path.join(dir, 'fpm.conf')], { stdio: 'ignore' }));
    for (let i = 0; i < 100 && !existsSync(socket); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    if (!existsSync(socket)) throw new Error(`php-fpm did not start: ${readIfThere(path.join(dir, 'fpm.log'))}`);
    this.children.push(spawn('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'], { stdio: 'ignore' }));
    await waitForPort(this.port);
    return this;
  }

  url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Every request nginx answered, by status. */
  statuses(): number[] {
    return readIfThere(path.join(this.directory, 'access.log')).split('\n').filter(Boolean).map(Number);
  }

  /** The bodies the PHP script received, in the order it finished them. */
  received(): string[] {
    return readIfThere(path.join(this.directory, 'received.log')).split('\n').filter(Boolean).map((line) => Buffer.from(line, 'base64').toString());
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((child) => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve(undefined);
      child.once('exit', resolve);
      child.kill('SIGQUIT');
    })));
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** Debian names the binary after its PHP version (php-fpm8.2). */
function phpFpm(): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/sbin')) {
    const found = existsSync(dir) ? readdirSync(dir).find((name) => /^php-fpm[\d.]*$/.test(name)) : undefined;
    if (found) return path.join(dir, found);
  }
  throw new Error('php-fpm is not installed: apt-get install php-fpm');
}

function readIfThere(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

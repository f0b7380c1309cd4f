import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs a PHP script with php-cli and returns what it printed as JSON. The
 * script gets its inputs as JSON in the environment variable INPUT.
 */
export async function runPhp<T = unknown>(script: string, input: unknown): Promise<T> {
  const { stdout } = await run('php', ['-d', 'soap.wsdl_cache_enabled=0', '-r', script], {
    env: { ...process.env, INPUT: JSON.stringify(input) },
    timeout: 20000,
  });
  try {
    return JSON.parse(stdout) as T;
  } catch {
    throw new Error(`PHP printed no JSON: ${stdout}`);
  }
}

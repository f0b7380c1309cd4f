import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { makeAccount, startService, type RunningService } from './helpers/service.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

describe('README.md', () => {
  let service: RunningService;
  before(async () => {
    service = await startService({});
  });
  after(() => service.stop());

  it('its PHP example works against the service as written', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const script = /```php\n([\s\S]*?)```/.exec(readme)![1]!.replace('http://127.0.0.1:8080', service.baseUrl);
    const account = /'username' => '([^']+)', 'password' => '([^']+)'/.exec(script)!;
    await makeAccount(service, { username: account[1], password: account[2] });
    const { stdout } = await promisify(execFile)('php', ['-d', 'soap.wsdl_cache_enabled=0', '-r', script.replace(/^<\?php\n/, '')]);
    expect(stdout).to.match(/^webhook 1, signing secret whsec_\S+\n1 crm-sync optin_finalized active\n$/);
  });
});

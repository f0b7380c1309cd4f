import { expect } from 'chai';
import { ApiError } from '../../src/domain/errors.js';
import { checkResolvedAddresses, isPublicAddress, parseTargetUrl } from '../../src/domain/targetPolicy.js';

function codeOf(action: () => unknown): number | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return (error as ApiError).code;
  }
}

describe('target URL policy', () => {
  it('tells public addresses from loopback, private, link-local, multicast and reserved ones', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2a00:1450:4001:80b::200e']) expect(isPublicAddress(address), address).to.equal(true);
    for (const address of ['127.0.0.1', '127.8.9.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
      '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', 'ff02::1',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a00:1', 'not-an-address']) {
      expect(isPublicAddress(address), address).to.equal(false);
    }
  });

  it('unwraps every IPv6 form that carries an IPv4 address and judges that one', () => {
    const embedded: Array<[string, boolean]> = [
      ['::127.0.0.1', false], // IPv4-compatible; the URL parser writes it ::7f00:1
      ['::7f00:1', false],
      ['::ffff:0:127.0.0.1', false], // IPv4-translated
      ['::ffff:0:a00:1', false],
      ['64:ff9b::10.0.0.1', false], // NAT64
      ['64:ff9b:1::a00:1', false], // local-use NAT64
      ['2002:7f00:1::', false], // 6to4 of 127.0.0.1
      ['2002:a9fe:a9fe::1', false], // 6to4 of 169.254.169.254
      ['2001:0:4136:e378:8000:63bf:80ff:fffe', false], // Teredo, client 127.0.0.1
      ['2001:0:a00:1:8000:63bf:a2ff:f1ee', false], // Teredo, server 10.0.0.1
      ['::8.8.8.8', true],
      ['::ffff:0:808:808', true],
      ['64:ff9b::808:808', true],
      ['2002:808:808::1', true],
      ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', true], // Teredo, server 65.54.227.120, client 8.8.8.8
      ['fe80::1%eth0', false],
    ];
    for (const [address, expected] of embedded) expect(isPublicAddress(address), address).to.equal(expected);
    expect(codeOf(() => parseTargetUrl('http://[::127.0.0.1]/', false))).to.equal(5);
    expect(codeOf(() => parseTargetUrl('http://[::ffff:0:127.0.0.1]/', false))).to.equal(5);
    expect(codeOf(() => parseTargetUrl('http://[2002:7f00:1::]/', false))).to.equal(5);
  });

  it('refuses schemes, user-info and private literal hosts with 5, malformed or overlong URLs with 3', () => {
    expect(codeOf(() => parseTargetUrl('https://hooks.example.com/x', false))).to.equal(undefined);
    expect(codeOf(() => parseTargetUrl('javascript:alert(1)', false))).to.equal(5);
    expect(codeOf(() => parseTargetUrl('ftp://example.com/', false))).to.equal(5);
    expect(codeOf(() => parseTargetUrl('http://a:b@example.com/', false))).to.equal(5);
    expect(codeOf(() => parseTargetUrl('http://0x7f000001/', false))).to.equal(5);
    expect(codeOf(() => parseTargetUrl('http://2130706433/', false))).to.equal(5);
    expect(codeOf(() => parseTargetUrl('http://[::ffff:169.254.169.254]/', false))).to.equal(5);
    expect(codeOf(() => parseTargetUrl('no url at all', false))).to.equal(3);
    expect(codeOf(() => parseTargetUrl(`https://example.com/${'a'.repeat(2048)}`, false))).to.equal(3);
    expect(codeOf(() => parseTargetUrl('', false))).to.equal(2);
  });

  it('allows private targets only when the operator switch is on', () => {
    expect(codeOf(() => parseTargetUrl('http://127.0.0.1:8080/', true))).to.equal(undefined);
    expect(codeOf(() => checkResolvedAddresses(['10.0.0.1'], true))).to.equal(undefined);
    expect(codeOf(() => checkResolvedAddresses(['93.184.215.14', '10.0.0.1'], false))).to.equal(5);
    expect(codeOf(() => checkResolvedAddresses([], true))).to.equal(5);
  });
});

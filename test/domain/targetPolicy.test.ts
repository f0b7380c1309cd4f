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

import { describe, expect, it } from '@jest/globals';
import {
  checkEndpoints,
  classifyAddress,
  clusterIPIndex,
  findingMessage,
  isHandWritten,
} from '../../../operator/controllers/endpoints/address-check.ts';

const services = [
  {
    metadata: { namespace: 'default', name: 'kubernetes' },
    spec: { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'] },
  },
  {
    metadata: { namespace: 'a', name: 'dual' },
    spec: { clusterIP: '10.96.0.9', clusterIPs: ['10.96.0.9', 'fd00:10:96::9'] },
  },
  { metadata: { namespace: 'a', name: 'headless' }, spec: { clusterIP: 'None' } },
];
const index = clusterIPIndex(services);
const selectorless = { metadata: { name: 'ext', namespace: 'a' }, spec: { ports: [{ port: 80 }] } };

describe('hand-written Endpoints checks', () => {
  it('indexes every ClusterIP of every family, skipping headless', () => {
    expect([...index.entries()]).toEqual([
      ['10.96.0.1', 'default/kubernetes'],
      ['10.96.0.9', 'a/dual'],
      ['fd00:10:96::9', 'a/dual'],
    ]);
  });

  it.each([
    ['10.96.0.1', 'EndpointAddressIsClusterIP', /ClusterIP of Service "default\/kubernetes"/],
    ['FD00:10:96:0::9', 'EndpointAddressIsClusterIP', /"a\/dual"/],
    ['127.0.0.1', 'EndpointAddressIsLoopback', /loopback/],
    ['::1', 'EndpointAddressIsLoopback', /loopback/],
    ['169.254.1.1', 'EndpointAddressIsLinkLocal', /link-local/],
    ['fe80::1', 'EndpointAddressIsLinkLocal', /link-local/],
    ['224.0.0.5', 'EndpointAddressIsLinkLocal', /multicast/],
    ['ff02::1', 'EndpointAddressIsLinkLocal', /multicast/],
    ['0.0.0.0', 'EndpointAddressIsUnspecified', /unspecified/],
    ['::', 'EndpointAddressIsUnspecified', /unspecified/],
    ['10.0.0.256', 'MalformedEndpointAddress', /malformed/],
    ['010.0.0.1', 'MalformedEndpointAddress', /malformed/],
    ['::ffff:10.0.0.1', 'MalformedEndpointAddress', /IPv4-mapped/],
    ['2001:DB8::1', 'MalformedEndpointAddress', /canonical form; write "2001:db8::1"/],
    ['', 'MalformedEndpointAddress', /malformed/],
  ])('%s is %s', (ip, reason, message) => {
    const f = classifyAddress(ip, index);
    expect(f?.reason).toBe(reason);
    expect(f?.message).toMatch(message);
  });

  it.each(['192.0.2.1', '10.96.0.2', '2001:db8::1', '239.1.1.1'])('%s is fine', (ip) => {
    expect(classifyAddress(ip, index)).toBeUndefined();
  });

  it('checks only Endpoints of existing Services without a selector', () => {
    expect(isHandWritten(undefined)).toBe(false);
    expect(isHandWritten({ spec: { selector: { app: 'x' } } })).toBe(false);
    expect(isHandWritten({ spec: { type: 'ExternalName' } })).toBe(false);
    expect(isHandWritten({ spec: { selector: {} } })).toBe(true);
    const ep = { subsets: [{ addresses: [{ ip: '127.0.0.1' }] }] };
    expect(checkEndpoints(ep, { spec: { selector: { app: 'x' } } }, index)).toEqual([]);
  });

  it('names the field and the address of every finding, ready or not', () => {
    const ep = {
      metadata: { name: 'ext', namespace: 'a' },
      subsets: [
        { addresses: [{ ip: '192.0.2.1' }, { ip: '10.96.0.1' }] },
        { addresses: null, notReadyAddresses: [{ ip: '127.0.0.2' }] },
      ],
    };
    const findings = checkEndpoints(ep, selectorless, index);
    expect(findings.map(findingMessage)).toEqual([
      'subsets[0].addresses[1].ip: address "10.96.0.1" is the ClusterIP of Service "default/kubernetes"; an endpoint must be a backend, not a virtual IP',
      'subsets[1].notReadyAddresses[0].ip: address "127.0.0.2" is a loopback address',
    ]);
  });
});

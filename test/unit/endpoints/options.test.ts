import { describe, expect, it } from '@jest/globals';
import { parseDnsServer, parseEndpointsOptions } from '../../../operator/controllers/endpoints/options.ts';

const defaults = { 'dns-min-refresh': '5s', 'dns-max-refresh': '5m' };

describe('endpoints options', () => {
  it('defaults to the system resolvers and 5s..5m', () => {
    expect(parseEndpointsOptions(defaults)).toEqual({
      dnsServers: [],
      dnsMinRefreshMs: 5000,
      dnsMaxRefreshMs: 300_000,
    });
  });

  it('accepts ip, ip:port and [ipv6]:port, repeated or comma-separated', () => {
    const o = parseEndpointsOptions({ ...defaults, 'dns-server': ['127.0.0.1:5353,::1', '[::1]:53'] });
    expect(o.dnsServers).toEqual(['127.0.0.1:5353', '::1', '[::1]:53']);
  });

  it.each(['dns.example:53', '127.0.0.1:0', '127.0.0.1:70000', '[127.0.0.1]:53', '1.2.3'])(
    'rejects --dns-server %s',
    (v) => {
      expect(() => parseDnsServer(v)).toThrow(/^--dns-server: /);
    },
  );

  it('rejects bad or inverted refresh bounds, naming the flag', () => {
    expect(() => parseEndpointsOptions({ ...defaults, 'dns-min-refresh': '-1s' })).toThrow(
      /^--dns-min-refresh: /,
    );
    expect(() => parseEndpointsOptions({ ...defaults, 'dns-max-refresh': '0' })).toThrow(
      /^--dns-max-refresh: /,
    );
    expect(() => parseEndpointsOptions({ 'dns-min-refresh': '1m', 'dns-max-refresh': '10s' })).toThrow(
      /must not be longer/,
    );
  });
});

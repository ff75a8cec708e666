import { describe, expect, it } from '@jest/globals';
import { OptionsError, parseOptions } from '../../../operator/options.ts';

describe('operator webhook flags', () => {
  it('defaults to port 9443, in-cluster names and 10-year CA / 1-year certificates', () => {
    expect(parseOptions([], {}).webhook).toEqual({
      port: 9443,
      url: undefined,
      service: 'portico-webhook',
      secretName: 'portico-webhook-cert',
      validatingConfiguration: 'portico-validating-webhook',
      mutatingConfiguration: 'portico-mutating-webhook',
      caValidityMs: 87600 * 3600_000,
      certValidityMs: 8760 * 3600_000,
    });
  });

  it('parses every flag', () => {
    const o = parseOptions(
      [
        '--webhook-port=0',
        '--webhook-service=wh',
        '--webhook-secret=wh-cert',
        '--validating-webhook-configuration=v',
        '--mutating-webhook-configuration=',
        '--webhook-ca-validity=48h',
        '--webhook-cert-validity=1h',
      ],
      {},
    );
    expect(o.webhook).toMatchObject({
      port: 0,
      service: 'wh',
      secretName: 'wh-cert',
      validatingConfiguration: 'v',
      mutatingConfiguration: '',
      caValidityMs: 48 * 3600_000,
      certValidityMs: 3600_000,
    });
    expect(parseOptions(['--webhook-url=https://127.0.0.1:9443/'], {}).webhook.url).toBe(
      'https://127.0.0.1:9443',
    );
  });

  it.each([
    [['--webhook-port=99999'], /--webhook-port/],
    [['--webhook-port=-1'], /--webhook-port/],
    [['--webhook-url=http://127.0.0.1:9443'], /--webhook-url: .* must be https/],
    [['--webhook-url=https://h/?x=1'], /--webhook-url/],
    [['--webhook-url=nope'], /--webhook-url: "nope" is not a URL/],
    [['--webhook-url=https://h', '--webhook-port=0'], /needs the webhooks enabled/],
    [['--webhook-service=Bad_Name'], /--webhook-service/],
    [['--webhook-secret='], /--webhook-secret/],
    [['--validating-webhook-configuration=UPPER'], /--validating-webhook-configuration/],
    [['--webhook-cert-validity=soon'], /--webhook-cert-validity/],
    [['--webhook-ca-validity=1h', '--webhook-cert-validity=2h'], /--webhook-ca-validity must be longer/],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(() => parseOptions(argv, {})).toThrow(OptionsError);
    expect(() => parseOptions(argv, {})).toThrow(message);
  });
});

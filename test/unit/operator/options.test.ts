import { describe, expect, it } from '@jest/globals';
import { OptionsError, parseOptions } from '../../../operator/options.ts';

describe('operator flags', () => {
  it('has defaults that match a Deployment', () => {
    const o = parseOptions([], { POD_NAMESPACE: 'portico', POD_NAME: 'op-1' });
    expect(o).toMatchObject({
      namespace: 'portico',
      healthPort: 7472,
      leaderElect: true,
      leaseName: 'portico-operator',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(o.identity).toMatch(/^op-1_\d+$/);
  });

  it('parses durations and flags', () => {
    const o = parseOptions(
      [
        '--kubeconfig=/k',
        '--lease-duration=1m',
        '--renew-deadline=30s',
        '--retry-period=500ms',
        '--leader-elect=false',
      ],
      {},
    );
    expect(o).toMatchObject({
      kubeconfig: '/k',
      leaseDurationMs: 60_000,
      renewDeadlineMs: 30_000,
      retryPeriodMs: 500,
    });
    expect(o.leaderElect).toBe(false);
  });

  it('parses the audit interval and the node-port range, with defaults', () => {
    expect(parseOptions([], {})).toMatchObject({
      auditIntervalMs: 60_000,
      nodePortRange: { lo: 30000, hi: 32767 },
    });
    expect(parseOptions(['--audit-interval=5s', '--service-node-port-range=20000-22767'], {})).toMatchObject({
      auditIntervalMs: 5_000,
      nodePortRange: { lo: 20000, hi: 22767 },
    });
  });

  it.each([
    [['--audit-interval=soon'], /--audit-interval/],
    [['--audit-interval=10ms'], /--audit-interval must be at least 1s/],
    [['--service-node-port-range=30000'], /--service-node-port-range/],
    [['--service-node-port-range=32767-30000'], /--service-node-port-range/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseOptions(argv, {})).toThrow(message);
  });

  it.each([
    [['--health-port=x'], /--health-port/],
    [['--lease-duration=soon'], /--lease-duration/],
    [['--renew-deadline=20s'], /--renew-deadline must be shorter/],
    [['--leader-elect=yes'], /--leader-elect/],
    [['--bogus'], /bogus/],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(() => parseOptions(argv, {})).toThrow(OptionsError);
    expect(() => parseOptions(argv, {})).toThrow(message);
  });
});

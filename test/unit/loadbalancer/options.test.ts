import { describe, expect, it } from '@jest/globals';
import {
  LoadBalancerOptionsError,
  parseLoadBalancerOptions,
} from '../../../operator/controllers/loadbalancer/options.ts';
import { OptionsError, parseOptions } from '../../../operator/options.ts';

const defaults = {
  'load-balancer-class': 'portico.io/lb',
  'default-load-balancer': 'true',
  'sticky-hold': '24h',
};

describe('LoadBalancer flags', () => {
  it('has the agreed defaults', () => {
    expect(parseLoadBalancerOptions(defaults)).toEqual({
      loadBalancerClass: 'portico.io/lb',
      defaultLoadBalancer: true,
      stickyHoldMs: 24 * 3_600_000,
    });
  });
  it('accepts 0 to disable sticky IPs', () => {
    expect(
      parseLoadBalancerOptions({ ...defaults, 'sticky-hold': '0', 'default-load-balancer': 'false' }),
    ).toMatchObject({
      stickyHoldMs: 0,
      defaultLoadBalancer: false,
    });
  });
  it.each([
    [{ 'load-balancer-class': 'not a class' }, /--load-balancer-class/],
    [{ 'default-load-balancer': 'yes' }, /--default-load-balancer/],
    [{ 'sticky-hold': 'a day' }, /--sticky-hold/],
  ])('rejects %j naming the flag', (bad, message) => {
    expect(() => parseLoadBalancerOptions({ ...defaults, ...bad })).toThrow(LoadBalancerOptionsError);
    expect(() => parseLoadBalancerOptions({ ...defaults, ...bad })).toThrow(message);
  });
});

describe('operator flags include the LoadBalancer ones', () => {
  it('has the defaults and names a bad flag', () => {
    expect(parseOptions([], {}).loadBalancer).toEqual({
      loadBalancerClass: 'portico.io/lb',
      defaultLoadBalancer: true,
      stickyHoldMs: 24 * 3_600_000,
    });
    expect(
      parseOptions(['--sticky-hold=1h30m', '--load-balancer-class=example.com/lb'], {}).loadBalancer,
    ).toMatchObject({
      loadBalancerClass: 'example.com/lb',
      stickyHoldMs: 90 * 60_000,
    });
    expect(() => parseOptions(['--sticky-hold=forever'], {})).toThrow(OptionsError);
    expect(() => parseOptions(['--sticky-hold=forever'], {})).toThrow(/--sticky-hold/);
  });
});

// The RFC 4271 8 state machine: every event in every state, then the timer,
// backoff and negotiation details.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { BgpFsm, OPEN_HOLD_MS } from '../../../speaker/bgp/fsm.ts';
import type { BgpState, FsmAction, FsmConfig, FsmEvent } from '../../../speaker/bgp/fsm.ts';
import { buildOpen } from '../../../speaker/bgp/codec/index.ts';
import type { BgpMessage, Capability, OpenMessage } from '../../../speaker/bgp/codec/index.ts';

const CONFIG: FsmConfig = {
  localAs: 65001,
  peerAs: 65002,
  routerId: '10.0.0.1',
  holdTimeSec: 90,
  connectRetrySec: 5,
  connectRetryMaxSec: 120,
  idleHoldSec: 1,
  idleHoldMaxSec: 60,
  passive: false,
  families: ['ipv4-unicast', 'ipv6-unicast'],
};

const ALL_CAPS: Capability[] = [
  { kind: 'multiprotocol', afi: 1, safi: 1 },
  { kind: 'multiprotocol', afi: 2, safi: 1 },
  { kind: 'route-refresh' },
];

function peerOpen(
  o: Partial<{ asn: number; holdTimeSec: number; bgpId: string; capabilities: Capability[] }> = {},
): OpenMessage {
  return buildOpen({ asn: 65002, holdTimeSec: 90, bgpId: '10.0.0.2', capabilities: ALL_CAPS, ...o });
}

const msg = (message: BgpMessage): FsmEvent => ({ type: 'message', message });

/** Each action in a short readable form. */
function summary(actions: FsmAction[]): string[] {
  const out: string[] = [];
  for (const a of actions) {
    if (a.type === 'connect' || a.type === 'disconnect') out.push(a.type);
    else if (a.type === 'send') {
      const m = a.message;
      out.push(m.type === 'notification' ? `NOTIFICATION ${m.code}/${m.subcode}` : m.type.toUpperCase());
    }
  }
  return out;
}

function timers(actions: FsmAction[]): string[] {
  return actions.flatMap((a) =>
    a.type === 'start-timer'
      ? [`start ${a.timer} ${a.ms}`]
      : a.type === 'stop-timer'
        ? [`stop ${a.timer}`]
        : [],
  );
}

/** An FSM driven into `state` by the usual path. */
function fsmIn(state: BgpState, config: Partial<FsmConfig> = {}): BgpFsm {
  const fsm = new BgpFsm({ ...CONFIG, ...config });
  if (state === 'Idle') return fsm;
  if (state === 'Active') {
    fsm.handle({ type: 'start', passive: true });
    return fsm;
  }
  fsm.handle({ type: 'start' });
  if (state === 'Connect') return fsm;
  fsm.handle({ type: 'tcp-connected' });
  if (state === 'OpenSent') return fsm;
  fsm.handle(msg(peerOpen()));
  if (state === 'OpenConfirm') return fsm;
  fsm.handle(msg({ type: 'keepalive' }));
  return fsm;
}

const EVENTS: Record<string, FsmEvent> = {
  start: { type: 'start' },
  stop: { type: 'stop' },
  'connect-retry timer': { type: 'timer', timer: 'connect-retry' },
  'hold timer': { type: 'timer', timer: 'hold' },
  'keepalive timer': { type: 'timer', timer: 'keepalive' },
  'idle-hold timer': { type: 'timer', timer: 'idle-hold' },
  'tcp-connected': { type: 'tcp-connected' },
  'tcp-failed': { type: 'tcp-failed' },
  OPEN: msg(peerOpen()),
  UPDATE: msg({ type: 'update', withdrawn: [], attributes: {}, nlri: [] }),
  KEEPALIVE: msg({ type: 'keepalive' }),
  NOTIFICATION: msg({ type: 'notification', code: 6, subcode: 2, data: new Uint8Array(0) }),
  'ROUTE-REFRESH': msg({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 }),
  'header error': {
    type: 'decode-error',
    error: { code: 1, subcode: 2, data: new Uint8Array(0), reason: 'x' },
  },
  'collision-dump': { type: 'collision-dump' },
};

type Row = [BgpState, ...string[]];
const N = (c: string) => [`NOTIFICATION ${c}`, 'disconnect'];

// state -> event -> [next state, actions]. A timer that is not running is
// never reported by the adapter; should one arrive late it is ignored.
const TABLE: Record<BgpState, Record<string, Row>> = {
  Idle: {
    start: ['Connect', 'connect'],
    'tcp-connected': ['Idle', 'disconnect'],
  },
  Connect: {
    stop: ['Idle', 'disconnect'],
    'connect-retry timer': ['Connect', 'disconnect', 'connect'],
    'tcp-connected': ['OpenSent', 'OPEN'],
    'tcp-failed': ['Active'],
    OPEN: ['Idle', 'disconnect'],
    UPDATE: ['Idle', 'disconnect'],
    KEEPALIVE: ['Idle', 'disconnect'],
    NOTIFICATION: ['Idle', 'disconnect'],
    'ROUTE-REFRESH': ['Idle', 'disconnect'],
    'header error': ['Idle', 'disconnect'],
    'collision-dump': ['Idle', 'disconnect'],
  },
  Active: {
    stop: ['Idle'],
    'tcp-connected': ['OpenSent', 'OPEN'],
    OPEN: ['Idle'],
    UPDATE: ['Idle'],
    KEEPALIVE: ['Idle'],
    NOTIFICATION: ['Idle'],
    'ROUTE-REFRESH': ['Idle'],
    'header error': ['Idle'],
    'collision-dump': ['Idle'],
  },
  OpenSent: {
    stop: ['Idle', ...N('6/2')],
    'hold timer': ['Idle', ...N('4/0')],
    'tcp-failed': ['Active'],
    OPEN: ['OpenConfirm', 'KEEPALIVE'],
    UPDATE: ['Idle', ...N('5/1')],
    KEEPALIVE: ['Idle', ...N('5/1')],
    NOTIFICATION: ['Idle', 'disconnect'],
    'ROUTE-REFRESH': ['Idle', ...N('5/1')],
    'header error': ['Idle', ...N('1/2')],
    'collision-dump': ['Idle', ...N('6/7')],
  },
  OpenConfirm: {
    stop: ['Idle', ...N('6/2')],
    'hold timer': ['Idle', ...N('4/0')],
    'keepalive timer': ['OpenConfirm', 'KEEPALIVE'],
    'tcp-failed': ['Idle'],
    OPEN: ['Idle', ...N('5/2')],
    UPDATE: ['Idle', ...N('5/2')],
    KEEPALIVE: ['Established'],
    NOTIFICATION: ['Idle', 'disconnect'],
    'ROUTE-REFRESH': ['Idle', ...N('5/2')],
    'header error': ['Idle', ...N('1/2')],
    'collision-dump': ['Idle', ...N('6/7')],
  },
  Established: {
    stop: ['Idle', ...N('6/2')],
    'hold timer': ['Idle', ...N('4/0')],
    'keepalive timer': ['Established', 'KEEPALIVE'],
    'tcp-failed': ['Idle'],
    OPEN: ['Idle', ...N('5/3')],
    NOTIFICATION: ['Idle', 'disconnect'],
    'header error': ['Idle', ...N('1/2')],
    'collision-dump': ['Idle', ...N('6/7')],
  },
};

describe('FSM transitions (RFC 4271 8.2.2): every event in every state', () => {
  const states = Object.keys(TABLE) as BgpState[];
  const cases = states.flatMap((s) => Object.keys(EVENTS).map((e) => [s, e] as const));
  it.each(cases)('%s + %s', (state, event) => {
    const fsm = fsmIn(state);
    expect(fsm.state).toBe(state);
    const actions = fsm.handle(EVENTS[event] as FsmEvent);
    // Unlisted pairs leave the state alone and do nothing on the wire.
    const [next, ...wire] = TABLE[state][event] ?? [state];
    expect([fsm.state, ...summary(actions)]).toEqual([next, ...wire]);
  });
});

describe('timers', () => {
  it('waits 4 minutes for the OPEN, then uses the negotiated hold and keepalive times', () => {
    const fsm = fsmIn('Connect');
    expect(timers(fsm.handle({ type: 'tcp-connected' }))).toEqual([
      'stop connect-retry',
      `start hold ${OPEN_HOLD_MS}`,
    ]);
    expect(timers(fsm.handle(msg(peerOpen({ holdTimeSec: 30 }))))).toEqual([
      'start hold 30000',
      'start keepalive 10000',
    ]);
  });

  it('restarts the hold timer on KEEPALIVE and UPDATE in Established (RFC 4271 4.4)', () => {
    const fsm = fsmIn('Established');
    expect(timers(fsm.handle(EVENTS['KEEPALIVE'] as FsmEvent))).toEqual(['start hold 90000']);
    expect(timers(fsm.handle(EVENTS['UPDATE'] as FsmEvent))).toEqual(['start hold 90000']);
    expect(timers(fsm.handle(EVENTS['keepalive timer'] as FsmEvent))).toEqual(['start keepalive 30000']);
  });

  it('runs no hold or keepalive timer when the hold time is 0', () => {
    const fsm = fsmIn('OpenSent');
    expect(timers(fsm.handle(msg(peerOpen({ holdTimeSec: 0 }))))).toEqual(['stop hold']);
    fsm.handle(EVENTS['KEEPALIVE'] as FsmEvent);
    expect(fsm.state).toBe('Established');
    expect([...fsm.runningTimers]).toEqual([]);
  });

  it('stops every timer on the way to Idle', () => {
    const fsm = fsmIn('Established', { autoRestart: false });
    expect(timers(fsm.handle({ type: 'stop' })).sort()).toEqual(['stop hold', 'stop keepalive']);
    expect([...fsm.runningTimers]).toEqual([]);
  });

  it('jitters connect-retry, keepalive and idle-hold, but not hold (RFC 4271 10)', () => {
    const fsm = fsmIn('OpenSent');
    const started = fsm.handle(msg(peerOpen())).filter((a) => a.type === 'start-timer');
    expect(started.map((a) => a.type === 'start-timer' && [a.timer, a.jitter])).toEqual([
      ['hold', false],
      ['keepalive', true],
    ]);
  });
});

describe('connect retry with exponential backoff', () => {
  it('doubles the connect-retry time per failed attempt, up to the maximum', () => {
    const fsm = new BgpFsm(CONFIG);
    const delays: number[] = [];
    const grab = (actions: FsmAction[]) => {
      for (const a of actions) if (a.type === 'start-timer' && a.timer === 'connect-retry') delays.push(a.ms);
    };
    grab(fsm.handle({ type: 'start' }));
    for (let i = 0; i < 4; i++) grab(fsm.handle({ type: 'timer', timer: 'connect-retry' })); // attempts time out
    grab(fsm.handle({ type: 'tcp-failed' })); // refused: wait in Active
    expect(fsm.state).toBe('Active');
    grab(fsm.handle({ type: 'timer', timer: 'connect-retry' }));
    expect(fsm.state).toBe('Connect');
    grab(fsm.handle({ type: 'tcp-failed' }));
    expect(delays).toEqual([5000, 10000, 20000, 40000, 80000, 120000, 120000, 120000]);
  });

  it('starts from the base again after a session was established', () => {
    const fsm = fsmIn('Established');
    fsm.handle({ type: 'tcp-failed' });
    const restart = fsm.handle({ type: 'timer', timer: 'idle-hold' });
    expect(timers(restart)).toEqual(['start connect-retry 5000']);
  });
});

describe('automatic restart (RFC 4271 8.1.1, DampPeerOscillations)', () => {
  it('returns to Connect after the idle-hold time, which doubles per consecutive failure', () => {
    const fsm = fsmIn('OpenSent');
    const idleHolds: number[] = [];
    for (let i = 0; i < 8; i++) {
      const actions = fsm.handle({ type: 'timer', timer: 'hold' });
      for (const a of actions) if (a.type === 'start-timer' && a.timer === 'idle-hold') idleHolds.push(a.ms);
      expect(fsm.state).toBe('Idle');
      expect(summary(fsm.handle({ type: 'timer', timer: 'idle-hold' }))).toEqual(['connect']);
      fsm.handle({ type: 'tcp-connected' });
    }
    expect(idleHolds).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  });

  it('stop in Idle cancels a pending restart', () => {
    const fsm = fsmIn('Established');
    fsm.handle({ type: 'tcp-failed' });
    expect([...fsm.runningTimers]).toEqual(['idle-hold']);
    expect(timers(fsm.handle({ type: 'stop' }))).toEqual(['stop idle-hold']);
    expect(fsm.handle({ type: 'timer', timer: 'idle-hold' })).toEqual([]);
    expect(fsm.state).toBe('Idle');
  });

  it('does not restart after a manual stop, a lost collision, or with autoRestart off', () => {
    expect([...fsmIn('Established').runningTimers].sort()).toEqual(['hold', 'keepalive']);
    const stopped = fsmIn('Established');
    stopped.handle({ type: 'stop' });
    expect([...stopped.runningTimers]).toEqual([]);
    const dumped = fsmIn('OpenConfirm');
    dumped.handle({ type: 'collision-dump' });
    expect([...dumped.runningTimers]).toEqual([]);
    const manual = fsmIn('Established', { autoRestart: false });
    manual.handle({ type: 'tcp-failed' });
    expect([...manual.runningTimers]).toEqual([]);
  });
});

describe('passive mode', () => {
  it('waits in Active without connecting, and goes back to Active when an OpenSent connection drops', () => {
    const fsm = new BgpFsm({ ...CONFIG, passive: true });
    expect(summary(fsm.handle({ type: 'start' }))).toEqual([]);
    expect(fsm.state).toBe('Active');
    expect([...fsm.runningTimers]).toEqual([]);
    fsm.handle({ type: 'tcp-connected' });
    expect(fsm.state).toBe('OpenSent');
    expect(timers(fsm.handle({ type: 'tcp-failed' }))).toEqual(['stop hold']);
    expect(fsm.state).toBe('Active');
  });

  it('restarts passive after an error', () => {
    const fsm = fsmIn('OpenSent', { passive: true });
    fsm.handle({ type: 'timer', timer: 'hold' });
    expect(summary(fsm.handle({ type: 'timer', timer: 'idle-hold' }))).toEqual([]);
    expect(fsm.state).toBe('Active');
  });
});

describe('OPEN negotiation', () => {
  const negotiate = (open: OpenMessage, config: Partial<FsmConfig> = {}) => {
    const fsm = fsmIn('OpenSent', config);
    const actions = fsm.handle(msg(open));
    return { fsm, actions: summary(actions) };
  };

  it('sends our AS, hold time, identifier and capabilities', () => {
    const fsm = new BgpFsm({
      ...CONFIG,
      localAs: 4200000001,
      gracefulRestart: { restartTimeSec: 120, restarting: false, forwardingPreserved: true },
    });
    expect(fsm.openMessage()).toEqual({
      type: 'open',
      myAs: 23456,
      holdTimeSec: 90,
      bgpId: '10.0.0.1',
      capabilities: [
        { kind: 'multiprotocol', afi: 1, safi: 1 },
        { kind: 'multiprotocol', afi: 2, safi: 1 },
        { kind: 'route-refresh' },
        {
          kind: 'graceful-restart',
          restarting: false,
          notification: false,
          restartTimeSec: 120,
          families: [
            { afi: 1, safi: 1, forwardingPreserved: true },
            { afi: 2, safi: 1, forwardingPreserved: true },
          ],
        },
        { kind: 'four-octet-as', asn: 4200000001 },
      ],
    });
  });

  it('takes the smaller hold time and a third of it as keepalive (RFC 4271 4.2, 10)', () => {
    expect(negotiate(peerOpen({ holdTimeSec: 30 })).fsm.negotiated).toMatchObject({
      holdTimeSec: 30,
      keepaliveSec: 10,
    });
    expect(negotiate(peerOpen({ holdTimeSec: 180 })).fsm.negotiated).toMatchObject({
      holdTimeSec: 90,
      keepaliveSec: 30,
    });
    expect(negotiate(peerOpen({ holdTimeSec: 3 })).fsm.negotiated).toMatchObject({
      holdTimeSec: 3,
      keepaliveSec: 1,
    });
  });

  it('uses a configured keepalive, capped at a third of the hold time', () => {
    expect(negotiate(peerOpen(), { keepaliveSec: 10 }).fsm.negotiated).toMatchObject({ keepaliveSec: 10 });
    expect(negotiate(peerOpen({ holdTimeSec: 9 }), { keepaliveSec: 10 }).fsm.negotiated).toMatchObject({
      keepaliveSec: 3,
    });
  });

  it('agrees on the families both sides announced, IPv4 only when the peer has no MP capability (RFC 4760 8)', () => {
    expect(
      negotiate(peerOpen({ capabilities: [{ kind: 'multiprotocol', afi: 2, safi: 1 }] })).fsm.negotiated
        ?.families,
    ).toEqual(['ipv6-unicast']);
    expect(negotiate(peerOpen({ capabilities: [] })).fsm.negotiated?.families).toEqual(['ipv4-unicast']);
    expect(negotiate(peerOpen(), { families: ['ipv6-unicast'] }).fsm.negotiated?.families).toEqual([
      'ipv6-unicast',
    ]);
  });

  it('records 4-octet AS, route refresh and the peer graceful restart capability', () => {
    const gr: Capability = {
      kind: 'graceful-restart',
      restarting: true,
      notification: false,
      restartTimeSec: 60,
      families: [],
    };
    const n = negotiate(peerOpen({ asn: 4200000002, capabilities: [...ALL_CAPS, gr] }), {
      peerAs: 4200000002,
    }).fsm.negotiated;
    expect(n).toMatchObject({
      peerAs: 4200000002,
      fourOctetAs: true,
      routeRefresh: true,
      peerGracefulRestart: gr,
      ibgp: false,
    });
    const old: OpenMessage = {
      type: 'open',
      myAs: 65002,
      holdTimeSec: 90,
      bgpId: '10.0.0.2',
      capabilities: [],
    };
    expect(negotiate(old).fsm.negotiated).toMatchObject({
      peerAs: 65002,
      fourOctetAs: false,
      routeRefresh: false,
    });
  });

  it('rejects the wrong peer AS with Bad Peer AS (RFC 4271 6.2)', () => {
    const r = negotiate(peerOpen({ asn: 65003 }));
    expect([r.fsm.state, ...r.actions]).toEqual(['Idle', 'NOTIFICATION 2/2', 'disconnect']);
  });

  it("accepts any AS under dynamicASN 'external', and only ours under 'internal'", () => {
    expect(negotiate(peerOpen({ asn: 65009 }), { peerAs: 'external' }).fsm.state).toBe('OpenConfirm');
    expect(negotiate(peerOpen({ asn: 65001 }), { peerAs: 'external' }).actions).toEqual([
      'NOTIFICATION 2/2',
      'disconnect',
    ]);
    const ibgp = negotiate(peerOpen({ asn: 65001 }), { peerAs: 'internal' });
    expect(ibgp.fsm.negotiated).toMatchObject({ ibgp: true });
    expect(negotiate(peerOpen({ asn: 65009 }), { peerAs: 'internal' }).actions).toEqual([
      'NOTIFICATION 2/2',
      'disconnect',
    ]);
  });

  it('rejects an iBGP peer using our BGP identifier (RFC 6286 2.2)', () => {
    const r = negotiate(peerOpen({ asn: 65001, bgpId: '10.0.0.1' }), { peerAs: 65001 });
    expect(r.actions).toEqual(['NOTIFICATION 2/3', 'disconnect']);
  });
});

describe('invariants under any event sequence', () => {
  it('property: never throws; Idle holds no connection timers; Established always has negotiated parameters', () => {
    const event = fc.constantFrom(...Object.values(EVENTS));
    fc.assert(
      fc.property(fc.boolean(), fc.array(event, { maxLength: 60 }), (passive, events) => {
        const fsm = new BgpFsm({ ...CONFIG, passive });
        for (const e of events) {
          const actions = fsm.handle(e);
          const states = actions.filter((a) => a.type === 'state');
          for (const s of states) expect(s.type === 'state' && s.from !== s.to).toBe(true);
          if (fsm.state === 'Idle')
            expect([...fsm.runningTimers].filter((t) => t !== 'idle-hold')).toEqual([]);
          if (fsm.state === 'Established' || fsm.state === 'OpenConfirm')
            expect(fsm.negotiated).toBeDefined();
          else expect(fsm.negotiated).toBeUndefined();
          if (fsm.state === 'Active' || fsm.state === 'Connect')
            expect(fsm.runningTimers.has('hold')).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

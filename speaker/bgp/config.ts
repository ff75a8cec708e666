// From BGPPeer, BFDProfile, Community and Secret objects to the sessions this
// node runs: which peers select the node, each one's session options, its BFD
// settings and password. Pure. A peer whose configuration is wrong is left
// out with an error naming the object and the field, so one bad object never
// takes the other sessions down.
import type { V1Node, V1Secret } from '@kubernetes/client-node';
import { BFD_DEFAULTS } from '../../crds/bfdprofile.ts';
import type { BFDProfileSpec } from '../../crds/bfdprofile.ts';
import type { BGPPeerSpec } from '../../crds/bgppeer.ts';
import type { LabelSelector } from '../../crds/common.ts';
import { parseCommunity } from '../../crds/community.ts';
import type { CommunitySpec } from '../../crds/community.ts';
import { parseDuration } from '../../crds/net.ts';
import { matchesLabelSelector } from '../../operator/allocator/selector.ts';
import type { BfdPeerOptions } from './bfd/endpoint.ts';
import type { LargeCommunity } from './codec/index.ts';
import type { AddressFamily } from './codec/family.ts';
import type { BgpSessionOptions } from './session.ts';

export interface Named<S> {
  name: string;
  spec: S;
  labels?: Record<string, string>;
}

export interface ConfigError {
  kind: 'BGPPeer' | 'BGPAdvertisement' | 'BFDProfile' | 'Community';
  name: string;
  /** e.g. "spec.passwordSecret". */
  field: string;
  message: string;
}

export const formatConfigError = (e: ConfigError): string =>
  `${e.kind} "${e.name}": ${e.field}: ${e.message}`;

export type SessionSettings = Omit<
  BgpSessionOptions,
  'logger' | 'clock' | 'random' | 'connect' | 'onStateChange' | 'onUpdate'
>;

export interface PeerConfig {
  /** The BGPPeer's name. */
  name: string;
  session: SessionSettings;
  bfd?: Omit<BfdPeerOptions, 'peer' | 'localAddress' | 'onState'>;
}

export interface ConfigInput {
  node: V1Node;
  peers: readonly Named<BGPPeerSpec>[];
  bfdProfiles: readonly Named<BFDProfileSpec>[];
  /** Secrets of Portico's namespace, by name. */
  secrets: ReadonlyMap<string, V1Secret>;
  /** Sessions announce that this process restarted (RFC 4724 R bit). */
  restarting: boolean;
}

/** RFC 4724 restart time we advertise: how long peers keep our routes after we vanish. */
export const GRACEFUL_RESTART_TIME_SEC = 120;

export const selectsNode = (selectors: readonly LabelSelector[] | undefined, node: V1Node): boolean =>
  !selectors ||
  selectors.length === 0 ||
  selectors.some((s) => matchesLabelSelector(s, node.metadata?.labels));

/** The node's addresses of a family, InternalIP first. */
export function nodeAddress(node: V1Node, family: 4 | 6): string | undefined {
  const addrs = node.status?.addresses ?? [];
  const ofFamily = (type: string) =>
    addrs.find((a) => a.type === type && a.address.includes(':') === (family === 6))?.address;
  return ofFamily('InternalIP') ?? ofFamily('ExternalIP');
}

const seconds = (d: string | undefined): number | undefined => {
  if (d === undefined) return undefined;
  const ms = parseDuration(d);
  return ms === undefined ? undefined : Math.round(ms / 1000);
};

function password(
  name: string,
  spec: BGPPeerSpec,
  secrets: ReadonlyMap<string, V1Secret>,
): { password?: string; error?: ConfigError } {
  if (spec.password !== undefined) return { password: spec.password };
  const ref = spec.passwordSecret?.name;
  if (!ref) return {};
  const err = (message: string) => ({
    error: { kind: 'BGPPeer' as const, name, field: 'spec.passwordSecret', message },
  });
  const secret = secrets.get(ref);
  if (!secret) return err(`Secret "${ref}" not found in Portico's namespace`);
  const data = secret.data?.['password'];
  if (data === undefined) return err(`Secret "${ref}" has no "password" key`);
  const text = Buffer.from(data, 'base64').toString('utf8');
  if (text.length === 0 || Buffer.byteLength(text) > 80) return err(`password must be 1 to 80 bytes`);
  return { password: text };
}

function peerConfig(p: Named<BGPPeerSpec>, input: ConfigInput): { peer?: PeerConfig; errors: ConfigError[] } {
  const { name, spec } = p;
  const errors: ConfigError[] = [];
  const fail = (field: string, message: string) => errors.push({ kind: 'BGPPeer', name, field, message });
  if (spec.interface !== undefined)
    fail('spec.interface', 'unnumbered peering is not supported; set peerAddress');
  if (spec.vrf) fail('spec.vrf', 'peering from a VRF is not supported');
  const peerAddress = spec.peerAddress ?? '';
  const family: 4 | 6 = peerAddress.includes(':') ? 6 : 4;
  const routerId = spec.routerID ?? nodeAddress(input.node, 4);
  if (!routerId) fail('spec.routerID', 'unset, and the node has no IPv4 address to use');
  const pw = password(name, spec, input.secrets);
  if (pw.error) errors.push(pw.error);
  let bfd: PeerConfig['bfd'];
  if (spec.bfdProfile) {
    const profile = input.bfdProfiles.find((b) => b.name === spec.bfdProfile)?.spec;
    if (!profile) fail('spec.bfdProfile', `BFDProfile "${spec.bfdProfile}" not found`);
    else {
      bfd = {
        desiredMinTxMs: profile.transmitInterval ?? BFD_DEFAULTS.transmitInterval,
        requiredMinRxMs: profile.receiveInterval ?? BFD_DEFAULTS.receiveInterval,
        detectMultiplier: profile.detectMultiplier ?? BFD_DEFAULTS.detectMultiplier,
        passive: profile.passiveMode ?? BFD_DEFAULTS.passiveMode,
      };
    }
  }
  if (errors.length > 0 || !routerId) return { errors };
  // As MetalLB's FRR mode: the peer address's family, both with dualStackAddressFamily.
  const families: AddressFamily[] = spec.dualStackAddressFamily
    ? ['ipv4-unicast', 'ipv6-unicast']
    : [family === 6 ? 'ipv6-unicast' : 'ipv4-unicast'];
  const holdTimeSec = seconds(spec.holdTime);
  const keepaliveSec = seconds(spec.keepaliveTime);
  const connectRetrySec = seconds(spec.connectTime);
  const session: SessionSettings = {
    localAs: spec.localASN ?? spec.myASN,
    peerAs: spec.dynamicASN ?? spec.peerASN ?? 0,
    routerId,
    peerAddress,
    peerPort: spec.peerPort,
    families,
    ...(spec.sourceAddress ? { localAddress: spec.sourceAddress } : {}),
    ...(holdTimeSec !== undefined ? { holdTimeSec } : {}),
    ...(keepaliveSec !== undefined ? { keepaliveSec } : {}),
    ...(connectRetrySec !== undefined ? { connectRetrySec } : {}),
    // GTSM-style: a multihop peer is reached with the largest TTL.
    ...(spec.ebgpMultiHop ? { ttl: 255 } : {}),
    ...(pw.password ? { password: pw.password } : {}),
    ...(spec.enableGracefulRestart
      ? {
          gracefulRestart: {
            restartTimeSec: GRACEFUL_RESTART_TIME_SEC,
            restarting: input.restarting,
            // The data path lives in the kernel and outlives the speaker.
            forwardingPreserved: true,
          },
        }
      : {}),
  };
  return { peer: { name, session, ...(bfd ? { bfd } : {}) }, errors };
}

/** The sessions of `node`, sorted by peer name, and what is wrong with the rest. */
export function buildPeerConfigs(input: ConfigInput): { peers: PeerConfig[]; errors: ConfigError[] } {
  const peers: PeerConfig[] = [];
  const errors: ConfigError[] = [];
  const sorted = [...input.peers].sort((a, b) => a.name.localeCompare(b.name));
  const seen = new Map<string, string>();
  for (const p of sorted) {
    if (!selectsNode(p.spec.nodeSelectors, input.node)) continue;
    const r = peerConfig(p, input);
    errors.push(...r.errors);
    if (!r.peer) continue;
    // The listener finds sessions by the peer's address: one session per address.
    const other = seen.get(r.peer.session.peerAddress);
    if (other) {
      errors.push({
        kind: 'BGPPeer',
        name: p.name,
        field: 'spec.peerAddress',
        message: `BGPPeer "${other}" already peers with ${r.peer.session.peerAddress} from this node`,
      });
      continue;
    }
    seen.set(r.peer.session.peerAddress, p.name);
    peers.push(r.peer);
  }
  return { peers, errors };
}

export interface ResolvedCommunities {
  communities: number[];
  largeCommunities: LargeCommunity[];
}

/** Community values and alias names to wire values; unknown aliases are errors on `field`. */
export function resolveCommunities(
  values: readonly string[],
  aliases: readonly Named<CommunitySpec>[],
  owner: { kind: ConfigError['kind']; name: string; field: string },
): { resolved: ResolvedCommunities; errors: ConfigError[] } {
  const byAlias = new Map<string, string>();
  for (const c of aliases) for (const a of c.spec.communities ?? []) byAlias.set(a.name, a.value);
  const resolved: ResolvedCommunities = { communities: [], largeCommunities: [] };
  const errors: ConfigError[] = [];
  values.forEach((v, i) => {
    const parsed = parseCommunity(v) ?? parseCommunity(byAlias.get(v) ?? '');
    if (!parsed) {
      errors.push({
        kind: owner.kind,
        name: owner.name,
        field: `${owner.field}[${i}]`,
        message: `unknown Community alias "${v}"`,
      });
    } else if (parsed.kind === 'standard') {
      resolved.communities.push(parsed.value);
    } else {
      resolved.largeCommunities.push({
        globalAdmin: parsed.global,
        localData1: parsed.local1,
        localData2: parsed.local2,
      });
    }
  });
  return { resolved, errors };
}

// The node data path: the pure model (Services + EndpointSlices + Node ->
// desired state), the diff between two states, the nftables and IPVS
// backends, and the agent that runs them from the speaker's informers.
export { DEFAULT_AFFINITY_TIMEOUT_SECONDS, buildDesiredState, nodeInfoFromNode } from './model.ts';
export type { ModelInput, ModelResult, NodeInfo } from './model.ts';
export { applyBatch, diff, diffEndpoints, isEmptyBatch, touchedKeys } from './diff.ts';
export type { Batch, EndpointChanges, ServiceUpdate } from './diff.ts';
export { DEFAULT_SCHEDULER, IPVS_SCHEDULERS, SCHEDULER_ANNOTATION, schedulerFor } from './scheduler.ts';
export {
  EMPTY_STATE,
  PROTOCOLS,
  activeEndpoints,
  endpointKey,
  isExternalKind,
  virtualServiceKey,
} from './types.ts';
export type {
  Affinity,
  DesiredState,
  Endpoint,
  IPFamily,
  NoEndpointsAction,
  Protocol,
  VirtualService,
  VirtualServiceKind,
} from './types.ts';
export { NftablesBackend } from './nftables/backend.ts';
export type { NftablesBackendOptions, SyncOptions, SyncResult } from './nftables/backend.ts';
export { NftError, NftExecutor, spawnCommand } from './nftables/executor.ts';
export type { CommandResult, CommandRunner, NftExecutorOptions, NftRunner } from './nftables/executor.ts';
export { DEFAULT_NFT_OPTIONS } from './nftables/plan.ts';
export type { NftOptions } from './nftables/plan.ts';
export type { RenderStats } from './nftables/render.ts';
export { startDataplane } from './agent.ts';
export type { DataplaneOptions } from './agent.ts';
export { DEFAULT_IPVS_DEVICE, IpvsBackend } from './ipvs/backend.ts';
export type { IpvsBackendOptions, IpvsSyncResult } from './ipvs/backend.ts';
export { IpvsExecutor } from './ipvs/executor.ts';
export { KubeProxyFoundError, findKubeProxy, kubeProxyTraces } from './kube-proxy.ts';
export { SYSCTLS, applySysctls } from './sysctl.ts';
export type { DataplaneMode } from './sysctl.ts';

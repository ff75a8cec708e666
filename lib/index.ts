// The controller runtime shared by the operator and the speaker.
export { backoffDelay, withJitter } from './backoff.ts';
export type { BackoffOptions } from './backoff.ts';
export { ManualClock, sleep, systemClock } from './clock.ts';
export type { Clock, TimerHandle } from './clock.ts';
export { findCondition, formatTime, isConditionTrue, removeCondition, setCondition } from './conditions.ts';
export type { Condition, ConditionStatus, ConditionUpdate } from './conditions.ts';
export { enqueueHandlers } from './enqueue.ts';
export type { KeyQueue } from './enqueue.ts';
export {
  describeError,
  errorStatus,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  statusCode,
  statusReason,
} from './errors.ts';
export type { KubeStatus } from './errors.ts';
export { jsonEqual } from './json-equal.ts';
export { HealthServer } from './health-server.ts';
export type { HealthServerOptions, ReadinessCheck } from './health-server.ts';
export { DEFAULT_WATCHDOG_MS, Informer } from './informer.ts';
export type {
  InformerHandlers,
  InformerOptions,
  InformerStats,
  Lister,
  ListResult,
  WatchEvent,
  WatchEventType,
  WatchHandle,
  Watcher,
} from './informer.ts';
export { loadKubeConfig, loadKubeConfigWithSource } from './kubeconfig.ts';
export type { KubeConfigSource, LoadKubeConfigOptions, LoadedKubeConfig } from './kubeconfig.ts';
export { LeaderElector } from './leader-election.ts';
export type { LeaderElectionOptions } from './leader-election.ts';
export { decideLease, formatMicroTime, nextTransitions, observeLease } from './lease-decision.ts';
export type { LeaseDecision, LeaseObservation, LeaseRecord } from './lease-decision.ts';
export { apiLister, apiWatcher, createResourceInformer } from './list-watch.ts';
export type { ApiWatcherOptions, ListWatchOptions, ResourceInformerOptions } from './list-watch.ts';
export { childLogger, createLogger, logLevelFromEnv, rootLogger } from './logger.ts';
export type { Logger } from './logger.ts';
export { createRegistry, getOrCreateCounter, getOrCreateGauge, getOrCreateHistogram } from './metrics.ts';
export { ObjectCache, keyOf } from './object-cache.ts';
export type { CacheDelta, KubeObject } from './object-cache.ts';
export { JSON_PATCH, MERGE_PATCH, RawKubeClient } from './raw-client.ts';
export type { QueryParams } from './raw-client.ts';
export { collectionPath, objectKey, objectPath, parseObjectKey } from './resource-path.ts';
export type { ResourceRef, ResourceType } from './resource-path.ts';
export { onShutdownSignal, runShutdown } from './shutdown.ts';
export type { ShutdownOptions, ShutdownStep } from './shutdown.ts';
export { updateStatus } from './status.ts';
export type { StatusClient, StatusObject, UpdateStatusOptions, UpdateStatusResult } from './status.ts';
export { WorkQueue } from './workqueue.ts';
export type { ReconcileResult, Reconciler, WorkQueueOptions } from './workqueue.ts';
export { EventRecorder } from './events.ts';
export type { EventRecorderOptions, EventType, InvolvedObject } from './events.ts';

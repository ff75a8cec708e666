// Public API of the pure allocator core: addresses and ports in, assignments
// and typed failures out. No I/O and no Kubernetes client here.

export { err, fieldError, formatFieldError, ok, quote } from './errors.ts';
export type { FieldError, Result } from './errors.ts';

export {
  canonicalIP,
  compareIP,
  familyBits,
  formatCIDR,
  formatIP,
  formatIPValue,
  IP_FAMILIES,
  isIPFamily,
  maxAddress,
  otherFamily,
  parseCIDR,
  parseIP,
  rangeAsCIDR,
} from './ip.ts';
export type { CIDR, CIDRParseError, IPAddress, IPFamily, IPParseError } from './ip.ts';

export { IntervalSet, lowestFree } from './intervals.ts';
export type { Interval, LowestFreeOptions } from './intervals.ts';

export {
  labelKeyProblem,
  labelSelectorString,
  labelsString,
  labelValueProblem,
  matchesLabelSelector,
  SELECTOR_OPERATORS,
  validateLabelSelector,
} from './selector.ts';
export type { LabelSelector, LabelSelectorRequirement, Labels, SelectorOperator } from './selector.ts';

export { admits, candidatePools, parseServiceAllocation, splitServiceKey } from './service-allocation.ts';
export type {
  SelectablePool,
  ServiceAllocation,
  ServiceAllocationSpec,
  ServiceSubject,
} from './service-allocation.ts';

export {
  buggyCount,
  checkWithinServiceCIDRs,
  formatEntry,
  isBuggyIPv4,
  parseAddressEntry,
  parsePool,
  poolContains,
  POOL_USAGES,
  usableCount,
  validatePools,
} from './pool.ts';
export type {
  IPAddressPoolSpec,
  ParsePoolOptions,
  Pool,
  PoolConflict,
  PoolEntry,
  PoolEntryKind,
  PoolSetValidation,
  PoolUsage,
} from './pool.ts';

export { backendKey, checkSharing, portString, PROTOCOLS } from './sharing.ts';
export type {
  ExternalTrafficPolicy,
  Protocol,
  ServicePort,
  SharingConflict,
  SharingConflictKind,
  SharingParty,
} from './sharing.ts';

export { DEFAULT_STICKY_HOLD_MS, parseReservation, ReservationBook } from './sticky.ts';
export type { Reservation } from './sticky.ts';

export { IP_FAMILY_POLICIES, IPAllocator, requestedIPsFrom } from './assign.ts';
export type {
  AssignFailure,
  AssignFailureReason,
  AssignRequest,
  AssignResult,
  AssignSource,
  AssignSuccess,
  Assignment,
  Eviction,
  IPAllocatorOptions,
  IPFamilyPolicy,
  Release,
  RestoreInfo,
} from './assign.ts';

export {
  DEFAULT_NODE_PORT_RANGE,
  formatPortRange,
  NodePortAllocator,
  parseNodePortPool,
  parsePortRange,
  validateNodePortPools,
} from './ports.ts';
export type {
  AssignedNodePort,
  NodePortAllocatorOptions,
  NodePortAssignment,
  NodePortFailure,
  NodePortFailureReason,
  NodePortPool,
  NodePortPoolSpec,
  NodePortRequest,
  NodePortRequestPort,
  NodePortResult,
  NodePortSuccess,
  ParseNodePortPoolOptions,
  PortPoolEntry,
  PortRange,
} from './ports.ts';

export {
  clampCount,
  familyCounts,
  formatCount,
  isClamped,
  isExhausted,
  renderStatusCounts,
} from './counts.ts';
export type { FamilyCounts, PoolCounts, PoolStatusCounts, PortPoolCounts } from './counts.ts';

// The generator: valid YAML, structural schemas, deterministic output, and a
// check mode that notices stale files.
import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { ALL_CRDS, ALL_KINDS, GROUP, VERSION, withCel } from '../../../crds/index.ts';
import {
  DEFAULT_OUT_DIR,
  HEADER,
  crdFileName,
  findStale,
  generateAll,
  renderCrd,
  writeAll,
} from '../../../crds/generate.ts';
import { SchemaConversionError, toStructuralSchema } from '../../../crds/openapi.ts';

type Json = Record<string, unknown>;
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Visits every schema node of an openAPIV3Schema. */
function walk(node: Json, path: string, visit: (n: Json, path: string) => void): void {
  visit(node, path);
  const props = node.properties as Record<string, Json> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) walk(v, `${path}.${k}`, visit);
  if (node.items) walk(node.items as Json, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object')
    walk(node.additionalProperties as Json, `${path}{}`, visit);
}

function crdOf(kind: string): Json {
  const def = ALL_KINDS.find((k) => k.kind === kind);
  if (!def) throw new Error(kind);
  return parse(renderCrd(def)) as Json;
}

function versionOf(crd: Json): Json {
  return ((crd.spec as Json).versions as Json[])[0] as Json;
}

function rootSchema(crd: Json): Json {
  return ((versionOf(crd).schema as Json).openAPIV3Schema as Json) ?? {};
}

describe('generated CRDs', () => {
  const files = generateAll();

  it('writes one file per kind, named <group>_<plural>.yaml', () => {
    expect([...files.keys()].sort()).toEqual(ALL_KINDS.map((k) => `portico.io_${k.plural}.yaml`).sort());
    expect(files.size).toBe(ALL_KINDS.length);
  });

  it.each([...files.entries()])('%s is one YAML document with the generated header', (_name, text) => {
    expect(text.startsWith(HEADER)).toBe(true);
    const docs = parseAllDocuments(text);
    expect(docs).toHaveLength(1);
    expect(docs[0]?.errors).toEqual([]);
    const crd = docs[0]?.toJS() as Json;
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(crd.kind).toBe('CustomResourceDefinition');
  });

  it.each(ALL_KINDS.map((k) => [k.kind, k] as const))(
    '%s has names, scope, one served storage version, status subresource',
    (_k, def) => {
      const crd = crdOf(def.kind);
      expect((crd.metadata as Json).name).toBe(`${def.plural}.${GROUP}`);
      const spec = crd.spec as Json;
      expect(spec.group).toBe(GROUP);
      expect(spec.scope).toBe('Namespaced');
      expect(spec.names).toMatchObject({ kind: def.kind, listKind: `${def.kind}List`, plural: def.plural });
      const v = versionOf(crd);
      expect(v).toMatchObject({ name: VERSION, served: true, storage: true, subresources: { status: {} } });
      const cols = v.additionalPrinterColumns as Json[];
      expect(cols[cols.length - 1]).toEqual({
        name: 'Age',
        type: 'date',
        jsonPath: '.metadata.creationTimestamp',
      });
      const root = rootSchema(crd);
      expect(root.type).toBe('object');
      expect(Object.keys(root.properties as Json)).toEqual([
        'apiVersion',
        'kind',
        'metadata',
        'spec',
        'status',
      ]);
    },
  );

  it('produces structural schemas: a type everywhere, no JSON-Schema-only keywords', () => {
    const forbidden = [
      '$ref',
      '$schema',
      '$defs',
      'anyOf',
      'oneOf',
      'allOf',
      'not',
      'const',
      'propertyNames',
    ];
    for (const def of ALL_KINDS) {
      walk(rootSchema(crdOf(def.kind)), def.kind, (n, path) => {
        for (const k of forbidden) expect([path, k, k in n]).toEqual([path, k, false]);
        if (n['x-kubernetes-int-or-string'] !== true) expect([path, typeof n.type]).toEqual([path, 'string']);
        if (n.additionalProperties !== undefined)
          expect([path, typeof n.additionalProperties]).toEqual([path, 'object']);
        if (n.type === 'integer') {
          expect(Math.abs((n.maximum as number | undefined) ?? 0)).not.toBe(Number.MAX_SAFE_INTEGER);
          expect(Math.abs((n.minimum as number | undefined) ?? 0)).not.toBe(Number.MAX_SAFE_INTEGER);
        }
      });
    }
  });

  it('puts the IPAddressPool defaults, enum, list types and CEL rule in the schema', () => {
    const crd = crdOf('IPAddressPool');
    const spec = (rootSchema(crd).properties as Json).spec as Json;
    const p = spec.properties as Record<string, Json>;
    expect(spec.required).toEqual(['addresses']);
    expect(p.autoAssign).toMatchObject({ type: 'boolean', default: true });
    expect(p.avoidBuggyIPs).toMatchObject({ type: 'boolean', default: false });
    expect(p.usage).toMatchObject({
      type: 'string',
      default: 'LoadBalancer',
      enum: ['LoadBalancer', 'ClusterIP'],
    });
    expect(p.addresses).toMatchObject({ type: 'array', minItems: 1, 'x-kubernetes-list-type': 'atomic' });
    const item = p.addresses?.items as Json;
    expect(item.maxLength).toBe(128);
    const rules = item['x-kubernetes-validations'] as { rule: string }[];
    expect(rules).toHaveLength(1);
    expect(rules[0]?.rule).toContain('isCIDR(self)');
    expect(rules[0]?.rule).toContain('.family()');
    const alloc = p.serviceAllocation?.properties as Record<string, Json>;
    expect(alloc.namespaces?.['x-kubernetes-list-type']).toBe('set');
    expect(alloc.priority).toEqual(expect.objectContaining({ type: 'integer' }));
    const sel = (alloc.serviceSelectors?.items as Json) ?? {};
    expect(sel['x-kubernetes-map-type']).toBe('atomic');
    const status = ((rootSchema(crd).properties as Json).status as Json).properties as Record<string, Json>;
    expect(status.conditions).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    });
    expect(Object.keys(status.ipv6?.properties as Json).sort()).toEqual([
      'assigned',
      'available',
      'availableExact',
      'reserved',
      'total',
      'totalExact',
    ]);
  });

  it('has the IPAddressPool printer columns', () => {
    const cols = versionOf(crdOf('IPAddressPool')).additionalPrinterColumns as Json[];
    expect(cols.filter((c) => c.priority === undefined).map((c) => c.name)).toEqual([
      'IPv4 Assigned',
      'IPv4 Available',
      'IPv6 Assigned',
      'IPv6 Available',
      'Ready',
      'Age',
    ]);
    expect(cols.find((c) => c.name === 'Ready')?.jsonPath).toBe(
      '.status.conditions[?(@.type=="Ready")].status',
    );
  });

  it('defaults a missing spec to {} for kinds whose spec is optional', () => {
    const spec = (rootSchema(crdOf('BGPAdvertisement')).properties as Json).spec as Json;
    expect(spec.default).toEqual({});
    expect(rootSchema(crdOf('BGPAdvertisement')).required).toBeUndefined();
    expect(rootSchema(crdOf('BGPPeer')).required).toEqual(['spec']);
  });

  it('writes int-or-string for the health-check port, with a CEL rule', () => {
    const spec = (rootSchema(crdOf('ServiceBackends')).properties as Json).spec as Json;
    const port = (((spec.properties as Json).healthCheck as Json).properties as Json).port as Json;
    expect(port['x-kubernetes-int-or-string']).toBe(true);
    expect(port.type).toBeUndefined();
    expect((port['x-kubernetes-validations'] as Json[])[0]?.rule).toContain('type(self) == int');
  });

  it('gives every CEL rule a message, and fieldPaths that name real properties', () => {
    for (const def of ALL_KINDS) {
      walk(rootSchema(crdOf(def.kind)), def.kind, (n, path) => {
        for (const r of (n['x-kubernetes-validations'] as Json[] | undefined) ?? []) {
          expect([path, typeof r.rule, typeof r.message]).toEqual([path, 'string', 'string']);
          if (r.fieldPath !== undefined) {
            const field = String(r.fieldPath).replace(/^\./, '');
            expect([path, field in ((n.properties as Json) ?? {})]).toEqual([path, true]);
          }
        }
      });
    }
  });

  it('bounds every string and list a CEL rule reads, so the apiserver can estimate the cost', () => {
    for (const def of ALL_KINDS) {
      walk(rootSchema(crdOf(def.kind)), def.kind, (n, path) => {
        if (!n['x-kubernetes-validations'] || n['x-kubernetes-int-or-string']) return;
        if (n.type === 'string') expect([path, typeof n.maxLength]).toEqual([path, 'number']);
        if (n.type === 'array') expect([path, typeof n.maxItems]).toEqual([path, 'number']);
      });
    }
  });

  it('is deterministic', () => {
    const again = generateAll();
    expect([...again.entries()]).toEqual([...files.entries()]);
  });

  it('matches the files committed in crds/generated', () => {
    expect(findStale(DEFAULT_OUT_DIR)).toEqual([]);
  });

  it('lists every CRD for the operator', () => {
    expect(ALL_CRDS).toContainEqual({
      name: 'ipaddresspools.portico.io',
      group: 'portico.io',
      version: 'v1alpha1',
      plural: 'ipaddresspools',
      kind: 'IPAddressPool',
    });
    expect(ALL_CRDS.map((c) => c.kind).sort()).toEqual(
      [
        'BFDProfile',
        'BGPAdvertisement',
        'BGPPeer',
        'Community',
        'IPAddressPool',
        'IPReservation',
        'L2Advertisement',
        'NodePortPool',
        'ServiceBackends',
        'ServiceL2Status',
        'BGPSessionStatus',
        'ServiceBGPStatus',
      ].sort(),
    );
  });
});

describe('schema conversion', () => {
  it('never writes an empty properties object, which the apiserver drops (and helm then conflicts on)', () => {
    const empties: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}[${i}]`));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'properties' && v && typeof v === 'object' && Object.keys(v).length === 0)
            empties.push(path);
          walk(v, `${path}.${k}`);
        }
      }
    };
    for (const [name, text] of generateAll()) walk(parse(text), name);
    expect(toStructuralSchema(z.object({ spec: z.object({}) }))).toEqual({
      type: 'object',
      required: ['spec'],
      properties: { spec: { type: 'object' } },
    });
    expect(empties).toEqual([]);
  });

  it('keeps CEL rules from withCel and refuses unions it cannot express', () => {
    const s = withCel(z.object({ a: z.string().max(3) }), [
      { rule: "self.a != 'x'", message: 'no x', check: (v) => v.a !== 'x' },
    ]);
    expect(toStructuralSchema(s)['x-kubernetes-validations']).toEqual([
      { message: 'no x', rule: "self.a != 'x'" },
    ]);
    expect(s.safeParse({ a: 'x' }).error?.issues[0]?.message).toBe('no x');
    expect(() => toStructuralSchema(z.object({ u: z.union([z.string(), z.boolean()]) }))).toThrow(
      SchemaConversionError,
    );
    expect(() => toStructuralSchema(z.object({ o: z.looseObject({}) }))).toThrow(/open objects/);
  });

  it('turns literals into enums', () => {
    expect(toStructuralSchema(z.object({ k: z.literal('x') })).properties).toEqual({
      k: { enum: ['x'], type: 'string' },
    });
  });
});

describe('check mode', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-crds-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds missing, outdated and unexpected files', () => {
    expect(findStale(dir).map((s) => s.reason)).toEqual(Array(ALL_KINDS.length).fill('missing'));
    writeAll(dir);
    expect(findStale(dir)).toEqual([]);
    const target = join(dir, crdFileName(ALL_KINDS[0]!));
    writeFileSync(target, readFileSync(target, 'utf8').replace('default: true', 'default: false'));
    writeFileSync(join(dir, 'portico.io_olds.yaml'), 'kind: Old\n');
    expect(findStale(dir)).toEqual([
      { file: target, reason: 'outdated' },
      { file: join(dir, 'portico.io_olds.yaml'), reason: 'unexpected' },
    ]);
    writeAll(dir);
    expect(findStale(dir)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual([...generateAll().keys()].sort());
  });

  it('exits 1 from the command line, naming the stale file', () => {
    const target = join(dir, 'portico.io_bgppeers.yaml');
    writeFileSync(target, 'stale\n');
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'crds/generate.ts', ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      });
    const stale = run(['--check', '--dir', dir]);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('portico.io_bgppeers.yaml');
    expect(stale.stderr).toContain('npm run gen:crds');
    expect(run(['--dir', dir]).status).toBe(0);
    const ok = run(['--check', '--dir', dir]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('up to date');
  });
});

// The CRD reference generator: every field and every CEL rule of every kind
// reaches docs/reference/crds.md, tables stay well-formed, and --check
// notices a stale file.
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_KINDS } from '../../../crds/index.ts';
import type { KindDefinition } from '../../../crds/index.ts';
import { buildCrd, toStructuralSchema } from '../../../crds/openapi.ts';
import type { JsonSchema } from '../../../crds/openapi.ts';
import { DEFAULT_OUT_FILE, HEADER, SHARED_TYPES, main, renderReference } from '../../../crds/reference.ts';

const text = renderReference();

/** Independent of the generator: which shared type an object node has the shape of. */
const sharedShapes = new Map(
  SHARED_TYPES.map((t) => {
    const { description: _d, ...shape } = toStructuralSchema(t.schema);
    return [JSON.stringify(shape), t.name];
  }),
);
function sharedName(n: JsonSchema): string | undefined {
  const { description: _d, ...shape } = n;
  return n.type === 'object' ? sharedShapes.get(JSON.stringify(shape)) : undefined;
}

interface Field {
  /** Path as the tables show it: absolute in a kind, relative in a shared type. */
  path: string;
  /** The shared type section holding it, or undefined for the kind's own tables. */
  shared?: string;
}

/** Every property below `node`, and every CEL message on the way. */
function walk(node: JsonSchema, path: string, fields: Field[], messages: string[], shared?: string): void {
  for (const r of (node['x-kubernetes-validations'] as { message: string }[] | undefined) ?? []) {
    messages.push(r.message);
  }
  const props = (node.properties ?? {}) as Record<string, JsonSchema>;
  for (const [name, child] of Object.entries(props)) {
    const p = path === '' ? name : `${path}.${name}`;
    fields.push({ path: p, ...(shared ? { shared } : {}) });
    for (const [n, np] of [
      [child, p],
      [child.items as JsonSchema | undefined, `${p}[]`],
    ] as const) {
      if (!n) continue;
      const s = sharedName(n);
      if (s) walk(n, '', fields, messages, s);
      else walk(n, np, fields, messages, shared);
    }
  }
}

function rootOf(def: KindDefinition): JsonSchema {
  const v = ((buildCrd(def).spec as JsonSchema).versions as JsonSchema[])[0] as JsonSchema;
  return (v.schema as JsonSchema).openAPIV3Schema as JsonSchema;
}

/** The text of one `## ` section. */
function section(title: string): string {
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`no section ${title}`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** Splits a table row on unescaped pipes. */
const cells = (row: string) => row.split(/(?<!\\)\|/).slice(1, -1);

describe('CRD reference', () => {
  it('starts with the generated header and lists every kind', () => {
    expect(text.startsWith(HEADER)).toBe(true);
    for (const def of ALL_KINDS) expect(text).toContain(`- [${def.kind}](#${def.kind.toLowerCase()})`);
  });

  it.each(ALL_KINDS.map((k) => [k.kind, k] as const))(
    '%s: group/version, scope, and a row for every field',
    (_kind, def) => {
      const own = section(def.kind);
      expect(own).toContain(`\`${def.group}/${def.version}\``);
      expect(own).toContain(`**Scope:** ${def.scope}`);
      const fields: Field[] = [];
      const messages: string[] = [];
      const props = rootOf(def).properties as Record<string, JsonSchema>;
      for (const part of ['spec', 'status']) walk(props[part] as JsonSchema, part, fields, messages);
      const missing = fields.filter((f) => {
        const where = f.shared ? section('Shared types').split(`\n### ${f.shared}\n`)[1] : own;
        return !where?.includes(`\n| \`${f.path}\` |`);
      });
      expect(missing).toEqual([]);
      for (const m of messages) expect(text).toContain(m);
    },
  );

  it('shows a CEL rule with its message and where it is reported', () => {
    const peer = section('BGPPeer');
    expect(peer).toContain('exactly one of peerASN and dynamicASN must be set');
    expect(peer).toContain('`(has(self.peerASN) && self.peerASN != 0) != has(self.dynamicASN)`');
    expect(peer).toContain('(reported at `spec.ebgpMultiHop`): ebgpMultiHop cannot be set for an iBGP peer');
  });

  it('shows types, defaults, enums and bounds', () => {
    const row = (kind: string, path: string) =>
      cells(
        section(kind)
          .split('\n')
          .find((l) => l.startsWith(`| \`${path}\` |`)) ?? '',
      ).map((c) => c.trim());
    expect(row('IPAddressPool', 'spec.usage')).toEqual([
      '`spec.usage`',
      'string',
      '',
      '`"LoadBalancer"`',
      expect.stringContaining('What the addresses are for'),
      'one of `LoadBalancer`, `ClusterIP`',
    ]);
    expect(row('IPAddressPool', 'spec.addresses')[2]).toBe('yes');
    expect(row('BGPPeer', 'spec.peerPort').slice(3)).toEqual(['`179`', 'TCP port to connect to.', '1–65535']);
    expect(row('ServiceBackends', 'spec.healthCheck.port')[1]).toBe('int-or-string');
    expect(row('IPAddressPool', 'status.conditions')[1]).toBe('[][Condition](#condition)');
  });

  it('keeps every table row at six cells (pipes in patterns are escaped)', () => {
    const rows = text.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows.length).toBeGreaterThan(100);
    for (const r of rows) expect([r, cells(r).length]).toEqual([r, 6]);
  });

  it('is deterministic and matches docs/reference/crds.md', () => {
    expect(renderReference()).toBe(text);
    expect(readFileSync(DEFAULT_OUT_FILE, 'utf8')).toBe(text);
  });

  describe('command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-reference-'));
    const file = join(dir, 'nested', 'crds.md');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const quiet = () => {
      jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
      return jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    };

    it('writes the file, then --check passes', () => {
      quiet();
      expect(main(['--check', '--out', file])).toBe(1);
      expect(main(['--out', file])).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(text);
      expect(main(['--check', '--out', file])).toBe(0);
      jest.restoreAllMocks();
    });

    it('--check exits 1 on a stale file and says how to fix it', () => {
      const stderr = quiet();
      writeFileSync(file, text.replace('| `spec.usage` |', '| `spec.use` |'));
      expect(main(['--check', '--out', file])).toBe(1);
      expect(String(stderr.mock.calls.map((c) => c[0]).join(''))).toContain('npm run gen:docs');
      expect(main(['--bogus'])).toBe(2);
      jest.restoreAllMocks();
    });
  });
});

// docs/metrics.md must list every portico_* metric the operator, the speaker
// and the shared runtime register, and nothing they no longer register, so
// the reference cannot rot as metrics are added or renamed.
import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SOURCE_DIRS = ['operator', 'speaker', 'lib'];

/** A file that creates prom-client metrics, directly or through lib/metrics.ts. */
const REGISTERS =
  /\b(getOrCreate(Counter|Gauge|Histogram|Summary)|new\s+(Counter|Gauge|Histogram|Summary))\s*[(<]/;
/** A metric name as a whole string literal. */
const NAME_LITERAL = /(['"`])(portico_[a-z0-9_]+)\1/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Metric name -> files registering it. */
function registeredMetrics(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of SOURCE_DIRS.flatMap((d) => sourceFiles(join(root, d)))) {
    const text = readFileSync(file, 'utf8');
    if (!REGISTERS.test(text)) continue;
    for (const m of text.matchAll(NAME_LITERAL)) {
      const name = m[2] as string;
      found.set(name, [...(found.get(name) ?? []), relative(root, file)]);
    }
  }
  return found;
}

const doc = readFileSync(join(root, 'docs', 'metrics.md'), 'utf8');
/** Names in the first cell of a table row: the metrics the page documents. */
const documented = new Set([...doc.matchAll(/^\| `(portico_[a-z0-9_]+)` \|/gm)].map((m) => m[1] as string));

describe('docs/metrics.md', () => {
  const registered = registeredMetrics();

  it('finds the metrics in the sources (the scan itself works)', () => {
    expect(registered.size).toBeGreaterThan(40);
    expect(registered.get('portico_operator_leader')).toEqual(['operator/main.ts']);
  });

  it('documents every registered portico_* metric', () => {
    const missing = [...registered.keys()].filter((n) => !documented.has(n)).sort();
    // Named with the files, so the failure says where to look.
    expect(missing.map((n) => `${n} (${registered.get(n)?.join(', ')})`)).toEqual([]);
  });

  it('documents no metric that is not registered any more', () => {
    expect([...documented].filter((n) => !registered.has(n)).sort()).toEqual([]);
  });

  it('documents each metric once', () => {
    const rows = [...doc.matchAll(/^\| `(portico_[a-z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.length).toBe(documented.size);
  });

  it('finds no metric name built from a template, which the scan could not see', () => {
    const built = SOURCE_DIRS.flatMap((d) => sourceFiles(join(root, d))).filter((f) => {
      const text = readFileSync(f, 'utf8');
      return REGISTERS.test(text) && /`portico_[^`]*\$\{/.test(text);
    });
    expect(built.map((f) => relative(root, f))).toEqual([]);
  });
});

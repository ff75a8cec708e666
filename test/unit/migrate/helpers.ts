// Shared by the migrate-metallb unit tests: YAML in, converter result out.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { convertMetalLB } from '../../../migrate/metallb/convert.ts';
import type { ConvertOptions, ConvertResult } from '../../../migrate/metallb/convert.ts';
import type { Issue, OutputObject } from '../../../migrate/metallb/report.ts';

export const UPSTREAM = readFileSync(
  new URL('../../fixtures/metallb-upstream.yaml', import.meta.url),
  'utf8',
);

export function docs(yamlText: string): unknown[] {
  return parseAllDocuments(yamlText).map((d) => d.toJS() as unknown);
}

export function convertYaml(yamlText: string, options?: ConvertOptions): ConvertResult {
  return convertMetalLB(docs(yamlText), options);
}

export function find(r: ConvertResult, kind: string, name: string): OutputObject | undefined {
  return r.converted.find((c) => c.object.kind === kind && c.object.metadata.name === name)?.object;
}

/** `severity object field: message` lines, for readable assertions. */
export function issueLines(issues: readonly Issue[]): string[] {
  return issues.map((i) => `${i.severity} ${i.object}${i.field ? ` ${i.field}` : ''}: ${i.message}`);
}

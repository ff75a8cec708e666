// The command's output: the converted objects as multi-document YAML. Pure.
import { stringify } from 'yaml';
import type { ConvertResult } from './metallb/convert.ts';

export function renderOutput(result: ConvertResult): string {
  const header = `# portico.io objects converted from MetalLB by migrate-metallb (namespace ${result.namespace}).\n`;
  return header + result.converted.map((c) => `---\n${stringify(c.object)}`).join('');
}

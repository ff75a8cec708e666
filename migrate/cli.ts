// The flags of `migrate-metallb`, parsed into a plain object. Pure, so bad
// usage is reported (exit 2) before anything is read.
import { parseArgs } from 'node:util';
import { DEFAULT_NAMESPACE } from './metallb/convert.ts';

export const USAGE = `usage: portico migrate-metallb (--from-file FILE [--from-file FILE ...] | --kubeconfig PATH)
                               [--namespace NS] [--out FILE]
  --from-file FILE   MetalLB objects, its legacy ConfigMap and Services, as YAML or JSON
                     (several documents per file, or kind: List); repeat for more files
  --kubeconfig PATH  read them from the cluster instead (metallb.io objects, the legacy
                     ConfigMap, and every LoadBalancer Service)
  --namespace NS     Portico's namespace, where the output objects go (default ${DEFAULT_NAMESPACE})
  --out FILE         write the portico.io objects there instead of stdout
The report goes to stderr. Exit 0: everything mapped; 3: something could not be
mapped (the output holds the rest); 2: bad usage or an unreadable --from-file;
1: the cluster could not be read.`;

export interface CliOptions {
  files: string[];
  kubeconfig?: string;
  namespace: string;
  out?: string;
  help: boolean;
}

export class UsageError extends Error {}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function parseCli(argv: readonly string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'from-file': { type: 'string', multiple: true },
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', default: DEFAULT_NAMESPACE },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return { files: [], namespace: values.namespace, help: true };
  const files = values['from-file'] ?? [];
  if (files.length === 0 && values.kubeconfig === undefined) {
    throw new UsageError('give --from-file or --kubeconfig');
  }
  if (files.length > 0 && values.kubeconfig !== undefined) {
    throw new UsageError('--from-file and --kubeconfig are exclusive');
  }
  if (values.namespace.length > 63 || !DNS_LABEL.test(values.namespace)) {
    throw new UsageError(`--namespace: ${JSON.stringify(values.namespace)} is not a namespace name`);
  }
  if (values.out === '') throw new UsageError('--out: empty file name');
  return {
    files,
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    namespace: values.namespace,
    ...(values.out !== undefined ? { out: values.out } : {}),
    help: false,
  };
}

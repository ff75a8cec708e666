// `portico migrate-metallb` (cli/portico.ts; also `npm run migrate-metallb`,
// which runs this file directly): reads MetalLB's configuration and Services
// (from files or a cluster), converts them (migrate/metallb/convert.ts) and
// writes the portico.io objects as multi-document YAML to stdout or --out, with
// the report on stderr. Exit codes: see USAGE.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describeError } from '../lib/errors.ts';
import { loadKubeConfig } from '../lib/kubeconfig.ts';
import { RawKubeClient } from '../lib/raw-client.ts';
import { USAGE, UsageError, parseCli } from './cli.ts';
import type { CliOptions } from './cli.ts';
import { readCluster } from './cluster.ts';
import { convertMetalLB } from './metallb/convert.ts';
import { formatReport } from './metallb/report.ts';
import { renderOutput } from './render.ts';

const EXIT = { ok: 0, failed: 1, usage: 2, unmapped: 3 } as const;

class InputError extends Error {}

function readFiles(files: readonly string[]): unknown[] {
  return files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InputError(`--from-file ${file}: ${(err as Error).message}`);
    }
    const docs = parseAllDocuments(text);
    const list = Array.isArray(docs) ? docs : [docs];
    for (const d of list) {
      const e = d.errors[0];
      if (e) throw new InputError(`--from-file ${file}: ${e.message}`);
    }
    return list.map((d) => d.toJS() as unknown);
  });
}

async function run(opts: CliOptions): Promise<number> {
  let docs: unknown[];
  const readNotes: string[] = [];
  if (opts.kubeconfig !== undefined) {
    const kc = loadKubeConfig({ path: opts.kubeconfig });
    const read = await readCluster(RawKubeClient.fromKubeConfig(kc));
    docs = read.docs;
    readNotes.push(...read.notes);
  } else {
    docs = readFiles(opts.files);
  }
  const result = convertMetalLB(docs, { namespace: opts.namespace });
  const yaml = renderOutput(result);
  if (opts.out !== undefined) writeFileSync(opts.out, yaml);
  else process.stdout.write(yaml);
  process.stderr.write(formatReport({ ...result, notes: [...readNotes, ...result.notes] }));
  return result.complete ? EXIT.ok : EXIT.unmapped;
}

/** Runs the command with its own arguments (no subcommand name) and returns the exit code. */
export async function runMigrateMetallb(argv: readonly string[]): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseCli(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`migrate-metallb: ${err.message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  try {
    return await run(opts);
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`migrate-metallb: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`migrate-metallb: ${describeError(err)}\n`);
    return EXIT.failed;
  }
}

if (import.meta.main) process.exitCode = await runMigrateMetallb(process.argv.slice(2));

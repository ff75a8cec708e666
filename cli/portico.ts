// `portico`: the one command-line entry point (bin/portico runs it under the
// pinned Node). It dispatches to a subcommand; each is loaded only when chosen,
// so `portico help` and `portico version` load no Kubernetes client.
//
// operator/main.ts and speaker/main.ts parse process.argv.slice(2) and start
// when imported, and own the process from then on (they call process.exit);
// so for them process.argv is rewritten to look as if that file had been run
// directly, and the module is imported.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const COMMANDS = [
  ['migrate-metallb', 'convert MetalLB objects and Services into portico.io objects'],
  ['operator', 'run the operator (the Deployment): allocation, webhooks, status'],
  ['speaker', 'run the speaker (the DaemonSet): data path, L2 and BGP announcement'],
  ['version', 'print the Portico version'],
  ['help', 'print this help, or a command\'s flags with "help COMMAND"'],
] as const;

export const USAGE = `usage: portico COMMAND [ARGS...]
commands:
${COMMANDS.map(([name, what]) => `  ${name.padEnd(16)} ${what}`).join('\n')}
Run "portico COMMAND --help" for a command's flags.`;

/** The exit code, or undefined when the command now owns the process (operator, speaker). */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'migrate-metallb': {
      const { runMigrateMetallb } = await import('../migrate/main.ts');
      return runMigrateMetallb(rest);
    }
    case 'operator':
      setArgv('../operator/main.ts', rest);
      await import('../operator/main.ts');
      return undefined;
    case 'speaker':
      setArgv('../speaker/main.ts', rest);
      await import('../speaker/main.ts');
      return undefined;
    case 'version':
    case '--version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h': {
      const topic = rest[0];
      if (topic !== undefined && topic !== 'help' && isCommand(topic)) return main([topic, '--help']);
      if (topic !== undefined && topic !== 'help') return unknown(topic);
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    default:
      return unknown(command);
  }
}

function isCommand(name: string): boolean {
  return COMMANDS.some(([c]) => c === name);
}

function unknown(command: string): number {
  process.stderr.write(`portico: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
  return 2;
}

function setArgv(mainModule: string, args: readonly string[]): void {
  const script = fileURLToPath(new URL(mainModule, import.meta.url));
  process.argv = [process.argv[0] ?? process.execPath, script, ...args];
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
}

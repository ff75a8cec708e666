// The command's flags: what is accepted and what is bad usage (exit 2).
import { describe, expect, it } from '@jest/globals';
import { UsageError, parseCli } from '../../../migrate/cli.ts';

describe('migrate-metallb: flags', () => {
  it('takes several --from-file, a namespace and an output file', () => {
    expect(
      parseCli(['--from-file', 'a.yaml', '--from-file=b.yaml', '--namespace', 'lb', '--out', 'o.yaml']),
    ).toEqual({
      files: ['a.yaml', 'b.yaml'],
      namespace: 'lb',
      out: 'o.yaml',
      help: false,
    });
  });

  it('takes a kubeconfig instead, with portico-system as the default namespace', () => {
    expect(parseCli(['--kubeconfig', '/k'])).toEqual({
      files: [],
      kubeconfig: '/k',
      namespace: 'portico-system',
      help: false,
    });
  });

  it('rejects bad usage with a message', () => {
    const bad: [string[], RegExp][] = [
      [[], /--from-file or --kubeconfig/],
      [['--from-file', 'a', '--kubeconfig', 'k'], /exclusive/],
      [['--from-file', 'a', '--namespace', 'Not_A_Namespace'], /--namespace/],
      [['--from-file', 'a', '--bogus'], /bogus/],
      [['stray'], /stray/],
    ];
    for (const [argv, message] of bad) {
      expect(() => parseCli(argv)).toThrow(UsageError);
      expect(() => parseCli(argv)).toThrow(message);
    }
  });
});

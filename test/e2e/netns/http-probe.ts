// An HTTP client for the e2e tests, run inside a network namespace.
//   node http-probe.ts <url> <count> <timeoutMs>
//     makes <count> requests, each on a new connection, and prints one JSON
//     array of results.
//   node http-probe.ts <url> hold <timeoutMs>
//     makes one request on a kept-alive connection, prints its result as a
//     JSON line, then one more request on the same connection for every line
//     read on stdin.
import { request, Agent } from 'node:http';

export interface ProbeResult {
  ok: boolean;
  body?: string;
  client?: string;
  code?: string;
  ms: number;
}

function get(url: string, timeoutMs: number, agent: Agent | false): Promise<ProbeResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    const done = (r: Omit<ProbeResult, 'ms'>): void => resolve({ ...r, ms: Date.now() - start });
    const req = request(url, { agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        done({ ok: true, body: body.trim(), client: String(res.headers['x-client-address']) }),
      );
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, code: err.code ?? err.message }));
    req.end();
  });
}

async function main(): Promise<void> {
  const [url = '', mode = '1', timeoutText = '2000'] = process.argv.slice(2);
  const timeoutMs = Number(timeoutText);
  if (mode === 'hold') {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    process.stdout.write(`${JSON.stringify(await get(url, timeoutMs, agent))}\n`);
    process.stdin.setEncoding('utf8');
    for await (const _line of process.stdin) {
      process.stdout.write(`${JSON.stringify(await get(url, timeoutMs, agent))}\n`);
    }
    agent.destroy();
    return;
  }
  const results: ProbeResult[] = [];
  for (let i = 0; i < Number(mode); i++) results.push(await get(url, timeoutMs, false));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

await main();

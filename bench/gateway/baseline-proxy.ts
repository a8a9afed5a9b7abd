import { createServer } from 'node:http';
import { Pool } from 'undici';

/*
 * The floor for an OpenAI-compatible gateway on Node: node:http in front, undici's keep-alive
 * pool behind, the request body passed through and the answer (JSON or server-sent events)
 * relayed chunk by chunk. No parsing, no limits, no logs.
 * Usage: baseline-proxy.ts UPSTREAM_BASE_URL PORT (prints `ready` when listening).
 */
const [upstream = '', port = '0'] = process.argv.slice(2);
const base = new URL(upstream);
const pool = new Pool(base.origin, { connections: 256, pipelining: 1 });
const prefix = base.pathname.replace(/\/$/, '');

const server = createServer(async (request, response) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    const answer = await pool.request({
      method: 'POST',
      path: `${prefix}${(request.url ?? '/').replace(/^\/v1/, '')}`,
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-upstream' },
      body: Buffer.concat(chunks),
    });
    response.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') });
    for await (const chunk of answer.body) response.write(chunk);
    response.end();
  } catch (error) {
    response.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: String(error) } }));
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));

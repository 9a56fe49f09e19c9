// What nodeHttpTransport shares with fetchTransport (abort, incomplete bodies, error
// classification, streamed bodies, …) runs against both in fetchTransport.spec.ts; here is
// only what is its own.
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import { firstValueFrom } from 'rxjs';
import { ConnectionError } from '../../src/http/errors';
import { nodeHttpTransport } from '../../src/http/nodeHttpTransport';
import { errorOf, serve } from './support/localServer';

const JSON_BODY = JSON.stringify({ batch_id: 'b-1', status: 'completed', note: 'é'.repeat(2000) });

describe('nodeHttpTransport', () => {
  it.each([
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', zlib.brotliCompressSync],
  ] as const)('should ask for compressed bodies and decode a %s one', async (coding, compress) => {
    let acceptEncoding: string | undefined;
    const { url } = await serve((req, res) => {
      acceptEncoding = req.headers['accept-encoding'];
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': coding });
      res.end(compress(Buffer.from(JSON_BODY)));
    });
    const response = await firstValueFrom(nodeHttpTransport()({ method: 'GET', url: `${url}/x`, headers: {} }));
    expect(acceptEncoding).toBe('gzip, deflate');
    expect(response.body).toBe(JSON_BODY);
  });

  it('should fail a body that does not decode as a ConnectionError after the response started', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end('not gzip at all');
    });
    const error = await errorOf(firstValueFrom(nodeHttpTransport()({ method: 'GET', url: `${url}/x`, headers: {} })));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).mayHaveReachedServer).toBe(true);
  });

  it('should let the request headers win over its defaults, whatever their case', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const { url } = await serve((req, res) => {
      seen = req.headers;
      res.end('{}');
    });
    await firstValueFrom(nodeHttpTransport()({ method: 'GET', url: `${url}/x`, headers: { Accept: 'application/json', 'accept-encoding': 'identity' } }));
    expect(seen.accept).toBe('application/json');
    expect(seen['accept-encoding']).toBe('identity');
    expect(seen['user-agent']).toMatch(/c9-batch-rx/);
  });

  it('should answer a redirect as it is instead of following it', async () => {
    let hits = 0;
    const { url } = await serve((_req, res) => {
      hits++;
      res.writeHead(302, { Location: '/elsewhere' });
      res.end();
    });
    const response = await firstValueFrom(nodeHttpTransport()({ method: 'GET', url: `${url}/x`, headers: {} }));
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/elsewhere');
    expect(hits).toBe(1);
  });

  it('should send through the agent it is given', async () => {
    const { url } = await serve((_req, res) => res.end('{}'));
    const agent = new http.Agent({ keepAlive: true });
    const created: unknown[] = [];
    agent.on('free', (socket) => created.push(socket));
    try {
      const response = await firstValueFrom(nodeHttpTransport({ httpAgent: agent })({ method: 'GET', url: `${url}/x`, headers: {} }));
      expect(response.body).toBe('{}');
      expect(created).toHaveLength(1);
    } finally {
      agent.destroy();
    }
  });

  it('should refuse a URL that is not http or https as a ConnectionError', async () => {
    const error = await errorOf(firstValueFrom(nodeHttpTransport()({ method: 'GET', url: 'ftp://127.0.0.1/x', headers: {} })));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toMatch(/^GET ftp:\/\/127\.0\.0\.1\/x: only http: and https: URLs are supported/);
  });
});

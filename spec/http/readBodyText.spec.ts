import * as http from 'node:http';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import crossFetch from 'cross-fetch';
import { firstValueFrom } from 'rxjs';
import { ConnectionError } from '../../src/http/errors';
import { fetchTransport } from '../../src/http/fetchTransport';
import { PREALLOCATE_FROM_BYTES, readBodyText } from '../../src/http/readBodyText';
import { errorOf, serve, within } from './support/localServer';

/** A body over the preallocation size, with multi-byte characters (some cut by chunk ends) and a byte order mark. */
function largeText(): string {
  const piece = '{"account_code":"é€😀\\u2028 ACC"},';
  return `\ufeff[${piece.repeat(Math.ceil((PREALLOCATE_FROM_BYTES * 3) / piece.length))}{}]`;
}

/** Serves `bytes` in chunks of `chunk` bytes, with or without a Content-Length and other headers. */
function serveBytes(bytes: Buffer, options: { chunk?: number; length?: boolean; headers?: http.OutgoingHttpHeaders } = {}): Promise<{ url: string }> {
  const { chunk = 65_537, length = true, headers = {} } = options;
  return serve((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', ...(length ? { 'Content-Length': String(bytes.length) } : {}), ...headers });
    for (let at = 0; at < bytes.length; at += chunk) res.write(bytes.subarray(at, at + chunk));
    res.end();
  });
}

/** A response as node-fetch makes it, reduced to what readBodyText reads. */
function fakeResponse(chunks: Buffer[], announced: number): { response: Response; headers: Record<string, string> } {
  const body = Readable.from(chunks);
  const response = { body, bodyUsed: false, text: () => Promise.reject(new Error('text() should not be called')) } as unknown as Response;
  return { response, headers: { 'content-length': String(announced) } };
}

describe('readBodyText', () => {
  it('should read a large body with an announced length exactly as response.text() does', async () => {
    const text = largeText();
    const { url } = await serveBytes(Buffer.from(text, 'utf8'));
    const viaTransport = await firstValueFrom(fetchTransport()({ method: 'GET', url: `${url}/r`, headers: {} }));
    const viaText = await (await crossFetch(`${url}/r`)).text();
    expect(viaTransport.body).toBe(viaText);
    expect(viaTransport.body).toBe(text);
  });

  it('should read invalid UTF-8 with replacement characters, as response.text() does', async () => {
    const bytes = Buffer.concat([Buffer.from(largeText(), 'utf8'), Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82])]);
    const { url } = await serveBytes(bytes);
    const viaTransport = await firstValueFrom(fetchTransport()({ method: 'GET', url: `${url}/r`, headers: {} }));
    expect(viaTransport.body).toBe(await (await crossFetch(`${url}/r`)).text());
  });

  it('should leave bodies without a length, compressed ones and small ones to response.text()', async () => {
    const text = largeText();
    const chunked = await serveBytes(Buffer.from(text, 'utf8'), { length: false });
    const gzipped = await serveBytes(gzipSync(Buffer.from(text, 'utf8')), { headers: { 'Content-Encoding': 'gzip' } });
    const small = await serveBytes(Buffer.from('{"a":"é"}', 'utf8'));
    const get = async (url: string): Promise<string> => (await firstValueFrom(fetchTransport()({ method: 'GET', url: `${url}/r`, headers: {} }))).body;
    expect(await get(chunked.url)).toBe(text);
    expect(await get(gzipped.url)).toBe(text);
    expect(await get(small.url)).toBe('{"a":"é"}');
  });

  it('should fail a large body cut short with the error response.text() gives', async () => {
    const bytes = Buffer.from(largeText(), 'utf8');
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(bytes.length) });
      res.write(bytes.subarray(0, PREALLOCATE_FROM_BYTES), () => res.socket?.destroy());
    });
    const error = await within(errorOf(firstValueFrom(fetchTransport()({ method: 'GET', url: `${url}/r`, headers: {} }))), 5000, 'the body failing');
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).mayHaveReachedServer).toBe(true);
    const cause = (error as ConnectionError).cause as Error;
    expect(cause.name).toBe('FetchError');
    expect(cause.message).toMatch(/^Invalid response body while trying to fetch /);
  });

  it('should keep every byte when more arrives than was announced', async () => {
    const text = largeText();
    const bytes = Buffer.from(text, 'utf8');
    const quarter = Math.floor(bytes.length / 4);
    const chunks = [0, 1, 2, 3].map((i) => bytes.subarray(i * quarter, i === 3 ? bytes.length : (i + 1) * quarter));
    // Announced: more than the first chunk, less than the first two.
    const { response, headers } = fakeResponse(chunks, Math.max(PREALLOCATE_FROM_BYTES, quarter + 1));
    expect(Number(headers['content-length'])).toBeLessThan(2 * quarter);
    expect(await readBodyText(response, headers)).toBe(text);
  });

  it('should give what arrived when a body ends short of its announced length without an error', async () => {
    const bytes = Buffer.from(largeText(), 'utf8');
    const { response, headers } = fakeResponse([bytes], bytes.length + 10);
    expect(await readBodyText(response, headers)).toBe(bytes.toString('utf8'));
  });
});

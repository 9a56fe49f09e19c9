/**
 * Socket-level reading and writing. This is why the emulator uses node:http directly: it
 * must stop reading an oversized body mid-stream, and must be able to drop a connection before
 * or after the headers, or trickle a body out slowly.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { DropConnection } from './faults';
import type { Timers } from './timers';

/** What reading a request body gave. */
export type BodyResult =
  | { readonly kind: 'ok'; readonly text: string }
  | { readonly kind: 'tooLarge' }
  | { readonly kind: 'aborted' };

/**
 * Reads a request body of at most `limit` bytes.
 *
 * A declared `content-length` above the limit is refused before any byte is read. Otherwise
 * bytes are counted as they arrive and the body is refused the moment the count passes the
 * limit: what was collected is released and the rest of the stream is discarded unread
 * (the caller answers 413 with `connection: close`, so the socket goes when the answer is sent).
 * Nothing is allocated from the declared length (a client could declare much and send little):
 * chunks are kept as they come, joined once at the end and decoded once.
 *
 * Example: `const body = await readBody(req, 500 * 1024 * 1024); if (body.kind === 'tooLarge') …`
 *
 * @param req the request
 * @param limit the largest body accepted, in bytes
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  if (declared !== undefined && Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve({ kind: 'tooLarge' });
  }
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      chunks = [];
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      if (total + chunk.length > limit) {
        settle({ kind: 'tooLarge' });
        // Keep the stream flowing into nothing: no memory is held, and the socket is
        // destroyed once the 413 is written.
        req.on('data', () => undefined);
        return;
      }
      chunks.push(chunk);
      total += chunk.length;
    };
    const onEnd = (): void => {
      try {
        const buf = Buffer.concat(chunks, total);
        chunks = [];
        let text = buf.toString('utf8');
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        settle({ kind: 'ok', text });
      } catch {
        // Larger than the longest string V8 can make: too large for this server, whatever the limit says.
        settle({ kind: 'tooLarge' });
      }
    };
    const onClose = (): void => settle({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}

/** A response ready to write. */
export interface Outgoing {
  readonly status: number;
  readonly contentType: string;
  /** Text, or bytes already encoded as UTF-8 (a large results body is kept that way). */
  readonly body: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Sent before the request body was read to its end (a 413): close the connection after
   * reading, for up to this many ms, what the client is still sending (see {@link lingerOnClose}).
   */
  readonly lingerMs?: number;
}

/** How the response is to be mangled, if at all. */
export interface WriteFaults {
  readonly drop?: DropConnection;
  readonly slow?: { readonly chunkBytes: number; readonly delayMs: number };
}

/**
 * Writes a response, or fails to on purpose: drops the socket before the headers, or after
 * the headers and half the body (the declared length stays the full one, so a client sees a
 * truncated body), or writes the body in small delayed chunks.
 *
 * Example: `writeOut(res, { status: 200, contentType: 'application/json', body: '[]' }, {}, timers)`
 *
 * @param res the response
 * @param out status, content type, body and extra headers
 * @param faults the drop or slow-body fault for this response, if any
 * @param timers the emulator's timers (a slow body stops when the emulator closes)
 */
export function writeOut(res: ServerResponse, out: Outgoing, faults: WriteFaults, timers: Timers): void {
  if (faults.drop?.when === 'beforeHeaders') {
    res.socket?.destroy();
    return;
  }
  const { body } = out;
  if (out.lingerMs !== undefined && res.socket) lingerOnClose(res.socket, timers, out.lingerMs);
  const headers = { ...out.headers, 'content-type': out.contentType, 'content-length': String(typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length) };
  if (!faults.drop && !faults.slow) {
    // Written as it is: a results body can be hundreds of MB, not worth another copy.
    res.writeHead(out.status, headers);
    if (typeof body === 'string') res.end(body, 'utf8');
    else res.end(body);
    return;
  }
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(out.status, headers);
  if (faults.drop?.when === 'afterHeaders') {
    const half = Math.max(1, Math.floor(payload.length / 2));
    res.write(payload.subarray(0, Math.min(half, payload.length)), () => res.destroy());
    return;
  }
  const slow = faults.slow;
  if (!slow) {
    res.end(payload);
    return;
  }
  let offset = 0;
  const next = (): void => {
    if (res.destroyed) return;
    const end = Math.min(offset + slow.chunkBytes, payload.length);
    if (end >= payload.length) {
      res.end(payload.subarray(offset));
      return;
    }
    res.write(payload.subarray(offset, end));
    offset = end;
    timers.after(slow.delayMs, next);
  };
  next();
}

/**
 * Makes the close that follows an answer a lingering close, as nginx and most front ends do
 * when they answer before reading the whole request: FIN after the answer, then what the
 * client still sends is read and dropped until it closes its side or `ms` pass, then the
 * socket is destroyed. Node's own close (`destroySoon`) destroys the socket as soon as the
 * answer is written, and the client's bytes still arriving then draw a reset, which can
 * discard the answer before the client reads it: measured, 5 of 5 streamed submits of a
 * 30 MB body to a 1 MB limit got EPIPE instead of the 413, so no client could split them.
 * The cap keeps an endless body from holding the socket.
 *
 * Example: `lingerOnClose(res.socket, timers, 1000)` before writing a 413 with `connection: close`
 *
 * @param socket the connection the answer goes out on
 * @param timers the emulator's timers (cleared, with every socket, when it closes)
 * @param ms how long to keep reading after the answer at most
 */
export function lingerOnClose(socket: Socket, timers: Timers, ms: number): void {
  // Node's HTTP server calls destroySoon on this socket once an answer marked
  // `connection: close` is written; this socket only.
  socket.destroySoon = function lingeringClose(this: Socket): void {
    this.end();
    this.once('end', () => this.destroy());
    timers.after(ms, () => this.destroy());
  };
}

/**
 * An HTTP front for the emulator that sees what the client does at the socket level: it
 * counts connections and requests in flight, logs each request with its time, and can do
 * to a response what a proxy or a load balancer does (rewrite the body or its content
 * type, reset the connection, never answer, close a keep-alive socket behind the client's back).
 */
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The emulator's routes, as the proxy tells them apart. */
export type ProxyRoute = 'submit' | 'status' | 'results' | 'other';

/** What the proxy knows about a request when it decides what to do with it. */
export interface ProxyRequest {
  readonly route: ProxyRoute;
  readonly method: string;
  readonly path: string;
  /** 1 for the first request of this route, 2 for the next, … */
  readonly nth: number;
  /** True when the request came on a connection that already carried one (a keep-alive socket). */
  readonly reused: boolean;
}

/** What to do with a request. */
export type ProxyAction =
  /** Relay it unchanged. */
  | { readonly kind: 'forward' }
  /** Relay it, then rewrite the answer (the whole body is read first; content-length is recomputed). */
  | {
      readonly kind: 'rewrite';
      readonly body?: (body: string) => string;
      readonly contentType?: string;
    }
  /** Destroy the client's connection without sending it to the emulator (a server that closed the socket as the request came in). */
  | { readonly kind: 'reset' }
  /** Accept the request and never answer. */
  | { readonly kind: 'hang' }
  /** Relay it, then close the connection right after the answer, without announcing it (no `connection: close`). */
  | { readonly kind: 'closeAfter' };

/** A decision per request; undefined relays it. */
export type ProxyRule = (request: ProxyRequest) => ProxyAction | undefined;

/** One request, as logged. */
export interface ProxyLogEntry {
  readonly route: ProxyRoute;
  readonly method: string;
  /** performance.now() when the request arrived. */
  readonly at: number;
  readonly reused: boolean;
  readonly action: ProxyAction['kind'];
  /** The status the client was sent, once known (undefined: no answer, e.g. reset or hang). */
  status: number | undefined;
  /** Body bytes relayed to the client. */
  bytes: number;
}

/** A running proxy. */
export interface CountingProxy {
  readonly url: string;
  /** Connections the client has open now. */
  readonly openConnections: number;
  /** Connections the client opened in all. */
  readonly totalConnections: number;
  /** Requests whose answer has not ended (or been abandoned by the client) yet. */
  readonly activeRequests: number;
  readonly log: readonly ProxyLogEntry[];
  /** Requests of one route so far. */
  count(route: ProxyRoute): number;
  /** The statuses one route answered, in order (`-` for a request that got no answer). */
  statuses(route: ProxyRoute): string;
  /** Replaces the rule (undefined: relay everything). */
  setRule(rule: ProxyRule | undefined): void;
  /** Closes the keep-alive connections that carry no request, as a server does when they idle too long. */
  closeIdle(): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function routeOf(method: string, path: string): ProxyRoute {
  if (method === 'POST' && path === '/portfolios/batch') return 'submit';
  if (method === 'GET' && path.startsWith('/portfolios/batch/')) return 'status';
  if (method === 'GET' && path === '/results/accounts') return 'results';
  return 'other';
}

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/**
 * Starts a proxy on 127.0.0.1 (ephemeral port) in front of `upstream`.
 *
 * @param upstream the emulator's URL
 */
export async function startProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  // Its own pool towards the emulator, so the client's sockets and the proxy's never mix.
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const used = new WeakSet<Socket>();
  const busy = new Map<Socket, number>();
  const counts = new Map<ProxyRoute, number>();
  const log: ProxyLogEntry[] = [];
  let rule: ProxyRule | undefined;
  let total = 0;
  let active = 0;

  const relay = (req: IncomingMessage, res: ServerResponse, action: ProxyAction, entry: ProxyLogEntry): void => {
    const upstreamReq = httpRequest({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: endToEnd(req.headers),
      agent,
    });
    // The client went away (abort): the emulator's side goes too, as a real proxy does.
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    upstreamReq.on('error', () => req.socket.destroy());
    upstreamReq.on('response', (up) => {
      // The emulator dropping the connection mid-body becomes a drop towards the client.
      up.on('aborted', () => req.socket.destroy());
      up.on('error', () => req.socket.destroy());
      const headers = endToEnd(up.headers);
      if (action.kind === 'rewrite') {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          if (!up.complete) return;
          const text = Buffer.concat(chunks).toString('utf8');
          const body = action.body ? action.body(text) : text;
          const out: Record<string, string | string[]> = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
          if (action.contentType !== undefined) out['content-type'] = action.contentType;
          entry.status = up.statusCode;
          entry.bytes = Buffer.byteLength(body);
          res.writeHead(up.statusCode ?? 502, out);
          res.end(body);
        });
        return;
      }
      entry.status = up.statusCode;
      res.writeHead(up.statusCode ?? 502, headers);
      up.on('data', (c: Buffer) => {
        entry.bytes += c.length;
      });
      up.pipe(res);
      if (action.kind === 'closeAfter') res.on('finish', () => setImmediate(() => req.socket.destroy()));
    });
    req.pipe(upstreamReq);
  };

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0];
    const route = routeOf(method, path);
    const nth = (counts.get(route) ?? 0) + 1;
    counts.set(route, nth);
    const reused = used.has(req.socket);
    used.add(req.socket);
    const action = rule?.({ route, method, path, nth, reused }) ?? { kind: 'forward' };
    const entry: ProxyLogEntry = { route, method, at: performance.now(), reused, action: action.kind, status: undefined, bytes: 0 };
    log.push(entry);

    active++;
    busy.set(req.socket, (busy.get(req.socket) ?? 0) + 1);
    res.on('close', () => {
      active--;
      const n = busy.get(req.socket);
      if (n !== undefined) busy.set(req.socket, n - 1);
    });

    if (action.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (action.kind === 'hang') {
      req.resume();
      return;
    }
    relay(req, res, action, entry);
  });
  server.on('connection', (socket: Socket) => {
    total++;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      busy.delete(socket);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    get openConnections() {
      return sockets.size;
    },
    get totalConnections() {
      return total;
    },
    get activeRequests() {
      return active;
    },
    log,
    count: (route) => counts.get(route) ?? 0,
    statuses: (route) =>
      log
        .filter((e) => e.route === route)
        .map((e) => (e.status === undefined ? '-' : String(e.status)))
        .join(' '),
    setRule: (next) => {
      rule = next;
    },
    closeIdle: () => {
      for (const socket of sockets) if ((busy.get(socket) ?? 0) === 0) socket.destroy();
    },
    close: () => {
      closing ??= new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
        agent.destroy();
      });
      return closing;
    },
  };
}

/**
 * Servers that are not HTTP servers at all: a port nobody listens on, and one that accepts
 * connections and never says a word.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A listener that accepts, reads and never answers; it counts the connections it holds. */
export interface SilentServer {
  readonly url: string;
  readonly port: number;
  readonly openConnections: number;
  readonly totalConnections: number;
  close(): Promise<void>;
}

/** Starts a {@link SilentServer} on 127.0.0.1. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let total = 0;
  const server = createServer((socket) => {
    total++;
    sockets.add(socket);
    socket.resume();
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get openConnections() {
      return sockets.size;
    },
    get totalConnections() {
      return total;
    },
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}

/** A URL on 127.0.0.1 whose port was free a moment ago and has no listener now (connections are refused). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Real servers on 127.0.0.1 for the transport specs, closed after each test. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

let servers: http.Server[] = [];

/** Starts a server on an ephemeral port of 127.0.0.1 and returns its base URL. */
export async function serve(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

afterEach(async () => {
  const closing = servers.map(
    (server) =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  servers = [];
  await Promise.all(closing);
});

/** Fails fast instead of hanging the suite when something that should happen does not. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The error a promise rejects with; fails when it resolves. */
export function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected an error');
    },
    (error: unknown) => error,
  );
}

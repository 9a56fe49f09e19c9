/**
 * The fault matrix's leak checks must be able to fail: each is shown here catching the leak
 * it exists for (a timer, a socket, a request the client never ended, a listener on a caller's
 * signal, a MaxListenersExceededWarning, requests after a cancellation).
 */
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { timer } from 'rxjs';
import {
  activeHandles,
  collectProcessReports,
  connectionsLeftOpen,
  handlesLeftOver,
  reportsSince,
  signalListenersLeft,
  trackTimers,
  waitUntil,
} from './support/leaks';
import { runCase, tempDir, type FaultCase } from './support/matrix';
import { startProxy } from './support/proxy';
import { startSilentServer } from './support/rawServers';

describe('leak checks', () => {
  it('should report an RxJS timer left subscribed, and nothing once it is gone', () => {
    const tracker = trackTimers();
    const subscription = timer(60_000).subscribe();
    const leaked = tracker.stop();
    subscription.unsubscribe();

    expect(leaked).toEqual([expect.stringMatching(/^1 timer\(s\) still pending: interval 60000 ms from .*node_modules\/rxjs\//)]);
    const again = trackTimers();
    const done = timer(60_000).subscribe();
    done.unsubscribe();
    expect(again.stop()).toEqual([]);
  });

  it('should not count unref\'d timers (the emulator\'s, socket timeouts) as leaks', () => {
    const tracker = trackTimers();
    const t = setTimeout(() => undefined, 60_000);
    t.unref();
    const leaked = tracker.stop();
    clearTimeout(t);

    expect(leaked).toEqual([]);
  });

  it('should report a socket left connected, and nothing once it is closed', async () => {
    const silent = await startSilentServer();
    try {
      const baseline = activeHandles();
      const socket = connect(silent.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await waitUntil(() => silent.openConnections === 1, 1000);

      expect(await handlesLeftOver(baseline, 50)).toEqual(['active handles left: 2 TCPSocketWrap']);
      socket.destroy();
      expect(await handlesLeftOver(baseline, 1000)).toEqual([]);
    } finally {
      await silent.close();
    }
  });

  it('should report a request the client never ended, and nothing after it aborts', async () => {
    const silent = await startSilentServer();
    const proxy = await startProxy(silent.url);
    proxy.setRule(() => ({ kind: 'hang' }));
    try {
      const req = request(`${proxy.url}/portfolios/batch/x`);
      req.on('error', () => undefined);
      req.end();
      await waitUntil(() => proxy.activeRequests === 1, 1000);

      expect(await connectionsLeftOpen(proxy, 50)).toEqual(['1 request(s) still in flight at the server', '1 connection(s) still open at the server']);
      req.destroy();
      expect(await connectionsLeftOpen(proxy, 1000)).toEqual([]);
    } finally {
      await proxy.close();
      await silent.close();
    }
  });

  it('should report a connection left open at a raw server', async () => {
    const silent = await startSilentServer();
    try {
      const req = request(`${silent.url}/`);
      req.on('error', () => undefined);
      req.end();
      await waitUntil(() => silent.openConnections === 1, 1000);

      expect(await connectionsLeftOpen(silent, 50)).toEqual(['1 connection(s) still open at the server']);
      req.destroy();
      expect(await connectionsLeftOpen(silent, 1000)).toEqual([]);
    } finally {
      await silent.close();
    }
  });

  it('should report a listener left on a signal', () => {
    const controller = new AbortController();
    const listener = (): void => undefined;
    controller.signal.addEventListener('abort', listener);

    expect(signalListenersLeft(controller.signal)).toEqual(["1 abort listener left on the caller's signal"]);
    controller.signal.removeEventListener('abort', listener);
    expect(signalListenersLeft(controller.signal)).toEqual([]);
  });

  it('should collect a MaxListenersExceededWarning from the real process', async () => {
    const collector = collectProcessReports();
    try {
      const emitter = new EventEmitter();
      // Node prints this warning too: the event name says it is on purpose.
      for (let i = 0; i < 11; i++) emitter.on('intentional-leak-of-the-leak-check-spec', () => undefined);
      await waitUntil(() => collector.reports.warnings.length > 0, 1000);

      const found = reportsSince(collector.reports, { rejections: 0, warnings: 0 });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^warning MaxListenersExceededWarning: Possible EventEmitter memory leak detected/);
    } finally {
      collector.stop();
    }
  });

  it('should fail a case whose run keeps sending requests after it said it cancelled', async () => {
    const dir = tempDir();
    const collector = collectProcessReports();
    let interval: NodeJS.Timeout | undefined;
    const leaky: FaultCase = {
      kind: 'cancellation',
      name: 'leaky on purpose',
      expected: 'cancelled',
      async run(ctx) {
        const rig = await ctx.rig();
        interval = setInterval(() => {
          request(`${rig.proxy.url}/healthcheck/analytics-engine`).on('error', () => undefined).end();
        }, 10);
        ctx.cancelled();
        return 'cancelled';
      },
    };
    try {
      const record = await runCase(leaky, collector.reports, dir.path);

      expect(record.got).toBe('cancelled');
      expect(record.pass).toBe(false);
      expect(record.leaks.join('\n')).toMatch(/request\(s\) after the cancellation/);
      expect(record.leaks.join('\n')).toMatch(/1 timer\(s\) still pending: interval 10 ms/);
    } finally {
      clearInterval(interval);
      collector.stop();
      dir.remove();
    }
  });
});

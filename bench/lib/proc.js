'use strict';
/**
 * Child processes of the benchmark: servers run in their own process so their CPU never
 * counts against (or competes on the event loop with) the client being measured.
 *
 * Protocol (IPC messages): the child sends `{ type: 'ready', url, apiKey }` once listening;
 * the parent may send `{ type: 'call', id, op, args }` and gets `{ type: 'reply', id, value }`
 * or `{ type: 'reply', id, error }`. A child exits when the parent disconnects.
 */
const { fork } = require('node:child_process');
const path = require('node:path');

/**
 * Forks `script` (a path under bench/) with `options` as its first argument (JSON) and waits
 * for its `ready` message.
 *
 * @param {string} script file name relative to bench/
 * @param {unknown} options passed to the child as JSON in argv[2]
 * @param {{ execArgv?: string[] }} [extra]
 * @returns {Promise<{ url: string, apiKey: string, info: Record<string, unknown>, call: (op: string, args?: unknown) => Promise<any>, close: () => Promise<void>, pid: number }>}
 */
function startChild(script, options, extra = {}) {
  const child = fork(path.join(__dirname, '..', script), [JSON.stringify(options ?? {})], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: extra.execArgv ?? [],
  });
  let nextId = 1;
  const pending = new Map();
  let exited = false;
  const exitedPromise = new Promise((resolve) => child.once('exit', resolve));
  child.once('exit', (code, signal) => {
    exited = true;
    for (const { reject } of pending.values()) reject(new Error(`${script} exited (${code ?? signal})`));
    pending.clear();
  });
  return new Promise((resolve, reject) => {
    const onEarlyExit = (code, signal) => reject(new Error(`${script} exited before it was ready (${code ?? signal})`));
    child.once('exit', onEarlyExit);
    child.on('message', (message) => {
      if (message?.type === 'ready') {
        child.off('exit', onEarlyExit);
        resolve({
          url: message.url,
          apiKey: message.apiKey,
          info: message.info ?? {},
          pid: child.pid,
          call(op, args) {
            if (exited) return Promise.reject(new Error(`${script} is not running`));
            const id = nextId++;
            return new Promise((res, rej) => {
              pending.set(id, { resolve: res, reject: rej });
              child.send({ type: 'call', id, op, args });
            });
          },
          async close() {
            if (!exited) {
              child.disconnect();
              const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
              await exitedPromise;
              clearTimeout(timer);
            }
          },
        });
      } else if (message?.type === 'reply') {
        const p = pending.get(message.id);
        if (!p) return;
        pending.delete(message.id);
        if (message.error !== undefined) p.reject(new Error(message.error));
        else p.resolve(message.value);
      }
    });
  });
}

/**
 * The child side: announces readiness, answers `call`s with `handlers[op](args)`, and runs
 * `onClose` then exits when the parent goes away.
 *
 * @param {{ url: string, apiKey: string, info?: Record<string, unknown> }} ready
 * @param {Record<string, (args: any) => unknown>} handlers
 * @param {() => Promise<void> | void} onClose
 */
function serveParent(ready, handlers, onClose) {
  process.on('message', async (message) => {
    if (message?.type !== 'call') return;
    try {
      const handler = handlers[message.op];
      if (!handler) throw new Error(`unknown op ${message.op}`);
      const value = await handler(message.args);
      process.send({ type: 'reply', id: message.id, value });
    } catch (error) {
      process.send({ type: 'reply', id: message.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
  process.once('disconnect', async () => {
    try {
      await onClose();
    } finally {
      process.exit(0);
    }
  });
  process.send({ type: 'ready', ...ready });
}

/** The options a child was started with (argv[2], JSON). */
function childOptions() {
  return JSON.parse(process.argv[2] ?? '{}');
}

module.exports = { startChild, serveParent, childOptions };

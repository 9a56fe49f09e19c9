import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lastValueFrom, of, Subject, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { C9Error, DecodeError } from '../../src/http/errors';
import { loadHandles, recordHandles, saveHandles } from '../../src/streams/batchHandle';
import { resumeBatches, runBatches, type RunBatchesEvent } from '../../src/streams/runBatches';
import type { SubmittedBatch } from '../../src/types';
import { fakeC9, payloadOf } from './support/fakeC9';

const KEY = 'sk-handle-spec-key-0123456789';

const handle = (n: number, extra: Partial<SubmittedBatch> = {}): SubmittedBatch => ({
  batchId: `00000000-0000-4000-8000-00000000000${n}`,
  accountCodes: [`A${n}`, `B${n}`],
  submittedAt: '2024-05-01T10:00:00.000Z',
  processingMode: 'fifo',
  endpoint: 'http://127.0.0.1:8080',
  ...extra,
});

/** Waits (real time, bounded) until `check` passes: file writes are asynchronous. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('condition not reached');
}

describe('batchHandle', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'c9-handles-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  describe('saveHandles / loadHandles', () => {
    it('should round-trip handles, writing only their fields and never the key or URL credentials', async () => {
      const file = path.join(dir, 'state.json');
      const withExtras = { ...handle(1, { endpoint: `http://user:${KEY}@127.0.0.1:8080/?token=${KEY}`, requestId: 'r-1' }), apiKey: KEY } as SubmittedBatch;
      await saveHandles(file, [withExtras, handle(2)]);
      const text = await fs.readFile(file, 'utf8');
      expect(text).not.toContain(KEY);
      expect(text).not.toContain('apiKey');
      expect(await loadHandles(file)).toEqual([{ ...handle(1), requestId: 'r-1' }, handle(2)]);
    });

    it('should replace the file atomically and leave no temporary file behind', async () => {
      const file = path.join(dir, 'state.json');
      await saveHandles(file, [handle(1)]);
      await saveHandles(file, [handle(1), handle(2)]);
      expect(await fs.readdir(dir)).toEqual(['state.json']);
      expect(await loadHandles(file)).toHaveLength(2);
      // A write that cannot happen leaves the previous version untouched and no temporary file.
      await expect(saveHandles(path.join(dir, 'missing-dir', 'state.json'), [handle(3)])).rejects.toThrow();
      expect(await fs.readdir(dir)).toEqual(['state.json']);
    });

    it('should refuse a file that is not JSON or not a handle file with a DecodeError', async () => {
      const file = path.join(dir, 'state.json');
      await fs.writeFile(file, '{"version":1,"handles":[{"batchId":');
      await expect(loadHandles(file)).rejects.toBeInstanceOf(DecodeError);
      await fs.writeFile(file, JSON.stringify({ version: 1, handles: [{ batchId: 'x', accountCodes: 'A', submittedAt: 't', processingMode: 'fifo' }] }));
      await expect(loadHandles(file)).rejects.toThrow(/handles\[0\]\.accountCodes/);
    });
  });

  describe('recordHandles', () => {
    it('should write every accepted batch as it passes and complete after the last write', async () => {
      const file = path.join(dir, 'state.json');
      const events: RunBatchesEvent[] = [
        { type: 'submitted', batch: handle(1) },
        { type: 'waiting', chunk: '2', accountCodes: ['A1'], blockedBy: ['1'] },
        { type: 'submitted', batch: handle(2) },
        { type: 'submitted', batch: handle(2) },
      ];
      const passed = await lastValueFrom(of(...events).pipe(recordHandles(file), toArray()));
      expect(passed).toEqual(events);
      expect(await loadHandles(file)).toEqual([handle(1), handle(2)]);
    });

    it('should keep the initial handles in front', async () => {
      const file = path.join(dir, 'state.json');
      await lastValueFrom(of<RunBatchesEvent>({ type: 'submitted', batch: handle(2) }).pipe(recordHandles(file, [handle(1)])));
      expect((await loadHandles(file)).map((h) => h.batchId)).toEqual([handle(1).batchId, handle(2).batchId]);
    });

    it('should error the stream when the file cannot be written', async () => {
      const file = path.join(dir, 'missing-dir', 'state.json');
      const source = new Subject<RunBatchesEvent>();
      const done = lastValueFrom(source.pipe(recordHandles(file)));
      source.next({ type: 'submitted', batch: handle(1) });
      source.complete();
      await expect(done).rejects.toThrow(/ENOENT/);
    });
  });

  describe('resumeBatches', () => {
    it('should pick up polling and results of saved batches after a simulated crash, without submitting again', async () => {
      const file = path.join(dir, 'state.json');
      const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
      const server = fakeC9({ scheduler, durationMs: () => 100 });
      const config = { adaptive: false as const, poll: { initialIntervalMs: 10, factor: 1, jitter: 0, timeoutMs: 10_000 }, results: { windowMs: 2, refetchAttempts: 0 }, scheduler };

      // Run 1: both batches are accepted and saved; the process "crashes" (everything unsubscribed) while they are processing.
      const seen: RunBatchesEvent[] = [];
      const first = runBatches(server.client, [payloadOf('A', 'B'), payloadOf('C')], config).pipe(recordHandles(file)).subscribe((e) => seen.push(e));
      scheduler.schedule(() => first.unsubscribe(), 30);
      scheduler.flush();
      expect(seen.filter((e) => e.type === 'results')).toEqual([]);
      await eventually(async () => (await loadHandles(file).catch(() => [])).length === 2);
      const requestsBeforeCrash = server.requests.length;

      // Run 2: a new process loads the handles and resumes.
      const handles = await loadHandles(file);
      expect(JSON.stringify(handles)).not.toContain('sk-');
      const resumed: RunBatchesEvent[] = [];
      let completed = false;
      resumeBatches(server.client, handles, config).subscribe({ next: (e) => resumed.push(e), complete: () => (completed = true) });
      scheduler.flush();

      expect(completed).toBe(true);
      const after = server.requests.slice(requestsBeforeCrash);
      expect(after.filter((r) => r.kind === 'submit')).toEqual([]);
      const results = resumed.flatMap((e) => (e.type === 'results' ? [[e.batch.batchId, e.results.rows.map((r) => r.account_code)]] : []));
      expect(results).toEqual([
        [server.idOf(1), ['A', 'B']],
        [server.idOf(2), ['C']],
      ]);
      // Both finished together: one shared results request.
      expect(after.filter((r) => r.kind === 'results')).toHaveLength(1);
      const last = resumed[resumed.length - 1];
      expect(last.type === 'report' && last.report.accounts_fetched).toBe(3);
    });

    it('should follow handles saved by saveHandles when the client endpoint carries user info', async () => {
      // saveHandles writes the endpoint without user info; the client keeps it. The same
      // server was taken for another one: every handle got an error event and nothing was
      // polled, and the message repeated the endpoint's password.
      const file = path.join(dir, 'state.json');
      const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
      const server = fakeC9({ scheduler });
      const client = { ...server.client, endpoint: 'http://svc:hunter2pw@127.0.0.1:1' };
      server.client.submitBatch(payloadOf('A1', 'B1')).subscribe();
      scheduler.flush();
      await saveHandles(file, [handle(1, { endpoint: client.endpoint, submittedAt: new Date(0).toISOString() })]);
      const handles = await loadHandles(file);
      expect(handles[0].endpoint).toBe('http://127.0.0.1:1');
      const events: RunBatchesEvent[] = [];
      const config = { adaptive: false as const, poll: { initialIntervalMs: 10, factor: 1, jitter: 0 }, results: { windowMs: 2, refetchAttempts: 0 }, scheduler };
      resumeBatches(client, handles, config).subscribe((e) => events.push(e));
      scheduler.flush();
      expect(events.filter((e) => e.type === 'error')).toEqual([]);
      const results = events.find((e) => e.type === 'results');
      expect(results?.type === 'results' && results.results.rows.map((r) => r.account_code)).toEqual(['A1', 'B1']);
    });

    it('should not repeat the user info of an endpoint in the error of a handle of another endpoint', () => {
      const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
      const server = fakeC9({ scheduler });
      const client = { ...server.client, endpoint: 'http://svc:hunter2pw@127.0.0.1:1' };
      const events: RunBatchesEvent[] = [];
      resumeBatches(client, [handle(1, { endpoint: 'https://ops:s3cretpw@elsewhere.example' })], { scheduler }).subscribe((e) => events.push(e));
      scheduler.flush();
      const error = events.find((e) => e.type === 'error');
      // Every error the library raises is a C9Error (README): a handle of another endpoint too.
      expect(error?.type === 'error' && error.error).toBeInstanceOf(C9Error);
      expect(error?.type === 'error' && error.error.message).toBe(
        `batch ${handle(1).batchId} was submitted to https://elsewhere.example, not to http://127.0.0.1:1`,
      );
      const last = events[events.length - 1];
      expect(last.type === 'report' && JSON.stringify(last.report)).not.toMatch(/hunter2pw|s3cretpw/);
    });

    it('should follow a handle given twice once, and report its batch once', () => {
      // Both copies shared one poll loop, but the report kept one outcome per copy and the
      // events updated only the last: the first stayed 'unknown', its accounts listed as
      // without results (exit code 1) beside the same accounts fetched.
      const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
      const server = fakeC9({ scheduler });
      server.client.submitBatch(payloadOf('A1', 'B1')).subscribe();
      scheduler.flush();
      const saved = handle(1, { endpoint: server.client.endpoint, submittedAt: new Date(0).toISOString() });
      const events: RunBatchesEvent[] = [];
      const config = { adaptive: false as const, poll: { initialIntervalMs: 10, factor: 1, jitter: 0 }, results: { windowMs: 2, refetchAttempts: 0 }, scheduler };
      resumeBatches(server.client, [saved, { ...saved }], config).subscribe((e) => events.push(e));
      scheduler.flush();
      expect(events.filter((e) => e.type === 'submitted')).toHaveLength(1);
      const last = events[events.length - 1];
      if (last.type !== 'report') throw new Error('no report');
      expect(last.report.batches.map((b) => [b.batch_id, b.status])).toEqual([[saved.batchId, 'completed']]);
      expect(last.report.accounts_without_results).toEqual([]);
      expect(last.report.accounts_fetched).toBe(2);
    });

    it('should give a handle of another endpoint an error event instead of polling it', () => {
      const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
      const server = fakeC9({ scheduler });
      const events: RunBatchesEvent[] = [];
      resumeBatches(server.client, [handle(1, { endpoint: 'https://elsewhere.example' })], { scheduler }).subscribe((e) => events.push(e));
      scheduler.flush();
      expect(events.map((e) => e.type)).toEqual(['submitted', 'error', 'report']);
      expect(server.requests).toEqual([]);
    });
  });
});

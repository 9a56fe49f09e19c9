import { marbles } from 'rxjs-marbles/jest';
import type { BatchStatus } from '../../src/codecs';
import { trackProgress, type ProgressReport } from '../../src/operators/trackProgress';

const st = (status: string, extra: Partial<BatchStatus> = {}): BatchStatus => ({ batch_id: 'b', status, ...extra });

describe('trackProgress', () => {
  it(
    'should report a stall once after stallPolls answers without change, and again only after a new stall',
    marbles((m) => {
      const a = st('processing', { completed_pct: 10 });
      const b = st('processing', { completed_pct: 40 });
      const source = m.cold('a-a-a-a-b-b-b-|', { a, b });
      const expected = m.cold<ProgressReport>('a-a-s-a-b-b-t-|', {
        a: { status: a },
        s: { status: a, anomaly: { kind: 'stalled', polls: 2 } },
        b: { status: b },
        t: { status: b, anomaly: { kind: 'stalled', polls: 2 } },
      });
      m.expect(source.pipe(trackProgress({ stallPolls: 2 }))).toBeObservable(expected);
    }),
  );

  it(
    'should count a queue position change as progress',
    marbles((m) => {
      const q2 = st('queued', { queue_position: 2 });
      const q1 = st('queued', { queue_position: 1 });
      const source = m.cold('a-b-a-|', { a: q2, b: q1 });
      m.expect(source.pipe(trackProgress({ stallPolls: 1 }))).toBeObservable('a-b-c-|', { a: { status: q2 }, b: { status: q1 }, c: { status: q2 } });
    }),
  );

  it(
    'should report completed_pct going backwards from the highest value seen, once per step back',
    marbles((m) => {
      const p = (pct: number) => st('processing', { completed_pct: pct });
      const source = m.cold('a-b-c-d-|', { a: p(40), b: p(60), c: p(20), d: p(30) });
      const expected: Record<string, ProgressReport> = {
        a: { status: p(40) },
        b: { status: p(60) },
        c: { status: p(20), anomaly: { kind: 'regressed', fromPct: 60, toPct: 20 } },
        d: { status: p(30) },
      };
      m.expect(source.pipe(trackProgress())).toBeObservable('a-b-c-d-|', expected);
    }),
  );

  it(
    'should not call a terminal answer stalled',
    marbles((m) => {
      const c = st('completed', { completed_pct: 100 });
      const source = m.cold('a-a-|', { a: c });
      m.expect(source.pipe(trackProgress({ stallPolls: 1 }))).toBeObservable('a-a-|', { a: { status: c } });
    }),
  );

  it(
    'should keep separate state per subscription',
    marbles((m) => {
      const a = st('processing', { completed_pct: 10 });
      const tracked = m.cold('a-a-|', { a }).pipe(trackProgress({ stallPolls: 1 }));
      const expected: Record<string, ProgressReport> = { x: { status: a }, s: { status: a, anomaly: { kind: 'stalled', polls: 1 } } };
      m.expect(tracked).toBeObservable('x-s-|', expected);
      m.expect(tracked).toBeObservable('x-s-|', expected);
    }),
  );

  it('should throw a TypeError for a stallPolls that is not an integer >= 1', () => {
    expect(() => trackProgress({ stallPolls: 0 })).toThrow(TypeError);
    expect(() => trackProgress({ stallPolls: 1.5 })).toThrow(TypeError);
  });
});

import { defer, ignoreElements, merge, of, Subject, tap, throwError, timer, type Observable } from 'rxjs';
import { marbles } from 'rxjs-marbles/jest';
import { AccountOverlapError, createOverlapGuard } from '../../src/streams/overlapGuard';

type Seen = { at: number; what: string };

describe('createOverlapGuard', () => {
  it(
    'should run batches sharing an account one after the other, in order, and the others side by side',
    marbles((m) => {
      const guard = createOverlapGuard();
      const log: Seen[] = [];
      const inFlight = new Map<string, readonly string[]>();
      const overlaps: string[] = [];
      const job = (label: string, accountCodes: string[], ms: number): Observable<string> =>
        guard.run(
          { label, accountCodes },
          () =>
            defer(() => {
              for (const [other, codes] of inFlight) if (codes.some((c) => accountCodes.includes(c))) overlaps.push(`${label}+${other}`);
              inFlight.set(label, accountCodes);
              log.push({ at: m.scheduler.now(), what: `start ${label}` });
              return timer(ms, m.scheduler).pipe(
                ignoreElements(),
                tap({
                  complete: () => {
                    inFlight.delete(label);
                    log.push({ at: m.scheduler.now(), what: `end ${label}` });
                  },
                }),
              );
            }),
          (blockedBy) => `${label} waits for ${blockedBy.join(',')}`,
        );
      const waits: Seen[] = [];
      merge(job('a', ['X', 'Y'], 10), job('b', ['Y'], 5), job('c', ['Z'], 3), job('d', ['X'], 4), job('e', ['Y', 'W'], 2)).subscribe((w) =>
        waits.push({ at: m.scheduler.now(), what: w }),
      );
      m.flush();
      expect(waits).toEqual([
        { at: 0, what: 'b waits for a' },
        { at: 0, what: 'd waits for a' },
        { at: 0, what: 'e waits for b' }, // the entry right ahead of it on Y
      ]);
      expect(log).toEqual([
        { at: 0, what: 'start a' },
        { at: 0, what: 'start c' },
        { at: 3, what: 'end c' },
        { at: 10, what: 'end a' },
        { at: 10, what: 'start b' }, // b before e: first come, first served on Y
        { at: 10, what: 'start d' },
        { at: 14, what: 'end d' },
        { at: 15, what: 'end b' },
        { at: 15, what: 'start e' },
        { at: 17, what: 'end e' },
      ]);
      expect(overlaps).toEqual([]);
      expect(guard.running).toEqual([]);
      expect(guard.waiting).toEqual([]);
    }),
  );

  it(
    'should fail a batch sharing an account at once with onOverlap fail, and run the others',
    marbles((m) => {
      const guard = createOverlapGuard({ onOverlap: 'fail' });
      const a = guard.run({ label: 'a', accountCodes: ['X', 'Y'] }, () => m.cold('----a|'));
      const b = guard.run({ label: 'b', accountCodes: ['Y', 'Q'] }, () => m.cold('b|'));
      const c = guard.run({ label: 'c', accountCodes: ['Z'] }, () => m.cold('c|'));
      m.expect(a).toBeObservable('----a|');
      m.expect(b).toBeObservable('#', undefined, new AccountOverlapError('b', ['Y'], ['a']));
      m.expect(c).toBeObservable('c|');
      m.flush();
      // Once a is done, Y is free again.
      let after: string | undefined;
      guard.run({ label: 'd', accountCodes: ['Y'] }, () => of('d')).subscribe((v) => (after = v));
      expect(after).toBe('d');
    }),
  );

  it(
    'should hand the accounts on when a running batch is unsubscribed or errors, and drop a waiting one that leaves',
    marbles((m) => {
      const guard = createOverlapGuard();
      const first = m.cold('--------a|');
      const second = m.cold('b|');
      const third = m.cold('(c|)');
      const failing = m.cold('-#');
      const a = guard.run({ label: 'a', accountCodes: ['X'] }, () => first);
      const b = guard.run({ label: 'b', accountCodes: ['X'] }, () => second);
      const c = guard.run({ label: 'c', accountCodes: ['X'] }, () => third);
      m.expect(a, '^--!').toBeObservable('---');
      m.expect(b, '^-!').toBeObservable('--'); // leaves while waiting
      m.expect(c).toBeObservable('---(c|)'); // starts when a is unsubscribed at 3
      m.expect(first).toHaveSubscriptions('^--!');
      m.expect(second).toHaveSubscriptions([]);
      m.expect(third).toHaveSubscriptions('---(^!)');

      const x = guard.run({ label: 'x', accountCodes: ['K'] }, () => failing);
      const y = guard.run({ label: 'y', accountCodes: ['K'] }, () => of('y'));
      m.expect(x).toBeObservable('-#');
      m.expect(y).toBeObservable('-(y|)');
    }),
  );

  it('should start a long chain of synchronous batches on one account without growing the stack', () => {
    const guard = createOverlapGuard();
    const gate = new Subject<number>();
    const n = 5000;
    let count = 0;
    // The first holds X while the others queue behind it; then each one, finishing at once, starts the next.
    merge(
      guard.run({ label: 'first', accountCodes: ['X'] }, () => gate),
      ...Array.from({ length: n }, (_, i) => guard.run({ label: String(i), accountCodes: ['X'] }, () => of(i))),
    ).subscribe(() => count++);
    expect(guard.waiting).toHaveLength(n);
    gate.complete();
    expect(count).toBe(n);
    expect(guard.waiting).toEqual([]);
  });

  it('should pass the work error on and release the accounts', () => {
    const guard = createOverlapGuard();
    const error = new Error('boom');
    let seen: unknown;
    guard.run({ label: 'a', accountCodes: ['X'] }, () => throwError(() => error)).subscribe({ error: (e: unknown) => (seen = e) });
    expect(seen).toBe(error);
    expect(guard.running).toEqual([]);
  });

  it('should keep the key-free message of AccountOverlapError short', () => {
    const error = new AccountOverlapError('chunk 3', ['A', 'B', 'C', 'D', 'E', 'F', 'G'], ['chunk 1']);
    expect(error.message).toBe('chunk 3 shares accounts with chunk 1 still in flight: A, B, C, D, E, … (7)');
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: 'ACCOUNT_OVERLAP', blockedBy: ['chunk 1'] });
  });

  it('should throw a TypeError for an unknown onOverlap policy', () => {
    expect(() => createOverlapGuard({ onOverlap: 'skip' as 'wait' })).toThrow(TypeError);
  });
});

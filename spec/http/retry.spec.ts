import { defer, Observable, Subscription, throwError } from 'rxjs';
import { marbles } from 'rxjs-marbles/jest';
import type { Context } from 'rxjs-marbles/jest';
import { ConnectionError, DecodeError, InvalidResponseError, makeApiError } from '../../src/http/errors';
import {
  DEFAULT_RETRY,
  createThrottle,
  isRetryable,
  parseRetryAfter,
  resolveRetryConfig,
  retryDelay,
  resolveRetryPolicy,
  subscribeWithRetry,
} from '../../src/http/retry';
import type { RetryConfig } from '../../src/http/retry';
import { retryOperator } from '../support/retryOperator';

const http = (status: number, retryAfterMs?: number) => makeApiError({ status, retryAfterMs });
const noJitter = (m: Context, extra: RetryConfig & { idempotent?: boolean } = {}): RetryConfig & { idempotent?: boolean } => ({
  initialDelayMs: 10,
  factor: 2,
  maxDelayMs: 1000,
  jitter: 0,
  scheduler: m.scheduler,
  ...extra,
});

/** A source whose n-th subscription (from 0) is `attempts[n]`, recording when each started. */
function attempts<T>(m: Context, list: ReadonlyArray<() => Observable<T>>, times: number[]): Observable<T> {
  let n = 0;
  return defer(() => {
    times.push(m.scheduler.now());
    const next = list[Math.min(n, list.length - 1)];
    n += 1;
    return next();
  });
}

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 0, 15, 12, 0, 0);

  it('should read delay-seconds, integer or decimal, as ms', () => {
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter(' 2 ', now)).toBe(2000);
  });

  it('should read an HTTP date as the ms until it', () => {
    expect(parseRetryAfter('Wed, 15 Jan 2025 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wednesday, 15-Jan-25 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed Jan 15 12:00:10 2025', now)).toBe(10_000);
  });

  it('should read a past HTTP date as 0', () => {
    expect(parseRetryAfter('Tue, 14 Jan 2025 12:00:00 GMT', now)).toBe(0);
  });

  it('should refuse negative numbers, junk, words and impossible dates', () => {
    for (const value of [undefined, '', ' ', '-1', '-0.5', 'soon', 'NaN', 'Infinity', '1e3', '5 seconds', '1,5', 'Wed, 31 Feb 2025 12:00:00 GMT', '9'.repeat(400)]) {
      const parsed = parseRetryAfter(value, now);
      expect([value, parsed]).toEqual([value, undefined]);
    }
  });
});

describe('isRetryable', () => {
  it('should retry 408, 429, 5xx and connection failures of an idempotent request', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) expect(isRetryable(http(status), { idempotent: true })).toBe(true);
    expect(isRetryable(new ConnectionError('reset', { mayHaveReachedServer: true }), { idempotent: true })).toBe(true);
  });

  it('should never retry 400, 401, 404, 413, invalid responses, decode errors or programming errors', () => {
    const never = [
      http(400),
      http(401),
      http(404),
      http(413),
      new InvalidResponseError({ status: 200, body: '<html>', reason: 'an HTML page' }),
      new DecodeError('x', ['a'], ['a: required']),
      new TypeError('bug'),
    ];
    for (const error of never) {
      expect(isRetryable(error, { idempotent: true })).toBe(false);
      expect(isRetryable(error, { idempotent: false })).toBe(false);
    }
  });

  it('should retry a submit only when the server cannot have acted on it', () => {
    const submit = { idempotent: false };
    expect(isRetryable(http(429), submit)).toBe(true);
    expect(isRetryable(http(503), submit)).toBe(true);
    expect(isRetryable(http(500), submit)).toBe(false);
    expect(isRetryable(http(502), submit)).toBe(false);
    expect(isRetryable(new ConnectionError('refused', { mayHaveReachedServer: false }), submit)).toBe(true);
    expect(isRetryable(new ConnectionError('hang up', { mayHaveReachedServer: true }), submit)).toBe(false);
  });
});

describe('retryDelay', () => {
  it('should apply jitter around the backoff from the injected random source', () => {
    const config = (random: () => number) => resolveRetryConfig({ initialDelayMs: 100, factor: 2, jitter: 0.5, random });
    expect(retryDelay(config(() => 0), 1)).toBe(50);
    expect(retryDelay(config(() => 0.5), 1)).toBe(100);
    expect(retryDelay(config(() => 0.75), 2)).toBe(250);
  });

  it('should use the defaults when no config is given', () => {
    const config = resolveRetryConfig({ random: () => 0.5 });
    expect(config.maxRetries).toBe(DEFAULT_RETRY.maxRetries);
    expect(retryDelay(config, 1)).toBe(DEFAULT_RETRY.initialDelayMs);
    expect(retryDelay(config, 20)).toBe(DEFAULT_RETRY.maxDelayMs);
  });
});

describe('subscribeWithRetry policy (through retryOperator)', () => {
  it('should throw a TypeError when made with an invalid config', () => {
    const bad: RetryConfig[] = [
      { maxRetries: -1 },
      { maxRetries: 1.5 },
      { maxRetries: Number.NaN },
      { initialDelayMs: -1 },
      { initialDelayMs: Number.NaN },
      { factor: 0.5 },
      { maxDelayMs: Number.POSITIVE_INFINITY },
      { jitter: 1.5 },
      { jitter: -0.1 },
      { jitter: Number.NaN },
    ];
    for (const config of bad) expect(() => retryOperator(config)).toThrow(TypeError);
    expect(() => retryOperator({})).not.toThrow();
  });

  it(
    'should back off exponentially up to the cap, then pass the error on',
    marbles((m) => {
      const error = http(503);
      const source = m.cold('-#', undefined, error);
      const result = source.pipe(retryOperator(noJitter(m, { maxRetries: 4, maxDelayMs: 30 })));
      // waits 10, 20, 30 (capped from 40), 30 (capped from 80)
      m.expect(result).toBeObservable('95ms #', undefined, error);
      m.expect(source).toHaveSubscriptions(['^!', '11ms ^!', '32ms ^!', '63ms ^!', '94ms ^!']);
    }),
  );

  it(
    'should spread the waits with jitter from the injected random source',
    marbles((m) => {
      const error = http(500);
      const source = m.cold('-#', undefined, error);
      const config = noJitter(m, { maxRetries: 2, initialDelayMs: 100, jitter: 0.5, random: () => 0 });
      m.expect(source.pipe(retryOperator(config))).toBeObservable('153ms #', undefined, error);
      m.expect(source).toHaveSubscriptions(['^!', '51ms ^!', '152ms ^!']);
    }),
  );

  it(
    'should wait for Retry-After in seconds instead of the backoff',
    marbles((m) => {
      const error = http(429, parseRetryAfter('0.2', m.scheduler.now()));
      const source = m.cold('-#', undefined, error);
      m.expect(source.pipe(retryOperator(noJitter(m, { maxRetries: 1 })))).toBeObservable('202ms #', undefined, error);
      m.expect(source).toHaveSubscriptions(['^!', '201ms ^!']);
    }),
  );

  it(
    'should wait until a Retry-After HTTP date',
    marbles((m) => {
      const times: number[] = [];
      const source = attempts(
        m,
        [
          // The test scheduler's clock starts at the epoch: this date is one second after it.
          () => throwError(() => http(429, parseRetryAfter('Thu, 01 Jan 1970 00:00:01 GMT', m.scheduler.now()))),
          () => m.cold('a|'),
        ],
        times,
      );
      m.expect(source.pipe(retryOperator(noJitter(m, { maxDelayMs: 5000 })))).toBeObservable('1000ms a|');
      m.flush();
      expect(times).toEqual([0, 1000]);
    }),
  );

  it(
    'should retry at once when the Retry-After date is past',
    marbles((m) => {
      const times: number[] = [];
      const past = 'Wed, 31 Dec 1969 23:59:00 GMT';
      const source = attempts(m, [() => m.cold('5ms #', undefined, http(503, parseRetryAfter(past, m.scheduler.now()))), () => m.cold('a|')], times);
      m.expect(source.pipe(retryOperator(noJitter(m, { initialDelayMs: 50 })))).toBeObservable('5ms a|');
      m.flush();
      expect(times).toEqual([0, 5]);
    }),
  );

  it(
    'should fall back to the backoff when Retry-After is junk',
    marbles((m) => {
      const error = http(429, parseRetryAfter('in a while', 0));
      const source = m.cold('-#', undefined, error);
      m.expect(source.pipe(retryOperator(noJitter(m, { maxRetries: 1, initialDelayMs: 40 })))).toBeObservable('42ms #', undefined, error);
    }),
  );

  it(
    'should cap a server hint at maxDelayMs',
    marbles((m) => {
      const error = http(429, 60_000);
      const source = m.cold('-#', undefined, error);
      m.expect(source.pipe(retryOperator(noJitter(m, { maxRetries: 1, maxDelayMs: 70 })))).toBeObservable('72ms #', undefined, error);
    }),
  );

  it(
    'should count only consecutive failures: a success resets the count',
    marbles((m) => {
      const times: number[] = [];
      const error = http(503);
      const fail = () => m.cold('-#', undefined, error);
      const source = attempts(m, [fail, fail, () => m.cold('-a#', undefined, error), fail, () => m.cold('-b|')], times);
      // With maxRetries 2, the third failure in a row would give up: the value before it resets the count.
      m.expect(source.pipe(retryOperator(noJitter(m, { maxRetries: 2 })))).toBeObservable('33ms a 32ms b|');
      m.flush();
      expect(times).toEqual([0, 11, 32, 44, 65]);
    }),
  );

  it(
    'should give up after maxRetries consecutive failures even when some came earlier',
    marbles((m) => {
      const times: number[] = [];
      const error = http(503);
      const fail = () => m.cold('-#', undefined, error);
      const source = attempts(m, [fail, () => m.cold('-a#', undefined, error), fail, fail, fail], times);
      m.expect(source.pipe(retryOperator(noJitter(m, { maxRetries: 2 })))).toBeObservable('12ms a 32ms #', undefined, error);
    }),
  );

  for (const status of [400, 401, 404, 413]) {
    it(
      `should never retry an HTTP ${status}`,
      marbles((m) => {
        const error = http(status);
        const source = m.cold('-#', undefined, error);
        m.expect(source.pipe(retryOperator(noJitter(m)))).toBeObservable('-#', undefined, error);
        m.expect(source).toHaveSubscriptions('^!');
      }),
    );
  }

  it(
    'should not retry a submit whose request may have reached the server',
    marbles((m) => {
      const error = new ConnectionError('socket hang up', { mayHaveReachedServer: true });
      const source = m.cold('-#', undefined, error);
      m.expect(source.pipe(retryOperator(noJitter(m, { idempotent: false })))).toBeObservable('-#', undefined, error);
      m.expect(source).toHaveSubscriptions('^!');
    }),
  );

  it(
    'should retry a submit that was refused before any byte was sent',
    marbles((m) => {
      const error = new ConnectionError('ECONNREFUSED', { mayHaveReachedServer: false });
      const source = m.cold('-#', undefined, error);
      m.expect(source.pipe(retryOperator(noJitter(m, { idempotent: false, maxRetries: 1 })))).toBeObservable('12ms #', undefined, error);
      m.expect(source).toHaveSubscriptions(['^!', '11ms ^!']);
    }),
  );

  it(
    'should retry a submit on 429 and 503 but not on 500',
    marbles((m) => {
      const submit = noJitter(m, { idempotent: false, maxRetries: 1 });
      for (const status of [429, 503]) {
        const error = http(status);
        m.expect(m.cold('-#', undefined, error).pipe(retryOperator(submit))).toBeObservable('12ms #', undefined, error);
      }
      const fatal = http(500);
      m.expect(m.cold('-#', undefined, fatal).pipe(retryOperator(submit))).toBeObservable('-#', undefined, fatal);
    }),
  );
});

describe('createThrottle', () => {
  /** Starts at `atMs` a request through the throttle, recording when it really started. */
  const startAt = (m: Context, throttle: ReturnType<typeof createThrottle>, atMs: number, started: number[]): void => {
    m.scheduler.schedule(() => {
      throttle.whenOpen(() => {
        started.push(m.scheduler.now());
        return undefined;
      }, undefined);
    }, atMs);
  };

  it(
    'should hold a request until the pause is over',
    marbles((m) => {
      const throttle = createThrottle(m.scheduler);
      const started: number[] = [];
      m.scheduler.schedule(() => throttle.pauseUntil(50), 10);
      startAt(m, throttle, 20, started);
      m.flush();
      expect(started).toEqual([50]);
    }),
  );

  it(
    'should let a request through at once when there is no pause',
    marbles((m) => {
      const throttle = createThrottle(m.scheduler);
      const started: number[] = [];
      throttle.pauseUntil(-5);
      startAt(m, throttle, 1, started);
      m.flush();
      expect(started).toEqual([1]);
    }),
  );

  it(
    'should wait again when the pause was extended while waiting',
    marbles((m) => {
      const throttle = createThrottle(m.scheduler);
      const started: number[] = [];
      throttle.pauseUntil(30);
      m.scheduler.schedule(() => throttle.pauseUntil(80), 20);
      m.scheduler.schedule(() => throttle.pauseUntil(40), 25);
      startAt(m, throttle, 0, started);
      m.flush();
      expect(started).toEqual([80]);
    }),
  );
});

describe('subscribeWithRetry', () => {
  it(
    'should start no further attempt once torn down during the wait before a retry',
    marbles((m) => {
      const starts: number[] = [];
      const policy = resolveRetryPolicy(noJitter(m, { maxRetries: 3 }));
      const source = new Observable<string>((subscriber) =>
        subscribeWithRetry(subscriber, policy, (fail) => {
          starts.push(m.scheduler.now());
          const failing = m.scheduler.schedule(() => fail(http(503)), 1);
          return failing;
        }),
      );
      // Attempts at 0 and 11 (failing at 1 and 12); torn down at 20, during the 20 ms wait.
      m.expect(source, '^ 19ms !').toBeObservable('');
      m.flush();
      expect(starts).toEqual([0, 11]);
      expect(m.scheduler.actions).toHaveLength(0);
    }),
  );

  it(
    'should end an attempt that fails while it starts, and ignore a later failure of it',
    marbles((m) => {
      const ended: number[] = [];
      const policy = resolveRetryPolicy(noJitter(m, { maxRetries: 1 }));
      let attempts = 0;
      let lateFail: ((error: unknown) => void) | undefined;
      const source = new Observable<string>((subscriber) =>
        subscribeWithRetry(subscriber, policy, (fail) => {
          const n = attempts++;
          if (n === 0) {
            fail(http(503));
            lateFail = fail;
            return new Subscription(() => ended.push(n));
          }
          subscriber.next('ok');
          subscriber.complete();
          return undefined;
        }),
      );
      m.expect(source).toBeObservable('10ms (a|)', { a: 'ok' });
      m.flush();
      lateFail?.(http(503));
      expect(ended).toEqual([0]);
      expect(attempts).toBe(2);
    }),
  );
});

describe('createThrottle whenOpen', () => {
  it(
    'should run the start function at once without a pause, and after it otherwise, with its argument',
    marbles((m) => {
      const throttle = createThrottle(m.scheduler);
      const started: Array<[number, string]> = [];
      const start = (label: string) => {
        started.push([m.scheduler.now(), label]);
        return undefined;
      };
      throttle.whenOpen(start, 'open');
      throttle.pauseUntil(30);
      throttle.whenOpen(start, 'held');
      m.flush();
      expect(started).toEqual([
        [0, 'open'],
        [30, 'held'],
      ]);
    }),
  );

  it(
    'should cancel the wait, and never start, when torn down during a pause',
    marbles((m) => {
      const throttle = createThrottle(m.scheduler);
      throttle.pauseUntil(30);
      let started = false;
      const teardown = throttle.whenOpen(() => {
        started = true;
        return undefined;
      }, undefined);
      m.scheduler.schedule(() => (typeof teardown === 'function' ? teardown() : teardown?.unsubscribe()), 10);
      m.flush();
      expect(started).toBe(false);
      expect(m.scheduler.actions).toHaveLength(0);
    }),
  );
});

/**
 * The retry policy as an operator, for marble specs: the client runs `subscribeWithRetry`
 * inside each request, so the policy's timing rules are driven through this thin wrapper.
 */
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { resolveRetryPolicy, subscribeWithRetry, type RetryConfig } from '../../src/http/retry';

/**
 * Resubscribes to the source as the client's retry loop would retry a request.
 *
 * Example: `m.cold('-#').pipe(retryOperator({ maxRetries: 1, scheduler: m.scheduler }))`
 *
 * @param config the policy, plus `idempotent` (default true)
 */
export function retryOperator<T>(config: RetryConfig & { readonly idempotent?: boolean } = {}): MonoTypeOperatorFunction<T> {
  const policy = resolveRetryPolicy(config);
  return (source) =>
    new Observable<T>((subscriber) =>
      subscribeWithRetry(subscriber, policy, (fail, succeeded) =>
        source.subscribe({
          next: (value) => {
            succeeded();
            subscriber.next(value);
          },
          error: fail,
          complete: () => subscriber.complete(),
        }),
      ),
    );
}

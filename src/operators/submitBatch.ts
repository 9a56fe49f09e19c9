/**
 * The submit step: one portfolio in, one accepted batch handle out.
 */
import { asyncScheduler, concatMap, defer, map, take, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { accountCodesOf, PROCESSING_MODES, type PortfolioRequest, type ProcessingMode } from '../codecs';
import type { C9Client } from '../http/client';
import { isStreamedPortfolio, type StreamedPortfolioRequest } from '../http/serializePayload';
import type { SubmittedBatch } from '../types';

/** Options of {@link submitBatch}. */
export interface SubmitBatchConfig {
  /** `x-processing-mode` of every submit. Default `fifo`. */
  readonly processingMode?: ProcessingMode;
  /** The clock of `submittedAt`. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Submits each portfolio request with `POST /portfolios/batch` and emits its batch handle.
 * A streamed request (`openPortfolio`) is read from its file as the body is written; its
 * handle keeps the account codes found when the file was opened.
 *
 * Requests are submitted one at a time, in input order (`concatMap`): the server queues
 * batches in arrival order (`fifo`), and `replace_all` drops every batch still queued, so
 * overlapping submits would make the resulting queue depend on network timing. Retries are
 * the client's job; this operator adds none (a second submit could create a second batch).
 *
 * ```
 * request:   p----q--------------|
 * submit p:  ^------a
 * submit q:         ^---b            (q arrived at 5 but waits for p's answer)
 * output:    -------A---B--------|   A = {batchId: a, accountCodes, submittedAt: t(p sent), …}
 * ```
 *
 * Example:
 * ```ts
 * of(payload).pipe(submitBatch(client, { processingMode: 'priority' }))
 *   .subscribe((batch) => console.log(batch.batchId, batch.accountCodes));
 * ```
 *
 * @param client the API client that sends the request (and retries it when that is safe)
 * @param config `processingMode` (default `fifo`) and the `scheduler` whose clock stamps `submittedAt`
 * @throws TypeError when the processing mode is not one the API knows
 */
export function submitBatch(client: C9Client, config: SubmitBatchConfig = {}): OperatorFunction<PortfolioRequest | StreamedPortfolioRequest, SubmittedBatch> {
  const { processingMode = 'fifo', scheduler = asyncScheduler } = config;
  if (!(PROCESSING_MODES as readonly string[]).includes(processingMode)) {
    throw new TypeError(`submitBatch: processingMode must be one of ${PROCESSING_MODES.join(', ')}; got ${JSON.stringify(processingMode)}`);
  }
  if (typeof scheduler?.now !== 'function' || typeof scheduler.schedule !== 'function') {
    throw new TypeError('submitBatch: scheduler must be an RxJS scheduler');
  }

  return concatMap((payload) =>
    // defer: the stamp is taken when this submit is actually sent, which under concatMap
    // can be long after the request arrived.
    defer(() => {
      const sentAt = scheduler.now();
      // Read before sending: the caller may reuse the payload object once it is submitted.
      // A streamed request brings its account codes: its positions are not held anywhere.
      const streamed = isStreamedPortfolio(payload);
      const accountCodes = streamed ? [...payload.accountCodes] : accountCodesOf(payload.portfolio);
      const requested = streamed ? payload.options.request_id : payload.request_id;
      const requestId = typeof requested === 'string' && requested !== '' ? requested : undefined;
      return client.submitBatch(payload, { processingMode }).pipe(
        take(1),
        map(
          (accepted): SubmittedBatch => ({
            batchId: accepted.batch_id,
            accountCodes,
            submittedAt: new Date(sentAt).toISOString(),
            processingMode,
            endpoint: client.endpoint,
            ...(requestId === undefined ? {} : { requestId }),
          }),
        ),
      );
    }),
  );
}

/**
 * Codecs of the batch endpoints: the 202 answer of a submit and the status of a batch.
 */
import * as t from 'io-ts';
import { Numeric, nullish } from './primitives';

/** `POST /portfolios/batch` → 202. */
export const BatchAccepted = t.type({ batch_id: t.string }, 'BatchAccepted');
export type BatchAccepted = t.TypeOf<typeof BatchAccepted>;

/** The statuses the API documents. Others may arrive: they are data, and non-terminal. */
export const KNOWN_STATUSES = ['queued', 'processing', 'completed', 'failed', 'completed_with_errors'] as const;
export type KnownBatchStatus = (typeof KNOWN_STATUSES)[number];
export type TerminalStatus = 'completed' | 'failed' | 'completed_with_errors';

const TERMINAL: ReadonlySet<string> = new Set<TerminalStatus>(['completed', 'failed', 'completed_with_errors']);

/** True for `completed`, `failed` and `completed_with_errors`; false for anything else, unknown values included. */
export function isTerminalStatus(status: string): status is TerminalStatus {
  return TERMINAL.has(status);
}

/** `GET /portfolios/batch/{id}` → 200. Unknown fields are kept. */
export const BatchStatus = t.intersection(
  [
    t.type({ batch_id: t.string, status: t.string }),
    t.partial({
      queue_position: nullish(Numeric),
      created_at: nullish(t.string),
      completed_at: nullish(t.string),
      runtime_ms: nullish(Numeric),
      completed_pct: nullish(Numeric),
      error: nullish(t.string),
    }),
  ],
  'BatchStatus',
);
export type BatchStatus = t.TypeOf<typeof BatchStatus>;

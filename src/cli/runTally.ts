/**
 * What the CLI knows about a fan-out run at any moment, kept from its events: which chunk
 * each batch is, which batches are still running, their last status and results. It is
 * what Ctrl-C lists, what the deadline turns into timeouts, and what `--out` writes.
 */
import { formatMs, BatchTimeoutError } from '../http/errors';
import type { AccountResult, BatchStatus } from '../codecs';
import type { ReportSplit, RunOutcome, UnsubmittedOutcome } from '../streams/report';
import type { RunBatchesEvent } from '../streams/runBatches';
import type { BatchResults, SubmittedBatch } from '../types';

/** One part of the input as the run numbers it: chunk `"3"` is the third payload. */
export interface ChunkPlan {
  readonly chunk: string;
  readonly accountCodes: readonly string[];
}

/** A chunk the run's deadline stopped before the server accepted it. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

interface Accepted {
  readonly chunk: string;
  readonly batch: SubmittedBatch;
  readonly acceptedAt: number;
  status?: BatchStatus;
  results?: BatchResults;
  error?: Error;
  done: boolean;
}

/**
 * Order of chunk labels as in the input: `"2"` before `"10"`, and a chunk's halves after a
 * 413 (`"3.1"`, `"3.2.1"`) where the chunk was.
 *
 * Example: `['10', '2', '1.2', '1.1'].sort(compareChunks)` → `['1.1', '1.2', '2', '10']`
 *
 * @param a a chunk label
 * @param b another chunk label
 */
export function compareChunks(a: string, b: string): number {
  const parts = (label: string): number[] => label.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : Infinity));
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
}

/** The state of a run, fed with its events by {@link RunTally.record}. */
export class RunTally {
  private readonly accountChunk = new Map<string, string>();
  private readonly batchChunk = new Map<string, string>();
  private readonly accepted = new Map<string, Accepted>();
  private readonly refused: UnsubmittedOutcome[] = [];
  private readonly splitList: ReportSplit[] = [];

  /**
   * @param plan the chunks of the run, in input order
   * @param now the clock of elapsed times (ms)
   * @param batchChunks known batch ids and their chunk (resume: the saved handles)
   */
  constructor(
    private readonly plan: readonly ChunkPlan[],
    private readonly now: () => number,
    batchChunks: ReadonlyMap<string, string> = new Map(),
  ) {
    for (const { chunk, accountCodes } of plan) for (const code of accountCodes) this.accountChunk.set(code, chunk);
    for (const [id, chunk] of batchChunks) this.batchChunk.set(id, chunk);
  }

  /** Number of chunks in the plan. */
  get total(): number {
    return this.plan.length;
  }

  /** The 413 splits so far. */
  get splits(): readonly ReportSplit[] {
    return this.splitList;
  }

  /**
   * The chunk label an event is about: its own `chunk`, or the chunk of its batch.
   *
   * Example: `tally.chunkOf(event)` → `'3.1'`
   *
   * @param event an event of the run
   */
  chunkOf(event: RunBatchesEvent): string {
    if (event.type === 'report') return '';
    if ('batch' in event && event.batch !== undefined) return this.chunkOfBatch(event.batch);
    return 'chunk' in event ? event.chunk : '';
  }

  private chunkOfBatch(batch: SubmittedBatch): string {
    const known = this.batchChunk.get(batch.batchId);
    if (known !== undefined) return known;
    const chunk = this.accountChunk.get(batch.accountCodes[0] ?? '') ?? '?';
    this.batchChunk.set(batch.batchId, chunk);
    return chunk;
  }

  /**
   * Takes one event into account.
   *
   * Example: `events$.pipe(tap((e) => tally.record(e)))`
   *
   * @param event an event of `runBatches` or `resumeBatches`
   */
  record(event: RunBatchesEvent): void {
    switch (event.type) {
      case 'submitted': {
        const chunk = this.chunkOfBatch(event.batch);
        if (!this.accepted.has(event.batch.batchId)) {
          this.accepted.set(event.batch.batchId, { chunk, batch: event.batch, acceptedAt: this.now(), done: false });
        }
        break;
      }
      case 'status': {
        const state = this.accepted.get(event.batch.batchId);
        if (state) state.status = event.status;
        break;
      }
      case 'results': {
        const state = this.accepted.get(event.batch.batchId);
        if (state) {
          state.results = event.results;
          state.done = true;
        }
        break;
      }
      case 'split': {
        this.splitList.push({ chunk: event.chunk, accounts: event.accountCodes.length, into: event.into });
        // runBatches gives the first half the first ceil(n/2) accounts: label them so.
        const half = Math.ceil(event.accountCodes.length / 2);
        event.accountCodes.forEach((code, i) => this.accountChunk.set(code, event.into[i < half ? 0 : 1]));
        break;
      }
      case 'error': {
        const state = event.batch === undefined ? undefined : this.accepted.get(event.batch.batchId);
        if (state) {
          state.error = event.error;
          state.done = true;
        } else this.refused.push({ chunk: event.chunk, accountCodes: event.accountCodes, error: event.error });
        break;
      }
      default:
        break;
    }
  }

  /** Accepted batches without results or an error yet, in input order. */
  running(): SubmittedBatch[] {
    return this.sortedAccepted()
      .filter((s) => !s.done)
      .map((s) => s.batch);
  }

  /** A batch the deadline stopped, as a timeout error with its last state. */
  private timeoutOf(state: Accepted): BatchTimeoutError {
    const queue = state.status?.queue_position;
    return new BatchTimeoutError({
      batchId: state.batch.batchId,
      lastStatus: state.status?.status,
      queuePosition: queue ?? undefined,
      elapsedMs: this.now() - state.acceptedAt,
    });
  }

  /**
   * Every batch and chunk as the report lists them, in input order. With `deadlineMs`, the
   * run was stopped by its deadline: batches still running get a timeout error, and the
   * accounts of chunks never accepted (waiting, or their submit unanswered) are listed as
   * not submitted.
   *
   * Example: `buildReport(tally.outcomes({ deadlineMs: 300_000 }), { splits: tally.splits })`
   *
   * @param stopped `deadlineMs`: the run's deadline, when it ended the run
   */
  outcomes(stopped: { readonly deadlineMs?: number } = {}): RunOutcome[] {
    const entries: { chunk: string; outcome: RunOutcome }[] = [];
    const covered = new Set<string>();
    for (const state of this.accepted.values()) {
      state.batch.accountCodes.forEach((code) => covered.add(code));
      const error = state.error ?? (!state.done && stopped.deadlineMs !== undefined ? this.timeoutOf(state) : undefined);
      entries.push({ chunk: state.chunk, outcome: { batch: state.batch, status: state.status, results: state.results, error } });
    }
    for (const refused of this.refused) {
      refused.accountCodes.forEach((code) => covered.add(code));
      entries.push({ chunk: refused.chunk, outcome: refused });
    }
    if (stopped.deadlineMs !== undefined) {
      const left = new Map<string, string[]>();
      for (const { accountCodes } of this.plan) {
        for (const code of accountCodes) {
          if (covered.has(code)) continue;
          const chunk = this.accountChunk.get(code) ?? '?';
          const list = left.get(chunk) ?? [];
          list.push(code);
          left.set(chunk, list);
        }
      }
      const error = new DeadlineError(`the run's deadline (${formatMs(stopped.deadlineMs)}) passed before it was accepted`);
      for (const [chunk, accountCodes] of left) entries.push({ chunk, outcome: { chunk, accountCodes, error } });
    }
    return entries.sort((a, b) => compareChunks(a.chunk, b.chunk)).map((e) => e.outcome);
  }

  /** The kept result rows (fresh master rows, then their sub-account rows, batch by batch), for `--out`. */
  rows(): AccountResult[] {
    return this.sortedAccepted().flatMap((s) => (s.results === undefined ? [] : [...s.results.rows, ...s.results.subAccountRows]));
  }

  private sortedAccepted(): Accepted[] {
    return [...this.accepted.values()].sort((a, b) => compareChunks(a.chunk, b.chunk));
  }
}

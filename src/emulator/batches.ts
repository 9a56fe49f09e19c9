/**
 * Background batches: a queue per user, a number of workers per user, and processing in
 * chunks of accounts so progress rises in steps.
 */
import { randomUUID } from 'node:crypto';
import type { Faults } from './faults';
import { accountRows } from './rows';
import type { ResultStore, UndoLog } from './store';
import type { Timers } from './timers';
import type { ValidatedRequest } from './validate';

/** `x-processing-mode` values. */
export const PROCESSING_MODES = ['fifo', 'priority', 'replace_all'] as const;
export type ProcessingMode = (typeof PROCESSING_MODES)[number];

/** The error of a batch dropped by a later `replace_all`, as CONTRACT.md fixes it. */
export const REPLACED_ERROR = 'replaced by a later replace_all batch';
/** The error of a batch none of whose accounts could be margined. */
export const NOTHING_MARGINED_ERROR = 'no account could be margined';
/** The error of a batch whose processing threw (an emulator bug, reported instead of crashing the process). */
export const INTERNAL_ERROR = 'Internal Server Error';

export type BatchState = 'queued' | 'processing' | 'completed' | 'failed' | 'completed_with_errors';

/** A user, as far as batches are concerned. */
export interface BatchOwner {
  readonly username: string;
  readonly store: ResultStore;
  /** Queued batches, in the order they will start (priority ones first). */
  readonly queue: Batch[];
  readonly processing: Set<Batch>;
  /** Set by the `lagResults` fault when a batch ends: results answer from before that batch. */
  lag: { remaining: number; undo: UndoLog } | undefined;
}

/** One batch. */
export interface Batch {
  readonly id: string;
  readonly owner: BatchOwner;
  readonly mode: ProcessingMode;
  readonly createdAt: number;
  readonly total: number;
  state: BatchState;
  completedAt: number | undefined;
  /** Dropped once the batch ends, so a finished batch holds no positions. */
  request: ValidatedRequest | undefined;
  processed: number;
  failedAccounts: number;
  exceptionCount: number;
  error: string | undefined;
  undo: UndoLog;
  /** Stopped by a `processing` hold, waiting for a release. */
  parked: boolean;
}

/** The body of `GET /portfolios/batch/{id}`. */
export interface BatchStatusBody {
  batch_id: string;
  status: string;
  queue_position?: number;
  created_at: string;
  completed_at: string | null;
  runtime_ms: number;
  completed_pct: number;
  error?: string;
}

/** How fast batches go. */
export interface BatchTiming {
  readonly workers: number;
  readonly msPerAccount: number;
  readonly msPerBatch: number;
  /** Accounts per step; undefined: a tenth of the batch (at least 1). */
  readonly chunkAccounts: number | undefined;
}

const TERMINAL: readonly BatchState[] = ['completed', 'failed', 'completed_with_errors'];

/**
 * Runs every user's batches.
 *
 * Order within a user: `priority` batches go ahead of queued `fifo` ones (FIFO among
 * themselves); `replace_all` fails every queued (not processing) batch of the user, then queues
 * itself. Up to `workers` batches of a user process at once. A batch waits `msPerBatch`, then
 * processes `chunkAccounts` accounts per `chunkAccounts × msPerAccount`; each margined account
 * replaces that account's rows in the owner's live store.
 *
 * Terminal state: `failed` when no account could be margined; `completed_with_errors` when some
 * account could not be margined or any position became an exception; `completed` otherwise
 * (closest matches are corrections, not errors).
 */
export class BatchEngine {
  private readonly batches = new Map<string, Batch>();
  private readonly owners = new Set<BatchOwner>();
  private readonly parked = new Set<Batch>();

  constructor(
    private readonly timing: BatchTiming,
    private readonly timers: Timers,
    private readonly now: () => number,
    private readonly faults: Faults,
    private readonly started: string[],
  ) {}

  /** Queues a validated payload for `owner` and returns the new batch (maybe already processing). */
  submit(owner: BatchOwner, request: ValidatedRequest, mode: ProcessingMode): Batch {
    this.owners.add(owner);
    const batch: Batch = {
      id: randomUUID(),
      owner,
      mode,
      createdAt: this.now(),
      total: request.accounts.length,
      state: 'queued',
      completedAt: undefined,
      request,
      processed: 0,
      failedAccounts: 0,
      exceptionCount: 0,
      error: undefined,
      undo: new Map(),
      parked: false,
    };
    this.batches.set(batch.id, batch);
    if (mode === 'replace_all') {
      for (const dropped of owner.queue) this.end(dropped, 'failed', REPLACED_ERROR);
      owner.queue.length = 0;
    }
    if (mode === 'priority') {
      const firstNonPriority = owner.queue.findIndex((b) => b.mode !== 'priority');
      owner.queue.splice(firstNonPriority < 0 ? owner.queue.length : firstNonPriority, 0, batch);
    } else {
      owner.queue.push(batch);
    }
    this.pump(owner);
    return batch;
  }

  /** The batch with this id if `owner` owns it (another user's batch is as good as unknown). */
  find(id: string, owner: BatchOwner): Batch | undefined {
    const b = this.batches.get(id);
    return b && b.owner === owner ? b : undefined;
  }

  /** The status body of a batch, fault overrides applied. */
  statusBody(b: Batch): BatchStatusBody {
    const now = this.now();
    const realPct =
      b.state === 'failed' && b.error === REPLACED_ERROR ? 0 : TERMINAL.includes(b.state) ? 100 : b.total === 0 ? 0 : Math.round((b.processed / b.total) * 10000) / 100;
    const body: BatchStatusBody = {
      batch_id: b.id,
      status: this.faults.statusOf(b.id) ?? b.state,
      created_at: new Date(b.createdAt).toISOString(),
      completed_at: b.completedAt === undefined ? null : new Date(b.completedAt).toISOString(),
      runtime_ms: Math.max(0, Math.round((b.completedAt ?? now) - b.createdAt)),
      completed_pct: this.faults.takePct(b.id) ?? realPct,
    };
    if (b.state === 'queued') body.queue_position = b.owner.queue.indexOf(b);
    if (b.error !== undefined) body.error = b.error;
    return body;
  }

  /** Starts what a released hold lets start, and resumes parked batches. */
  wake(): void {
    for (const owner of this.owners) this.pump(owner);
    for (const b of [...this.parked]) {
      if (this.faults.holdOf(b.id) !== 'processing') {
        this.parked.delete(b);
        b.parked = false;
        this.timers.after(0, () => this.step(b));
      }
    }
  }

  private chunkSize(b: Batch): number {
    return this.timing.chunkAccounts ?? Math.max(1, Math.ceil(b.total / 10));
  }

  private pump(owner: BatchOwner): void {
    while (owner.processing.size < this.timing.workers) {
      const i = owner.queue.findIndex((b) => this.faults.holdOf(b.id) !== 'queued');
      if (i < 0) return;
      const [b] = owner.queue.splice(i, 1);
      b.state = 'processing';
      owner.processing.add(b);
      this.started.push(b.id);
      const first = Math.min(this.chunkSize(b), b.total);
      this.timers.after(this.timing.msPerBatch + first * this.timing.msPerAccount, () => this.step(b));
    }
  }

  // Runs in a timer: an exception here would end the whole process, so it fails the batch instead.
  private step(b: Batch): void {
    try {
      this.process(b);
    } catch {
      if (b.state === 'processing') {
        this.end(b, 'failed', INTERNAL_ERROR);
        this.finish(b);
      }
    }
  }

  private process(b: Batch): void {
    const request = b.request;
    if (b.state !== 'processing' || !request) return;
    if (this.faults.holdOf(b.id) === 'processing') {
      b.parked = true;
      this.parked.add(b);
      return;
    }
    const end = Math.min(b.processed + this.chunkSize(b), b.total);
    const submittedTime = new Date(this.now()).toISOString();
    for (let i = b.processed; i < end; i++) {
      const group = request.accounts[i];
      const outcome = accountRows(group, request, { requestId: b.id, username: b.owner.username, submittedTime });
      b.exceptionCount += outcome.exceptionCount;
      if (outcome.ok) b.owner.store.put(group.accountCode, { master: outcome.master, subs: outcome.subs }, b.undo);
      else b.failedAccounts++;
    }
    b.processed = end;
    if (end < b.total) {
      const next = Math.min(this.chunkSize(b), b.total - end);
      this.timers.after(next * this.timing.msPerAccount, () => this.step(b));
      return;
    }
    if (b.failedAccounts === b.total) this.end(b, 'failed', NOTHING_MARGINED_ERROR);
    else this.end(b, b.failedAccounts > 0 || b.exceptionCount > 0 ? 'completed_with_errors' : 'completed');
    this.finish(b);
  }

  private finish(b: Batch): void {
    b.owner.processing.delete(b);
    if (this.faults.resultsLag > 0) b.owner.lag = { remaining: this.faults.resultsLag, undo: b.undo };
    b.undo = new Map();
    this.pump(b.owner);
  }

  private end(b: Batch, state: BatchState, error?: string): void {
    b.state = state;
    b.error = error;
    b.completedAt = this.now();
    b.request = undefined;
  }
}

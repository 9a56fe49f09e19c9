/**
 * Progress of a run on stderr: a live bar per batch on a terminal, plain lines otherwise;
 * warnings (a stalled batch, a percentage going backwards) and per-batch errors either way.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { BatchStatus } from '../codecs';
import { formatMs } from '../http/errors';
import { redact } from '../http/redact';
import type { RunBatchesEvent } from '../streams/runBatches';
import type { SubmittedBatch } from '../types';
import { formatError } from './formatError';
import type { CliOutput } from './io';

/** Receives what happens to the batches of a run. */
export interface ProgressDisplay {
  /** An event of the run about chunk `chunk` (`"3"`, or `"3.1"` after a 413 split). */
  event(chunk: string, event: RunBatchesEvent): void;
  /** An informational line; above the bars on a terminal, not shown when quiet. */
  log(line: string): void;
  /** An error line; shown even when quiet (above the bars on a terminal). */
  error(line: string): void;
  /** Removes the live display; later lines go straight to the stream. */
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Number of chunks (batches before any 413 split) in the run. */
  readonly total: number;
  /** No progress or information; warnings and errors are still shown. */
  readonly quiet?: boolean;
  /** Plain lines even on a terminal. */
  readonly plain?: boolean;
  /** Stack traces on per-batch errors. */
  readonly verbose?: boolean;
  /** The clock for elapsed times, in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Following saved batches (`resume`): their `submitted` events say `resuming`, as nothing is sent. */
  readonly resuming?: boolean;
}

/**
 * Picks the display for `stream`: live bars when it is a terminal, plain lines when it is
 * a pipe or a file; only warnings and errors when quiet.
 *
 * Example: `const progress = createProgress(process.stderr, { total: chunks.length })`
 *
 * @param stream where progress goes (stderr: stdout is for the report)
 * @param options chunk count, quiet, plain, verbose, clock
 */
export function createProgress(stream: CliOutput, options: ProgressOptions): ProgressDisplay {
  if (!options.quiet && stream.isTTY && !options.plain) return new BarProgress(stream, options);
  return new LineProgress(stream, options);
}

/**
 * How a chunk is named on screen: `batch` alone for a one-batch run, `batch 3/5`, and
 * `batch 3/5 (part 1.2)` for a half after a 413 split.
 *
 * Example: `batchLabel('3.1', 5)` → `'batch 3/5 (part 1)'`
 *
 * @param chunk the chunk label (`"3"`, `"3.1.2"`)
 * @param total number of chunks of the run
 */
export function batchLabel(chunk: string, total: number): string {
  const [first, ...rest] = chunk.split('.');
  const base = total === 1 && first === '1' ? 'batch' : `batch ${first}/${total}`;
  return rest.length === 0 ? base : `${base} (part ${rest.join('.')})`;
}

function describeStatus(status: BatchStatus): { state: string; pct: number } {
  const { status: value, queue_position: queue, completed_pct: pct } = status;
  const state = queue === undefined || queue === null ? value : `${value}, queue position ${queue}`;
  return { state, pct: typeof pct === 'number' ? Math.max(0, Math.min(100, pct)) : value === 'completed' ? 100 : 0 };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The warning line of a `stalled` or `regressed` event; undefined for other events. */
function warningOf(name: string, event: RunBatchesEvent): string | undefined {
  if (event.type === 'stalled') {
    const { state, pct } = describeStatus(event.status);
    return `warning: ${name} ${event.batch.batchId}: no change in ${event.polls} polls (${state}, ${pct}%)`;
  }
  if (event.type === 'regressed') {
    return `warning: ${name} ${event.batch.batchId}: completed_pct went back from ${event.fromPct}% to ${event.toPct}%`;
  }
  return undefined;
}

/** The error line of an `error` event, naming the batch (or the chunk never accepted). */
function errorOf(name: string, event: Extract<RunBatchesEvent, { type: 'error' }>, verbose: boolean): string {
  const text = formatError(event.error, { verbose }).trimEnd();
  const batch: SubmittedBatch | undefined = event.batch;
  if (batch === undefined) return text.replace(/^error: /, `error: ${name} was not accepted: `);
  // Most batch errors (failed, timed out) already name the batch.
  return text.includes(batch.batchId) ? text : text.replace(/^error: /, `error: ${name} ${batch.batchId}: `);
}

/** One plain line per change, for logs and CI. */
class LineProgress implements ProgressDisplay {
  private readonly acceptedAt = new Map<string, number>();
  private readonly last = new Map<string, string>();
  private readonly now: () => number;

  constructor(
    private readonly stream: CliOutput,
    private readonly options: ProgressOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  event(chunk: string, event: RunBatchesEvent): void {
    const name = batchLabel(chunk, this.options.total);
    const warning = warningOf(name, event);
    if (warning !== undefined) return this.write(warning);
    if (event.type === 'error') return this.write(errorOf(name, event, this.options.verbose === true));
    if (this.options.quiet) return;
    const elapsed = (): string => formatMs(this.now() - (this.acceptedAt.get(chunk) ?? this.now()));
    switch (event.type) {
      case 'submitted':
        this.acceptedAt.set(chunk, this.now());
        return this.write(`${name}: ${this.options.resuming ? 'resuming' : 'submitted'} ${event.batch.batchId} (${plural(event.batch.accountCodes.length, 'account')})`);
      case 'status': {
        const { state, pct } = describeStatus(event.status);
        const key = `${state} ${pct}`;
        if (this.last.get(chunk) === key) return;
        this.last.set(chunk, key);
        return this.write(`${name}: ${event.batch.batchId} ${state}, ${pct}% (${elapsed()})`);
      }
      case 'results':
        return this.write(`${name}: ${event.batch.batchId} results for ${plural(event.results.rows.length, 'account')} (${elapsed()})`);
      case 'waiting':
        return this.write(`${name}: waiting for ${event.blockedBy.map((c) => batchLabel(c, this.options.total)).join(', ')} (shared accounts)`);
      case 'split':
        return this.write(
          `${name}: refused as too large (HTTP 413): split into ${event.into.map((c) => batchLabel(c, this.options.total)).join(' and ')} (${plural(event.accountCodes.length, 'account')})`,
        );
      default:
        return;
    }
  }

  log(line: string): void {
    if (!this.options.quiet) this.write(line);
  }

  error(line: string): void {
    this.write(line);
  }

  stop(): void {}

  private write(line: string): void {
    this.stream.write(`${redact(line)}\n`);
  }
}

/** cli-progress bars, one per batch, redrawn in place. */
class BarProgress implements ProgressDisplay {
  private readonly multibar: MultiBar;
  private readonly bars = new Map<string, SingleBar>();
  private stopped = false;

  constructor(
    private readonly stream: CliOutput,
    private readonly options: ProgressOptions,
  ) {
    this.multibar = new MultiBar(
      {
        stream,
        format: ' {label} |{bar}| {percentage}% | {state} | {duration_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        fps: 5,
        barsize: 20,
      },
      Presets.shades_classic,
    );
  }

  private bar(chunk: string, state: string): SingleBar | undefined {
    if (this.stopped) return undefined;
    let bar = this.bars.get(chunk);
    if (bar === undefined) {
      bar = this.multibar.create(100, 0, { label: batchLabel(chunk, this.options.total), state });
      this.bars.set(chunk, bar);
    }
    return bar;
  }

  event(chunk: string, event: RunBatchesEvent): void {
    const name = batchLabel(chunk, this.options.total);
    const warning = warningOf(name, event);
    if (warning !== undefined) return this.log(warning);
    switch (event.type) {
      case 'waiting':
        this.bar(chunk, 'waiting')?.update({ state: `waiting for ${event.blockedBy.map((c) => batchLabel(c, this.options.total)).join(', ')}` });
        return;
      case 'submitted':
        this.bar(chunk, 'submitted')?.update({ label: `${name} ${event.batch.batchId.slice(0, 8)}`, state: this.options.resuming ? 'resuming' : 'submitted' });
        return;
      case 'status': {
        const { state, pct } = describeStatus(event.status);
        this.bar(chunk, state)?.update(pct, { state });
        return;
      }
      case 'results':
        this.bar(chunk, '')?.update({ state: `${event.results.status}: ${plural(event.results.rows.length, 'result')}` });
        return;
      case 'split':
        this.bars.get(chunk)?.update({ state: 'split after HTTP 413' });
        this.log(`${name}: refused as too large (HTTP 413): split into ${event.into.map((c) => batchLabel(c, this.options.total)).join(' and ')}`);
        return;
      case 'error':
        this.bars.get(chunk)?.update({ state: redact(`stopped: ${event.error.message.split('\n')[0]}`).slice(0, 80) });
        this.log(errorOf(name, event, this.options.verbose === true));
        return;
      default:
        return;
    }
  }

  log(line: string): void {
    if (this.stopped) this.stream.write(`${redact(line)}\n`);
    else this.multibar.log(`${redact(line)}\n`);
  }

  error(line: string): void {
    this.log(line);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multibar.stop();
  }
}

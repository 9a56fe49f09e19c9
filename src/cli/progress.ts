/**
 * Progress of a run on stderr: a live bar per batch on a terminal, plain lines otherwise.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { formatMs } from '../http/errors';
import { redact } from '../http/redact';
import type { BatchEvent } from '../types';
import type { CliOutput } from './io';

/** Receives what happens to each batch of a run (batches are numbered from 0 in input order). */
export interface ProgressDisplay {
  /** The batch's submit is about to be sent. */
  started(index: number): void;
  /** An event of the batch's stream. */
  event(index: number, event: BatchEvent): void;
  /** The batch stopped on an error. */
  failed(index: number, error: Error): void;
  /** An informational line; shown above the bars on a terminal, not at all when quiet. */
  log(line: string): void;
  /** An error line; shown even when quiet (above the bars on a terminal). */
  error(line: string): void;
  /** Removes the live display; later calls are ignored. */
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Number of batches in the run. */
  readonly total: number;
  /** Show nothing. */
  readonly quiet?: boolean;
  /** Plain lines even on a terminal (e.g. when the terminal is not the stream). */
  readonly plain?: boolean;
  /** The clock for elapsed times, in ms. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Picks the display for `stream`: live bars when it is a terminal, plain lines when it is
 * a pipe or a file, nothing when quiet.
 *
 * Example: `const progress = createProgress(process.stderr, { total: chunks.length })`
 *
 * @param stream where progress goes (stderr: stdout is for the report)
 * @param options batch count, quiet, plain, clock
 */
export function createProgress(stream: CliOutput, options: ProgressOptions): ProgressDisplay {
  if (options.quiet) return { started: noop, event: noop, failed: noop, log: noop, error: (line) => stream.write(`${redact(line)}\n`), stop: noop };
  return stream.isTTY && !options.plain ? new BarProgress(stream, options.total) : new LineProgress(stream, options);
}

function noop(): void {}

function label(index: number, total: number): string {
  return total === 1 ? 'batch' : `batch ${index + 1}/${total}`;
}

function describeStatus(event: Extract<BatchEvent, { type: 'status' }>): { state: string; pct: number } {
  const { status, queue_position: queue, completed_pct: pct } = event.status;
  const state = queue === undefined || queue === null ? status : `${status}, queue position ${queue}`;
  return { state, pct: typeof pct === 'number' ? Math.max(0, Math.min(100, pct)) : status === 'completed' ? 100 : 0 };
}

/** One plain line per change, for logs and CI. */
class LineProgress implements ProgressDisplay {
  private readonly startedAt = new Map<number, number>();
  private readonly last = new Map<number, string>();
  private readonly now: () => number;

  constructor(
    private readonly stream: CliOutput,
    private readonly options: ProgressOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  started(index: number): void {
    this.startedAt.set(index, this.now());
  }

  event(index: number, event: BatchEvent): void {
    const name = label(index, this.options.total);
    const elapsed = formatMs(this.now() - (this.startedAt.get(index) ?? this.now()));
    if (event.type === 'submitted') {
      const n = event.batch.accountCodes.length;
      this.write(`${name}: submitted ${event.batch.batchId} (${n} account${n === 1 ? '' : 's'})`);
    } else if (event.type === 'status') {
      const { state, pct } = describeStatus(event);
      const key = `${state} ${pct}`;
      if (this.last.get(index) === key) return;
      this.last.set(index, key);
      this.write(`${name}: ${event.batch.batchId} ${state}, ${pct}% (${elapsed})`);
    } else {
      this.write(`${name}: ${event.batch.batchId} results for ${event.results.rows.length} account${event.results.rows.length === 1 ? '' : 's'} (${elapsed})`);
    }
  }

  failed(index: number): void {
    this.write(`${label(index, this.options.total)}: stopped`);
  }

  log(line: string): void {
    this.write(line);
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
  private readonly bars = new Map<number, SingleBar>();
  private stopped = false;

  constructor(
    private readonly stream: CliOutput,
    private readonly total: number,
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

  started(index: number): void {
    if (this.stopped) return;
    this.bars.set(index, this.multibar.create(100, 0, { label: label(index, this.total), state: 'submitting' }));
  }

  event(index: number, event: BatchEvent): void {
    const bar = this.bars.get(index);
    if (this.stopped || bar === undefined) return;
    if (event.type === 'submitted') {
      bar.update({ label: `${label(index, this.total)} ${event.batch.batchId.slice(0, 8)}`, state: 'submitted' });
    } else if (event.type === 'status') {
      const { state, pct } = describeStatus(event);
      bar.update(pct, { state });
    } else {
      bar.update({ state: `${event.results.status}: ${event.results.rows.length} results` });
    }
  }

  failed(index: number, error: Error): void {
    const bar = this.bars.get(index);
    if (this.stopped || bar === undefined) return;
    bar.update({ state: redact(`stopped: ${error.message.split('\n')[0]}`).slice(0, 80) });
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

/**
 * Batch handles on disk: what a run needs to pick its batches up again after a crash or Ctrl-C.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as t from 'io-ts';
import { concat, defer, EMPTY, from, ignoreElements, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { decodeOrThrow, PROCESSING_MODES } from '../codecs';
import { DecodeError } from '../http/errors';
import { redact } from '../http/redact';
import type { SubmittedBatch } from '../types';

/** A saved batch: endpoint, batch id, account codes, send time and mode. Never the key. */
export type BatchHandle = SubmittedBatch;

const ProcessingModeCodec = t.keyof({ fifo: null, priority: null, replace_all: null }, 'ProcessingMode');

/** The codec of one saved handle. */
export const BatchHandleCodec = t.intersection(
  [
    t.type({
      batchId: t.string,
      accountCodes: t.array(t.string),
      submittedAt: t.string,
      processingMode: ProcessingModeCodec,
    }),
    t.partial({ endpoint: t.string, requestId: t.string }),
  ],
  'BatchHandle',
);

/** The state file: a version and the handles, in submission order. */
const HandleFile = t.type({ version: t.literal(1), handles: t.array(BatchHandleCodec) }, 'HandleFile');

/** The endpoint without user info, query or fragment: a URL like `https://user:secret@host` must not land in a file. */
function safeEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return redact(url.href.replace(/\/+$/, ''));
  } catch {
    return redact(endpoint);
  }
}

/** Only the known fields, so nothing a caller attached to a batch object is written. */
function toHandle(batch: SubmittedBatch): BatchHandle {
  if (!(PROCESSING_MODES as readonly string[]).includes(batch.processingMode)) {
    throw new TypeError(`saveHandles: batch ${batch.batchId} has an unknown processingMode`);
  }
  return {
    batchId: batch.batchId,
    accountCodes: [...batch.accountCodes],
    submittedAt: batch.submittedAt,
    processingMode: batch.processingMode,
    ...(batch.endpoint === undefined ? {} : { endpoint: safeEndpoint(batch.endpoint) }),
    ...(batch.requestId === undefined ? {} : { requestId: batch.requestId }),
  };
}

let tempCounter = 0;

/**
 * Writes the handles to `file` as JSON, atomically: a temporary file in the same folder is
 * written and then renamed over `file`, so a crash mid-write leaves the previous version,
 * never half a file. Only the handle fields are written (no key, no user info in the
 * endpoint); the file is created readable by its owner only.
 *
 * Example: `await saveHandles('run.state.json', [batch])`
 *
 * @param file where to write
 * @param handles the batches, in submission order
 */
export async function saveHandles(file: string, handles: readonly SubmittedBatch[]): Promise<void> {
  const text = `${JSON.stringify({ version: 1, handles: handles.map(toHandle) }, null, 2)}\n`;
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${tempCounter++}.tmp`);
  try {
    await fs.writeFile(temp, text, { mode: 0o600 });
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/**
 * Reads handles written by {@link saveHandles}. A file that is not JSON, or not a handle
 * file, fails with a `DecodeError` naming the bad fields.
 *
 * Example: `resumeBatches(client, await loadHandles('run.state.json'))`
 *
 * @param file the state file
 */
export async function loadHandles(file: string): Promise<BatchHandle[]> {
  const text = await fs.readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    throw new DecodeError(`state file ${file}`, ['(root)'], ['(root): not valid JSON']);
  }
  return decodeOrThrow(HandleFile, json, `state file ${file}`).handles;
}

/**
 * Keeps `file` up to date with every `submitted` event passing through: each accepted
 * batch is added and the file rewritten ({@link saveHandles}: atomic, no key). Writes never
 * overlap; handles arriving during a write are written together right after it. The
 * stream completes only once the last write is on disk; a failed write errors the stream.
 *
 * ```
 * events:  -S----S-S----|
 * writes:   [w1]  [w2 ]  (w2 holds both later handles)
 * output:  -S----S-S------|   (completes after the last write)
 * ```
 *
 * Example:
 * ```ts
 * runBatches(client, payloads).pipe(recordHandles('run.state.json')).subscribe(render);
 * ```
 *
 * @param file the state file
 * @param initial handles already in the file (e.g. when resuming), kept at the front
 */
export function recordHandles<E extends { readonly type: string; readonly batch?: SubmittedBatch }>(file: string, initial: readonly SubmittedBatch[] = []): MonoTypeOperatorFunction<E> {
  if (typeof file !== 'string' || file === '') throw new TypeError('recordHandles: file must be a non-empty path');
  return (source) =>
    defer(() => {
      const handles = [...initial];
      const known = new Set(handles.map((h) => h.batchId));
      let writing: Promise<void> | undefined;
      let dirty = false;
      let failure: { readonly error: unknown } | undefined;

      const write = (): void => {
        if (writing !== undefined) {
          dirty = true;
          return;
        }
        dirty = false;
        writing = saveHandles(file, handles)
          .catch((error: unknown) => {
            failure ??= { error };
          })
          .finally(() => {
            writing = undefined;
            if (dirty && failure === undefined) write();
          });
      };
      const settled = async (): Promise<void> => {
        while (writing !== undefined) await writing;
        if (failure !== undefined) throw failure.error;
      };

      return concat(
        source.pipe(
          tap((event) => {
            if (failure !== undefined) throw failure.error;
            const { batch } = event;
            if (event.type !== 'submitted' || batch === undefined || known.has(batch.batchId)) return;
            known.add(batch.batchId);
            handles.push(batch);
            write();
          }),
        ),
        defer(() => (writing === undefined && failure === undefined ? EMPTY : from(settled()).pipe(ignoreElements()))),
      );
    });
}

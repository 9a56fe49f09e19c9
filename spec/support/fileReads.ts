/**
 * Counting what a spec's code reads of a file, through the real `fs` functions (no injected
 * hook in the library): how a spec shows that a file is read a bounded number of times.
 */
import fs = require('node:fs');
import fsPromises = require('node:fs/promises');

/** What {@link countReads} counted. */
export interface FileReads {
  bytes: number;
  opened: number;
  closed: number;
  /** Stops counting. */
  restore(): void;
  /** Resolves once every file counted as opened is closed (never, when one is left open: give the spec a deadline). */
  settled(): Promise<void>;
}

/**
 * Counts what is read of `file` from now on, by a read stream or an opened handle: bytes
 * read, files opened and closed. `onRead` is called as each read of an opened handle starts
 * (a spec can cancel something mid-read there).
 */
export function countReads(file: string, onRead: () => void = () => undefined): FileReads {
  // A read stream closes a turn or two after its last byte, a handle when its reader lets go: `settled` waits for each.
  const closing: Promise<unknown>[] = [];
  const counts: FileReads = { bytes: 0, opened: 0, closed: 0, restore: () => undefined, settled: async () => void (await Promise.all(closing)) };
  const realOpen = fsPromises.open;
  const realStream = fs.createReadStream;
  const opens = jest.spyOn(fsPromises, 'open').mockImplementation(async (...args: Parameters<typeof fsPromises.open>) => {
    const handle = await realOpen(...args);
    if (args[0] !== file) return handle;
    counts.opened++;
    const read = handle.read.bind(handle) as (...a: unknown[]) => Promise<{ bytesRead: number }>;
    const close = handle.close.bind(handle);
    let closed!: () => void;
    closing.push(new Promise<void>((resolve) => (closed = resolve)));
    Object.assign(handle, {
      read: async (...a: unknown[]) => {
        onRead();
        const result = await read(...a);
        counts.bytes += result.bytesRead;
        return result;
      },
      close: async () => {
        counts.closed++;
        closed();
        return close();
      },
    });
    return handle;
  });
  const streams = jest.spyOn(fs, 'createReadStream').mockImplementation((...args: Parameters<typeof fs.createReadStream>) => {
    const stream = realStream(...args);
    if (args[0] === file) {
      counts.opened++;
      stream.on('data', (chunk: Buffer | string) => (counts.bytes += chunk.length));
      closing.push(new Promise<void>((resolve) => stream.once('close', () => resolve(void counts.closed++))));
    }
    return stream;
  });
  counts.restore = () => {
    opens.mockRestore();
    streams.mockRestore();
  };
  return counts;
}


/**
 * One emulator per spec file whose batches stay queued, so it only parses and keeps what it
 * is sent (`stats.lastSubmittedPayloads`), a client of it, and a temporary folder for input
 * files; started before the file's tests, stopped and removed after them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { createClient, type C9Client } from '../../src/http/client';

export interface HeldEmulator {
  readonly emulator: EmulatorHandle;
  readonly client: C9Client;
  /** A fresh path in the temporary folder: `<stem>-<n><ext>`. */
  file(stem: string, ext: string): string;
}

/**
 * Registers the beforeAll/afterAll that run the emulator for the calling spec file.
 *
 * Example: `const rig = useHeldEmulator(KEY, 'c9-prop-e2e-'); … rig.client.submitBatch(p)`
 *
 * @param apiKey the one key the emulator accepts
 * @param tempPrefix the prefix of the temporary folder's name
 */
export function useHeldEmulator(apiKey: string, tempPrefix: string): HeldEmulator {
  let emulator: EmulatorHandle | undefined;
  let client: C9Client | undefined;
  let dir: string | undefined;
  let count = 0;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useHeldEmulator: used outside the tests of the file that set it up');
    return value;
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), tempPrefix));
    emulator = await startEmulator({ apiKeys: [apiKey], msPerAccount: 0 });
    emulator.faults.holdBatch('*', 'queued');
    client = createClient({ endpoint: emulator.url, apiKey });
  });
  afterAll(async () => {
    await emulator?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get emulator() {
      return started(emulator);
    },
    get client() {
      return started(client);
    },
    file: (stem, ext) => join(started(dir), `${stem}-${++count}${ext}`),
  };
}

import { Writable } from 'node:stream';
import type { CliIo } from '../../../src/cli/io';

/** A stream that keeps what is written to it. */
export interface Sink extends Writable {
  readonly isTTY: boolean;
  text(): string;
}

export function sink(isTTY = false): Sink {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return Object.assign(stream, { isTTY, text: () => text });
}

/** Streams and environment for one in-process CLI run. */
export function testIo(env: Record<string, string | undefined> = {}, signal?: AbortSignal): CliIo & { stdout: Sink; stderr: Sink } {
  return { stdout: sink(), stderr: sink(), env, signal };
}

export const HEADER = 'account_code,exchange_code,contract_code,contract_type,contract_expiry,contract_strike,net_position';

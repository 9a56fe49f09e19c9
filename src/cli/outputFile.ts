/**
 * Files the CLI writes (`--out`, `--state`): checked before anything is read or sent, and
 * their errors told as `--out <path>: <reason>`, never as bare syscall text.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Options of {@link unwritableReason}. */
export interface WritableCheckOptions {
  /**
   * The file is replaced by writing a temporary file beside it and renaming (`--state`):
   * the directory must be writable even when the file already is.
   */
  readonly viaRename?: boolean;
}

/**
 * Why `path` cannot be written, or undefined when it can. Nothing is created or truncated:
 * a run that fails later must not have emptied last night's rows file.
 *
 * Example: `await unwritableReason('/nonexistent/dir/rows.json')` → `'no such directory: /nonexistent/dir'`
 *
 * @param path the file as the user named it
 * @param options `viaRename` when the file is replaced by a rename
 */
export async function unwritableReason(path: string, { viaRename = false }: WritableCheckOptions = {}): Promise<string | undefined> {
  const full = resolve(path);
  let exists = false;
  try {
    const info = await stat(full);
    if (info.isDirectory()) return 'is a directory, not a file';
    exists = true;
  } catch (error) {
    // ENOTDIR: a part of the path is a file; the directory check below says which.
    const code = codeOf(error);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return writeErrorReason(error, path);
  }
  if (exists) {
    try {
      await access(full, constants.W_OK);
    } catch (error) {
      return writeErrorReason(error, path);
    }
    if (!viaRename) return undefined;
  }
  const folder = dirname(path);
  try {
    if (!(await stat(dirname(full))).isDirectory()) return `${folder} is not a directory`;
    await access(dirname(full), constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'EACCES' || code === 'EPERM') return `the directory ${folder} is not writable (permission denied)`;
    return writeErrorReason(error, path);
  }
  return undefined;
}

/**
 * A short reason for an error writing `path`, without Node's `ENOENT: …, open '…'` wrapping.
 *
 * Example: `writeErrorReason(enoent, 'out/rows.json')` → `'no such directory: out'`
 *
 * @param error what the write threw
 * @param path the file as the user named it
 */
export function writeErrorReason(error: unknown, path: string): string {
  switch (codeOf(error)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return `no such directory: ${dirname(path)}`;
    case 'EACCES':
    case 'EPERM':
      return 'not writable (permission denied)';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EDQUOT':
      return 'disk quota exceeded';
  }
  const message = error instanceof Error ? error.message : String(error);
  // `EIO: i/o error, write` → `i/o error`.
  return message.replace(/^[A-Z][A-Z0-9_]+: /, '').replace(/, [a-z]+(?: '.*')?$/, '') || message;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unwritableReason, writeErrorReason } from '../../src/cli/outputFile';

describe('unwritableReason', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'c9-out-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should accept a new file in a writable directory and an existing file, creating nothing', async () => {
    writeFileSync(join(dir, 'old.json'), 'kept');

    expect(await unwritableReason(join(dir, 'new.json'))).toBeUndefined();
    expect(await unwritableReason(join(dir, 'old.json'))).toBeUndefined();
    expect(await unwritableReason(join(dir, 'old.json'), { viaRename: true })).toBeUndefined();
    expect(readdirSync(dir)).toEqual(['old.json']);
  });

  it('should name the missing directory', async () => {
    const path = join(dir, 'no', 'such', 'rows.json');

    expect(await unwritableReason(path)).toBe(`no such directory: ${join(dir, 'no', 'such')}`);
  });

  it('should refuse a directory, and a path through a file', async () => {
    mkdirSync(join(dir, 'rows.json'));
    writeFileSync(join(dir, 'plain'), '');

    expect(await unwritableReason(join(dir, 'rows.json'))).toBe('is a directory, not a file');
    expect(await unwritableReason(join(dir, 'plain', 'rows.json'))).toBe(`${join(dir, 'plain')} is not a directory`);
  });
});

describe('writeErrorReason', () => {
  it('should turn file-system errors into a reason without the syscall text', () => {
    const coded = (code: string, message: string) => Object.assign(new Error(message), { code });

    expect(writeErrorReason(coded('ENOENT', "ENOENT: no such file or directory, open '/x/y/rows.json'"), '/x/y/rows.json')).toBe('no such directory: /x/y');
    expect(writeErrorReason(coded('ENOSPC', 'ENOSPC: no space left on device, write'), 'rows.json')).toBe('no space left on the device');
    expect(writeErrorReason(coded('EIO', 'EIO: i/o error, write'), 'rows.json')).toBe('i/o error');
  });
});

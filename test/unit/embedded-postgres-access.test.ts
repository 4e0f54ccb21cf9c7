import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { folderPostgresCannotEnter } from '../../src/embedded/postgres';

// As root, PostgreSQL runs as another user (`postgres`; here `nobody`, who owns nothing, stands in
// for it), and a folder fresh from mkdtemp (0700, owned by root) stops it. Not as root, PostgreSQL
// runs as ourselves, and only a folder without the x bit stops it.
const asRoot = process.getuid?.() === 0;
const ids = asRoot ? { uid: 65534, gid: 65534 } : {};
const blockingMode = asRoot ? 0o700 : 0o000;

describe('folderPostgresCannotEnter (why initdb would answer "Permission denied")', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) {
      chmodSync(dir, 0o700);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the first folder on the way to the data folder that PostgreSQL cannot enter, and none once it can', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omni-pg-access-'));
    made.push(dir);
    chmodSync(dir, blockingMode);
    expect(folderPostgresCannotEnter(join(dir, 'pg', 'data'), ids)).toBe(dir);
    expect(folderPostgresCannotEnter(dir, ids)).toBe(dir);
    chmodSync(dir, 0o711);
    expect(folderPostgresCannotEnter(join(dir, 'pg', 'data'), ids)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { retryWhileHeld, retryWhileHeldAsync } from '../src/util/fs.js';

/** Issue 27: a file held open for a moment on Windows (Drive, Defender, the indexer) does not abort a write. */
const held = (code: string) => Object.assign(new Error(`${code}: operation not permitted, rename`), { code });

function flaky(failures: number, code = 'EBUSY') {
  let calls = 0;
  return {
    fn: () => {
      calls++;
      if (calls <= failures) throw held(code);
      return 'renamed';
    },
    calls: () => calls,
  };
}

describe('renames retried while another program holds the file (Windows)', () => {
  it('EBUSY, EPERM or EACCES twice, then the rename goes through', async () => {
    for (const code of ['EBUSY', 'EPERM', 'EACCES']) {
      const f = flaky(2, code);
      expect(retryWhileHeld(f.fn, true)).toBe('renamed');
      expect(f.calls()).toBe(3);
    }
    const a = flaky(2);
    expect(await retryWhileHeldAsync(async () => a.fn(), true)).toBe('renamed');
    expect(a.calls()).toBe(3);
  });

  it('gives up after a bounded number of attempts, and never retries elsewhere or for other errors', () => {
    const always = flaky(100);
    expect(() => retryWhileHeld(always.fn, true)).toThrow('EBUSY');
    expect(always.calls()).toBe(8);
    const linux = flaky(1, 'EACCES');
    expect(() => retryWhileHeld(linux.fn, false)).toThrow('EACCES'); // a permission error there is one
    expect(linux.calls()).toBe(1);
    const other = flaky(1, 'ENOSPC');
    expect(() => retryWhileHeld(other.fn, true)).toThrow('ENOSPC');
    expect(other.calls()).toBe(1);
  });
});

describe('paths compared as the file system compares them (Windows, macOS ignore case)', () => {
  it('ENV is env, Z:\\ is z:\\, and c:\\USERS\\me is the home folder there; not on Linux', async () => {
    const { isForbiddenSharedDir } = await import('../src/config/load.js');
    const { isTooBroad } = await import('../src/config/paths.js');
    const { pathKey } = await import('../src/util/paths.js');
    expect(isForbiddenSharedDir('ENV', 'win32')).toBe(true);
    expect(isForbiddenSharedDir('.GIT', 'darwin')).toBe(true);
    expect(isForbiddenSharedDir('ENV', 'linux')).toBe(false);
    expect(isForbiddenSharedDir('env', 'linux')).toBe(true);
    expect(pathKey('Z:\\RooSync\\.shared-state', 'win32')).toBe(pathKey('z:\\roosync\\.SHARED-STATE', 'win32'));
    expect(pathKey('/srv/Shared', 'linux')).not.toBe(pathKey('/srv/shared', 'linux'));
    expect(isTooBroad('/home/ME', '/home/me', 'win32')).toBe(true);
    expect(isTooBroad('/home/ME', '/home/me', 'linux')).toBe(false);
  });
});

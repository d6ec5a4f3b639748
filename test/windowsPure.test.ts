import { describe, expect, it } from 'vitest';
import { descendantsOf, parseProcessTable } from '../src/util/command.js';
import { probeWritable } from '../src/util/fs.js';
import { tempDir } from './helpers.js';
import { readdirSync } from 'node:fs';

/** Issue 27: the Windows parts that can be checked anywhere, with the platform passed in. */
describe('Windows process trees and probes (pure)', () => {
  it('reads wmic’s table (UTF-16 with a BOM, as wmic writes it, or UTF-8) and walks a tree, parents first', () => {
    const table =
      'ParentProcessId  ProcessId  \r\n0                4          \r\n4                100        \r\n100              200        \r\n200              300        \r\n100              201        \r\n7                8          \r\n';
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(table, 'utf16le')]);
    for (const out of [utf16, Buffer.from(table, 'utf8')]) {
      const pairs = parseProcessTable(out);
      expect(pairs).toContainEqual([100, 200]);
      expect(descendantsOf(100, pairs)).toEqual([200, 201, 300]);
      expect(descendantsOf(8, pairs)).toEqual([]);
    }
    // a cycle (pids are reused) never loops
    expect(
      descendantsOf(1, [
        [1, 2],
        [2, 1],
      ]),
    ).toEqual([2]);
  });

  it('a writability probe on Windows makes and removes a file of ours; elsewhere it only asks access()', async () => {
    const dir = await tempDir('probe');
    expect(probeWritable(dir, 'win32')).toBeUndefined();
    expect(probeWritable(dir, 'linux')).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
    expect(probeWritable(`${dir}/missing`, 'win32')?.code).toBe('ENOENT');
  });
});

import { describe, expect, it } from 'vitest';
import { COMMANDS, FAMILY_OF } from '../src/cli/catalogue.js';

/** The catalogue holds the specs without handlers; each family file holds exactly its commands' handlers. */
describe('the command catalogue (issue 29: load only what runs)', () => {
  it('every command has a handler in its family file, and every handler has a command', async () => {
    const families = [...new Set(Object.values(FAMILY_OF))];
    const handlerKeys: string[] = [];
    for (const family of families) {
      const mod = (await import(`../src/cli/commands/${family}.ts`)) as { handlers: Record<string, unknown> };
      for (const key of Object.keys(mod.handlers)) {
        expect(FAMILY_OF[key], `${key} in commands/${family}.ts`).toBe(family);
        handlerKeys.push(key);
      }
    }
    expect(handlerKeys.sort()).toEqual(COMMANDS.map((c) => c.words.join(' ')).sort());
  });
});

// The naive floor of archiving RooSync's way, for the bench: for each due message (named msg-2025*), read it,
// rewrite it into archive/ with status "archived", unlink the inbox file. No check, no sent copy, no fsync.
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const shared = process.argv[2];
const inbox = path.join(shared, 'messages', 'inbox');
const archive = path.join(shared, 'messages', 'archive');
for (const name of readdirSync(inbox)) {
  if (!name.startsWith('msg-2025')) continue;
  const file = path.join(inbox, name);
  const m = JSON.parse(readFileSync(file, 'utf8'));
  m.status = 'archived';
  m.archived_at = new Date().toISOString();
  writeFileSync(path.join(archive, name), JSON.stringify(m, null, 2));
  unlinkSync(file);
}

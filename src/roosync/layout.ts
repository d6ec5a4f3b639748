import path from 'node:path';

/** The message folders of a shared state (docs/roosync-format.md) and our quarantine (docs/design.md). */
export function messageDirs(sharedState: string) {
  const messages = path.join(sharedState, 'messages');
  return {
    messages,
    inbox: path.join(messages, 'inbox'),
    sent: path.join(messages, 'sent'),
    archive: path.join(messages, 'archive'),
    quarantine: path.join(messages, 'quarantine'),
    attachments: path.join(sharedState, 'attachments'),
  };
}

export type MessageDirs = ReturnType<typeof messageDirs>;

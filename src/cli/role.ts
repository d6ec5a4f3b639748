/** `leader (term 3)` or `follower`: in its own module, so the quiet tick loads nothing more for it. */
export function roleOf(leader: { isLeader: boolean; term: number | null }): string {
  return leader.isLeader ? `leader${leader.term ? ` (term ${leader.term})` : ''}` : 'follower';
}

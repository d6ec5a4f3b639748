/**
 * The digests' words, one language per message (`reports.language`): French, as RooSync's own messages and the alert
 * template are, or English. Task names, machine names and numbers are never translated.
 */
export type Language = 'fr' | 'en';

const WORDS = {
  fr: {
    machineDigest: 'Digest Maintenance',
    fleetDigest: 'Digest de la flotte',
    period: 'Période',
    role: 'Rôle',
    leaderTerm: (t: number | null) => `leader (mandat ${t ?? '?'})`,
    term: (t: number | null) => `mandat ${t ?? '?'}`,
    follower: 'suiveur',
    taskHeader: '| tâche | passages | traités | libéré | échecs |',
    noTask: '| (aucune tâche) | | | | |',
    ticks: (n: number) => `${n} passage${n > 1 ? 's' : ''}`,
    notes: 'À noter',
    kpis: 'KPI de la flotte',
    kpiHeader: '| KPI | valeur | cible | |',
    missed: '**MANQUÉ**',
    leader: 'Leader',
    since: 'depuis',
    noLeader: 'aucun leader en vie',
    machines: 'Machines',
    machineCount: (n: number, silent: number) => `${n} (${silent} silencieuse${silent > 1 ? 's' : ''})`,
    versions: 'Versions',
    component: 'Composant',
    cleaned: 'Nettoyé',
    cleanedText: (n: number, freed: string) => `${n} éléments, ${freed} libérés`,
    attention: 'À voir',
    allWell: 'Rien à signaler : un leader en vie, chaque machine entendue, aucun échec.',
    subjectWell: 'tout va bien',
    subjectAttention: (n: number) => `${n} point${n > 1 ? 's' : ''} à voir`,
    page: 'Page de la flotte',
    fleetSubject: (n: number, leader: string | undefined, verdict: string) =>
      `[DIGEST] flotte : ${n} machine${n > 1 ? 's' : ''}, ${leader ? `leader ${leader}` : 'aucun leader en vie'} — ${verdict}`,
    machineSubject: (m: string, acted: number, freed: string, failed: string[]) =>
      `[DIGEST] ${m} : ${acted} traités, ${freed} libérés${failed.length ? `, ÉCHECS : ${failed.join(', ')}` : ''}`,
    kpi: {
      'rollback dirs': 'dossiers .rollback',
      'inbox messages': 'messages en boîte',
      'MCP uptime': 'disponibilité MCP',
      MTTR: 'MTTR',
    } as Record<string, string>,
  },
  en: {
    machineDigest: 'Maintenance digest',
    fleetDigest: 'Fleet digest',
    period: 'Period',
    role: 'Role',
    leaderTerm: (t: number | null) => `leader (term ${t ?? '?'})`,
    term: (t: number | null) => `term ${t ?? '?'}`,
    follower: 'follower',
    taskHeader: '| task | runs | handled | freed | failures |',
    noTask: '| (no task) | | | | |',
    ticks: (n: number) => `${n} tick${n === 1 ? '' : 's'}`,
    notes: 'Notes',
    kpis: 'Fleet KPIs',
    kpiHeader: '| KPI | value | target | |',
    missed: '**MISSED**',
    leader: 'Leader',
    since: 'since',
    noLeader: 'no live leader',
    machines: 'Machines',
    machineCount: (n: number, silent: number) => `${n} (${silent} silent)`,
    versions: 'Versions',
    component: 'Component',
    cleaned: 'Cleaned',
    cleanedText: (n: number, freed: string) => `${n} items, ${freed} freed`,
    attention: 'Needs attention',
    allWell: 'Nothing to report: a live leader, every machine heard from, nothing failing.',
    subjectWell: 'all well',
    subjectAttention: (n: number) => `${n} need${n === 1 ? 's' : ''} attention`,
    page: 'Fleet page',
    fleetSubject: (n: number, leader: string | undefined, verdict: string) =>
      `[DIGEST] fleet: ${n} machine${n === 1 ? '' : 's'}, ${leader ? `leader ${leader}` : 'no live leader'} — ${verdict}`,
    machineSubject: (m: string, acted: number, freed: string, failed: string[]) =>
      `[DIGEST] ${m}: ${acted} cleaned, ${freed} freed${failed.length ? `, FAILED: ${failed.join(', ')}` : ''}`,
    kpi: {} as Record<string, string>,
  },
} as const;

export type Words = (typeof WORDS)[Language];

export function wordsFor(language: Language): Words {
  return WORDS[language];
}

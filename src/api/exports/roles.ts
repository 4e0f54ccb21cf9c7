import { sql, type ExpressionBuilder } from 'kysely';
import type { Database, Role } from '../../db/schema';

/**
 * The role each export's data needs, as the route that shows the same data live: the activity
 * report is the audit log (supervisor). A kind not listed needs supervisor.
 */
const EXPORT_ROLES: Record<string, Role> = {
  'activity-report': 'supervisor',
};
const rank: Record<Role, number> = { viewer: 0, agent: 1, supervisor: 2, admin: 3 };

export const exportRole = (kind: string): Role => EXPORT_ROLES[kind] ?? 'supervisor';

/** A filter for the exports a role may see (a viewer sees only kinds listed for viewers). */
export function visibleExports(role: Role) {
  const allowed = Object.entries(EXPORT_ROLES)
    .filter(([, needed]) => rank[role] >= rank[needed])
    .map(([kind]) => kind);
  const denied = Object.keys(EXPORT_ROLES).filter((kind) => !allowed.includes(kind));
  return (eb: ExpressionBuilder<Database, 'exports'>) => {
    if (rank[role] >= rank.supervisor) return denied.length ? eb('kind', 'not in', denied) : sql<boolean>`TRUE`;
    return allowed.length ? eb('kind', 'in', allowed) : sql<boolean>`FALSE`;
  };
}

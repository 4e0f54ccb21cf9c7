import type { Schemas } from '../api/client';
import { formatNumber } from '../format';

/** The options of a contact-group picker: each group with its number of contacts. */
export function GroupOptions({ groups }: { groups: Schemas['ContactGroup'][] }) {
  return (
    <>
      {groups.map((g) => (
        <option key={g.id} value={g.id}>
          {g.name} ({formatNumber(g.contactCount)} contatos)
        </option>
      ))}
    </>
  );
}

import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { PhoneSet } from './phone-set';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every phone already in the group, streamed out of PostgreSQL with COPY (one phone per line) and
 * read from its bytes: loading millions of them costs neither a result set in memory nor a string
 * per phone.
 */
export async function loadGroupPhones(client: pg.PoolClient, groupId: string): Promise<PhoneSet> {
  // COPY takes no parameters: the id is checked to be a UUID before it is written into the SQL.
  if (!UUID.test(groupId)) throw new Error(`not a group id: ${groupId}`);
  const phones = new PhoneSet();
  const stream = client.query(copyTo(`COPY (SELECT p FROM contacts, unnest(phones) AS p WHERE group_id = '${groupId}') TO STDOUT`));
  // The phone being read (it may continue in the next chunk): its key so far and its length.
  let key = 0;
  let length = 0;
  let digitsOnly = true;
  const end = () => {
    if (!digitsOnly || length === 0 || length > 14) throw new Error(`not a normalised phone in group ${groupId}`);
    phones.addKey(key + length * 1e14);
    key = 0;
    length = 0;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 0x0a) {
        end();
        continue;
      }
      if (b < 48 || b > 57) digitsOnly = false;
      key = key * 10 + b - 48;
      length++;
    }
  }
  if (length > 0) end();
  return phones;
}

/**
 * The group's phones as this worker last wrote them, kept between the slices of one import. The
 * group's `phones_revision` (bumped by every write that adds, changes or removes phones) tells
 * whether anything else touched the group since: then the set is loaded again.
 */
export class GroupPhoneCache {
  private readonly entries = new Map<string, { revision: number; phones: PhoneSet }>();

  constructor(private readonly maxEntries = 4) {}

  get(importId: string, revision: number): PhoneSet | undefined {
    const entry = this.entries.get(importId);
    return entry && entry.revision === revision ? entry.phones : undefined;
  }

  set(importId: string, revision: number, phones: PhoneSet): void {
    this.entries.delete(importId);
    this.entries.set(importId, { revision, phones });
    // The oldest imports' sets go first: a worker never holds more than a few.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  forget(importId: string): void {
    this.entries.delete(importId);
  }
}

const lockKey = (groupId: string) => `contact_group_import:${groupId}`;

/**
 * One import writes to a group at a time (a second one waits its turn): the importer's phone set
 * is then the truth for the group. A session lock, so a worker that dies releases it with its
 * connection.
 */
export async function tryLockGroupImports(client: pg.PoolClient, groupId: string): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [lockKey(groupId)]);
  return result.rows[0].locked;
}

export async function unlockGroupImports(client: pg.PoolClient, groupId: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(groupId)]);
}

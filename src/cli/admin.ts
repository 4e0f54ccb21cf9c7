// `npm run admin -- <command>`: tenants and API keys from the command line.
//   create-tenant --name "Empresa X" [--admin-name N] [--admin-email E]   → prints the admin key once
//   create-user --tenant <id> --name N --email E --role admin|supervisor|agent|viewer
//   create-key --user <id> [--name N]                                      → prints the key once
//   invite --email E [--tenant <id>]                                       → prints a console invite link
//   list-tenants
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { bootstrapTenant, createUser, issueApiKey } from '../db/accounts';
import { createInvite, inviteUrl } from '../db/sessions';
import { migrateToLatest } from '../db/migrate';
import type { Role } from '../db/schema';
import { withCliDatabase } from './with-database';

const usage = `usage: npm run admin -- <create-tenant|create-user|create-key|invite|list-tenants> [options]
  create-tenant --name NAME [--admin-name NAME] [--admin-email EMAIL]
  create-user --tenant TENANT_ID --name NAME --email EMAIL --role admin|supervisor|agent|viewer
  create-key --user USER_ID [--name NAME]
  invite --email EMAIL [--tenant TENANT_ID]   (the user signs in to the console with the link)
  list-tenants
The database: DATABASE_URL, or else the embedded stack's under DATA_DIR (running or not).`;

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      'admin-name': { type: 'string' },
      'admin-email': { type: 'string' },
      tenant: { type: 'string' },
      user: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
    },
  });
  if (!['create-tenant', 'create-user', 'create-key', 'invite', 'list-tenants'].includes(command ?? '')) {
    console.error(usage);
    process.exitCode = 2;
    return;
  }
  await withCliDatabase(async (db) => {
    await migrateToLatest(db);
    switch (command) {
      case 'create-tenant': {
        if (!values.name) throw new Error('--name is required');
        const { tenant, user, key } = await bootstrapTenant(db, {
          tenantName: values.name,
          adminName: values['admin-name'],
          adminEmail: values['admin-email'],
        });
        console.log(JSON.stringify({ tenantId: tenant.id, adminUserId: user.id, apiKey: key.key }, null, 2));
        console.error('Store the API key now: it is not shown again.');
        break;
      }
      case 'create-user': {
        const role = values.role as Role;
        if (!values.tenant || !values.name || !values.email || !['admin', 'supervisor', 'agent', 'viewer'].includes(role)) {
          throw new Error('--tenant, --name, --email and --role (admin|supervisor|agent|viewer) are required');
        }
        const user = await createUser(db, { tenantId: values.tenant, name: values.name, email: values.email, role });
        console.log(JSON.stringify({ userId: user.id }, null, 2));
        break;
      }
      case 'create-key': {
        if (!values.user) throw new Error('--user is required');
        const user = await db.selectFrom('users').select(['id', 'tenant_id']).where('id', '=', values.user).executeTakeFirst();
        if (!user) throw new Error(`no user ${values.user}`);
        const key = await issueApiKey(db, { tenantId: user.tenant_id, userId: user.id, name: values.name ?? 'cli key' });
        console.log(JSON.stringify({ keyId: key.id, apiKey: key.key }, null, 2));
        console.error('Store the API key now: it is not shown again.');
        break;
      }
      case 'invite': {
        if (!values.email) throw new Error('--email is required');
        let query = db.selectFrom('users').select(['id', 'tenant_id']).where('email', '=', values.email.toLowerCase());
        if (values.tenant) query = query.where('tenant_id', '=', values.tenant);
        const users = await query.execute();
        if (users.length === 0) throw new Error(`no user with e-mail ${values.email}`);
        if (users.length > 1) throw new Error(`${users.length} tenants have a user ${values.email}: name one with --tenant`);
        const [user] = users;
        const invite = await createInvite(db, { tenantId: user.tenant_id, userId: user.id });
        const config = loadConfig();
        const base = config.PUBLIC_BASE_URL ?? `http://localhost:${config.API_PORT}`;
        console.log(JSON.stringify({ userId: user.id, inviteUrl: inviteUrl(base, invite.token), expiresAt: invite.expiresAt.toISOString() }, null, 2));
        break;
      }
      case 'list-tenants': {
        const rows = await db.selectFrom('tenants').select(['id', 'name', 'created_at']).orderBy('created_at').execute();
        for (const t of rows) console.log(`${t.id}  ${t.name}`);
        break;
      }
    }
  });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

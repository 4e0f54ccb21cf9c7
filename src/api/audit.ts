import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';

export interface AuditEvent {
  action: string;
  targetType: string;
  targetId?: string | null;
  summary: string;
  details?: Record<string, unknown>;
}

/**
 * Records a state-changing call in the audit log (the source of the "Relatório de Atividade").
 * Pass the transaction that made the change, so the entry exists exactly when the change does.
 */
export async function audit(db: Kysely<Database>, request: FastifyRequest, event: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      tenant_id: request.auth.tenantId,
      actor_user_id: request.auth.userId,
      actor_key_id: request.auth.keyId,
      action: event.action,
      target_type: event.targetType,
      target_id: event.targetId ?? null,
      summary: event.summary,
      details: JSON.stringify(event.details ?? {}),
      request_id: request.id,
    })
    .execute();
}

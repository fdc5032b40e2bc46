import type { Kysely } from 'kysely';
import { skipExisting } from '../../adapters/storage/portable.js';
import type { AuditLogTable, Database } from '../../adapters/storage/schema.js';

export type AuditKind = 'user_action' | 'api_error';

export interface AuditRecord {
  id: string;
  eventId: string;
  kind: AuditKind;
  action: string;
  userId: string | null;
  targetId: string | null;
  detail: Record<string, unknown>;
  requestId: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  code: number | null;
  source: string;
  occurredAt: number;
  recordedAt: number;
}

export interface AuditQuery {
  kind?: AuditKind;
  action?: string;
  userId?: string;
  requestId?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** Continue after this position (newest first). */
  after?: { occurredAt: number; id: string };
  limit: number;
}

/** The audit log table: append-only rows, read newest first. */
export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts a row; a second row for the same event id is ignored. */
  async insert(trx: Kysely<Database>, record: AuditRecord): Promise<void> {
    await trx
      .insertInto('auditLog')
      .values({
        id: record.id,
        eventId: record.eventId,
        kind: record.kind,
        action: record.action,
        userId: record.userId,
        targetId: record.targetId,
        detail: JSON.stringify(record.detail),
        requestId: record.requestId,
        method: record.method,
        path: record.path,
        status: record.status,
        code: record.code,
        source: record.source,
        occurredAt: record.occurredAt,
        recordedAt: record.recordedAt,
      })
      .$call((insert) => skipExisting(this.db, insert))
      .execute();
  }

  async list(query: AuditQuery): Promise<AuditRecord[]> {
    let q = this.db.selectFrom('auditLog').selectAll();
    if (query.kind) q = q.where('kind', '=', query.kind);
    if (query.action) q = q.where('action', '=', query.action);
    if (query.userId) q = q.where('userId', '=', query.userId);
    if (query.requestId) q = q.where('requestId', '=', query.requestId);
    if (query.from !== undefined) q = q.where('occurredAt', '>=', query.from);
    if (query.to !== undefined) q = q.where('occurredAt', '<', query.to);
    const after = query.after;
    if (after) {
      q = q.where((eb) =>
        eb.or([
          eb('occurredAt', '<', after.occurredAt),
          eb.and([eb('occurredAt', '=', after.occurredAt), eb('id', '<', after.id)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('occurredAt', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit)
      .execute();
    return rows.map(toRecord);
  }
}

function toRecord(row: AuditLogTable): AuditRecord {
  return {
    ...row,
    kind: row.kind as AuditKind,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}

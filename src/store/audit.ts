/** The audit log's queries: append-only, read in pages by id. */
import type Database from 'better-sqlite3';
import type { AuditEntry, AuditRecord } from '../security/audit.js';

export type AuditQueries = ReturnType<typeof auditQueries>;

export function auditQueries(db: Database.Database) {
  const insert = db.prepare(`INSERT INTO audit (at, event, principal, source, detail, status) VALUES (?, ?, ?, ?, ?, ?)`);
  const page = db.prepare<[number, number], AuditRecord>(`SELECT id, at, event, principal, source, detail, status FROM audit WHERE id > ? ORDER BY id LIMIT ?`);
  return {
    appendAudit(entry: AuditEntry): number {
      return Number(insert.run(Date.now(), entry.event, entry.principal, entry.source, entry.detail, entry.status).lastInsertRowid);
    },

    listAudit(afterId: number, limit: number): AuditRecord[] {
      return page.all(afterId, limit);
    },
  };
}

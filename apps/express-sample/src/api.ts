import type { MeterkitMiddleware } from '@meterkit/express';
import express, { Router, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { requireTenant } from './auth';

export const DIMENSIONS = ['api_calls', 'rows_exported'] as const;

const REPORTS = [
  { id: 'daily-active-users', title: 'Daily active users', rows: 1_200 },
  { id: 'revenue-by-region', title: 'Revenue by region', rows: 48 },
  { id: 'churn-cohorts', title: 'Churn cohorts', rows: 9_600 },
];

/** The public catalog is free; for authenticated callers it counts as an API call. */
function catalog(_req: Request, res: Response): void {
  res.json({ reports: REPORTS.map(({ id, title }) => ({ id, title })) });
}

/** The paid API: every call is an `api_calls` unit; exports also bill the rows they produce (`rows_exported`). */
export function apiRouter(mk: MeterkitMiddleware): Router {
  const router = Router();
  router.get('/catalog', mk.count('api_calls'), catalog);

  router.use(requireTenant);
  router.get('/reports', mk.count('api_calls'), (_req, res) => {
    res.json({ reports: REPORTS });
  });
  router.get('/reports/:id', mk.count('api_calls'), (req, res) => {
    const report = REPORTS.find((r) => r.id === req.params.id);
    if (report === undefined) {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'No such report.' } });
      return;
    }
    res.json(report);
  });
  router.post('/exports', mk.count('api_calls'), express.json({ limit: '4kb' }), (req, res) => {
    const { report: reportId, limit } = (req.body ?? {}) as { report?: unknown; limit?: unknown };
    const report = REPORTS.find((r) => r.id === reportId);
    if (report === undefined || (limit !== undefined && (!Number.isSafeInteger(limit) || (limit as number) < 1))) {
      res.status(400).json({ error: { code: 'INVALID_EXPORT', message: 'Send { "report": "<report id>", "limit"?: <positive integer> }.' } });
      return;
    }
    const rows = Math.min(report.rows, (limit as number | undefined) ?? report.rows);
    req.meter?.record('rows_exported', rows);
    res.status(201).json({ exportId: randomUUID(), report: report.id, rows });
  });
  return router;
}

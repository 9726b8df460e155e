import { checkEntitlement, ErrorCodes, isMeterkitError, type EntitlementView } from '@meterkit/core';
import type { MeterkitMiddleware } from '@meterkit/express';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
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
  router.get('/team', mk.count('api_calls'), requireEntitlement('seats'), team);
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

function entitlementOf(req: Request, dimension: string): EntitlementView | undefined {
  try {
    return req.meter?.entitlement(dimension);
  } catch (error) {
    if (isMeterkitError(error, ErrorCodes.NOT_A_CONTRACT)) return { dimension, value: undefined, within: false };
    throw error;
  }
}

function requireEntitlement(dimension: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const result = checkEntitlement(entitlementOf(req, dimension), { dimension });
    if (result.ok) return next();
    res.status(result.status).set(result.headers).json(result.body);
  };
}

/** Contract buyers: their seats and this month's API calls against the quota their contract includes. */
function team(req: Request, res: Response): void {
  const seats = req.meter!.entitlement('seats');
  const calls = req.meter!.entitlement('api_calls');
  res.json({
    seats: seats.value,
    ...(seats.expiresAt === undefined ? {} : { contractEndsAt: new Date(seats.expiresAt).toISOString() }),
    apiCalls: { includedPerMonth: calls.value ?? 0, usedThisMonth: calls.used ?? 0, withinQuota: calls.within },
  });
}

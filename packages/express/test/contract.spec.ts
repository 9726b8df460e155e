import express, { type NextFunction, type Request, type Response } from 'express';
import { describeAdapterContract, describeMeter, DIMENSION, NO_SUCH_DIMENSION, TENANT_HEADER } from '../../../tools/testing/adapter-contract/contract';
import { meterkit } from '../src';

describeAdapterContract({
  name: 'express',
  async start(server, { metering, registration, lifecycle, statusPage, countedDimension = DIMENSION }) {
    const errors: unknown[] = [];
    const mk = meterkit(metering, { identify: (req) => req.get(TENANT_HEADER), registration, lifecycle, statusPage });
    const app = express();
    app.use(mk);
    let counted: ReturnType<typeof mk.count>;
    try {
      counted = mk.count(countedDimension);
    } catch (error) {
      await mk.close();
      throw error;
    }
    app.get('/work', (req, res) => {
      req.meter?.record(DIMENSION, 1);
      res.json({ meter: describeMeter(req.meter) });
    });
    app.get('/answer/:status', (req, res) => {
      req.meter?.record(DIMENSION, 1);
      res.status(Number(req.params.status)).json({});
    });
    app.get('/counted', counted, (_req, res) => {
      res.json({});
    });
    app.get('/free', (req, res) => {
      res.json({ meter: describeMeter(req.meter) });
    });
    app.get('/typo', (req, res) => {
      req.meter?.record(NO_SUCH_DIMENSION, 1);
      res.json({});
    });
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(error);
      res.status(500).json({ error: 'internal' });
    });
    server.on('request', app);
    return { errors, close: () => mk.close() };
  },
});

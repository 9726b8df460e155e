import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { describeAdapterContract, describeMeter, DIMENSION, NO_SUCH_DIMENSION, TENANT_HEADER } from '../../../tools/testing/adapter-contract/contract';
import { meterkit } from '../src';

describeAdapterContract({
  name: 'express',
  async start(server, { metering, registration, lifecycle, statusPage, onSubscriptionChange, countedDimension = DIMENSION, entitled = [] }) {
    const errors: unknown[] = [];
    const identified: string[] = [];
    // Express has no logger of its own: meterkit logs to console.error, kept from the test output while the app runs.
    const logged: string[] = [];
    const consoleError = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      logged.push(args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' '));
    });
    const identify = (req: Request) => {
      identified.push(req.originalUrl);
      return req.get(TENANT_HEADER);
    };
    let mk: ReturnType<typeof meterkit>;
    try {
      mk = meterkit(metering, { identify, registration, lifecycle, statusPage, onSubscriptionChange });
    } catch (error) {
      consoleError.mockRestore();
      throw error;
    }
    const close = async () => {
      try {
        await mk.close();
      } finally {
        consoleError.mockRestore();
      }
    };
    const app = express();
    app.use(mk);
    let counted: RequestHandler;
    try {
      counted = mk.count(countedDimension);
      for (const { path, dimension, atLeast } of entitled) {
        app.get(path, mk.requireEntitlement(dimension, atLeast === undefined ? undefined : { atLeast }), (req, res) => {
          res.json({ meter: describeMeter(req.meter) });
        });
      }
    } catch (error) {
      await close();
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
    return { errors, logged, identified, close };
  },
});

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { RelayConfig } from '../config/config';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const QUIET_PATHS = /^\/(health\/|metrics$)/;

/** Query parameters that may carry credentials are replaced before a URL is logged. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|api_key|apikey|key|secret|signature)=)[^&#]*/gi, '$1[redacted]');
}

/**
 * JSON logs through pino, one line per request with its request id (a safe `X-Request-Id` from the client or nginx,
 * else a fresh one; echoed back). Only method, redacted URL, status and timing are logged: no headers, no bodies,
 * so API keys, callback credentials and signatures cannot leak. Pretty output outside production.
 */
export function loggingOptions(config: RelayConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel === 'verbose' ? 'trace' : config.logLevel,
      transport:
        config.production || config.nodeEnv === 'test'
          ? undefined
          : { target: 'pino-pretty', options: { singleLine: true } },
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
      serializers: {
        req: (req: { id: string; method: string; url: string; raw?: IncomingMessage & { ip?: string } }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
          // Express's req.ip: the client as seen through the one trusted proxy hop.
          client_ip: req.raw?.ip,
        }),
        res: (res: { statusCode: number }) => ({ status_code: res.statusCode }),
      },
      customProps: (req: IncomingMessage) => {
        const match = /\/(job_[0-9a-f]{32})(?:[/?]|$)/.exec(req.url ?? '');
        return match ? { job_id: match[1] } : {};
      },
      redact: { paths: ['req.headers', 'res.headers', 'err.config'], remove: true },
    },
  };
}

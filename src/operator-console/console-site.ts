import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NextFunction, Request, Response } from 'express';

/**
 * The console's pages may load scripts, styles and data from the relay's own origin only, and nothing inline: a
 * stricter policy than the one /docs needs for Swagger UI.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * Where `npm run build` puts the console: dist/console beside the compiled server (dist/operator-console), or, when
 * the server runs from its TypeScript sources (tests), the build's dist/console. Null when it was never built.
 */
export function findConsoleAssets(): string | null {
  const candidates = [path.resolve(__dirname, '../console'), path.resolve(__dirname, '../../dist/console')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html'))) ?? null;
}

/**
 * Serves the console's files from memory: a fixed set read once at start, so no request can reach any other file.
 * `/console` redirects to `/console/` with a relative Location, which keeps working under a path prefix.
 */
export function consoleSite(dir: string): (request: Request, response: Response, next: NextFunction) => void {
  const assets = readAssets(dir);
  return (request, response, next) => {
    if (request.path !== '/console' && !request.path.startsWith('/console/')) return next();
    if (request.method !== 'GET' && request.method !== 'HEAD') return next();
    response.setHeader('Content-Security-Policy', CONSOLE_CSP);
    if (request.path === '/console') {
      const query = request.originalUrl.indexOf('?');
      response.redirect(302, `console/${query === -1 ? '' : request.originalUrl.slice(query)}`);
      return;
    }
    const name = request.path.slice('/console/'.length) || 'index.html';
    const asset = assets.get(name);
    if (!asset) return next();
    response.setHeader('Content-Type', asset.type);
    // Revalidated every time: after an upgrade the page and its modules change together.
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader('ETag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) {
      response.status(304).end();
      return;
    }
    response.setHeader('Content-Length', asset.body.length);
    response.status(200).end(request.method === 'HEAD' ? undefined : asset.body);
  };
}

function readAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      const type = TYPES[path.extname(entry.name)];
      if (!entry.isFile() || !type) continue;
      const body = fs.readFileSync(full);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      assets.set(path.relative(dir, full).split(path.sep).join('/'), { body, type, etag });
    }
  };
  walk(dir);
  return assets;
}

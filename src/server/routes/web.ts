// The dashboard: the single-page app built into web/dist (`npm run build`), served at `/`. Unknown non-API GET
// paths that accept HTML get index.html so the app's own links can be reloaded; API paths keep their JSON 404s.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** web/dist, found the same way from src/server/routes (tsx) and dist/server/routes (built). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

// The app loads only its own scripts and styles; charts set inline styles; nothing may frame it.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Writ: dashboard not built</title></head>
<body><main><h1>The Writ dashboard is not built</h1><p>This server has no <code>web/dist</code>. Run <code>npm run build</code> in the Writ
checkout, then restart <code>writ server</code>. The API at <code>/v1/</code> works without it.</p></main></body></html>`;

function isPagePath(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0];
  return (request.method === 'GET' || request.method === 'HEAD') && !path.startsWith('/v1/') && !path.startsWith('/auth/') && /text\/html|\*\/\*/.test(request.headers.accept ?? '');
}

/** Serves the dashboard; returns whether it was built. */
export async function registerDashboard(app: FastifyInstance, root = DASHBOARD_DIR): Promise<boolean> {
  const built = existsSync(`${root}index.html`);
  if (!built) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE));
    return false;
  }
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: false,
    setHeaders(reply, path) {
      // Vite names assets by their hash, so they never change; index.html must always be fresh.
      reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
    },
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.sendFile('index.html'));
  return true;
}

/** From the not-found handler: answers a page path with index.html when the dashboard is built. */
export function sendDashboardFallback(request: FastifyRequest, reply: FastifyReply): boolean {
  if (!isPagePath(request) || typeof reply.sendFile !== 'function') return false;
  void reply.sendFile('index.html');
  return true;
}

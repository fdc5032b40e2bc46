import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../shared/logger.js';

/** Where `npm run build` puts the web app: web/dist beside src/ and dist/. */
export const BUNDLED_WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/**
 * Serves the built web app: `index.html` at `/` and its hashed files under
 * `/assets/`. One route per file (no wildcard, no SPA fallback: the app routes
 * in the URL fragment), so every other path keeps the API's 404 envelope.
 * Returns false, with a warning, when the app has not been built.
 */
export async function registerWebApp(
  app: FastifyInstance,
  options: { dir: string; logger: Logger },
): Promise<boolean> {
  const root = options.dir ? resolve(options.dir) : BUNDLED_WEB_DIR;
  if (!existsSync(join(root, 'index.html'))) {
    options.logger.warn({ root }, 'web app not built (npm run build); not serving it at /');
    return false;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    decorateReply: false,
    cacheControl: false,
    setHeaders(res, path) {
      // File names under assets/ carry a content hash; index.html must be revalidated.
      res.setHeader(
        'cache-control',
        path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  return true;
}

// The web app: serves web/dist (built by `npm run web:build`) and answers every other non-API path with
// index.html, so /dispatch, /audit/<id> and the rest work on reload and as bookmarks.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

export interface WebOptions {
  /** The built app; default web/dist next to this repository's api/. */
  root?: string;
}

export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

// Paths that belong to the server, never to the app: an unknown one is a 404 problem, not the app's HTML.
const SERVER_PATHS = /^\/(api|docs)(\/|$)/;
// A request for a file (it has an extension) that is not there must 404: answering a missing chunk with
// HTML makes the browser report a baffling syntax error instead of a missing file.
const LOOKS_LIKE_FILE = /\/[^/]+\.[A-Za-z0-9]+$/;

const web: FastifyPluginAsync<WebOptions> = async (app, options) => {
  const root = options.root ?? DEFAULT_WEB_ROOT;
  const built = existsSync(join(root, 'index.html'));

  if (built) {
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      // Routes for the files that exist; the catch-all below handles the rest.
      wildcard: false,
      index: ['index.html'],
      cacheControl: false,
      setHeaders: (reply, path) => {
        // Vite puts a content hash in every name under assets/, so those never change; index.html always may.
        reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  } else {
    app.log.warn({ root }, 'web app not built: run `npm run web:build` to serve the UI');
  }

  const appShell = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (SERVER_PATHS.test(path) || LOOKS_LIKE_FILE.test(path)) return reply.callNotFound();
    if (!built) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web app has not been built. Run `npm run web:build`, then reload.\n网页端尚未构建，请先运行 npm run web:build。\n');
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', root);
  };

  if (!built) app.get('/', appShell);
  app.get('/*', appShell);
};

export default web;

/**
 * The operator dashboard at /dashboard: static files from the project's `dashboard/` folder (plain HTML, CSS and
 * JavaScript, no build step) plus uPlot from node_modules for the charts. The files hold no data and are public;
 * the page asks for a token and reads everything through the token-protected lag routes (api/routes/lag.ts),
 * live over server-sent events.
 *
 * Only the files listed here are served (no path from the URL ever reaches the file system).
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { ApiError } from '../api-error'

interface Asset {
  readonly file: string
  readonly type: string
}

/** The dashboard folder: next to api/ in the sources, one level further up from dist/api. */
function dashboardDir (): string {
  let dir = __dirname
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'dashboard')
    if (existsSync(join(candidate, 'index.html'))) return candidate
    dir = dirname(dir)
  }
  throw new ApiError('DEVTRIP_API_INTERNAL', 'the dashboard files (dashboard/index.html) were not found next to the API')
}

function uplotFile (name: string): string {
  // resolved through the package's own location, wherever npm put it
  return join(dirname(require.resolve('uplot/package.json')), 'dist', name)
}

const HTML = 'text/html; charset=utf-8'
const JS = 'text/javascript; charset=utf-8'
const CSS = 'text/css; charset=utf-8'

export default async function dashboardRoutes (app: FastifyInstance): Promise<void> {
  const dir = dashboardDir()
  const assets: Record<string, Asset> = {
    'index.html': { file: join(dir, 'index.html'), type: HTML },
    'dashboard.js': { file: join(dir, 'dashboard.js'), type: JS },
    'charts.js': { file: join(dir, 'charts.js'), type: JS },
    'dashboard.css': { file: join(dir, 'dashboard.css'), type: CSS },
    'uplot.js': { file: uplotFile('uPlot.iife.min.js'), type: JS },
    'uplot.css': { file: uplotFile('uPlot.min.css'), type: CSS }
  }
  // read once: the files are small and do not change while the server runs
  const contents = new Map(Object.entries(assets).map(([name, a]) => [name, readFileSync(a.file)]))
  const open = { auth: 'public', rateLimit: false } as const

  app.get('/dashboard', { config: { ...open, description: 'The operator dashboard (lag, throughput, DLQ, restore progress).' } }, async (_request, reply) => {
    return reply.redirect('/dashboard/', 302)
  })

  function serve (name: string, reply: FastifyReply): Buffer {
    const asset = Object.hasOwn(assets, name) ? assets[name] : undefined
    if (asset === undefined) throw new ApiError('DEVTRIP_API_NOT_FOUND', `no dashboard file ${JSON.stringify(name)}`)
    reply.type(asset.type)
    reply.header('cache-control', 'no-cache')
    reply.header('x-content-type-options', 'nosniff')
    return contents.get(name)!
  }

  app.get('/dashboard/', { config: { ...open, description: 'The operator dashboard page.' } }, async (_request, reply) => serve('index.html', reply))

  app.get<{ Params: { file: string } }>('/dashboard/:file', { config: { ...open, description: 'Dashboard scripts and styles.' } }, async (request, reply) => serve(request.params.file, reply))
}

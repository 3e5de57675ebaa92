/**
 * Every module in api/routes/ that exports a Fastify plugin — as its default export or as `routes` — is
 * registered, in file-name order, so adding a route group means adding a file (as cli/main.ts does for
 * commands). Each module is registered as an encapsulated plugin: it sees the server's decorators
 * (`app.devtrip`) and global hooks (auth, errors, metrics), and what it adds stays its own.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { DevtripError } from '../events'

export const ROUTES_DIR = join(__dirname, 'routes')

function isModuleFile (file: string): boolean {
  return /\.(js|ts)$/.test(file) && !file.endsWith('.d.ts') && !file.endsWith('.test.ts')
}

/** The plugin a route module exports, or undefined when it exports none (a helper module). */
export function routePluginOf (mod: unknown): FastifyPluginAsync | undefined {
  if (typeof mod === 'function') return mod as FastifyPluginAsync
  const candidate = (mod as { default?: unknown, routes?: unknown } | null)?.default ?? (mod as { routes?: unknown } | null)?.routes
  return typeof candidate === 'function' ? candidate as FastifyPluginAsync : undefined
}

/** Registers the route modules of `dir`; returns their file names, in registration order. */
export async function registerRouteModules (app: FastifyInstance, dir: string = ROUTES_DIR): Promise<string[]> {
  const files = readdirSync(dir).filter(isModuleFile).sort()
  const registered: string[] = []
  for (const file of files) {
    let mod: unknown
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(join(dir, file))
    } catch (error) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `route module ${file} failed to load: ${(error as Error).message}`, { cause: error })
    }
    const plugin = routePluginOf(mod)
    if (plugin === undefined) continue
    await app.register(plugin)
    registered.push(file)
  }
  return registered
}

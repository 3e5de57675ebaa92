/**
 * Marks a plugin as applying to the whole server (what the `fastify-plugin` package does, in four lines):
 * Fastify encapsulates what a registered plugin adds — hooks, decorators, handlers — to that plugin's own
 * context unless the function carries the `skip-override` symbol. Auth, errors, request ids and metrics
 * must see every route, including the ones other route modules add.
 */
import type { FastifyPluginAsync } from 'fastify'

export function globalPlugin<Options extends Record<string, unknown>> (name: string, plugin: FastifyPluginAsync<Options>): FastifyPluginAsync<Options> {
  Object.defineProperty(plugin, Symbol.for('skip-override'), { value: true })
  Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: name })
  return plugin
}

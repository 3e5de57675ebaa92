/**
 * Routes of a `run` instance's query endpoint (instance-server.ts):
 *
 *   GET /v1/instance
 *       this instance: its advertised address and, per application, its state and local tasks
 *   GET /v1/instance/apps/:applicationId/stores/:store/keys/:key?partition=N
 *       the value of `key` (the store's string key) in this instance's store
 *         200  { applicationId, store, key, partition, value }
 *         404  DEVTRIP_API_NOT_FOUND, details.missing = 'key' (with `checked`: the partitions asked),
 *              'application' or 'store'
 *         503  DEVTRIP_API_UNAVAILABLE, details.reason = 'restoring' (Retry-After): the partition's task is here but
 *              restoring or suspended; without `partition`, some local partition could not be asked
 *         421  DEVTRIP_API_NOT_OWNER (only with `partition`): this instance has no task for it;
 *              details.owner = the owner now ("host:port") or null
 *         400  a bad `partition`
 *       Without `partition` every local partition of the store is asked (for stores not keyed by the record key:
 *       the caller asks every instance and combines the answers).
 */
import type { FastifyInstance } from 'fastify'
import { DevtripError } from '../../events'
import { formatHostInfo, hasStore, readLocalKey } from '../../streams'
import { ApiError, unavailable } from '../api-error'
import type { QueryableApp } from './instance-server'

interface KeyParams { applicationId: string, store: string, key: string }

function partitionParam (query: unknown): number | undefined {
  const raw = (query as { partition?: unknown } | undefined)?.partition
  if (raw === undefined) return undefined
  if (typeof raw !== 'string' || !/^[0-9]{1,5}$/.test(raw)) {
    throw new ApiError('DEVTRIP_API_BAD_REQUEST', 'partition must be a whole number from 0 to 99999', { details: { parameter: 'partition' } })
  }
  return Number(raw)
}

/** Where the partition went, as far as the group knows right now (null: unknown, or the answer names us). */
async function currentOwner (app: QueryableApp, store: string, key: string, self: string | undefined): Promise<string | null> {
  if (app.queryMetadataForKey === undefined) return null
  try {
    const meta = await app.queryMetadataForKey(store, key)
    const owner = meta.activeHost === null ? null : formatHostInfo(meta.activeHost)
    return owner === self ? null : owner
  } catch {
    return null
  }
}

export async function storeRoutes (server: FastifyInstance): Promise<void> {
  const context = server.devtripInstance

  server.get('/v1/instance', async () => ({
    applicationServer: context.applicationServer() ?? null,
    apps: [...context.apps].map(([applicationId, app]) => ({ applicationId, state: app.state, tasks: app.localTasks() }))
  }))

  server.get<{ Params: KeyParams }>('/v1/instance/apps/:applicationId/stores/:store/keys/:key', async (request) => {
    const { applicationId, store, key } = request.params
    const partition = partitionParam(request.query)
    const app = context.apps.get(applicationId)
    if (app === undefined) {
      throw new ApiError('DEVTRIP_API_NOT_FOUND', `this instance runs no application "${applicationId}"`, { details: { missing: 'application', applicationId } })
    }
    if (!hasStore(app, store)) {
      throw new ApiError('DEVTRIP_API_NOT_FOUND', `application "${applicationId}" has no store "${store}"`, { details: { missing: 'store', store } })
    }
    let read
    try {
      read = readLocalKey(app, store, key, partition === undefined ? {} : { partition })
    } catch (error) {
      // a window or session store: only key-value stores answer key lookups
      if (error instanceof DevtripError && error.code === 'DEVTRIP_INVALID_OPTIONS') throw new ApiError('DEVTRIP_API_BAD_REQUEST', error.message, { details: error.details })
      throw error
    }
    if (read.status === 'found') return { applicationId, store, key, partition: read.partition, value: read.value }
    const { checked, notReady } = read
    if (notReady.length > 0) {
      throw unavailable(`store "${store}" of application "${applicationId}" is restoring on this instance (partition${notReady.length > 1 ? 's' : ''} ${notReady.join(', ')})`,
        context.retryAfterSeconds, { reason: 'restoring', checked, notReady })
    }
    if (partition !== undefined && !checked.includes(partition)) {
      const owner = await currentOwner(app, store, key, context.applicationServer())
      throw new ApiError('DEVTRIP_API_NOT_OWNER', `partition ${partition} of store "${store}" is not on this instance (a rebalance moved it)`, {
        details: { partition, owner }
      })
    }
    throw new ApiError('DEVTRIP_API_NOT_FOUND', `no key ${JSON.stringify(key)} in store "${store}"`, { details: { missing: 'key', checked } })
  })
}

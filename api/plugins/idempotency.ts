/**
 * The idempotency store's life cycle in the server. On close, `drain` runs FIRST (the server passes "close
 * the publisher, then wait for the ingest service's pending settlements"): a batch still in flight settles
 * its eventIds' reservations (completed or released) when it finishes, which needs the store open. Then the
 * store is closed (its Redis connection quit, when the server created it).
 * The store and the reservation protocol are in api/idempotency/; the ingest service uses them.
 */
import type { IdempotencyStore } from '../idempotency/store'
import { globalPlugin } from './global-plugin'

export const idempotencyPlugin = globalPlugin<{ store: IdempotencyStore, drain: () => Promise<void> }>('devtrip-idempotency', async (app, options) => {
  app.addHook('onClose', async () => {
    try {
      await options.drain()
    } finally {
      await options.store.close()
    }
  })
})

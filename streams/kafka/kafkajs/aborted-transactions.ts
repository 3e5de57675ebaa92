/**
 * read_committed filtering of a fetched partition: which records belong to aborted transactions.
 *
 * The Fetch response lists the aborted transactions that overlap the returned range as (producerId, firstOffset)
 * pairs, in the order the broker's transaction index holds them — the order the transactions ENDED, not the order
 * they began. The rule (Kafka's Java consumer): walk the record batches in offset order; before each batch, every
 * listed transaction whose firstOffset ≤ the batch's last offset makes its producer "aborted"; a control batch with
 * an ABORT marker ends that for its producer; a transactional batch of an aborted producer is dropped.
 *
 * Why not kafkajs's own filter (`kafkajs/src/consumer/filterAbortedMessages`): it takes the list as sorted by
 * firstOffset and moves at most one entry per record, so with two aborted transactions ending in the other order
 * (B began after A but aborted first) it shows A's records and hides records B's producer committed later. The
 * kafkajs chaos run met it: a poison record dead-lettered in an aborted transaction was counted as a dead letter.
 * The assigned consumer filters with this function (fetch-records.ts); the group consumer's fetch responses are
 * filtered with it before kafkajs's Batch sees them (cluster-taps.ts).
 *
 * Control-batch record layout (key): [version: int16 = 0][type: int16, 0 = ABORT, 1 = COMMIT].
 */

/** The parts of a kafkajs-decoded record this filter reads. */
export interface FilterableMessage {
  readonly offset: string
  readonly key: Buffer | null
  readonly isControlRecord?: boolean
  readonly batchContext?: { readonly firstOffset: string, readonly lastOffsetDelta: number, readonly producerId: string, readonly inTransaction: boolean }
}

export interface AbortedTransaction {
  readonly producerId: string
  readonly firstOffset: string
}

function isAbortMarker (message: FilterableMessage): boolean {
  const key = message.key
  return key !== null && key !== undefined && key.length >= 4 && key.readInt16BE(2) === 0
}

/**
 * The records not in an aborted transaction, in order; control records are kept (the callers drop them, and
 * kafkajs needs them to move its offsets past the markers).
 */
export function filterAbortedTransactions<M extends FilterableMessage> ({ messages, abortedTransactions }: { messages: readonly M[], abortedTransactions?: readonly AbortedTransaction[] | null }): M[] {
  if (abortedTransactions === undefined || abortedTransactions === null || abortedTransactions.length === 0) return [...messages]
  const pending = abortedTransactions
    .map((t) => ({ producerId: String(t.producerId), firstOffset: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0))
  const aborted = new Set<string>()
  let next = 0
  return messages.filter((m) => {
    const batch = m.batchContext
    if (batch === undefined) return true
    const lastOffset = BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta)
    while (next < pending.length && (pending[next] as { firstOffset: bigint }).firstOffset <= lastOffset) {
      aborted.add((pending[next] as { producerId: string }).producerId)
      next++
    }
    const producerId = String(batch.producerId)
    if (m.isControlRecord === true) {
      if (isAbortMarker(m)) aborted.delete(producerId)
      return true
    }
    return !(batch.inTransaction && aborted.has(producerId))
  })
}

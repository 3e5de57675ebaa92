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
 * The assigned consumer filters with it (fetch-records.ts); in the group consumer's fetch responses the aborted
 * records are marked before kafkajs's Batch sees them (cluster-taps.ts, hideAbortedRecords).
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
 * For each record, whether it belongs to an aborted transaction (control records never do: an ABORT marker is what
 * ends one).
 */
export function abortedRecords (messages: readonly FilterableMessage[], abortedTransactions?: readonly AbortedTransaction[] | null): boolean[] {
  if (abortedTransactions === undefined || abortedTransactions === null || abortedTransactions.length === 0) return messages.map(() => false)
  const pending = abortedTransactions
    .map((t) => ({ producerId: String(t.producerId), firstOffset: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0))
  const aborted = new Set<string>()
  let next = 0
  return messages.map((m) => {
    const batch = m.batchContext
    if (batch === undefined) return false
    const lastOffset = BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta)
    while (next < pending.length && (pending[next] as { firstOffset: bigint }).firstOffset <= lastOffset) {
      aborted.add((pending[next] as { producerId: string }).producerId)
      next++
    }
    const producerId = String(batch.producerId)
    if (m.isControlRecord === true) {
      if (isAbortMarker(m)) aborted.delete(producerId)
      return false
    }
    return batch.inTransaction && aborted.has(producerId)
  })
}

/** The records not in an aborted transaction, in order; control records are kept (the callers drop them). */
export function filterAbortedTransactions<M extends FilterableMessage> ({ messages, abortedTransactions }: { messages: readonly M[], abortedTransactions?: readonly AbortedTransaction[] | null }): M[] {
  const aborted = abortedRecords(messages, abortedTransactions)
  return messages.filter((_m, i) => aborted[i] !== true)
}

/**
 * The same records, those of aborted transactions marked as control records: kafkajs then leaves them out of a
 * batch's records like transaction markers, but still counts them in the batch's raw records, so the next fetch
 * starts after them (dropping them would move positions back to before a run of aborted records, and a fetch that
 * holds nothing else would be made again and again).
 */
export function hideAbortedRecords<M extends FilterableMessage> ({ messages, abortedTransactions }: { messages: readonly M[], abortedTransactions?: readonly AbortedTransaction[] | null }): M[] {
  const aborted = abortedRecords(messages, abortedTransactions)
  return messages.map((m, i) => (aborted[i] === true ? { ...m, isControlRecord: true } : m))
}

/**
 * KStream–KStream windowed joins. Each side keeps its records in its own window store (duplicates retained) for
 * before + after + grace, and on every record looks up the other side's store:
 *   a left record at time l joins right records with r in [l - before, l + after];
 *   a right record at time r therefore joins left records with l in [r - after, r + before].
 * A record is too late — dropped and reported — once stream time passed its own window end plus grace
 * (t + lookAhead + grace < stream time): its partners may already have been evicted.
 *
 * Left join: a left record that found no partner goes into the outer store; a right record that later matches it
 * takes it out; once its window closed (l + after + grace < stream time) it is emitted with null. So a result
 * with null is never followed by a real join result for the same record.
 *
 * Outer store layout (a key-value store of bytes, in timestamp order):
 *   key   [timestamp: 8 bytes, big-endian unsigned][key: the join key serialized with the key serde]
 *   value repeated [length: 4 bytes, big-endian unsigned][left value serialized with the left value serde]
 *         (several left records may share one key and timestamp)
 */
import type { KeyValueStore, StoreBuilder, WindowStore } from '../../../state/base/types'
import type { Serde } from '../../../state/serdes'
import type { ProcessorSupplier } from '../../processor'
import { NO_HEADERS } from '../../record'
import type { InternalProcessorContext } from '../task/nodes'
import type { InternalTopology } from '../topology/internal-topology'
import { processorFrom } from './stream-processors'

type Joiner = (left: unknown, right: unknown, key: unknown) => unknown

export interface JoinSideOptions {
  readonly ownStore: string
  readonly otherStore: string
  /** left joins only */
  readonly outerStore: string | undefined
  readonly isLeftSide: boolean
  readonly leftJoin: boolean
  readonly beforeMs: number
  readonly afterMs: number
  readonly graceMs: number
  readonly joiner: Joiner
  readonly keySerde: Serde<unknown>
  readonly leftValueSerde: Serde<unknown>
  /** per task: the largest timestamp either side of this join has seen */
  readonly timeTrackers: Map<string, { streamTime: number, lastExpiryCheck: number }>
}

export function encodeOuterKey (timestamp: number, keyBytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + keyBytes.length)
  out.writeBigUInt64BE(BigInt(timestamp), 0)
  keyBytes.copy(out, 8)
  return out
}

export function encodeOuterValues (values: readonly Buffer[]): Buffer {
  let size = 0
  for (const v of values) size += 4 + v.length
  const out = Buffer.allocUnsafe(size)
  let offset = 0
  for (const v of values) {
    out.writeUInt32BE(v.length, offset)
    v.copy(out, offset + 4)
    offset += 4 + v.length
  }
  return out
}

export function decodeOuterValues (data: Buffer): Buffer[] {
  const values: Buffer[] = []
  let offset = 0
  while (offset < data.length) {
    const length = data.readUInt32BE(offset)
    values.push(data.subarray(offset + 4, offset + 4 + length))
    offset += 4 + length
  }
  return values
}

export function streamStreamJoinProcessor (options: JoinSideOptions): ProcessorSupplier<unknown, unknown, unknown, unknown> {
  const { isLeftSide, leftJoin, joiner, graceMs } = options
  const lookBack = isLeftSide ? options.beforeMs : options.afterMs
  const lookAhead = isLeftSide ? options.afterMs : options.beforeMs
  return processorFrom((ctx) => {
    const own = ctx.getStateStore<WindowStore<unknown, unknown>>(options.ownStore)
    const other = ctx.getStateStore<WindowStore<unknown, unknown>>(options.otherStore)
    const outer = options.outerStore === undefined ? undefined : ctx.getStateStore<KeyValueStore<Buffer, Buffer>>(options.outerStore)
    let tracker = options.timeTrackers.get(ctx.taskId)
    if (tracker === undefined) {
      tracker = { streamTime: -1, lastExpiryCheck: -1 }
      options.timeTrackers.set(ctx.taskId, tracker)
    }
    const time = tracker
    return (record) => {
      const { key, value, timestamp } = record
      if (key === null || key === undefined) {
        if (leftJoin && isLeftSide) ctx.forward({ key, value: joiner(value, null, key), timestamp, headers: record.headers })
        else ctx.recordSkipped('null key in a stream-stream join')
        return
      }
      if (timestamp > time.streamTime) time.streamTime = timestamp
      if (timestamp + lookAhead + graceMs < time.streamTime) {
        ctx.recordSkipped('record after its join window closed (grace period passed)')
        return
      }
      own.put(key, value, timestamp)
      const matches = other.fetch(key, Math.max(0, timestamp - lookBack), timestamp + lookAhead)
      for (const match of matches) {
        const result = isLeftSide ? joiner(value, match.value, key) : joiner(match.value, value, key)
        ctx.forward({ key, value: result, timestamp: Math.max(timestamp, match.windowStart), headers: record.headers })
        if (outer !== undefined && !isLeftSide) {
          // the left records at that time are matched now: they must never be emitted with null
          const outerKey = encodeOuterKey(match.windowStart, options.keySerde.serialize(key))
          if (outer.get(outerKey) !== undefined) outer.delete(outerKey)
        }
      }
      if (outer !== undefined) {
        if (isLeftSide && matches.length === 0) {
          const outerKey = encodeOuterKey(timestamp, options.keySerde.serialize(key))
          const existing = outer.get(outerKey)
          const values = existing === undefined ? [] : decodeOuterValues(existing)
          values.push(options.leftValueSerde.serialize(value))
          outer.put(outerKey, encodeOuterValues(values))
        }
        if (time.streamTime > time.lastExpiryCheck) {
          time.lastExpiryCheck = time.streamTime
          emitExpired(ctx, outer, time.streamTime - options.afterMs - graceMs - 1, options)
        }
      }
    }
  })
}

/** Emits (left, null) for every unmatched left record with timestamp <= `lastClosed`, oldest first, and forgets it. */
function emitExpired (ctx: InternalProcessorContext, outer: KeyValueStore<Buffer, Buffer>, lastClosed: number, options: JoinSideOptions): void {
  if (lastClosed < 0) return
  const upper = Buffer.allocUnsafe(8)
  upper.writeBigUInt64BE(BigInt(lastClosed + 1), 0)
  for (const { key: outerKey, value } of outer.range(undefined, upper)) {
    const timestamp = Number(outerKey.readBigUInt64BE(0))
    if (timestamp > lastClosed) break
    const key = options.keySerde.deserialize(outerKey.subarray(8))
    for (const bytes of decodeOuterValues(value)) {
      ctx.forward({ key, value: options.joiner(options.leftValueSerde.deserialize(bytes), null, key), timestamp, headers: NO_HEADERS })
    }
    outer.delete(outerKey)
  }
}

export interface StreamStreamJoinRequest {
  readonly name: string
  readonly left: { node: string, sourceTopics: readonly string[] }
  readonly right: { node: string, sourceTopics: readonly string[] }
  readonly keySerde: Serde<unknown>
  readonly leftValueSerde: Serde<unknown>
  readonly rightValueSerde: Serde<unknown>
  readonly beforeMs: number
  readonly afterMs: number
  readonly graceMs: number
  readonly joiner: Joiner
  readonly leftJoin: boolean
  readonly storeBuilders: {
    window: (name: string, valueSerde: Serde<unknown>, retentionMs: number, windowSizeMs: number) => StoreBuilder
    outer: (name: string) => StoreBuilder
  }
  readonly topology: InternalTopology
}

/** Adds the join's stores and nodes: `<name>-this-join`, `<name>-other-join` and `<name>-merge`; returns the merge node. */
export function addStreamStreamJoin (request: StreamStreamJoinRequest): string {
  const { name, topology } = request
  const thisStore = `${name}-this-join-store`
  const otherStore = `${name}-other-join-store`
  const outerStore = request.leftJoin ? `${name}-outer-shared-join-store` : undefined
  // window size before + after; retention adds grace. Both at least 1 ms (a zero-width window is still a window).
  const windowSizeMs = Math.max(1, request.beforeMs + request.afterMs)
  const retentionMs = windowSizeMs + request.graceMs
  topology.addStateStore(request.storeBuilders.window(thisStore, request.leftValueSerde, retentionMs, windowSizeMs), [])
  topology.addStateStore(request.storeBuilders.window(otherStore, request.rightValueSerde, retentionMs, windowSizeMs), [])
  if (outerStore !== undefined) topology.addStateStore(request.storeBuilders.outer(outerStore), [])
  const timeTrackers = new Map<string, { streamTime: number, lastExpiryCheck: number }>()
  const common = {
    outerStore,
    leftJoin: request.leftJoin,
    beforeMs: request.beforeMs,
    afterMs: request.afterMs,
    graceMs: request.graceMs,
    joiner: request.joiner,
    keySerde: request.keySerde,
    leftValueSerde: request.leftValueSerde,
    timeTrackers
  }
  const thisNode = `${name}-this-join`
  const otherNode = `${name}-other-join`
  const stores = outerStore === undefined ? [thisStore, otherStore] : [thisStore, otherStore, outerStore]
  topology.addProcessor(thisNode, streamStreamJoinProcessor({ ...common, ownStore: thisStore, otherStore, isLeftSide: true }), [request.left.node])
  topology.connect(thisNode, stores)
  topology.addProcessor(otherNode, streamStreamJoinProcessor({ ...common, ownStore: otherStore, otherStore: thisStore, isLeftSide: false }), [request.right.node])
  topology.connect(otherNode, stores)
  const merge = `${name}-merge`
  topology.addProcessor(merge, processorFrom((ctx) => (record) => { ctx.forward(record) }), [thisNode, otherNode])
  topology.addCopartitionGroup([...request.left.sourceTopics, ...request.right.sourceTopics])
  return merge
}

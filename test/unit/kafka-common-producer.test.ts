import { DevtripError, isDevtripError } from '../../events/errors'
import { partitionForKey } from '../../streams'
import { chunksBySize, type ChunkAdmission } from '../../streams/kafka/common/produce-chunks'
import { ProducerStateMachine } from '../../streams/kafka/common/producer-state-machine'
import { choosePartition } from '../../streams/kafka/common/record-partitioning'

/** A translation as an adapter would do it: broker names in the message decide the code. */
function translate (error: unknown, operation: string): DevtripError {
  if (isDevtripError(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return new DevtripError(message.includes('PRODUCER_FENCED') ? 'DEVTRIP_KAFKA_FENCED' : 'DEVTRIP_KAFKA', `${operation}: ${message}`, { cause: error })
}

async function codeOf (work: () => Promise<unknown> | unknown): Promise<string> {
  try {
    await work()
  } catch (error) {
    return (error as DevtripError).code
  }
  return 'no error'
}

describe('ProducerStateMachine', () => {
  test('a transactional producer goes uninitialized → ready → in-transaction, and refuses calls out of order', async () => {
    const calls = new ProducerStateMachine('tx-1', translate)
    expect(calls.state).toBe('uninitialized')
    expect(() => calls.checkSend('send')).toThrow('send: a transactional producer can only send inside a transaction: call beginTransaction() first')
    expect(() => calls.checkBeginTransaction('beginTransaction')).toThrow('beginTransaction: call initTransactions() first')
    expect(() => calls.openTransaction('commitTransaction', undefined)).toThrow('commitTransaction: no transaction is open')
    calls.checkInitTransactions('initTransactions')
    calls.state = 'ready'
    expect(() => calls.checkInitTransactions('initTransactions')).toThrow('initTransactions: transactions are already initialized')
    calls.checkBeginTransaction('beginTransaction')
    calls.state = 'in-transaction'
    expect(() => calls.checkBeginTransaction('beginTransaction')).toThrow('beginTransaction: a transaction is already open')
    calls.checkSend('send')
    const transaction = { id: 7 }
    expect(calls.openTransaction('commitTransaction', transaction)).toBe(transaction)
    // the state errors carry the operation and the state they met
    let error: DevtripError | undefined
    try { calls.checkBeginTransaction('beginTransaction') } catch (e) { error = e as DevtripError }
    expect(error?.code).toBe('DEVTRIP_INVALID_OPTIONS')
    expect(error?.details).toEqual({ operation: 'beginTransaction', state: 'in-transaction' })
  })

  test('a producer without transactional id starts ready, sends freely and refuses transaction calls', () => {
    const calls = new ProducerStateMachine(null, translate)
    expect(calls.state).toBe('ready')
    calls.checkSend('send')
    for (const check of [() => calls.checkInitTransactions('initTransactions'), () => calls.checkBeginTransaction('beginTransaction'), () => calls.openTransaction('abortTransaction', {})]) {
      expect(check).toThrow('the producer is not transactional (create it with a transactionalId)')
    }
  })

  test('calls run one at a time in call order, each after the previous one ended, failed or not', async () => {
    const calls = new ProducerStateMachine(null, translate)
    const events: string[] = []
    let release!: () => void
    const first = calls.serialized('send', async () => {
      events.push('first starts')
      await new Promise<void>((resolve) => { release = resolve })
      events.push('first ends')
      throw new Error('broker said no')
    })
    const second = calls.serialized('send', async () => { events.push('second runs'); return 42 })
    await new Promise((resolve) => setImmediate(resolve))
    expect(events).toEqual(['first starts'])
    release()
    await expect(first).rejects.toThrow('send: broker said no')
    await expect(second).resolves.toBe(42)
    expect(events).toEqual(['first starts', 'first ends', 'second runs'])
    await calls.drained()
  })

  test('a fencing failure fences the producer for good; other failures do not', async () => {
    const calls = new ProducerStateMachine('tx-2', translate)
    calls.state = 'ready'
    expect(await codeOf(() => calls.serialized('beginTransaction', async () => { throw new Error('timeout') }))).toBe('DEVTRIP_KAFKA')
    expect(calls.state).toBe('ready')
    expect(await codeOf(() => calls.serialized('beginTransaction', async () => { throw new Error('PRODUCER_FENCED') }))).toBe('DEVTRIP_KAFKA_FENCED')
    expect(calls.state).toBe('fenced')
    expect(() => calls.checkBeginTransaction('beginTransaction')).toThrow('beginTransaction: the producer was fenced by a newer one with transactional id "tx-2"; close it and create a new one')
    calls.state = 'closed'
    expect(await codeOf(() => calls.checkSend('send'))).toBe('DEVTRIP_CLOSED')
  })
})

describe('chunksBySize', () => {
  const items = (sizes: number[]): Array<{ size: number, n: number }> => sizes.map((size, n) => ({ size, n }))
  const ns = (chunks: Iterable<Array<{ n: number }>>): number[][] => [...chunks].map((c) => c.map((i) => i.n))

  test('keeps order, fills chunks up to the limit and lets a bigger item travel alone', () => {
    expect(ns(chunksBySize(items([4, 4, 2, 11, 1, 9, 1]), 10))).toEqual([[0, 1, 2], [3], [4, 5], [6]])
    expect(ns(chunksBySize(items([]), 10))).toEqual([])
  })

  test('an item the chunk does not admit starts the next chunk, whose admission then takes note of it', () => {
    // at most two items of the same parity per chunk
    const admission = (): ChunkAdmission<{ size: number, n: number }> => {
      const seen = new Map<number, number>()
      return (item) => {
        const count = (seen.get(item.n % 2) ?? 0) + 1
        seen.set(item.n % 2, count)
        return count <= 2
      }
    }
    expect(ns(chunksBySize(items([1, 1, 1, 1, 1, 1, 1]), 100, admission))).toEqual([[0, 1, 2, 3], [4, 5, 6]])
  })
})

describe('choosePartition', () => {
  test('an explicit partition is kept, and one beyond the topic is an error naming the record', () => {
    const roundRobin = new Map<string, number>()
    expect(choosePartition({ topic: 't', partition: 2, value: null }, 0, 3, roundRobin)).toBe(2)
    expect(() => choosePartition({ topic: 't', partition: 3, value: null }, 5, 3, roundRobin))
      .toThrow('send: /records/5/partition 3 does not exist (topic "t" has 3)')
    expect(roundRobin.size).toBe(0)
  })

  test('keyed records follow the Java rule, unkeyed ones a per-topic round-robin', () => {
    const roundRobin = new Map<string, number>()
    const key = Buffer.from('user-42')
    expect(choosePartition({ topic: 't', key, value: null }, 0, 12, roundRobin)).toBe(partitionForKey(key, 12))
    const unkeyed = [0, 1, 2, 3].map((i) => choosePartition({ topic: 't', key: null, value: null }, i, 3, roundRobin))
    expect(unkeyed).toEqual([0, 1, 2, 0])
    expect(choosePartition({ topic: 'other', value: null }, 0, 3, roundRobin)).toBe(0)
  })
})

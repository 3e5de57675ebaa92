import type { DevtripError } from '../../events/errors'
import { applyListedOffsets, PartitionTable } from '../../streams/kafka/common/partition-table'
import { PollGate } from '../../streams/kafka/common/poll-gate'
import { dedupePartitions, groupByTopic, sortByTopicPartition } from '../../streams/kafka/common/topic-partitions'

const a0 = { topic: 'a', partition: 0 }
const a1 = { topic: 'a', partition: 1 }
const b0 = { topic: 'b', partition: 0 }

describe('PartitionTable', () => {
  test('a new assignment keeps the state of partitions it keeps and starts new ones unresolved', () => {
    const table = new PartitionTable()
    table.assign([a0, a1])
    table.seek(a0, 5n)
    table.pause([a1], true)
    table.assign([a0, b0])
    expect(table.states()).toEqual([
      { ...a0, position: 5n, paused: false, highWatermark: null, lastStableOffset: null, logStartOffset: null },
      { ...b0, position: null, paused: false, highWatermark: null, lastStableOffset: null, logStartOffset: null }
    ])
    expect(table.assignment()).toEqual([a0, b0])
    expect(table.get(a1)).toBeUndefined()
  })

  test('seek to an offset sets the position; to earliest/latest leaves a reset for the next poll', () => {
    const table = new PartitionTable()
    table.assign([a0])
    table.seek(a0, 9n)
    expect(table.get(a0)).toMatchObject({ position: 9n, reset: null })
    table.seek(a0, 'latest')
    expect(table.get(a0)).toMatchObject({ position: null, reset: 'latest' })
    expect(table.position(a0)).toBeNull()
  })

  test('an unassigned partition is an error, and pause then changes nothing', () => {
    const table = new PartitionTable()
    table.assign([a0])
    let error: DevtripError | undefined
    try { table.pause([a0, b0], true) } catch (e) { error = e as DevtripError }
    expect(error?.code).toBe('DEVTRIP_INVALID_OPTIONS')
    expect(error?.message).toBe('pause: b:0 is not assigned to this consumer')
    expect(table.get(a0)?.paused).toBe(false)
    expect(() => table.position(b0)).toThrow('position: b:0 is not assigned to this consumer')
  })

  test('listed offsets resolve positions, except where a seek came first', () => {
    const table = new PartitionTable()
    table.assign([a0, a1, b0])
    table.seek(a0, 'earliest')
    const entries = table.all()
    table.seek(a1, 3n)
    applyListedOffsets(entries, new Map([['a:0', 10n], ['a:1', 20n]]))
    expect(table.states().map((s) => s.position)).toEqual([10n, 3n, null])
    expect(table.get(a0)?.reset).toBeNull()
  })
})

describe('PollGate', () => {
  test('refuses a bad wait, a closed consumer and a second poll while one runs', async () => {
    const gate = new PollGate()
    await expect(gate.run(-1, false, async () => 1)).rejects.toThrow('poll: /maxWaitMs must be an integer >= 0, got -1')
    await expect(gate.run(0, true, async () => 1)).rejects.toMatchObject({ code: 'DEVTRIP_CLOSED' })
    let release!: () => void
    const first = gate.run(0, false, () => new Promise<string>((resolve) => { release = () => resolve('done') }))
    await expect(gate.run(0, false, async () => 'second')).rejects.toThrow('poll: already polling')
    release()
    await expect(first).resolves.toBe('done')
    await gate.settled()
    await expect(gate.run(0, false, async () => 'next')).resolves.toBe('next')
  })

  test('idle ends when woken, and at once for 0 ms', async () => {
    const gate = new PollGate()
    await gate.idle(0)
    const waiting = gate.idle(60_000)
    let ended = false
    void waiting.then(() => { ended = true })
    await new Promise((resolve) => setImmediate(resolve))
    expect(ended).toBe(false)
    gate.wakeUp()
    await waiting
    expect(ended).toBe(true)
  })
})

describe('topic-partition lists', () => {
  test('groupByTopic keeps first-appearance order of topics and input order inside each', () => {
    expect([...groupByTopic([b0, a1, a0], (tp) => tp.partition)]).toEqual([['b', [0]], ['a', [1, 0]]])
  })

  test('dedupePartitions keeps each partition once, as a plain copy', () => {
    expect(dedupePartitions([{ ...a0, offset: 1n } as typeof a0, a0, b0])).toEqual([a0, b0])
  })

  test('sortByTopicPartition orders by topic, then partition', () => {
    expect(sortByTopicPartition([{ ...b0 }, { ...a1 }, { ...a0 }])).toEqual([a0, a1, b0])
  })
})

import { DevtripError, isDevtripError } from '../../events/errors'
import { Serdes } from '../../state/serdes-builtin'
import type { Serde } from '../../state/serdes'
import {
  Consumed, DLQ_HEADERS, Materialized, Named, Produced, StreamsBuilder, Topology, TopologyTestDriver, buildDlqRecord, lastHeader,
  resolveErrorHandling, type ErrorHandlingOptions, type HandledErrorEvent, type Headers, type Processor
} from '../../streams'

const str = Serdes.String()
const num = Serdes.Int64AsNumber()
interface Event { type: string, amount: number }
const eventSerde = Serdes.Json<Event>()

function headerMap (headers: Headers): { [key: string]: string } {
  const out: { [key: string]: string } = {}
  for (const [k, v] of headers) out[k] = v.toString('utf8')
  return out
}

async function withDriver (build: (b: StreamsBuilder) => void, errorHandling: ErrorHandlingOptions | undefined,
  test: (d: TopologyTestDriver, events: HandledErrorEvent[]) => Promise<void>, partitions = 1): Promise<void> {
  const b = new StreamsBuilder({ defaultStoreType: 'in-memory' })
  build(b)
  const events: HandledErrorEvent[] = []
  const d = new TopologyTestDriver(b.build(), { applicationId: 'errors-app', partitions, errorHandling, listener: { onHandledError: (e) => events.push(e) } })
  try { await test(d, events) } finally { await d.close() }
}

describe('deserialization errors', () => {
  test('a poison record (bad JSON) goes to <topic>.dlq with its original bytes and all KIP-1034 headers; processing continues', async () => {
    await withDriver((b) => {
      b.stream('payments', Consumed.with(str, eventSerde).withName('payments-source'))
        .mapValues((e) => e.amount).to('amounts', Produced.with(str, num))
    }, undefined, async (d, events) => {
      const input = d.createInputTopic('payments', str, eventSerde)
      await input.pipeInput('u1', { type: 'paid', amount: 10 }, 100)
      await input.pipeRawInput(Buffer.from('u2'), Buffer.from('{"type": "paid", amount'), 200, [['trace-id', Buffer.from('t-1')]])
      await input.pipeInput('u3', { type: 'paid', amount: 30 }, 300)
      expect(d.createOutputTopic('amounts', str, num).readKeyValuesToList()).toEqual([{ key: 'u1', value: 10 }, { key: 'u3', value: 30 }])

      const dlq = d.createOutputTopic('payments.dlq', Serdes.Buffer(), Serdes.Buffer()).readRecordsToList()
      expect(dlq).toHaveLength(1)
      const r = dlq[0]!
      expect(r.key?.toString()).toBe('u2')
      expect(r.value?.toString()).toBe('{"type": "paid", amount')
      expect(r.timestamp).toBe(200)
      expect(r.partition).toBe(0)
      const h = headerMap(r.headers)
      expect(r.headers[0]).toEqual(['trace-id', Buffer.from('t-1')]) // original headers first, unchanged
      expect(h['trace-id']).toBe('t-1')
      expect(h[DLQ_HEADERS.exception]).toBe('DevtripError[DEVTRIP_SERDE]')
      expect(h[DLQ_HEADERS.message]).toMatch(/^json serde: invalid JSON/)
      expect(h[DLQ_HEADERS.stacktrace]).toMatch(/DevtripError: json serde: invalid JSON[\s\S]*\n\s+at /)
      expect(h[DLQ_HEADERS.topic]).toBe('payments')
      expect(h[DLQ_HEADERS.partition]).toBe('0')
      expect(h[DLQ_HEADERS.offset]).toBe('1')
      expect(h[DLQ_HEADERS.applicationId]).toBe('errors-app')
      expect(h[DLQ_HEADERS.taskId]).toBe('0_0')
      expect(h[DLQ_HEADERS.processor]).toBe('payments-source')
      expect(Object.keys(h).filter((k) => k.startsWith('__streams.errors.')).sort()).toEqual(Object.values(DLQ_HEADERS).sort())
      expect(events.map((e) => [e.kind, e.action, e.dlqTopic])).toEqual([['deserialization', 'dlq', 'payments.dlq']])
      expect(d.metrics()).toMatchObject({ processed: 3, dlq: 1 })
    })
  })

  test('a schema-validating deserializer failing with DEVTRIP_INVALID_EVENT is dead-lettered with that code', async () => {
    const validating: Serde<Event> = {
      name: 'event-schema',
      serialize: (v) => eventSerde.serialize(v),
      deserialize (data) {
        const value = eventSerde.deserialize(data)
        if (typeof value.amount !== 'number') throw new DevtripError('DEVTRIP_INVALID_EVENT', '/amount must be number', { details: { pointer: '/amount' } })
        return value
      }
    }
    await withDriver((b) => {
      b.stream('payments', Consumed.with(str, validating)).to('ok', Produced.with(str, validating))
    }, { deserialization: 'dlq', dlqTopicSuffix: '-dead' }, async (d) => {
      await d.createInputTopic('payments', str, Serdes.Json<unknown>()).pipeInput('u1', { type: 'paid', amount: 'ten' })
      const dead = d.createOutputTopic('payments-dead', str, str).readRecord()
      expect(lastHeader(dead.headers, DLQ_HEADERS.exception)?.toString()).toBe('DevtripError[DEVTRIP_INVALID_EVENT]')
      expect(lastHeader(dead.headers, DLQ_HEADERS.message)?.toString()).toBe('/amount must be number')
      expect(d.createOutputTopic('ok', str, str).isEmpty()).toBe(true)
    })
  })

  test('continue skips the poison record without a DLQ record, fail stops with DEVTRIP_PROCESSING', async () => {
    await withDriver((b) => {
      b.stream('in', Consumed.with(str, eventSerde)).to('out', Produced.with(str, eventSerde))
    }, { deserialization: 'continue' }, async (d, events) => {
      await d.createInputTopic('in', str, str).pipeInput('k', 'not json')
      expect(d.producedRecords('in.dlq')).toEqual([])
      expect(events.map((e) => e.action)).toEqual(['continue'])
      expect(d.metrics().continued).toBe(1)
    })
    await withDriver((b) => {
      b.stream('in', Consumed.with(str, eventSerde)).to('out', Produced.with(str, eventSerde))
    }, { deserialization: 'fail' }, async (d) => {
      const error = await d.createInputTopic('in', str, str).pipeInput('k', 'not json').catch((e: unknown) => e)
      expect(isDevtripError(error, 'DEVTRIP_PROCESSING')).toBe(true)
      expect((error as DevtripError).message).toMatch(/deserialization error at "KSTREAM-SOURCE-0000000000" in task 0_0 for in-0@0/)
      expect((error as DevtripError).cause).toBeInstanceOf(DevtripError)
    })
  })
})

describe('processing errors', () => {
  const build = (b: StreamsBuilder): void => {
    b.stream('in', Consumed.with(str, eventSerde))
      .mapValues((e) => { if (e.amount < 0) throw new RangeError(`negative amount ${e.amount}`); return e.amount }, Named.as('check-amount'))
      .groupByKey()
      .reduce((a, v) => a + v, Materialized.as<string, number>('totals').withValueSerde(num))
      .toStream().to('totals-out', Produced.with(str, num))
  }

  test('dlq: the source record is dead-lettered naming the failing processor; later records are processed', async () => {
    await withDriver(build, { processing: 'dlq' }, async (d, events) => {
      const input = d.createInputTopic('in', str, eventSerde)
      await input.pipeInput('u', { type: 'x', amount: 5 }, 1)
      await input.pipeInput('u', { type: 'x', amount: -1 }, 2)
      await input.pipeInput('u', { type: 'x', amount: 7 }, 3)
      expect(d.createOutputTopic('totals-out', str, num).readValuesToList()).toEqual([5, 12])
      const dlq = d.createOutputTopic('in.dlq', str, eventSerde).readRecord()
      expect(dlq.value).toEqual({ type: 'x', amount: -1 })
      expect(headerMap(dlq.headers)).toMatchObject({
        [DLQ_HEADERS.exception]: 'RangeError',
        [DLQ_HEADERS.message]: 'negative amount -1',
        [DLQ_HEADERS.processor]: 'check-amount',
        [DLQ_HEADERS.offset]: '1'
      })
      expect(events.map((e) => [e.kind, e.processor])).toEqual([['processing', 'check-amount']])
    })
  })

  test('continue: the record is skipped and reported; no DLQ record', async () => {
    await withDriver(build, { processing: 'continue' }, async (d, events) => {
      const input = d.createInputTopic('in', str, eventSerde)
      await input.pipeInput('u', { type: 'x', amount: -1 }, 1)
      await input.pipeInput('u', { type: 'x', amount: 2 }, 2)
      expect(d.createOutputTopic('totals-out', str, num).readValuesToList()).toEqual([2])
      expect(d.producedRecords('in.dlq')).toHaveLength(0)
      expect(events.map((e) => e.action)).toEqual(['continue'])
    })
  })

  test('fail: the pipe rejects, stores and outputs roll back to the last commit, the next record processes normally', async () => {
    await withDriver(build, { processing: 'fail' }, async (d) => {
      const input = d.createInputTopic('in', str, eventSerde)
      await input.pipeInput('u', { type: 'x', amount: 5 }, 1)
      await expect(input.pipeInput('u', { type: 'x', amount: -1 }, 2)).rejects.toThrow(/processing error at "check-amount".*negative amount -1/)
      expect(d.getKeyValueStore<string, number>('totals').get('u')).toBe(5)
      await input.pipeInput('u', { type: 'x', amount: 1 }, 3)
      expect(d.createOutputTopic('totals-out', str, num).readValuesToList()).toEqual([5, 6])
    })
  })

  test('a handler function decides per error', async () => {
    await withDriver((b) => {
      b.stream('in', Consumed.with(str, str)).peek((_k, v) => { if (v !== 'ok') throw new TypeError(v) }).to('out', Produced.with(str, str))
    }, { processing: (ctx) => ((ctx.error as Error).message === 'retry-me' ? 'continue' : 'dlq') }, async (d) => {
      const input = d.createInputTopic('in', str, str)
      await input.pipeInput('a', 'retry-me')
      await input.pipeInput('b', 'broken')
      await input.pipeInput('c', 'ok')
      expect(d.createOutputTopic('in.dlq', str, str).readKeyValuesToList()).toEqual([{ key: 'b', value: 'broken' }])
      expect(d.createOutputTopic('out', str, str).readValuesToList()).toEqual(['ok'])
    })
  })

  test('a punctuator has no source record: with dlq its error is reported and processing continues', async () => {
    const topology = new Topology()
      .addSource('src', 'in')
      .addProcessor('boom', {
        get: (): Processor<Buffer, Buffer> => ({ init (ctx) { ctx.schedule(100, 'wall-clock', () => { throw new Error('punctuator broke') }) }, process () {} })
      }, 'src')
    const events: HandledErrorEvent[] = []
    const d = new TopologyTestDriver(topology, { applicationId: 'p', listener: { onHandledError: (e) => events.push(e) } })
    try {
      await d.advanceWallClockTime(100)
      expect(events.map((e) => [e.processor, e.action, e.dlqTopic, e.source])).toEqual([['boom', 'dlq', undefined, undefined]])
      expect(d.metrics().continued).toBe(1)
    } finally {
      await d.close()
    }
  })
})

describe('production errors', () => {
  test('a sink that cannot serialize dead-letters the source record naming the sink', async () => {
    await withDriver((b) => {
      b.stream('in', Consumed.with(str, num)).mapValues((v) => v / 2).to('halves', Produced.with(str, Serdes.Int32()).withName('halves-sink'))
    }, undefined, async (d, events) => {
      const input = d.createInputTopic('in', str, num)
      await input.pipeInput('a', 4)
      await input.pipeInput('b', 3)
      expect(d.createOutputTopic('halves', str, Serdes.Int32()).readValuesToList()).toEqual([2])
      const dlq = d.createOutputTopic('in.dlq', str, num).readRecord()
      expect(dlq.value).toBe(3)
      expect(lastHeader(dlq.headers, DLQ_HEADERS.processor)?.toString()).toBe('halves-sink')
      expect(events.map((e) => e.kind)).toEqual(['production'])
    })
  })
})

describe('DLQ records', () => {
  test('stay on the source partition (co-partitioned with the source)', async () => {
    await withDriver((b) => {
      b.stream('in', Consumed.with(str, eventSerde)).to('out', Produced.with(str, eventSerde))
    }, undefined, async (d) => {
      const input = d.createInputTopic('in', str, str)
      for (const key of ['a', 'b', 'c', 'd', 'e']) await input.pipeInput(key, 'bad')
      const inputs = d.producedRecords('in')
      const dlq = d.producedRecords('in.dlq')
      expect(dlq.map((r) => r.partition)).toEqual(inputs.map((r) => r.partition))
      expect(new Set(dlq.map((r) => r.partition)).size).toBeGreaterThan(1)
    }, 4)
  })

  test('buildDlqRecord keeps key, value, timestamp and headers and describes non-Error throws', () => {
    const record = buildDlqRecord({
      dlqTopic: 't.dlq',
      source: { topic: 't', partition: 2, record: { key: null, value: Buffer.from('v'), timestamp: 7, offset: 42n, headers: [] } },
      error: 'a string was thrown',
      applicationId: 'app',
      taskId: '1_2',
      processor: 'p'
    })
    expect(record).toMatchObject({ topic: 't.dlq', partition: 2, key: null, value: Buffer.from('v'), timestamp: 7 })
    expect(headerMap(record.headers)).toEqual({
      [DLQ_HEADERS.exception]: 'string',
      [DLQ_HEADERS.message]: 'a string was thrown',
      [DLQ_HEADERS.stacktrace]: 'a string was thrown',
      [DLQ_HEADERS.topic]: 't',
      [DLQ_HEADERS.partition]: '2',
      [DLQ_HEADERS.offset]: '42',
      [DLQ_HEADERS.applicationId]: 'app',
      [DLQ_HEADERS.taskId]: '1_2',
      [DLQ_HEADERS.processor]: 'p'
    })
  })

  test('error handling options are validated and default to dlq', () => {
    const resolved = resolveErrorHandling()
    expect(resolved.dlqTopicSuffix).toBe('.dlq')
    expect(Object.isFrozen(resolved)).toBe(true)
    expect(() => resolveErrorHandling({ processing: 'retry' as never })).toThrow(/\/processing must be equal to one of the allowed values/)
    expect(() => resolveErrorHandling({ dlqTopicSuffix: 'bad suffix' })).toThrow(/dlqTopicSuffix/)
  })
})

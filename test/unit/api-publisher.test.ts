/**
 * TransactionalPublisher against a scripted fake of the Kafka port: group commit, per-request slices of the
 * metadata, the 'not-written' / 'unknown' outcomes, producer replacement, the buffer limit, fail-fast
 * after a broker failure, cancellation of queued batches and draining on close.
 */
import { DevtripError } from '../../events'
import type { KafkaClientFactory, KafkaProducer, ProducerOptions, ProducerRecord, RecordMetadata } from '../../streams/kafka'
import { PublishError, TransactionalPublisher, type TransactionalPublisherOptions } from '../../api'

type Step = 'init' | 'begin' | 'send' | 'commit' | 'abort' | 'close'

class ScriptedProducer implements KafkaProducer {
  readonly transactionalId: string
  readonly log: string[] = []
  constructor (options: ProducerOptions, private readonly script: Script) {
    this.transactionalId = options.transactionalId!
  }

  private async step (step: Step, detail = ''): Promise<void> {
    this.log.push(detail === '' ? step : `${step}:${detail}`)
    this.script.log.push(`${this.transactionalId}#${this.script.producers.indexOf(this)} ${step}${detail === '' ? '' : ':' + detail}`)
    const failure = this.script.failures.get(step)?.shift()
    if (failure !== undefined) throw failure
    const gate = this.script.gates.get(step)?.shift()
    if (gate !== undefined) await gate
  }

  async initTransactions (): Promise<void> { await this.step('init') }
  async beginTransaction (): Promise<void> { await this.step('begin') }
  async send (records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    await this.step('send', records.map((r) => r.value!.toString()).join(','))
    return records.map((r) => ({ topic: r.topic, partition: 0, offset: BigInt(this.script.nextOffset++) }))
  }

  async commitTransaction (): Promise<void> { await this.step('commit') }
  async abortTransaction (): Promise<void> { await this.step('abort') }
  async sendOffsetsToTransaction (): Promise<void> { throw new Error('not used') }
  async close (): Promise<void> { await this.step('close') }
}

class Script {
  readonly log: string[] = []
  readonly producers: ScriptedProducer[] = []
  readonly failures = new Map<Step, unknown[]>()
  readonly gates = new Map<Step, Array<Promise<void>>>()
  nextOffset = 0
  fail (step: Step, ...errors: unknown[]): void { this.failures.set(step, [...(this.failures.get(step) ?? []), ...errors]) }
  /** the next `step` waits until the returned function is called */
  hold (step: Step): () => void {
    let release!: () => void
    this.gates.set(step, [...(this.gates.get(step) ?? []), new Promise<void>((resolve) => { release = resolve })])
    return release
  }

  factory (): KafkaClientFactory {
    return {
      adapter: 'scripted',
      capabilities: { transactionalOffsetFencing: 'group-metadata', nullHeaderValues: 'kept', committedOffsetReads: 'stable' },
      createProducer: (options?: ProducerOptions) => {
        const p = new ScriptedProducer(options ?? {}, this)
        this.producers.push(p)
        return p
      },
      createGroupConsumer: () => { throw new Error('not used') },
      createAssignedConsumer: () => { throw new Error('not used') },
      createAdmin: () => { throw new Error('not used') }
    }
  }
}

const brokerDown = (): DevtripError => new DevtripError('DEVTRIP_KAFKA', 'connect ECONNREFUSED', { canRetry: true })
const rec = (value: string): ProducerRecord => ({ topic: 't', key: Buffer.from('k'), value: Buffer.from(value) })
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function publisher (script: Script, options: Partial<TransactionalPublisherOptions> = {}): TransactionalPublisher {
  return new TransactionalPublisher(script.factory(), {
    poolSize: 1, transactionalIdPrefix: 'api', transactionTimeoutMs: 60_000, maxQueuedEvents: 100,
    maxEventsPerTransaction: 100, unavailableForMs: 0, ...options
  })
}

async function rejection (promise: Promise<unknown>): Promise<PublishError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof PublishError) return error
    throw error
  }
  throw new Error('expected a PublishError')
}

test('one transaction per free producer; requests that queued meanwhile are committed together, each getting its own slice', async () => {
  const script = new Script()
  const p = publisher(script)
  const release = script.hold('send')
  const first = p.publish([rec('a')])
  await settle()
  const second = p.publish([rec('b1'), rec('b2')])
  const third = p.publish([rec('c')])
  release()
  expect((await first).map((m) => m.offset)).toEqual([0n])
  expect((await second).map((m) => m.offset)).toEqual([1n, 2n])
  expect((await third).map((m) => m.offset)).toEqual([3n])
  expect(script.producers).toHaveLength(1)
  expect(script.producers[0]!.log).toEqual(['init', 'begin', 'send:a', 'commit', 'begin', 'send:b1,b2,c', 'commit'])
  expect(script.producers[0]!.transactionalId).toBe('api-0')
  await p.close()
})

test('a transaction takes whole requests up to maxEventsPerTransaction (a bigger one goes alone)', async () => {
  const script = new Script()
  const p = publisher(script, { maxEventsPerTransaction: 2 })
  const release = script.hold('send')
  const jobs = [p.publish([rec('a')])]
  await settle()
  jobs.push(p.publish([rec('b')]), p.publish([rec('c')]), p.publish([rec('d1'), rec('d2'), rec('d3')]))
  release()
  await Promise.all(jobs)
  expect(script.producers[0]!.log.filter((l) => l.startsWith('send'))).toEqual(['send:a', 'send:b,c', 'send:d1,d2,d3'])
  await p.close()
})

test('a pool runs transactions in parallel on distinct transactional ids', async () => {
  const script = new Script()
  const p = publisher(script, { poolSize: 2 })
  const release = script.hold('send')
  const a = p.publish([rec('a')])
  const b = p.publish([rec('b')])
  await settle()
  expect(script.producers.map((x) => x.transactionalId)).toEqual(['api-0', 'api-1'])
  release()
  await Promise.all([a, b])
  await p.close()
})

test('a failure before the commit: every request of the transaction fails "not-written"; the transaction is aborted and the producer kept', async () => {
  const script = new Script()
  const p = publisher(script)
  script.fail('send', new DevtripError('DEVTRIP_KAFKA', 'MESSAGE_TOO_LARGE', { canRetry: false }))
  const error = await rejection(p.publish([rec('a')]))
  expect([error.outcome, error.reason]).toEqual(['not-written', 'failed'])
  await settle()
  expect(script.producers[0]!.log).toEqual(['init', 'begin', 'send:a', 'abort'])
  await p.publish([rec('b')])
  expect(script.producers).toHaveLength(1)
  await p.close()
})

test('when even the abort fails, the producer is replaced (its successor re-initialises the transactional id)', async () => {
  const script = new Script()
  const p = publisher(script)
  script.fail('send', brokerDown())
  script.fail('abort', brokerDown())
  const error = await rejection(p.publish([rec('a')]))
  expect([error.outcome, error.reason]).toEqual(['not-written', 'broker-unavailable'])
  await settle()
  await p.publish([rec('b')])
  expect(script.producers).toHaveLength(2)
  expect(script.producers[0]!.log).toEqual(['init', 'begin', 'send:a', 'abort', 'close'])
  expect(script.producers[1]!.log).toEqual(['init', 'begin', 'send:b', 'commit'])
  expect(script.producers[1]!.transactionalId).toBe('api-0')
  await p.close()
})

test('a commit that keeps failing: outcome "unknown" (the coordinator may have it); the producer is replaced', async () => {
  const script = new Script()
  const p = publisher(script, { commitAttempts: 3 })
  script.fail('commit', brokerDown(), brokerDown(), brokerDown())
  const error = await rejection(p.publish([rec('a')]))
  expect(error.outcome).toBe('unknown')
  await settle()
  expect(script.producers[0]!.log).toEqual(['init', 'begin', 'send:a', 'commit', 'commit', 'commit', 'close'])
  await p.close()
})

test('a commit that fails once with a retriable error is retried and succeeds', async () => {
  const script = new Script()
  const p = publisher(script)
  script.fail('commit', brokerDown())
  await p.publish([rec('a')])
  expect(script.producers[0]!.log).toEqual(['init', 'begin', 'send:a', 'commit', 'commit'])
  await p.close()
})

test('a failed initTransactions fails the batch "not-written" and is retried with a new producer next time', async () => {
  const script = new Script()
  const p = publisher(script)
  script.fail('init', brokerDown())
  expect((await rejection(p.publish([rec('a')]))).outcome).toBe('not-written')
  await p.publish([rec('b')])
  expect(script.producers).toHaveLength(2)
  await p.close()
})

test('beyond maxQueuedEvents waiting, publish fails at once with "buffer-full"', async () => {
  const script = new Script()
  const p = publisher(script, { maxQueuedEvents: 3 })
  const release = script.hold('send')
  const running = p.publish([rec('a')])
  await settle()
  const queued = p.publish([rec('b'), rec('c')])
  const error = await rejection(p.publish([rec('d'), rec('e')]))
  expect([error.outcome, error.reason]).toEqual(['not-written', 'buffer-full'])
  expect(p.pendingEvents).toBe(2)
  release()
  await Promise.all([running, queued])
  await p.close()
})

test('after a broker failure, publishes fail fast for unavailableForMs, then go through again', async () => {
  const script = new Script()
  const p = publisher(script, { unavailableForMs: 200 })
  script.fail('send', brokerDown())
  await rejection(p.publish([rec('a')]))
  const fast = await rejection(p.publish([rec('b')]))
  expect(fast.reason).toBe('broker-unavailable')
  expect(fast.message).toContain('ECONNREFUSED')
  await new Promise((resolve) => setTimeout(resolve, 250))
  await p.publish([rec('c')])
  expect(script.producers.flatMap((x) => x.log).filter((l) => l.startsWith('send'))).toEqual(['send:a', 'send:c'])
  await p.close()
})

test('a queued batch can be taken back with its abort signal; one already running cannot', async () => {
  const script = new Script()
  const p = publisher(script)
  const release = script.hold('send')
  const runningAbort = new AbortController()
  const running = p.publish([rec('a')], { signal: runningAbort.signal })
  await settle()
  const queuedAbort = new AbortController()
  const queued = p.publish([rec('b')], { signal: queuedAbort.signal })
  queuedAbort.abort()
  runningAbort.abort()
  const error = await rejection(queued)
  expect([error.outcome, error.reason]).toEqual(['not-written', 'cancelled'])
  release()
  expect(await running).toHaveLength(1)
  expect(script.producers[0]!.log.filter((l) => l.startsWith('send'))).toEqual(['send:a'])
  await p.close()
})

test('close finishes queued and running batches, closes the producers, and refuses new publishes', async () => {
  const script = new Script()
  const p = publisher(script)
  const release = script.hold('send')
  const a = p.publish([rec('a')])
  await settle()
  const b = p.publish([rec('b')])
  const closing = p.close()
  expect((await rejection(p.publish([rec('c')]))).reason).toBe('closed')
  release()
  await Promise.all([a, b, closing])
  expect(script.producers[0]!.log).toEqual(['init', 'begin', 'send:a', 'commit', 'begin', 'send:b', 'commit', 'close'])
})

import { DevtripError } from '../../events/errors'
import { errorTree, kafkaErrorNamesOf } from '../../streams/kafka/common/error-translation'
import * as kafkajsErrors from '../../streams/kafka/kafkajs/errors'
import * as platformaticErrors from '../../streams/kafka/platformatic/errors'

/** An Error carrying library fields, as the libraries throw them. */
function libraryError (message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields)
}

describe('errorTree', () => {
  const leaf1 = { apiId: 'A' }
  const leaf2 = { apiId: 'B', cause: { apiId: 'C' } }
  const aggregate = { errors: [leaf1, leaf2], cause: { originalError: { apiId: 'D' } } }

  test('all errors, depth first: itself, its members, then its links in order', () => {
    expect(errorTree(aggregate, { leavesOnly: false, links: ['cause', 'originalError'] }))
      .toEqual([aggregate, leaf1, leaf2, leaf2.cause, aggregate.cause, aggregate.cause.originalError])
  })

  test('leaves only: aggregates are walked, not listed; links not named are not followed', () => {
    expect(errorTree(aggregate, { leavesOnly: true, links: ['cause'] })).toEqual([leaf1, leaf2, leaf2.cause, aggregate.cause])
  })

  test('a cycle ends at the depth limit instead of hanging', () => {
    const a: Record<string, unknown> = { type: 'X' }
    a.cause = { type: 'Y', cause: a }
    expect(errorTree(a, { leavesOnly: false, links: ['cause'] })).toHaveLength(9)
    expect(kafkaErrorNamesOf(errorTree(a, { leavesOnly: false, links: ['cause'] }), 'type')).toEqual(['X', 'Y'])
  })
})

describe('the adapters translate by Kafka error name alike', () => {
  const adapters = [
    { name: 'kafkajs', translate: kafkajsErrors.translateError, named: (type: string, retriable = false) => libraryError(`kafkajs ${type}`, { type, retriable }) },
    { name: 'platformatic', translate: platformaticErrors.translateError, named: (apiId: string, canRetry = false) => libraryError(`platformatic ${apiId}`, { apiId, canRetry }) }
  ]

  test.each(adapters)('$name: fenced, migrated, unknown topic, and the rest with its retriability', ({ translate, named }) => {
    const fenced = translate(libraryError('outer', { errors: [named('PRODUCER_FENCED')] }), 'commitTransaction')
    expect(fenced.code).toBe('DEVTRIP_KAFKA_FENCED')
    expect(fenced.message).toBe('commitTransaction: fenced by the broker (PRODUCER_FENCED); close this client and create a new one')
    expect(fenced.details).toEqual({ operation: 'commitTransaction', kafkaErrors: ['PRODUCER_FENCED'] })

    const migrated = translate(named('ILLEGAL_GENERATION'), 'commitOffsets')
    expect(migrated.code).toBe('DEVTRIP_TASK_MIGRATED')
    expect(migrated.message).toBe('commitOffsets: the consumer group generation is stale (ILLEGAL_GENERATION); close the tasks and rejoin')

    const unknown = translate(named('UNKNOWN_TOPIC_OR_PARTITION'), 'send')
    expect(unknown.code).toBe('DEVTRIP_UNKNOWN_TOPIC')
    expect(unknown.message).toBe('send: unknown topic or partition')
    expect(unknown.details?.hint).toBe('create it first: bin/devtrip-streams topics apply')

    const retriable = translate(named('NOT_COORDINATOR', true), 'poll')
    expect(retriable.code).toBe('DEVTRIP_KAFKA')
    expect(retriable.message).toMatch(/^poll: .+ NOT_COORDINATOR \[NOT_COORDINATOR\]$/)
    expect(retriable.canRetry).toBe(true)
    expect(translate(named('INVALID_REQUEST'), 'poll').canRetry).toBe(false)

    const already = new DevtripError('DEVTRIP_CLOSED', 'x: closed')
    expect(translate(already, 'poll')).toBe(already)
  })

  test('platformatic: the library\'s own "Unknown topic" message names the topic', () => {
    const error = platformaticErrors.translateError(new Error('Unknown topic orders.'), 'send')
    expect(error.code).toBe('DEVTRIP_UNKNOWN_TOPIC')
    expect(error.message).toBe('send: topic "orders" does not exist')
    expect(error.details?.topic).toBe('orders')
  })

  test('kafkajs: a network failure anywhere in the chain is retriable; otherwise the innermost error decides', () => {
    expect(kafkajsErrors.isRetriable(libraryError('retries exceeded', { cause: libraryError('down', { name: 'KafkaJSConnectionError' }) }))).toBe(true)
    expect(kafkajsErrors.isRetriable(libraryError('outer', { retriable: true, cause: libraryError('inner', { retriable: false }) }))).toBe(false)
    expect(kafkajsErrors.hasKafkaError(libraryError('x', { originalError: { type: 'OFFSET_OUT_OF_RANGE' } }), 'OFFSET_OUT_OF_RANGE')).toBe(true)
  })

  test('platformatic: retriable only when every leaf is (or is a network failure)', () => {
    expect(platformaticErrors.isRetriable({ errors: [{ canRetry: true }, { code: 'PLT_KFK_NETWORK' }] })).toBe(true)
    expect(platformaticErrors.isRetriable({ errors: [{ canRetry: true }, { canRetry: false }] })).toBe(false)
  })
})

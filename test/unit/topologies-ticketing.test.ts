import { DLQ_HEADERS, TopologyTestDriver, type TestInputTopic, type TestOutputTopic } from '../../streams'
import { Serdes } from '../../state'
import { sampleEvent, type DevtripEvent, type EventByType, type EventType, type DomainTopic, EVENT_TOPIC } from '../../events'
import { derivedEventId, resolvePolicies, type LedgerEntry, type TicketAccount, type TicketBalance } from '../../processors'
import { TICKETING_NAMES, TOPOLOGIES, buildTicketingTopology } from '../../topologies'

const T0 = 1_705_312_200_000
let seed = 2000

function ev<T extends EventType> (type: T, userId: number, offsetS: number, fields: Partial<EventByType[T]> & Record<string, unknown> = {}): EventByType[T] {
  return sampleEvent(type, { userId, timestamp: T0 + offsetS * 1000, ...fields }, seed++)
}

describe('ticketing topology under the TopologyTestDriver', () => {
  let driver: TopologyTestDriver
  let inputs: Map<DomainTopic, TestInputTopic<string, unknown>>
  let ledger: TestOutputTopic<string, LedgerEntry>
  let balances: TestOutputTopic<string, TicketBalance>

  async function open (partitions = 1): Promise<void> {
    driver = new TopologyTestDriver(buildTicketingTopology(resolvePolicies(), { storeKind: 'in-memory' }), {
      applicationId: TOPOLOGIES.ticketing.applicationId,
      partitions,
      errorHandling: TOPOLOGIES.ticketing.errorHandling
    })
    await driver.init()
    inputs = new Map(TOPOLOGIES.ticketing.sourceTopics.map((t) => [t, driver.createInputTopic(t, Serdes.String(), Serdes.Json<unknown>())]))
    ledger = driver.createOutputTopic('ticket-ledger', Serdes.String(), Serdes.Json<LedgerEntry>())
    balances = driver.createOutputTopic('ticket-balances', Serdes.String(), Serdes.Json<TicketBalance>())
  }

  async function send (...events: DevtripEvent[]): Promise<void> {
    for (const e of events) await inputs.get(EVENT_TOPIC[e.eventType])!.pipeInput(String(e.userId), e, e.timestamp)
  }

  afterEach(async () => { await driver.close() })

  test('a user\'s life across five topics: grants, plan change, failed payment, deduction, evaluation cost', async () => {
    await open()
    const pay = ev('PaymentCompleted', 7, 10, { planType: 'BASIC', paymentId: 'p1' })
    await send(
      ev('UserSignedUp', 7, 0),
      ev('MissionStarted', 7, 1), // not a ledger event: no output
      pay,
      ev('PlanUpgraded', 7, 11, { fromPlan: 'FREE', toPlan: 'BASIC' }),
      ev('PaymentFailed', 7, 12),
      ev('MissionCompleted', 7, 20, { missionAttemptId: 'a1' }),
      ev('EvaluationCompleted', 7, 30, { missionAttemptId: 'a1' })
    )
    const entries = ledger.readRecordsToList()
    expect(entries.map((r) => [r.value!.eventType, r.value!.delta, r.value!.balanceAfter])).toEqual([
      ['AccountOpened', 3, 3], ['TicketsGranted', 30, 33], ['PlanChanged', 0, 33], ['PaymentFailedRecorded', 0, 33],
      ['TicketDeducted', -1, 32], ['EvaluationCostSettled', 0, 32]
    ])
    expect(entries.every((r) => r.key === '7')).toBe(true)
    // records carry their event time and envelope headers
    const granted = entries[1]!
    expect(granted.timestamp).toBe(pay.timestamp)
    expect(Object.fromEntries(granted.headers.map(([k, v]) => [k, v.toString()]))).toMatchObject({
      eventId: derivedEventId(pay.eventId, 'TicketsGranted'), eventType: 'TicketsGranted', source: 'devtrip-ticketing'
    })
    const table = balances.readKeyValuesToMap()
    expect(table.get('7')).toMatchObject({ plan: 'BASIC', balance: 32, granted: 33, deducted: 1, rejected: 0, evaluationCost: 1, paymentsFailed: 1, revision: 6 })
    expect(driver.getKeyValueStore<string, TicketAccount>(TICKETING_NAMES.accountsStore).get('7')).toMatchObject({ balance: 32, decidedAttempts: ['a1'] })
  })

  test('a duplicate record (same eventId) changes nothing; the same attempt under a new eventId is not charged twice', async () => {
    await open()
    const mission = ev('MissionCompleted', 8, 5, { missionAttemptId: 'a1' })
    await send(ev('UserSignedUp', 8, 0), mission, mission, mission)
    await send(ev('MissionCompleted', 8, 6, { missionAttemptId: 'a1' }))
    expect(ledger.readValuesToList().map((e) => e!.eventType)).toEqual(['AccountOpened', 'TicketDeducted'])
    expect(balances.readValuesToList()).toHaveLength(2)
    expect(driver.getKeyValueStore<string, number>(TICKETING_NAMES.dedupStore).get(`id:${mission.eventId}`)).toBe(mission.timestamp)
  })

  test('insufficient balance: the fourth mission of a FREE account is rejected', async () => {
    await open()
    await send(ev('UserSignedUp', 9, 0), ...[1, 2, 3, 4].map((i) => ev('MissionCompleted', 9, i, { missionAttemptId: `a${i}` })))
    const last = ledger.readValuesToList().pop()!
    expect(last).toMatchObject({ eventType: 'TicketDeductionRejected', reason: 'insufficient-balance', balanceAfter: 0, missionAttemptId: 'a4' })
    expect(balances.readKeyValuesToMap().get('9')).toMatchObject({ balance: 0, deducted: 3, rejected: 1 })
  })

  test('the seed §5.2 body (no eventType, envelope in headers) is accepted', async () => {
    await open()
    const body = { authUserId: 'auth_user_123', userId: 123, email: 'user@devtrip.com', ipAddress: '192.168.1.100', timestamp: 1705312200000 }
    const headers = [['eventType', Buffer.from('UserSignedUp')], ['__TypeId__', Buffer.from('com.devtrip.auth.UserSignedUpEvent')]] as const
    await inputs.get('auth-events')!.pipeInput('123', body, 1705312200000, headers as never)
    expect(ledger.readValue()).toMatchObject({ eventType: 'AccountOpened', userId: 123, delta: 3 })
  })

  test('poison records go to <topic>.dlq with the reason, and processing continues', async () => {
    await open()
    await inputs.get('payment-events')!.pipeRawInput(Buffer.from('7'), Buffer.from('{"not json'), T0)
    await inputs.get('payment-events')!.pipeInput('7', { eventType: 'PaymentCompleted', userId: 7, paymentId: 'p', planType: 'PRO', amount: -5 }, T0)
    await inputs.get('mission-events')!.pipeInput('7', { eventType: 'UserSignedUp', userId: 7, email: 'a@b.co', ipAddress: '1.2.3.4' }, T0)
    // valid event, wrong key: a processing error, dead-lettered too
    const misKeyed = ev('UserSignedUp', 7, 0)
    await inputs.get('auth-events')!.pipeInput('8', misKeyed, T0)
    await send(ev('UserSignedUp', 7, 1))

    const paymentDlq = driver.producedRecords('payment-events.dlq')
    expect(paymentDlq).toHaveLength(2)
    const header = (r: { headers: readonly (readonly [string, Buffer])[] }, name: string): string => r.headers.find(([k]) => k === name)![1].toString()
    expect(paymentDlq[0]!.value!.toString()).toBe('{"not json')
    expect(header(paymentDlq[0]!, DLQ_HEADERS.exception)).toBe('DevtripError[DEVTRIP_INVALID_EVENT]')
    expect(header(paymentDlq[0]!, DLQ_HEADERS.message)).toMatch(/not JSON/)
    expect(header(paymentDlq[1]!, DLQ_HEADERS.message)).toMatch(/\/amount must be > 0/)
    expect(header(driver.producedRecords('mission-events.dlq')[0]!, DLQ_HEADERS.message)).toMatch(/UserSignedUp belongs on auth-events/)
    const authDlq = driver.producedRecords('auth-events.dlq')
    expect(authDlq).toHaveLength(1)
    expect(header(authDlq[0]!, DLQ_HEADERS.message)).toMatch(/record key "8" but the event's userId is "7"/)
    expect(header(authDlq[0]!, DLQ_HEADERS.processor)).toBe(TICKETING_NAMES.processor)
    // nothing of the poison reached the ledger; the valid signup did
    expect(ledger.readValuesToList().map((e) => [e!.eventType, e!.causeEventId])).toEqual([['AccountOpened', expect.not.stringMatching(misKeyed.eventId)]])
    expect(driver.metrics().dlq).toBe(4)
  })

  test('a dead-lettered record leaves no trace: the same eventId sent again correctly is processed', async () => {
    await open()
    const signup = ev('UserSignedUp', 7, 0)
    await inputs.get('auth-events')!.pipeInput('wrong-key', signup, T0)
    await send(signup)
    expect(ledger.readValuesToList()).toHaveLength(1)
  })

  test('users on several partitions keep separate accounts', async () => {
    await open(3)
    for (const user of [1, 2, 3, 4, 5, 6]) {
      await send(ev('UserSignedUp', user, 0), ev('PaymentCompleted', user, 1, { planType: user % 2 === 0 ? 'PRO' : 'BASIC', paymentId: `p${user}` }))
    }
    const table = balances.readKeyValuesToMap()
    for (const user of [1, 2, 3, 4, 5, 6]) expect(table.get(String(user))!.balance).toBe(user % 2 === 0 ? 103 : 33)
    expect(new Set(ledger.readRecordsToList().map((r) => r.partition)).size).toBeGreaterThan(1)
  })
})

import { DLQ_HEADERS, TopologyTestDriver, type TestInputTopic, type TestOutputTopic } from '../../streams'
import { Serdes } from '../../state'
import { EVENT_TOPIC, sampleEvent, type DevtripEvent, type DomainTopic, type EventByType, type EventType } from '../../events'
import { derivedEventId, resolvePolicies, type UserStats, type UserStatsRecord } from '../../processors'
import { TOPOLOGIES, USER_STATS_NAMES, buildUserStatsTopology } from '../../topologies'

const T0 = 1_705_312_200_000
let seed = 3000

function ev<T extends EventType> (type: T, userId: number, offsetS: number, fields: Partial<EventByType[T]> & Record<string, unknown> = {}): EventByType[T] {
  return sampleEvent(type, { userId, timestamp: T0 + offsetS * 1000, ...fields }, seed++)
}

describe('user-stats topology under the TopologyTestDriver', () => {
  let driver: TopologyTestDriver
  let inputs: Map<DomainTopic, TestInputTopic<string, unknown>>
  let stats: TestOutputTopic<string, UserStatsRecord>

  beforeEach(async () => {
    driver = new TopologyTestDriver(buildUserStatsTopology(resolvePolicies(), { storeKind: 'in-memory' }), {
      applicationId: TOPOLOGIES['user-stats'].applicationId,
      partitions: 2,
      errorHandling: TOPOLOGIES['user-stats'].errorHandling
    })
    await driver.init()
    inputs = new Map(TOPOLOGIES['user-stats'].sourceTopics.map((t) => [t, driver.createInputTopic(t, Serdes.String(), Serdes.Json<unknown>())]))
    stats = driver.createOutputTopic('user-stats', Serdes.String(), Serdes.Json<UserStatsRecord>())
  })
  afterEach(async () => { await driver.close() })

  async function send (...events: DevtripEvent[]): Promise<void> {
    for (const e of events) await inputs.get(EVENT_TOPIC[e.eventType])!.pipeInput(String(e.userId), e, e.timestamp)
  }

  test('one row per user from all six topics; duplicates ignored', async () => {
    const login = ev('UserLoggedIn', 42, 10, { ipAddress: '10.1.1.1', userAgent: 'DevTripApp/2.1 (iOS)' })
    await send(
      ev('UserSignedUp', 42, 0),
      login, login, // a producer retry: same eventId
      ev('UserProfileUpdated', 42, 20),
      ev('PaymentCompleted', 42, 30, { planType: 'PRO', amount: 29000, currency: 'KRW' }),
      ev('PlanUpgraded', 42, 31, { fromPlan: 'FREE', toPlan: 'PRO' }),
      ev('MissionStarted', 42, 40),
      ev('MissionPaused', 42, 50),
      ev('MissionResumed', 42, 80, { pauseDuration: 30_000 }),
      ev('MissionCompleted', 42, 90),
      ev('EvaluationCompleted', 42, 120, { score: 85, maxScore: 100, details: { syntax: 95, logic: 80, performance: 85, bestPractices: 80 } }),
      ev('UserLoggedIn', 43, 5)
    )
    const records = stats.readRecordsToList()
    expect(records).toHaveLength(11)
    const last42 = records.filter((r) => r.key === '42').pop()!.value!
    expect(last42).toMatchObject({
      eventType: 'UserStatsUpdated',
      revision: 10,
      signedUpAt: T0,
      logins: { count: 1, lastIp: '10.1.1.1', lastUserAgent: 'DevTripApp/2.1 (iOS)', lastAt: T0 + 10_000 },
      profileUpdates: { count: 1 },
      subscription: { plan: 'PRO', status: 'active' },
      payments: { completed: 1, failed: 0, completedAmountByCurrency: { KRW: 29000 } },
      missions: { started: 1, paused: 1, resumed: 1, completed: 1, totalPauseDurationMs: 30_000 },
      evaluations: { completed: 1, bestScore: 85, score: { average: 85 }, details: { syntax: { average: 95 }, bestPractices: { average: 80 } } }
    })
    expect(records.find((r) => r.key === '43')!.value).toMatchObject({ revision: 1, logins: { count: 1 } })
    const store = driver.getKeyValueStoreAcrossPartitions<string, UserStats>(USER_STATS_NAMES.statsStore)
    expect(store.get('42')).toMatchObject({ revision: 10 })
  })

  test('a replay of the same events yields the same records with the same ids', async () => {
    const events = [ev('UserSignedUp', 5, 0), ev('EvaluationFailed', 5, 1), ev('EvaluationRetryRequested', 5, 2)]
    await send(...events)
    const first = stats.readRecordsToList()
    expect(first.map((r) => r.value!.eventId)).toEqual(events.map((e) => derivedEventId(e.eventId, 'UserStatsUpdated')))
    expect(first.pop()!.value!.evaluations).toMatchObject({ failed: 1, retried: 1 })
    // the same events again are duplicates: nothing new
    await send(...events)
    expect(stats.isEmpty()).toBe(true)
  })

  test('an invalid record on any topic is dead-lettered; valid records keep flowing', async () => {
    await inputs.get('user-events')!.pipeInput('5', { eventType: 'UserTeamJoined', userId: 5 }, T0)
    await send(ev('UserTeamJoined', 5, 1, { teamId: 't1' }))
    const dlq = driver.producedRecords('user-events.dlq')
    expect(dlq).toHaveLength(1)
    expect(dlq[0]!.headers.find(([k]) => k === DLQ_HEADERS.message)![1].toString()).toMatch(/\/teamId is required/)
    expect(stats.readValue()).toMatchObject({ teams: { joined: 1 } })
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DLQ_HEADERS, TopologyTestDriver, type TestInputTopic, type TestOutputTopic } from '../../streams'
import { Serdes } from '../../state'
import { EVENT_TOPIC, sampleEvent, type DevtripEvent, type DomainTopic, type EventByType } from '../../events'
import {
  advanceEvaluation,
  reduceEvaluation,
  resolvePolicies,
  retryRequestedEventId,
  type AttemptState,
  type EvaluationMachineEvent,
  type EvaluationOutput,
  type EvaluationReviewRequested,
  type MissionResultUpdated,
  type PolicyOverrides,
  type StoreKind
} from '../../processors'
import { EVALUATION_NAMES, TOPOLOGIES, buildEvaluationTopology } from '../../topologies'

const T = 1_705_312_500_000
const S = 1000
const MIN = 60 * S
let seed = 4000

type MachineType = EvaluationMachineEvent['eventType']
function ev<K extends MachineType> (type: K, userId: number, attempt: string, at: number, fields: Partial<EventByType[K]> & Record<string, unknown> = {}): EventByType[K] {
  return sampleEvent(type, { userId, missionAttemptId: attempt, timestamp: at, ...fields }, seed++) as EventByType[K]
}

type Emitted = EventByType['EvaluationRetryRequested'] | EventByType['EvaluationRetryCompleted']

describe('evaluation topology under the TopologyTestDriver', () => {
  let driver: TopologyTestDriver
  let inputs: Map<DomainTopic, TestInputTopic<string, unknown>>
  let evaluationEvents: TestOutputTopic<string, Emitted>
  let results: TestOutputTopic<string, MissionResultUpdated>
  let review: TestOutputTopic<string, EvaluationReviewRequested>
  const dirs: string[] = []

  async function open (overrides: PolicyOverrides = {}, storeKind: StoreKind = 'in-memory', stateDir?: string): Promise<void> {
    driver = new TopologyTestDriver(buildEvaluationTopology(resolvePolicies(overrides), { storeKind }), {
      applicationId: TOPOLOGIES.evaluation.applicationId,
      errorHandling: TOPOLOGIES.evaluation.errorHandling,
      initialWallClockMs: 1_000_000,
      ...(stateDir === undefined ? {} : { stateDir })
    })
    await driver.init()
    inputs = new Map(TOPOLOGIES.evaluation.sourceTopics.map((t) => [t, driver.createInputTopic(t, Serdes.String(), Serdes.Json<unknown>())]))
    evaluationEvents = driver.createOutputTopic('evaluation-events', Serdes.String(), Serdes.Json<Emitted>())
    results = driver.createOutputTopic('mission-results', Serdes.String(), Serdes.Json<MissionResultUpdated>())
    review = driver.createOutputTopic('evaluation-review', Serdes.String(), Serdes.Json<EvaluationReviewRequested>())
  }

  async function send (...events: DevtripEvent[]): Promise<void> {
    for (const e of events) await inputs.get(EVENT_TOPIC[e.eventType])!.pipeInput(String(e.userId), e, e.timestamp)
  }

  /** what this topology wrote to evaluation-events (the topic also holds the inputs piped to it) */
  function emitted (): Emitted[] {
    return evaluationEvents.readValuesToList().filter((v): v is Emitted => v !== null && v.source === 'devtrip-evaluation')
  }

  function attempt (id: string): AttemptState | undefined {
    return driver.getKeyValueStore<string, AttemptState>(EVALUATION_NAMES.attemptsStore).get(id)
  }

  afterEach(async () => { await driver.close() })
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

  test('happy path: MissionCompleted + EvaluationStarted + EvaluationCompleted → one MissionResultUpdated, no retry events', async () => {
    await open()
    await send(
      ev('MissionCompleted', 123, 'attempt_789', T, { missionId: 'mission_1', completedAt: T }),
      ev('EvaluationStarted', 123, 'attempt_789', T + 5 * S, { evaluationId: 'eval_999' }),
      ev('EvaluationCompleted', 123, 'attempt_789', T + 300 * S, { evaluationId: 'eval_999', score: 85, maxScore: 100, feedback: 'good' })
    )
    const [result] = results.readRecordsToList()
    expect(result!.key).toBe('123')
    expect(result!.timestamp).toBe(T + 300 * S)
    expect(result!.value).toMatchObject({ missionAttemptId: 'attempt_789', missionId: 'mission_1', score: 85, attempts: 1, timeToResultMs: 300 * S, evaluationId: 'eval_999' })
    expect(results.isEmpty()).toBe(true)
    expect(emitted()).toEqual([])
    await driver.advanceWallClockTime(60 * MIN)
    expect(emitted()).toEqual([])
    expect(attempt('attempt_789')).toMatchObject({ phase: 'completed', deadline: null })
  })

  test('an idle partition: the wall-clock punctuator times out a start after 2 min of silence and requests retry 1 at +30 s', async () => {
    await open()
    await send(ev('MissionCompleted', 123, 'a1', T))
    await driver.advanceWallClockTime(29 * S)
    expect(emitted()).toEqual([]) // idle for less than idleAdvance.afterMs: effective time is still stream time
    await driver.advanceWallClockTime(100 * S) // idle 129 s → effective T + 129 s: start-timeout fired, retry not due yet
    expect(emitted()).toEqual([])
    expect(attempt('a1')).toMatchObject({ phase: 'retry-scheduled', deadline: T + 150 * S })
    await driver.advanceWallClockTime(21 * S)
    const [retry, ...rest] = emitted()
    expect(rest).toEqual([])
    expect(retry).toMatchObject({ eventType: 'EvaluationRetryRequested', retryAttempt: 1, timestamp: T + 150 * S, eventId: retryRequestedEventId('a1', 1), userId: 123 })
    // the record is a catalog event with envelope headers
    const raw = driver.producedRecords('evaluation-events').pop()!
    expect(Object.fromEntries(raw.headers.map(([k, v]) => [k, v.toString()]))).toMatchObject({ eventType: 'EvaluationRetryRequested', eventId: retry!.eventId, source: 'devtrip-evaluation' })
    // its echo came back through evaluation-events and changed nothing
    expect(attempt('a1')).toMatchObject({ phase: 'awaiting-start', attempt: 2, foreignRetryEvents: 0 })
    expect(driver.metrics().dlq).toBe(0)
  })

  test('the idle rule can be switched off: then only records move time', async () => {
    await open({ evaluation: { idleAdvance: { enabled: false } } })
    await send(ev('MissionCompleted', 123, 'a1', T))
    await driver.advanceWallClockTime(60 * MIN)
    expect(emitted()).toEqual([])
    await send(ev('MissionCompleted', 124, 'b1', T + 3 * MIN)) // another user's record moves stream time
    expect(emitted().map((e) => [e.eventType, e.missionAttemptId, e.timestamp])).toEqual([['EvaluationRetryRequested', 'a1', T + 150 * S]])
  })

  test('stream time alone drives every deadline, and the outputs match the pure model exactly', async () => {
    await open()
    const a = ev('MissionCompleted', 123, 'a1', T)
    const b = ev('MissionCompleted', 124, 'b1', T + 10 * MIN)
    await send(a, b)
    const produced = emitted()
    const reviews = review.readValuesToList()
    // the model: the same attempt, advanced to the same stream time
    const policies = resolvePolicies()
    const created = reduceEvaluation(undefined, a, policies)
    const model: EvaluationOutput[] = [...advanceEvaluation(created.state!, T + 10 * MIN, policies).outputs]
    expect(produced).toEqual(model.filter((o) => o.kind === 'evaluation-event').map((o) => o.value))
    expect(reviews).toEqual(model.filter((o) => o.kind === 'review').map((o) => o.value))
    expect(produced.map((e) => [e.eventType, e.timestamp])).toEqual([
      ['EvaluationRetryRequested', T + 150 * S], ['EvaluationRetryRequested', T + 330 * S], ['EvaluationRetryCompleted', T + 450 * S]
    ])
    expect(produced[2]).toMatchObject({ needsHumanReview: true, retryAttempt: 2, finalScore: 0 })
    expect(reviews[0]).toMatchObject({ missionAttemptId: 'a1', attempts: 3, reason: 'retries-exhausted' })
    expect(attempt('a1')).toMatchObject({ phase: 'needs-review' })
    expect(attempt('b1')).toMatchObject({ phase: 'awaiting-start' })
  })

  test('a retry that succeeds: EvaluationRetryCompleted with finalScore, and the mission result counts 2 attempts', async () => {
    await open()
    await send(
      ev('MissionCompleted', 123, 'a1', T),
      ev('EvaluationStarted', 123, 'a1', T + S, { evaluationId: 'e1' }),
      ev('EvaluationFailed', 123, 'a1', T + 10 * S, { evaluationId: 'e1', failureReason: 'RATE_LIMITED' }),
      ev('MissionCompleted', 124, 'other', T + 40 * S) // moves stream time past the backoff
    )
    const [requested] = emitted()
    expect(requested).toMatchObject({ eventType: 'EvaluationRetryRequested', retryAttempt: 1, originalEvaluationId: 'e1', timestamp: T + 40 * S })
    await send(
      ev('EvaluationStarted', 123, 'a1', T + 45 * S, { evaluationId: requested!.evaluationId }),
      ev('EvaluationCompleted', 123, 'a1', T + 90 * S, { evaluationId: requested!.evaluationId, score: 77 })
    )
    expect(emitted()).toEqual([expect.objectContaining({ eventType: 'EvaluationRetryCompleted', finalScore: 77, needsHumanReview: false, retryAttempt: 1, originalEvaluationId: 'e1' })])
    expect(results.readValuesToList()).toEqual([expect.objectContaining({ score: 77, attempts: 2, failures: [expect.objectContaining({ reason: 'RATE_LIMITED' })] })])
  })

  test('duplicates and late events are harmless', async () => {
    await open()
    const mission = ev('MissionCompleted', 123, 'a1', T)
    const done = ev('EvaluationCompleted', 123, 'a1', T + 60 * S, { evaluationId: 'e1', score: 90 })
    await send(mission, mission, ev('EvaluationStarted', 123, 'a1', T + S, { evaluationId: 'e1' }), done, done)
    await send(ev('EvaluationCompleted', 123, 'a1', T + 70 * S, { evaluationId: 'e1', score: 10 })) // a second score (new eventId)
    await send(ev('EvaluationFailed', 123, 'a1', T + 80 * S, { evaluationId: 'e1' }))
    expect(results.readValuesToList()).toEqual([expect.objectContaining({ score: 90, revision: 1 })])
    expect(emitted()).toEqual([])
    expect(attempt('a1')).toMatchObject({ phase: 'completed', lateEvents: 2 })
  })

  test('an attempt id claimed by another user and a poison record are dead-lettered', async () => {
    await open()
    await send(ev('MissionCompleted', 123, 'a1', T))
    await send(ev('EvaluationStarted', 999, 'a1', T + S))
    await inputs.get('evaluation-events')!.pipeRawInput(Buffer.from('123'), Buffer.from('[]'), T)
    const dlq = driver.producedRecords('evaluation-events.dlq')
    expect(dlq.map((r) => r.headers.find(([k]) => k === DLQ_HEADERS.message)![1].toString())).toEqual([
      expect.stringMatching(/missionAttemptId a1 belongs to user 123/),
      expect.stringMatching(/must be a JSON object/)
    ])
    expect(attempt('a1')).toMatchObject({ phase: 'awaiting-start', userId: 123 })
  })

  test('a restart does not change the outcome: stream time is durable, so an old record is judged by the same clock', async () => {
    const events = [
      ev('MissionCompleted', 124, 'b1', T + 10 * MIN), // moves stream time to T + 10 min
      ev('MissionCompleted', 123, 'a1', T), // an older record: its start deadline (T + 2 min) has already passed
      ev('EvaluationStarted', 123, 'a1', T + MIN, { evaluationId: 'e1' }) // late news
    ]
    const run = async (restartAfter: number | undefined): Promise<unknown[]> => {
      const stateDir = mkdtempSync(join(tmpdir(), 'devtrip-eval-replay-'))
      dirs.push(stateDir)
      await open({ evaluation: { idleAdvance: { enabled: false } } }, 'persistent', stateDir)
      const out: unknown[] = []
      const collect = (): void => { out.push(...emitted(), ...results.readValuesToList(), ...review.readValuesToList()) }
      for (const [i, e] of events.entries()) {
        await send(e)
        collect()
        if (i === restartAfter) {
          await driver.close()
          await open({ evaluation: { idleAdvance: { enabled: false } } }, 'persistent', stateDir)
        }
      }
      collect()
      return out
    }
    const straight = await run(undefined)
    await driver.close()
    const restarted = await run(0)
    expect(restarted).toEqual(straight)
    expect((straight as Emitted[]).map((e) => [e.eventType, e.timestamp])).toEqual([
      ['EvaluationRetryRequested', T + 150 * S], ['EvaluationRetryRequested', T + 330 * S], ['EvaluationRetryCompleted', T + 450 * S], ['EvaluationReviewRequested', T + 450 * S]
    ])
  })

  test('persistent stores: after a restart an idle partition still times out (stream time is remembered)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'devtrip-eval-restart-'))
    dirs.push(stateDir)
    await open({}, 'persistent', stateDir)
    await send(ev('MissionCompleted', 123, 'a1', T))
    await driver.advanceWallClockTime(5 * S) // one punctuation remembers stream time
    await driver.close()

    await open({}, 'persistent', stateDir)
    expect(attempt('a1')).toMatchObject({ phase: 'awaiting-start', deadline: T + 2 * MIN })
    await driver.advanceWallClockTime(S) // first punctuation after the restart: the idle clock starts
    await driver.advanceWallClockTime(3 * MIN)
    expect(emitted().map((e) => [e.eventType, e.timestamp])).toEqual([['EvaluationRetryRequested', T + 150 * S]])
  })
})

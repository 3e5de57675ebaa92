import { DOMAIN_TOPICS, findTopic, isDevtripError, sampleEvent } from '../../events'
import { resolvePolicies, type LedgerEntry } from '../../processors'
import { Serdes } from '../../state'
import { TopologyTestDriver } from '../../streams'
import { TOPOLOGIES, TOPOLOGY_NAMES, resolveTopologyOptions, topologyDefinition } from '../../topologies'

const policies = resolvePolicies()

describe('topology registry', () => {
  test('three topologies with their application ids', () => {
    expect(TOPOLOGY_NAMES).toEqual(['ticketing', 'user-stats', 'evaluation'])
    expect(Object.fromEntries(TOPOLOGY_NAMES.map((n) => [n, TOPOLOGIES[n].applicationId]))).toEqual({
      ticketing: 'devtrip-ticketing', 'user-stats': 'devtrip-user-stats', evaluation: 'devtrip-evaluation'
    })
    expect(topologyDefinition('evaluation')).toBe(TOPOLOGIES.evaluation)
    expect(Object.isFrozen(TOPOLOGIES.ticketing)).toBe(true)
  })

  test('an unknown name lists the known ones', () => {
    try {
      topologyDefinition('billing')
      throw new Error('no throw')
    } catch (error) {
      expect(isDevtripError(error, 'DEVTRIP_INVALID_OPTIONS')).toBe(true)
      expect((error as { details: { hint: string } }).details.hint).toBe('known topologies: ticketing, user-stats, evaluation')
    }
  })

  test.each(TOPOLOGY_NAMES)('%s: built topology agrees with its definition, every node explicitly named, DLQ by default', (name) => {
    const def = TOPOLOGIES[name]
    const topology = def.build(policies)
    const meta = topology.metadata(def.applicationId)
    expect(meta.sourceTopics).toEqual(def.sourceTopics)
    expect([...meta.sinkTopics].sort()).toEqual([...def.outputTopics].sort())
    expect(meta.subtopologies).toHaveLength(1)
    expect(meta.subtopologies[0]!.stores.map((s) => s.name)).toEqual(def.stores)
    expect(meta.changelogTopics.map((c) => c.topic)).toEqual(def.stores.map((s) => `${def.applicationId}-${s}-changelog`))
    expect(def.dlqTopics).toEqual(def.sourceTopics.map((t) => `${t}.dlq`))
    expect(def.errorHandling).toMatchObject({ deserialization: 'dlq', processing: 'dlq', production: 'dlq', dlqTopicSuffix: '.dlq' })
    const text = String(topology.describe())
    expect(text).not.toMatch(/KSTREAM|KTABLE|-\d{10}/)
    // every topic a topology touches is in the topic catalog
    for (const topic of [...def.sourceTopics, ...def.outputTopics, ...def.dlqTopics]) expect(findTopic(topic)).toBeDefined()
  })

  test('options are validated and frozen', () => {
    const resolved = resolveTopologyOptions({ topics: { 'auth-events': 'auth-events-x' } })
    expect(resolved.storeKind).toBe('persistent')
    expect(resolved.topics['auth-events']).toBe('auth-events-x')
    expect(resolved.topics['mission-events']).toBe('mission-events')
    expect(Object.isFrozen(resolved.topics)).toBe(true)
    expect(() => resolveTopologyOptions({ storeKind: 'disk' as never })).toThrow(/\/storeKind must be equal to one of the allowed values/)
    expect(() => resolveTopologyOptions({ topics: { 'billing-events': 'x' } as never })).toThrow(/must NOT have additional properties \(billing-events\)/)
    expect(() => resolveTopologyOptions({ topics: { 'auth-events': 'bad name' } })).toThrow(/\/topics\/auth-events must match pattern/)
    expect(() => resolveTopologyOptions({ topics: { 'auth-events': 'user-events' } })).toThrow(/two logical topics are mapped to "user-events"/)
    expect(DOMAIN_TOPICS.every((t) => resolveTopologyOptions().topics[t] === t)).toBe(true)
  })

  test('renamed topics: events are still checked against their logical topic', async () => {
    const topics = { 'auth-events': 'auth-events-t1', 'mission-events': 'mission-events-t1', 'ticket-ledger': 'ticket-ledger-t1' }
    const driver = new TopologyTestDriver(TOPOLOGIES.ticketing.build(policies, { storeKind: 'in-memory', topics }), {
      applicationId: 'devtrip-ticketing-t1', errorHandling: TOPOLOGIES.ticketing.errorHandling
    })
    try {
      const auth = driver.createInputTopic('auth-events-t1', Serdes.String(), Serdes.Json<unknown>())
      const signup = sampleEvent('UserSignedUp', { userId: 3 })
      await auth.pipeInput('3', signup, signup.timestamp)
      const mission = sampleEvent('MissionCompleted', { userId: 3 })
      await auth.pipeInput('3', mission, mission.timestamp) // a mission event on the (renamed) auth topic
      const ledger = driver.createOutputTopic('ticket-ledger-t1', Serdes.String(), Serdes.Json<LedgerEntry>())
      expect(ledger.readValuesToList().map((e) => e!.eventType)).toEqual(['AccountOpened'])
      expect(driver.producedRecords('auth-events-t1.dlq')).toHaveLength(1)
    } finally {
      await driver.close()
    }
  })
})

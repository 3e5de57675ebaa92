/**
 * Regressions specific to the kafkajs adapter's group consumer, on a real broker (KAFKA_BROKERS, else the dev
 * broker at 127.0.0.1:19092): how it makes kafkajs's self-driven rejoins poll-driven by holding kafkajs's JoinGroup
 * until poll() (streams/kafka/kafkajs/group-consumer.ts). The port's contract itself is checked by the conformance
 * suite; these tests pin what that suite cannot tell apart (a revocation reported as such, not as lost) and that a
 * held join never blocks close(). Topics and groups carry a random suffix, so runs never collide.
 */
import { randomBytes } from 'node:crypto'
import type { KafkaGroupConsumer } from '../../streams/kafka'
import { kafkaPortFixture } from './kafka-port-kit'

jest.setTimeout(120_000)

const run = randomBytes(4).toString('hex')
const name = (what: string): string => `kjsgc-${run}-${what}`

const port = kafkaPortFixture('kafkajs', `kjsgc-${run}`)
const { pollUntil, track, createTopic } = port

/** Polls `consumer` in the background until stopped (a member that keeps polling takes part in rebalances). */
function keepPolling (consumer: KafkaGroupConsumer): { stop (): Promise<void> } {
  let stopped = false
  const loop = (async () => { while (!stopped) await consumer.poll(100) })()
  return { stop: async () => { stopped = true; await loop } }
}

test('a member that keeps polling sees its partitions revoked (not lost) and its commit in the callback lands', async () => {
  const topic = await createTopic(name('revoke'), 2)
  const groupId = name('revoke-grp')
  const options = { groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 20_000 }
  const events: string[] = []
  const one = track(port.kafka.createGroupConsumer(options))
  let commitInCallback: unknown = 'not called'
  one.subscribe([topic], {
    onPartitionsRevoked: async (tps) => {
      events.push(`revoked:${tps.length}`)
      commitInCallback = await one.commitOffsets([{ topic, partition: 0, offset: 7n }]).then(() => 'ok', (error: unknown) => error)
    },
    onPartitionsLost: (tps) => { events.push(`lost:${tps.length}`) },
    onPartitionsAssigned: (tps) => { events.push(`assigned:${tps.length}`) }
  })
  await pollUntil(one, () => one.assignment().length === 2)

  const two = track(port.kafka.createGroupConsumer(options))
  two.subscribe([topic])
  const balanced = (): boolean => one.assignment().length === 1 && two.assignment().length === 1
  await Promise.all([pollUntil(one, balanced, 40_000), pollUntil(two, balanced, 40_000)])

  expect(events).toEqual(['assigned:2', 'revoked:2', 'assigned:1'])
  expect(commitInCallback).toBe('ok')
  expect(await port.admin.listGroupOffsets(groupId)).toEqual([{ topic, partition: 0, offset: 7n }])
  expect(one.groupMetadata().generationId).toBe(two.groupMetadata().generationId)
})

test('close() while kafkajs waits to rejoin: the held join is given up, the partitions are revoked, the other member takes them', async () => {
  const topic = await createTopic(name('close-held'), 2)
  const groupId = name('close-held-grp')
  const options = { groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 30_000 }
  const events: string[] = []
  const one = track(port.kafka.createGroupConsumer(options))
  one.subscribe([topic], {
    onPartitionsRevoked: (tps) => { events.push(`revoked:${tps.length}`) },
    onPartitionsLost: (tps) => { events.push(`lost:${tps.length}`) },
    onPartitionsAssigned: (tps) => { events.push(`assigned:${tps.length}`) }
  })
  await pollUntil(one, () => one.assignment().length === 2)

  // `two` joins while `one` does not poll: `one`'s kafkajs learns of the rebalance from its heartbeat and its
  // rejoin waits for a poll that never comes
  const two = track(port.kafka.createGroupConsumer(options))
  two.subscribe([topic])
  const twoPolling = keepPolling(two)
  try {
    const deadline = Date.now() + 20_000
    while ((await port.admin.describeGroups([groupId]))[0]!.state !== 'PreparingRebalance') {
      if (Date.now() > deadline) throw new Error('the group did not start rebalancing')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    // several heartbeat intervals, so `one`'s kafkajs has certainly asked to rejoin
    await new Promise((resolve) => setTimeout(resolve, 1_500))

    await one.close()
    expect(events).toEqual(['assigned:2', 'revoked:2'])
  } finally {
    await twoPolling.stop()
  }
  await pollUntil(two, () => two.assignment().length === 2, 40_000)
  const [description] = await port.admin.describeGroups([groupId])
  expect(description!.members.map((m) => m.memberId)).toEqual([two.groupMetadata().memberId])
})

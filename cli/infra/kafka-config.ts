/**
 * server.properties for a single-node KRaft cluster (one JVM that is both broker and controller),
 * and the cluster id its storage is formatted with. docs/infra.md explains each setting.
 */
import { randomBytes } from 'node:crypto'
import { LOOPBACK } from './ports'

export interface ServerConfigInput {
  port: number
  controllerPort: number
  /** the KRaft metadata log and the topic partitions live here (log.dirs) */
  logDir: string
  extraProperties?: Readonly<Record<string, string | number | boolean>>
}

/** The settings a one-node cluster needs; anything in extraProperties overrides them. */
export function serverProperties (input: ServerConfigInput): Record<string, string> {
  const base: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    // with bootstrap servers (not the static controller.quorum.voters) the storage must be
    // formatted with --standalone, which makes this node the one voter of the metadata quorum
    'controller.quorum.bootstrap.servers': `${LOOPBACK}:${input.controllerPort}`,
    listeners: `PLAINTEXT://${LOOPBACK}:${input.port},CONTROLLER://${LOOPBACK}:${input.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${LOOPBACK}:${input.port}`,
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': input.logDir,
    // internal topics default to replication 3 / min ISR 2, which one node can never satisfy:
    // the group coordinator and the transaction coordinator would stay unavailable
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 6,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 6,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'min.insync.replicas': 1,
    'default.replication.factor': 1,
    // no 3 s wait for more members before the first rebalance: tests join one consumer at a time
    'group.initial.rebalance.delay.ms': 0,
    // topics are created on purpose (with the partition counts the topology needs), never by a typo
    'auto.create.topics.enable': false,
    // a crashed transactional producer's open transaction is aborted soon after its timeout
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': 1000
  }
  const merged = { ...base, ...(input.extraProperties ?? {}) }
  return Object.fromEntries(Object.entries(merged).map(([k, v]) => [k, String(v)]))
}

/** Renders properties in the java.util.Properties text form (values here never need escaping beyond '\'). */
export function renderProperties (properties: Readonly<Record<string, string>>): string {
  const lines = ['# written by devtrip-streams infra; regenerated on every start']
  for (const [key, value] of Object.entries(properties)) lines.push(`${key}=${value.replace(/\\/g, '\\\\')}`)
  return lines.join('\n') + '\n'
}

/**
 * A new cluster id in Kafka's Uuid text form: 16 random bytes as unpadded base64url (22 chars).
 * Like Kafka's own Uuid.randomUuid() we reject ids whose text starts with '-' (it would read as a
 * command-line flag) and the two reserved ids (all zero bytes, and 0…01).
 */
export function generateClusterId (): string {
  for (;;) {
    const bytes = randomBytes(16)
    const id = bytes.toString('base64url')
    const reserved = bytes.subarray(0, 15).every((b) => b === 0) && (bytes[15] === 0 || bytes[15] === 1)
    if (!id.startsWith('-') && !reserved) return id
  }
}

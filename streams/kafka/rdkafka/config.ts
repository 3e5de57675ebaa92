/**
 * librdkafka configuration from the port's resolved options: one function per kind of client, so every default
 * of options.ts means the same thing here as in the other adapters. Property names are librdkafka's
 * (CONFIGURATION.md of librdkafka 2.x).
 *
 * The binding gives every client a default topic configuration built from its second constructor argument alone,
 * so topic-level properties (auto.offset.reset, partitioner, message.timeout.ms, ...) set among the global ones
 * would be silently ignored: `topicConfig` picks them out.
 */
import type { ResolvedConnectionOptions, ResolvedFetchOptions, ResolvedGroupConsumerOptions, ResolvedProducerOptions } from '../options'
import { clientIdWithUserData } from '../member-user-data'
import type { RdConfig } from './library'

/** librdkafka properties that belong to the topic configuration (CONFIGURATION.md, "Topic configuration properties") */
const TOPIC_LEVEL = new Set(['acks', 'request.required.acks', 'partitioner', 'message.timeout.ms', 'compression.codec', 'auto.offset.reset'])

/** The topic-level part of a configuration, for the binding's second constructor argument. */
export function topicConfig (config: RdConfig): RdConfig {
  return Object.fromEntries(Object.entries(config).filter(([key]) => TOPIC_LEVEL.has(key)))
}

function connectionConfig (connection: ResolvedConnectionOptions, clientId: string): RdConfig {
  return {
    'bootstrap.servers': connection.brokers.join(','),
    'client.id': clientId,
    // librdkafka's per-request timeout is the socket timeout
    'socket.timeout.ms': connection.requestTimeoutMs,
    'socket.connection.setup.timeout.ms': connection.connectTimeoutMs,
    // the port never creates topics by using them
    'allow.auto.create.topics': false,
    // a broker closing an idle connection is routine, not worth a log line
    'log.connection.close': false
  }
}

export function producerConfig (connection: ResolvedConnectionOptions, options: ResolvedProducerOptions): RdConfig {
  const config: RdConfig = {
    ...connectionConfig(connection, options.clientId ?? `${connection.clientId}-producer`),
    'enable.idempotence': true,
    acks: 'all',
    // keyed records get their partition from streams/partitioner.ts (Java's rule); this is the same rule for any
    // record the adapter leaves to librdkafka, and random for unkeyed ones
    partitioner: 'murmur2_random',
    'compression.codec': options.compression,
    'linger.ms': 1,
    // a send fails after this long instead of librdkafka's default of 5 minutes
    'message.timeout.ms': connection.operationTimeoutMs,
    dr_cb: true
  }
  if (options.transactionalId !== null) {
    config['transactional.id'] = options.transactionalId
    config['transaction.timeout.ms'] = options.transactionTimeoutMs
    // librdkafka requires message.timeout.ms <= transaction.timeout.ms and socket.timeout.ms < it
    config['message.timeout.ms'] = Math.min(connection.operationTimeoutMs, options.transactionTimeoutMs)
    config['socket.timeout.ms'] = Math.min(connection.requestTimeoutMs, Math.max(options.transactionTimeoutMs - 100, 100))
  }
  return config
}

function fetchConfig (options: ResolvedFetchOptions): RdConfig {
  return {
    'isolation.level': options.isolationLevel,
    'auto.offset.reset': options.autoOffsetReset === 'none' ? 'error' : options.autoOffsetReset,
    'fetch.max.bytes': options.fetchMaxBytes,
    'max.partition.fetch.bytes': options.maxPartitionFetchBytes,
    // positions are the port's: nothing is stored or committed behind the caller's back
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    // end-of-partition events tell the adapter that the position reached the end of what may be read
    'enable.partition.eof': true,
    'fetch.wait.max.ms': 100
  }
}

export function assignedConsumerConfig (connection: ResolvedConnectionOptions, options: ResolvedFetchOptions, groupId: string): RdConfig {
  return {
    ...connectionConfig(connection, options.clientId ?? `${connection.clientId}-restore`),
    ...fetchConfig(options),
    // librdkafka's consumer needs a group id even when it only assigns; this one never joins or commits
    'group.id': groupId
  }
}

export function groupConsumerConfig (connection: ResolvedConnectionOptions, options: ResolvedGroupConsumerOptions, rebalance: (err: { code: number }, assignment: unknown[]) => void): RdConfig {
  const clientId = clientIdWithUserData(options.clientId ?? `${connection.clientId}-consumer`, options.userData)
  const config: RdConfig = {
    ...connectionConfig(connection, clientId),
    ...fetchConfig(options),
    'group.id': options.groupId,
    'session.timeout.ms': options.sessionTimeoutMs,
    'heartbeat.interval.ms': options.heartbeatIntervalMs,
    // librdkafka sends max.poll.interval.ms as JoinGroup's rebalance timeout, and requires it >= the session timeout
    'max.poll.interval.ms': Math.max(options.rebalanceTimeoutMs, options.sessionTimeoutMs),
    // librdkafka cannot run the port's own assignor; range gives partition N of every subscribed topic with the
    // same partition count to the same member, which is the co-partitioning the runtime needs (docs/kafka-port.md)
    'partition.assignment.strategy': 'range',
    // the JoinGroup answer (generation and member id) is only visible in librdkafka's consumer-group debug log
    debug: 'cgrp',
    rebalance_cb: rebalance
  }
  if (options.groupInstanceId !== null) config['group.instance.id'] = options.groupInstanceId
  return config
}

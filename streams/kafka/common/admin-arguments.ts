/**
 * Argument checks of the port's admin calls that validation.ts does not cover (it checks records, partitions and
 * offsets). The admin is called from the CLI with user input, so a bad argument must fail here with a message
 * naming the field, the same on every adapter, before any request is sent.
 */
import { DevtripError } from '../../../events/errors'
import type { IsolationLevel, ListOffsetsSpec, NewTopic } from '../port'

export function invalidArgument (operation: string, problem: string): DevtripError {
  return new DevtripError('DEVTRIP_INVALID_OPTIONS', `${operation}: ${problem}`)
}

export function checkTopicNames (operation: string, names: readonly string[]): void {
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n.length > 0)) throw invalidArgument(operation, '/names must be an array of topic names')
}

export function checkGroupIds (operation: string, groupIds: readonly string[]): void {
  if (!Array.isArray(groupIds) || !groupIds.every((g) => typeof g === 'string' && g.length > 0)) throw invalidArgument(operation, '/groupIds must be an array of group ids')
}

export function checkGroupId (operation: string, groupId: string): void {
  if (typeof groupId !== 'string' || groupId === '') throw invalidArgument(operation, '/groupId must be a non-empty string')
}

export function checkIsolationLevel (operation: string, isolation: IsolationLevel): void {
  if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') throw invalidArgument(operation, "/isolation must be 'read_committed' or 'read_uncommitted'")
}

/** The sizes of the `index`th topic of createTopics. */
export function checkNewTopicSizes (topic: NewTopic, index: number): void {
  if (!Number.isInteger(topic.partitions) || topic.partitions < 1) throw invalidArgument('createTopics', `/topics/${index}/partitions must be an integer >= 1`)
  if (!Number.isInteger(topic.replicationFactor) || topic.replicationFactor < 1) throw invalidArgument('createTopics', `/topics/${index}/replicationFactor must be an integer >= 1`)
}

/** createTopics' argument: legal names (Kafka's own rule), sizes, and configs as strings. */
export function checkNewTopics (topics: readonly NewTopic[]): void {
  if (!Array.isArray(topics)) throw invalidArgument('createTopics', '/topics must be an array')
  topics.forEach((t, i) => {
    if (t === null || typeof t !== 'object' || typeof t.name !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(t.name)) {
      throw invalidArgument('createTopics', `/topics/${i}/name must be a legal topic name (letters, digits, . _ -; at most 249)`)
    }
    checkNewTopicSizes(t, i)
    for (const [k, v] of Object.entries(t.configs ?? {})) {
      if (typeof v !== 'string') throw invalidArgument('createTopics', `/topics/${i}/configs/${k} must be a string`)
    }
  })
}

/** listOffsets' spec as 'earliest', 'latest' or a timestamp in ms (>= 0). */
export function listOffsetsTarget (spec: ListOffsetsSpec): 'earliest' | 'latest' | number {
  if (spec === 'earliest' || spec === 'latest') return spec
  if (spec !== null && typeof spec === 'object' && Number.isSafeInteger(spec.timestamp) && spec.timestamp >= 0) return spec.timestamp
  throw invalidArgument('listOffsets', "/spec must be 'earliest', 'latest' or { timestamp: ms >= 0 }")
}

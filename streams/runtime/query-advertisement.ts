/**
 * What a StreamsApp instance tells its consumer group about itself, so that anyone holding an admin client can find
 * the instance that serves a store's partition (interactive queries, query-metadata.ts). It travels as the group
 * member's user data (`GroupConsumerOptions.userData`, read back through `KafkaAdmin.describeGroups`), the place
 * Kafka Streams uses for `application.server` too.
 *
 * Layout (big-endian), at most 4 KiB in all (the port's limit on user data):
 *
 *   offset  size  field
 *   0       2     magic 0x44 0x51 ("DQ"): tells our bytes from another client's user data
 *   2       1     version (1)
 *   3       2     uint16 length H of the application server
 *   5       H     application server, UTF-8 "host:port"
 *   5+H     2     uint16 length I of the instance id (0: none)
 *   7+H     I     instance id, UTF-8
 *
 * A later version may only append fields after these: a reader of version 1 reads the fields it knows from any
 * version ≥ 1 and ignores the rest, so instances of different releases can share a group during a rolling upgrade.
 */
import { DevtripError } from '../../events/errors'

export const ADVERTISEMENT_VERSION = 1
const MAGIC_0 = 0x44
const MAGIC_1 = 0x51
const HEADER_BYTES = 5
/** the port's limit on a member's user data */
export const MAX_USER_DATA_BYTES = 4096

/** Where an instance answers interactive queries, as it advertises it. */
export interface HostInfo {
  readonly host: string
  readonly port: number
}

export interface InstanceAdvertisement {
  /** "host:port" the instance serves its stores on */
  readonly applicationServer: string
  /** the instance's persisted id (streams/runtime/instance-id.ts), when known */
  readonly instanceId?: string
}

const HOST_PORT = /^([^\s:]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$/

/** "host:port" → HostInfo; DEVTRIP_INVALID_OPTIONS for anything else (a port above 65535 included). */
export function parseHostInfo (text: string): HostInfo {
  const match = typeof text === 'string' ? HOST_PORT.exec(text) : null
  const port = match === null ? NaN : Number(match[2])
  if (match === null || !(port >= 1 && port <= 65535)) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `an application server must be "host:port" with a port from 1 to 65535, got ${JSON.stringify(text)}`)
  }
  return Object.freeze({ host: match[1] as string, port })
}

export function formatHostInfo (host: HostInfo): string {
  return `${host.host}:${host.port}`
}

/** The user data bytes for `advertisement` (layout above). */
export function encodeAdvertisement (advertisement: InstanceAdvertisement): Buffer {
  parseHostInfo(advertisement.applicationServer)
  const server = Buffer.from(advertisement.applicationServer, 'utf8')
  const instance = Buffer.from(advertisement.instanceId ?? '', 'utf8')
  const size = HEADER_BYTES + server.length + 2 + instance.length
  if (server.length > 0xffff || instance.length > 0xffff || size > MAX_USER_DATA_BYTES) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `the instance advertisement is ${size} bytes; at most ${MAX_USER_DATA_BYTES} fit into a group member's user data`)
  }
  const out = Buffer.alloc(size)
  out[0] = MAGIC_0
  out[1] = MAGIC_1
  out[2] = ADVERTISEMENT_VERSION
  out.writeUInt16BE(server.length, 3)
  server.copy(out, HEADER_BYTES)
  out.writeUInt16BE(instance.length, HEADER_BYTES + server.length)
  instance.copy(out, HEADER_BYTES + server.length + 2)
  return out
}

/**
 * The advertisement in a member's user data, or undefined when the bytes are not one (absent, another client's
 * data, truncated, an unreadable address). Never throws: a group may hold members this code did not write.
 */
export function decodeAdvertisement (bytes: Uint8Array | null | undefined): InstanceAdvertisement | undefined {
  if (bytes === null || bytes === undefined || bytes.length < HEADER_BYTES) return undefined
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  if (data[0] !== MAGIC_0 || data[1] !== MAGIC_1 || (data[2] as number) < 1) return undefined
  const serverLength = data.readUInt16BE(3)
  const serverEnd = HEADER_BYTES + serverLength
  if (serverEnd + 2 > data.length) return undefined
  const applicationServer = data.toString('utf8', HEADER_BYTES, serverEnd)
  try {
    parseHostInfo(applicationServer)
  } catch {
    return undefined
  }
  const instanceLength = data.readUInt16BE(serverEnd)
  if (serverEnd + 2 + instanceLength > data.length) return undefined
  const instanceId = data.toString('utf8', serverEnd + 2, serverEnd + 2 + instanceLength)
  return Object.freeze(instanceId === '' ? { applicationServer } : { applicationServer, instanceId })
}

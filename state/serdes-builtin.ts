/**
 * The built-in serdes, named and laid out as Kafka's own so that bytes written by a Java client read back
 * here and the other way round. Every failure is a DevtripError('DEVTRIP_SERDE') naming the serde, so a
 * bad record is reported with what was expected instead of being stored or produced half-understood.
 *
 * `null` never reaches a serializer and never leaves a deserializer (see serdes.ts): null is a tombstone.
 */
import { DevtripError } from '../events/errors'
import type { Serde } from './serdes'

function serdeError (serde: string, message: string, cause?: unknown): DevtripError {
  return new DevtripError('DEVTRIP_SERDE', `${serde} serde: ${message}`, { cause, details: { serde } })
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

function expectLength (serde: string, data: Buffer, length: number): void {
  if (!Buffer.isBuffer(data)) throw serdeError(serde, `expected a Buffer to deserialize, got ${describe(data)}`)
  if (data.length !== length) throw serdeError(serde, `expected exactly ${length} bytes, got ${data.length}`)
}

// fatal: invalid UTF-8 is an error, not a string full of U+FFFD that would then be keyed and joined on
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

const stringSerde: Serde<string> = Object.freeze({
  name: 'string',
  serialize (value: string): Buffer {
    if (typeof value !== 'string') throw serdeError('string', `expected a string, got ${describe(value)}`)
    return Buffer.from(value, 'utf8')
  },
  deserialize (data: Buffer): string {
    if (!Buffer.isBuffer(data)) throw serdeError('string', `expected a Buffer to deserialize, got ${describe(data)}`)
    try {
      return utf8.decode(data)
    } catch (error) {
      throw serdeError('string', 'the bytes are not valid UTF-8', error)
    }
  }
})

/*
 * Int64 wire layout (Kafka LongSerializer / LongDeserializer):
 *   [value: 8 bytes, big-endian, two's complement]
 *   1n → 00 00 00 00 00 00 00 01     -1n → ff ff ff ff ff ff ff ff     -2^63 → 80 00 00 00 00 00 00 00
 * As keys, negative values sort after positive ones (unsigned byte order), exactly as in Kafka Streams.
 */
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

const int64Serde: Serde<bigint> = Object.freeze({
  name: 'int64',
  serialize (value: bigint): Buffer {
    if (typeof value !== 'bigint') throw serdeError('int64', `expected a bigint, got ${describe(value)}`)
    if (value < INT64_MIN || value > INT64_MAX) throw serdeError('int64', `${value} does not fit in a signed 64-bit integer`)
    const out = Buffer.allocUnsafe(8)
    out.writeBigInt64BE(value, 0)
    return out
  },
  deserialize (data: Buffer): bigint {
    expectLength('int64', data, 8)
    return data.readBigInt64BE(0)
  }
})

/** The same 8 bytes as int64, for values a JavaScript number holds exactly (|v| <= 2^53 - 1), e.g. counts. */
const int64NumberSerde: Serde<number> = Object.freeze({
  name: 'int64-number',
  serialize (value: number): Buffer {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw serdeError('int64-number', `expected a safe integer number, got ${typeof value === 'number' ? String(value) : describe(value)}`)
    }
    const out = Buffer.allocUnsafe(8)
    out.writeBigInt64BE(BigInt(value), 0)
    return out
  },
  deserialize (data: Buffer): number {
    expectLength('int64-number', data, 8)
    const value = data.readBigInt64BE(0)
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw serdeError('int64-number', `${value} is outside the safe integer range of a number; use Serdes.Int64() (bigint)`)
    }
    return Number(value)
  }
})

/*
 * Int32 wire layout (Kafka IntegerSerializer / IntegerDeserializer):
 *   [value: 4 bytes, big-endian, two's complement]      1 → 00 00 00 01     -1 → ff ff ff ff
 */
const int32Serde: Serde<number> = Object.freeze({
  name: 'int32',
  serialize (value: number): Buffer {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw serdeError('int32', `expected an integer in [-2^31, 2^31 - 1], got ${typeof value === 'number' ? String(value) : describe(value)}`)
    }
    const out = Buffer.allocUnsafe(4)
    out.writeInt32BE(value, 0)
    return out
  },
  deserialize (data: Buffer): number {
    expectLength('int32', data, 4)
    return data.readInt32BE(0)
  }
})

/*
 * Double wire layout (Kafka DoubleSerializer / DoubleDeserializer):
 *   [value: 8 bytes, IEEE 754 binary64, big-endian]      1.5 → 3f f8 00 00 00 00 00 00
 */
const doubleSerde: Serde<number> = Object.freeze({
  name: 'double',
  serialize (value: number): Buffer {
    if (typeof value !== 'number') throw serdeError('double', `expected a number, got ${describe(value)}`)
    const out = Buffer.allocUnsafe(8)
    out.writeDoubleBE(value, 0)
    return out
  },
  deserialize (data: Buffer): number {
    expectLength('double', data, 8)
    return data.readDoubleBE(0)
  }
})

/** Raw bytes. Copies both ways: stores keep the buffers they are given and hand out the ones they keep. */
const bufferSerde: Serde<Buffer> = Object.freeze({
  name: 'buffer',
  serialize (value: Buffer): Buffer {
    if (!Buffer.isBuffer(value)) throw serdeError('buffer', `expected a Buffer, got ${describe(value)}`)
    return Buffer.from(value)
  },
  deserialize (data: Buffer): Buffer {
    if (!Buffer.isBuffer(data)) throw serdeError('buffer', `expected a Buffer to deserialize, got ${describe(data)}`)
    return Buffer.from(data)
  }
})

function jsonSerde<T> (): Serde<T> {
  return Object.freeze({
    name: 'json',
    serialize (value: T): Buffer {
      if (value === null || value === undefined) {
        throw serdeError('json', `cannot serialize ${String(value)}: null is a tombstone, delete the key instead`)
      }
      let text: string | undefined
      try {
        text = JSON.stringify(value)
      } catch (error) {
        throw serdeError('json', `value is not JSON-serializable: ${(error as Error).message}`, error)
      }
      if (text === undefined) throw serdeError('json', `a ${describe(value)} has no JSON form`)
      return Buffer.from(text, 'utf8')
    },
    deserialize (data: Buffer): T {
      const text = stringSerde.deserialize(data)
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (error) {
        throw serdeError('json', `invalid JSON: ${(error as Error).message}`, error)
      }
      if (value === null) throw serdeError('json', 'the JSON document is null; null is a tombstone, not a value')
      return value as T
    }
  })
}

/** Kafka Streams' `Serdes` factory, with TypeScript value types. */
export const Serdes = Object.freeze({
  /** UTF-8 text; invalid UTF-8 on read is an error (Kafka StringSerde) */
  String: (): Serde<string> => stringSerde,
  /** UTF-8 JSON text; no schema check — validate at the topic boundary (events/) */
  Json: <T>(): Serde<T> => jsonSerde<T>(),
  /** 8-byte big-endian signed, as bigint (Kafka LongSerde) */
  Int64: (): Serde<bigint> => int64Serde,
  /** 8-byte big-endian signed, as a safe-integer number (Kafka LongSerde bytes) */
  Int64AsNumber: (): Serde<number> => int64NumberSerde,
  /** 4-byte big-endian signed (Kafka IntegerSerde) */
  Int32: (): Serde<number> => int32Serde,
  /** raw bytes, copied (Kafka BytesSerde / ByteArraySerde) */
  Buffer: (): Serde<Buffer> => bufferSerde,
  /** 8-byte big-endian IEEE 754 (Kafka DoubleSerde) */
  Double: (): Serde<number> => doubleSerde
})

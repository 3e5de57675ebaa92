/**
 * Byte layout of window-store keys (engine-independent; the memory and RocksDB engines store them as is).
 *
 *   engine key     [segmentId: 8 bytes BE unsigned][keyLen: 4 bytes BE unsigned][key: keyLen bytes]
 *                  [windowStart: 8 bytes BE unsigned][seq: 4 bytes BE unsigned]
 *   changelog key  the engine key without its first 8 bytes: [keyLen][key][windowStart][seq]
 *                  (the segment is derived again from windowStart on restore, so the changelog does not
 *                  depend on the segment interval)
 *   stream time    [0xff]"stream-time" → [max windowStart seen: 8 bytes BE two's complement]
 *
 * segmentId = floor(windowStart / segmentIntervalMs). Segment first: one segment is one contiguous key range,
 * so an expired segment is dropped by one range delete. keyLen before key: without it key "a" with some
 * windowStart could sort between the entries of key "a\x00…", and a per-key range scan would pick up
 * another key's windows; with it, all windows of one key in one segment are contiguous and ordered by
 * windowStart, then seq. seq makes duplicates (same key, same windowStart) distinct entries for joins.
 * windowStart must be a non-negative safe integer, so segment ids stay far below 0x7f… and the stream-time
 * key (first byte 0xff) sorts after every segment.
 */
import { DevtripError } from '../../events/errors'

export const SEGMENT_BYTES = 8
const LEN_BYTES = 4
const TIME_BYTES = 8
const SEQ_BYTES = 4
const FIXED_BYTES = SEGMENT_BYTES + LEN_BYTES + TIME_BYTES + SEQ_BYTES
const TWO_32 = 2 ** 32
export const MAX_SEQ = 0xffffffff

export const STREAM_TIME_KEY: Buffer = Buffer.concat([Buffer.from([0xff]), Buffer.from('stream-time', 'ascii')])

export interface DecodedWindowKey {
  segmentId: number
  key: Buffer
  windowStart: number
  seq: number
}

function writeUInt64 (out: Buffer, value: number, offset: number): void {
  out.writeUInt32BE(Math.floor(value / TWO_32), offset)
  out.writeUInt32BE(value >>> 0, offset + 4)
}

function readUInt64 (data: Buffer, offset: number): number {
  const hi = data.readUInt32BE(offset)
  if (hi >= 2 ** 21) throw layoutError('a 64-bit field is beyond the safe integer range')
  return hi * TWO_32 + data.readUInt32BE(offset + 4)
}

function layoutError (message: string): DevtripError {
  return new DevtripError('DEVTRIP_STATE_STORE', `window key layout: ${message} (corrupt store or changelog)`)
}

export function segmentIdOf (windowStart: number, segmentIntervalMs: number): number {
  return Math.floor(windowStart / segmentIntervalMs)
}

/** [segmentId: 8 bytes BE]: sorts before every key of that segment and after every key of earlier ones */
export function segmentPrefix (segmentId: number): Buffer {
  const out = Buffer.allocUnsafe(SEGMENT_BYTES)
  writeUInt64(out, segmentId, 0)
  return out
}

export function encodeWindowKey (segmentId: number, key: Buffer, windowStart: number, seq: number): Buffer {
  const out = Buffer.allocUnsafe(FIXED_BYTES + key.length)
  writeUInt64(out, segmentId, 0)
  out.writeUInt32BE(key.length, SEGMENT_BYTES)
  key.copy(out, SEGMENT_BYTES + LEN_BYTES)
  const tail = SEGMENT_BYTES + LEN_BYTES + key.length
  writeUInt64(out, windowStart, tail)
  out.writeUInt32BE(seq, tail + TIME_BYTES)
  return out
}

export function decodeWindowKey (engineKey: Buffer): DecodedWindowKey {
  if (engineKey.length < FIXED_BYTES) throw layoutError(`key of ${engineKey.length} bytes is shorter than ${FIXED_BYTES}`)
  const keyLength = engineKey.readUInt32BE(SEGMENT_BYTES)
  if (engineKey.length !== FIXED_BYTES + keyLength) throw layoutError(`key length field ${keyLength} does not match a ${engineKey.length}-byte key`)
  const tail = SEGMENT_BYTES + LEN_BYTES + keyLength
  return {
    segmentId: readUInt64(engineKey, 0),
    key: engineKey.subarray(SEGMENT_BYTES + LEN_BYTES, tail),
    windowStart: readUInt64(engineKey, tail),
    seq: engineKey.readUInt32BE(tail + TIME_BYTES)
  }
}

export function changelogKeyOf (engineKey: Buffer): Buffer {
  return engineKey.subarray(SEGMENT_BYTES)
}

/** the windowStart a changelog key carries, validating its shape */
export function windowStartOfChangelogKey (changelogKey: Buffer): number {
  const fixed = FIXED_BYTES - SEGMENT_BYTES
  if (changelogKey.length < fixed) throw layoutError(`changelog key of ${changelogKey.length} bytes is shorter than ${fixed}`)
  const keyLength = changelogKey.readUInt32BE(0)
  if (changelogKey.length !== fixed + keyLength) throw layoutError(`changelog key length field ${keyLength} does not match a ${changelogKey.length}-byte key`)
  return readUInt64(changelogKey, LEN_BYTES + keyLength)
}

export function engineKeyOfChangelogKey (changelogKey: Buffer, segmentIntervalMs: number): { engineKey: Buffer, windowStart: number } {
  const windowStart = windowStartOfChangelogKey(changelogKey)
  const engineKey = Buffer.allocUnsafe(SEGMENT_BYTES + changelogKey.length)
  writeUInt64(engineKey, segmentIdOf(windowStart, segmentIntervalMs), 0)
  changelogKey.copy(engineKey, SEGMENT_BYTES)
  return { engineKey, windowStart }
}

/** [stream time: 8 bytes BE two's complement] */
export function encodeStreamTime (streamTime: number): Buffer {
  const out = Buffer.allocUnsafe(8)
  out.writeBigInt64BE(BigInt(streamTime), 0)
  return out
}

export function decodeStreamTime (data: Buffer): number {
  if (data.length !== 8) throw layoutError(`stream time of ${data.length} bytes, expected 8`)
  const value = data.readBigInt64BE(0)
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -1n) throw layoutError(`stream time ${value} out of range`)
  return Number(value)
}

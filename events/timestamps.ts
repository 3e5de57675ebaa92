/**
 * Event timestamps: the seed sends epoch milliseconds in bodies (§5.2–5.4) and ISO-8601 in the envelope (§5.1).
 * Both are accepted; everything downstream sees one form, epoch milliseconds (a JS number).
 *
 * Accepted:
 *   - a JSON integer of epoch milliseconds in [MIN_EPOCH_MS, MAX_EPOCH_MS];
 *   - an RFC 3339 date-time string (the ISO-8601 profile every JSON library writes):
 *     `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t` or a space may replace `T`, `z` may replace `Z`;
 *     fractions beyond milliseconds are truncated (epoch ms cannot hold them);
 *   - in Kafka headers only (header values are always strings), a string of decimal digits = epoch ms.
 * Rejected with a reason: a date-time without a zone offset (Jackson's LocalDateTime) because it names no
 * instant; an integer below MIN_EPOCH_MS because it is almost surely epoch SECONDS (a 10-digit value).
 */

/** 10^11 ms = 1973-03-03T09:46:40Z. Any epoch-seconds value before the year 5138 is below it. */
export const MIN_EPOCH_MS = 100_000_000_000
/** The largest instant a JS Date can hold (±8.64e15 ms). */
export const MAX_EPOCH_MS = 8_640_000_000_000_000

export type TimestampParse = { ok: true, ms: number } | { ok: false, reason: string }

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})?$/

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function daysInMonth (year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!
}

function isLeap (year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function checkRange (ms: number): TimestampParse {
  if (ms < MIN_EPOCH_MS) {
    return { ok: false, reason: `is before 1973-03-03 (${ms} ms); epoch milliseconds are expected — a 10-digit value is epoch seconds, multiply it by 1000` }
  }
  if (ms > MAX_EPOCH_MS) return { ok: false, reason: `is beyond the largest representable instant (${MAX_EPOCH_MS} ms)` }
  return { ok: true, ms }
}

function parseEpochMs (value: number): TimestampParse {
  if (!Number.isInteger(value)) return { ok: false, reason: `must be whole epoch milliseconds, got ${value}` }
  return checkRange(value)
}

function parseDateTime (text: string): TimestampParse {
  const m = RFC3339.exec(text)
  if (m === null) {
    return { ok: false, reason: `must be epoch milliseconds or an ISO-8601 date-time like 2024-01-15T09:50:00.000Z, got ${JSON.stringify(text)}` }
  }
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string | undefined]
  if (zone === undefined) {
    return { ok: false, reason: `has no time-zone offset (${JSON.stringify(text)}) so it names no instant; append Z or ±HH:MM` }
  }
  const year = Number(ys)
  const month = Number(mos)
  const day = Number(ds)
  const hour = Number(hs)
  const minute = Number(mis)
  const second = Number(ss)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, reason: `is not a real calendar date-time: ${JSON.stringify(text)}` }
  }
  let offsetMinutes = 0
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const oh = Number(zone.slice(1, 3))
    const om = Number(zone.slice(4, 6))
    if (oh > 23 || om > 59) return { ok: false, reason: `has an impossible zone offset ${zone}` }
    offsetMinutes = sign * (oh * 60 + om)
  }
  const millis = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3))
  // setUTCFullYear, not Date.UTC(year, ...): Date.UTC maps years 0–99 to 1900–1999
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, millis)
  return checkRange(date.getTime() - offsetMinutes * 60_000)
}

/**
 * Parses a timestamp as it may appear in an event body (number or date-time string).
 * `fromHeader` additionally accepts a string of digits (epoch ms), because a header cannot carry a number.
 */
export function parseTimestamp (value: unknown, fromHeader = false): TimestampParse {
  if (typeof value === 'number') return parseEpochMs(value)
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) {
      if (fromHeader) return parseEpochMs(Number(value))
      return { ok: false, reason: `epoch milliseconds must be a JSON number, not the string ${JSON.stringify(value)}` }
    }
    return parseDateTime(value)
  }
  return { ok: false, reason: 'must be epoch milliseconds (integer) or an ISO-8601 date-time string' }
}

/** epoch ms → the ISO-8601 form used in headers (UTC, millisecond precision, so it round-trips exactly). */
export function formatTimestamp (ms: number): string {
  return new Date(ms).toISOString()
}

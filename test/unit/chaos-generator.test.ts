/**
 * The chaos workload generator (cli/chaos/generator.ts): reproducible from its seed, exactly the requested number of
 * records, every event type, per-user timestamps strictly increasing across all topics, duplicates that are true
 * re-sends, and poison records that the pipeline's input stage really refuses.
 */
import { encodeRecord, generateWorkload, POISON_KINDS, SEQ_HEADER, type Workload } from '../../cli/chaos/generator'
import { EVENT_TYPES } from '../../events'
import { EventBodyDeserializer, eventFromRecord } from '../../processors'

let workload: Workload

beforeAll(() => {
  workload = generateWorkload({ events: 20_000, users: 200, seed: 7 })
})

test('the same seed gives the same records, byte for byte; another seed does not', () => {
  const again = generateWorkload({ events: 20_000, users: 200, seed: 7 })
  const bytes = (w: Workload, i: number): string => {
    const e = encodeRecord(w.records[i]!)
    return `${w.records[i]!.topic}|${w.records[i]!.key}|${w.records[i]!.timestamp}|${e.value.toString('base64')}|${e.headers.map(([k, v]) => `${k}=${v.toString()}`).join(',')}`
  }
  for (const i of [0, 1, 777, 9_999, 19_999]) expect(bytes(again, i)).toBe(bytes(workload, i))
  const other = generateWorkload({ events: 20_000, users: 200, seed: 8 })
  expect([0, 1, 2].map((i) => bytes(other, i))).not.toEqual([0, 1, 2].map((i) => bytes(workload, i)))
})

test('exactly the requested number of records, with the counted duplicates and poison records', () => {
  expect(workload.records).toHaveLength(20_000)
  expect(workload.records.map((r) => r.seq)).toEqual(workload.records.map((_r, i) => i))
  const kinds = { event: 0, duplicate: 0, poison: 0 }
  for (const r of workload.records) kinds[r.kind]++
  expect(kinds).toEqual({ event: 20_000 - workload.counts.duplicates - workload.counts.poison, duplicate: workload.counts.duplicates, poison: workload.counts.poison })
  expect(workload.counts.duplicates).toBe(200)
  expect(new Set(workload.records.filter((r) => r.kind === 'poison').map((r) => r.kind === 'poison' && r.poison))).toEqual(new Set(POISON_KINDS))
})

test('every one of the 25 event types occurs, every user has a history', () => {
  const types = new Set(workload.records.flatMap((r) => (r.kind === 'event' ? [r.event.eventType] : [])))
  expect([...EVENT_TYPES].filter((t) => !types.has(t))).toEqual([])
  expect(new Set(workload.records.map((r) => r.userId)).size).toBe(200)
})

test('per user, timestamps are distinct and increasing across all topics, in production order; all from 2024', () => {
  const last = new Map<number, number>()
  for (const r of workload.records) {
    if (r.kind !== 'event') continue
    expect(r.timestamp).toBeGreaterThan(last.get(r.userId) ?? 0)
    last.set(r.userId, r.timestamp)
    expect(r.key).toBe(String(r.event.userId))
    expect(r.timestamp).toBe(r.event.timestamp)
  }
  expect(new Date(workload.timeRange[0]).getUTCFullYear()).toBe(2024)
})

test('a duplicate is the same record again, sent after its original', () => {
  for (const r of workload.records) {
    if (r.kind !== 'duplicate') continue
    const original = workload.records[r.original]!
    expect(original.kind).toBe('event')
    expect(r.seq).toBeGreaterThan(original.seq)
    expect(encodeRecord(r).value).toEqual(encodeRecord(original).value)
    expect(r.timestamp).toBe(original.timestamp)
  }
})

test('every poison record is refused by the pipeline\'s input stage (deserializer or envelope/key check)', () => {
  for (const r of workload.records) {
    if (r.kind !== 'poison') continue
    const { value, headers } = encodeRecord(r)
    expect(headers.find(([k]) => k === SEQ_HEADER)?.[1].toString()).toBe(String(r.seq))
    let error: unknown
    try {
      const body = new EventBodyDeserializer(r.topic).deserialize(value)
      eventFromRecord({ key: r.key, value: body, timestamp: r.timestamp, headers }, r.topic)
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ name: 'DevtripError', code: 'DEVTRIP_INVALID_EVENT' })
  }
})

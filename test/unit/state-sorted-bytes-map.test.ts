import { SortedBytesMap } from '../../state/base/sorted-bytes-map'
import { prng } from './state-contract'

const randomKey = (random: () => number): Buffer => {
  const length = Math.floor(random() * 4)
  return Buffer.from(Array.from({ length }, () => [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff][Math.floor(random() * 6)]))
}

describe('SortedBytesMap', () => {
  test('agrees with a sorted reference under random sets, deletes, range deletes and ranges (several chunk splits)', () => {
    const random = prng(7)
    const map = new SortedBytesMap<number>()
    const reference = new Map<string, number>()
    const sortedReference = (): Array<[string, number]> => [...reference].sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')))
    let largest = 0
    for (let step = 0; step < 20_000; step++) {
      // many distinct 2-byte keys (thousands live at once: chunks split and merge) and the tricky short ones
      const key = random() < 0.5 ? randomKey(random) : Buffer.from(Math.floor(random() * 4000).toString(16).padStart(4, '0'), 'hex')
      const r = random()
      if (r < 0.75) {
        map.set(key, step)
        reference.set(key.toString('hex'), step)
      } else if (r < 0.99) {
        expect(map.delete(key)).toBe(reference.delete(key.toString('hex')))
      } else {
        // narrow ranges around 2-byte keys, and now and then a wide one with short (odd-length) bounds
        const start = Math.floor(random() * 4000)
        const other = randomKey(random)
        const [from, to] = random() < 0.98
          ? [Buffer.from(start.toString(16).padStart(4, '0'), 'hex'), Buffer.from((start + 30).toString(16).padStart(4, '0'), 'hex')]
          : (Buffer.compare(key, other) <= 0 ? [key, other] : [other, key])
        const doomed = sortedReference().filter(([k]) => Buffer.compare(Buffer.from(k, 'hex'), from) >= 0 && Buffer.compare(Buffer.from(k, 'hex'), to) <= 0)
        expect(map.deleteRange(from, to)).toBe(doomed.length)
        for (const [k] of doomed) reference.delete(k)
      }
      largest = Math.max(largest, map.size)
      if (step % 1000 === 0) {
        const from = randomKey(random)
        expect(map.range(from, undefined).map(([k, v]) => [k.toString('hex'), v])).toEqual(sortedReference().filter(([k]) => Buffer.compare(Buffer.from(k, 'hex'), from) >= 0))
      }
    }
    expect(map.size).toBe(reference.size)
    expect(largest).toBeGreaterThan(2 * 512) // the chunk size: the order index really was split
    expect(map.range(undefined, undefined).map(([k, v]) => [k.toString('hex'), v])).toEqual(sortedReference())
    for (const [k, v] of reference) expect(map.get(Buffer.from(k, 'hex'))).toBe(v)
  })

  test('range bounds are inclusive and an inverted range is empty', () => {
    const map = new SortedBytesMap<string>()
    for (const k of ['b', 'a', 'c', 'ab', '']) map.set(Buffer.from(k), k)
    expect(map.range(Buffer.from('a'), Buffer.from('b')).map(([, v]) => v)).toEqual(['a', 'ab', 'b'])
    expect(map.range(Buffer.from('c'), Buffer.from('a'))).toEqual([])
    expect(map.range(undefined, Buffer.from('')).map(([, v]) => v)).toEqual([''])
    map.clear()
    expect(map.size).toBe(0)
    expect(map.range(undefined, undefined)).toEqual([])
  })
})

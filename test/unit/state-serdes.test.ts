import { Serdes } from '../../state/serdes-builtin'

const code = (run: () => unknown): string | undefined => {
  try {
    run()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('built-in serdes', () => {
  test('Int64 writes 8 bytes big-endian two\'s complement, exactly as Kafka LongSerializer', () => {
    const int64 = Serdes.Int64()
    expect(int64.serialize(1n).toString('hex')).toBe('0000000000000001')
    expect(int64.serialize(-1n).toString('hex')).toBe('ffffffffffffffff')
    expect(int64.serialize(-(2n ** 63n)).toString('hex')).toBe('8000000000000000')
    expect(int64.serialize(2n ** 63n - 1n).toString('hex')).toBe('7fffffffffffffff')
    expect(int64.serialize(0x0102030405060708n).toString('hex')).toBe('0102030405060708')
    for (const v of [0n, 42n, -42n, 2n ** 40n, -(2n ** 62n)]) expect(int64.deserialize(int64.serialize(v))).toBe(v)
    expect(code(() => int64.serialize(2n ** 63n))).toBe('DEVTRIP_SERDE')
    expect(code(() => int64.serialize(5 as unknown as bigint))).toBe('DEVTRIP_SERDE')
    expect(code(() => int64.deserialize(Buffer.alloc(7)))).toBe('DEVTRIP_SERDE')
  })

  test('Int64AsNumber shares the layout and refuses what a number cannot hold', () => {
    const n = Serdes.Int64AsNumber()
    expect(n.serialize(258).toString('hex')).toBe('0000000000000102')
    expect(n.serialize(-2).equals(Serdes.Int64().serialize(-2n))).toBe(true)
    expect(n.deserialize(Serdes.Int64().serialize(BigInt(Number.MAX_SAFE_INTEGER)))).toBe(Number.MAX_SAFE_INTEGER)
    expect(code(() => n.deserialize(Serdes.Int64().serialize(2n ** 60n)))).toBe('DEVTRIP_SERDE')
    expect(code(() => n.serialize(1.5))).toBe('DEVTRIP_SERDE')
    expect(code(() => n.serialize(2 ** 60))).toBe('DEVTRIP_SERDE')
  })

  test('Int32 writes 4 bytes big-endian signed', () => {
    const int32 = Serdes.Int32()
    expect(int32.serialize(1).toString('hex')).toBe('00000001')
    expect(int32.serialize(-1).toString('hex')).toBe('ffffffff')
    expect(int32.deserialize(Buffer.from('80000000', 'hex'))).toBe(-2147483648)
    expect(code(() => int32.serialize(2 ** 31))).toBe('DEVTRIP_SERDE')
    expect(code(() => int32.serialize(0.5))).toBe('DEVTRIP_SERDE')
    expect(code(() => int32.deserialize(Buffer.alloc(8)))).toBe('DEVTRIP_SERDE')
  })

  test('Double writes IEEE 754 binary64 big-endian', () => {
    const d = Serdes.Double()
    expect(d.serialize(1.5).toString('hex')).toBe('3ff8000000000000')
    expect(d.deserialize(d.serialize(-0.1))).toBe(-0.1)
    expect(Number.isNaN(d.deserialize(d.serialize(Number.NaN)))).toBe(true)
    expect(code(() => d.serialize('1' as unknown as number))).toBe('DEVTRIP_SERDE')
  })

  test('String is UTF-8 and refuses invalid UTF-8 instead of replacing it', () => {
    const s = Serdes.String()
    expect(s.serialize('가a').toString('hex')).toBe('eab080' + '61')
    expect(s.deserialize(Buffer.from('eab08061', 'hex'))).toBe('가a')
    expect(s.deserialize(Buffer.alloc(0))).toBe('')
    expect(code(() => s.deserialize(Buffer.from([0xc3, 0x28])))).toBe('DEVTRIP_SERDE')
    expect(code(() => s.serialize(undefined as unknown as string))).toBe('DEVTRIP_SERDE')
  })

  test('Json round-trips documents and refuses null, undefined, cycles and bad JSON', () => {
    const j = Serdes.Json<{ id: string, tags: string[] }>()
    const doc = { id: 'm-1', tags: ['kafka', '한국'] }
    expect(j.serialize(doc).toString('utf8')).toBe(JSON.stringify(doc))
    expect(j.deserialize(j.serialize(doc))).toEqual(doc)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(code(() => j.serialize(cyclic as never))).toBe('DEVTRIP_SERDE')
    expect(code(() => j.serialize(null as never))).toBe('DEVTRIP_SERDE')
    expect(code(() => Serdes.Json<() => void>().serialize(() => undefined))).toBe('DEVTRIP_SERDE')
    expect(code(() => j.deserialize(Buffer.from('{"id":')))).toBe('DEVTRIP_SERDE')
    expect(code(() => j.deserialize(Buffer.from('null')))).toBe('DEVTRIP_SERDE')
  })

  test('Buffer copies both ways', () => {
    const b = Serdes.Buffer()
    const original = Buffer.from([1, 2, 3])
    const out = b.serialize(original)
    original[0] = 9
    expect([...out]).toEqual([1, 2, 3])
    const read = b.deserialize(out)
    read[1] = 9
    expect([...out]).toEqual([1, 2, 3])
    expect(code(() => b.serialize('x' as unknown as Buffer))).toBe('DEVTRIP_SERDE')
  })

  test('every serde has a name', () => {
    expect([Serdes.String(), Serdes.Json(), Serdes.Int64(), Serdes.Int64AsNumber(), Serdes.Int32(), Serdes.Buffer(), Serdes.Double()].map((s) => s.name))
      .toEqual(['string', 'json', 'int64', 'int64-number', 'int32', 'buffer', 'double'])
  })
})

/**
 * Compile-time checks: `npx tsc -p tsconfig.json --noEmit` type-checks this file, and every `@ts-expect-error`
 * below must really be an error (an unused directive fails the type-check). The runtime part checks that the
 * well-typed versions build and run.
 */
import { Serdes } from '../../state/serdes-builtin'
import {
  Consumed, JoinWindows, Materialized, Produced, StreamJoined, StreamsBuilder, TopologyTestDriver, type KStream, type KTable
} from '../../streams'

interface Click { page: string }

/** Never called: it exists for the type-checker (each bad line would otherwise build a wrongly keyed join). */
function typeErrors (b: StreamsBuilder): { clicks: KStream<string, Click>, usersByName: KTable<string, string> } {
  const clicks = b.stream('clicks', Consumed.with(Serdes.String(), Serdes.Json<Click>()))
  const usersById = b.table('users-by-id', Consumed.with(Serdes.Int32(), Serdes.String()), Materialized.as('users-by-id-store'))
  const usersByName = b.table('users-by-name', Consumed.with(Serdes.String(), Serdes.String()), Materialized.as('users-by-name-store'))
  const numbered = b.stream('numbered', Consumed.with(Serdes.Int32(), Serdes.String()))

  // @ts-expect-error a KStream<string, …> cannot join a KTable<number, …>: the key types differ
  clicks.join(usersById, (c, u) => `${c.page}:${u}`)
  // @ts-expect-error the same for leftJoin
  clicks.leftJoin(usersById, (c, u) => `${c.page}:${String(u)}`)
  // @ts-expect-error nor a KStream<number, …> in a windowed join
  clicks.join(numbered, (c, n) => `${c.page}${n}`, JoinWindows.ofTimeDifferenceWithNoGrace(10), StreamJoined.as('bad'))
  // @ts-expect-error KTable–KTable joins need equal key types too
  usersByName.join(usersById, (a, c) => a + c)
  // @ts-expect-error a narrower key type is not the same key type (keys are invariant)
  clicks.selectKey((): 'a' | 'b' => 'a').join(usersByName, (c, u) => c.page + u)
  // @ts-expect-error Produced serdes must match the stream's key type
  clicks.to('out', Produced.with(Serdes.Int32(), Serdes.Json<Click>()))
  // @ts-expect-error the joiner sees the table's value type (string), not number
  clicks.join(usersByName, (_c, u: number) => u)
  return { clicks, usersByName }
}

describe('typed DSL', () => {
  test('joins with matching key types compile and run; the joiner gets the inferred value types', async () => {
    expect(typeof typeErrors).toBe('function')
    const b = new StreamsBuilder({ defaultStoreType: 'in-memory' })

    const c = b.stream('clicks', Consumed.with(Serdes.String(), Serdes.Json<Click>()))
    const users = b.table('users', Consumed.with(Serdes.String(), Serdes.String()), Materialized.as('users-store'))
    const joined: KStream<string, string> = c.leftJoin(users, (click, user) => `${user ?? 'anonymous'} viewed ${click.page}`)
    joined.to('views', Produced.with(Serdes.String(), Serdes.String()))
    const d = new TopologyTestDriver(b.build(), { applicationId: 'typed' })
    try {
      await d.createInputTopic('users', Serdes.String(), Serdes.String()).pipeInput('u1', 'Ann')
      const input = d.createInputTopic('clicks', Serdes.String(), Serdes.Json<Click>())
      await input.pipeInput('u1', { page: '/a' })
      await input.pipeInput('u2', { page: '/b' })
      expect(d.createOutputTopic('views', Serdes.String(), Serdes.String()).readValuesToList()).toEqual(['Ann viewed /a', 'anonymous viewed /b'])
    } finally {
      await d.close()
    }
  })

  test('a table as a stream carries deletions as null values; a type-guard filter narrows them away', async () => {
    const b = new StreamsBuilder({ defaultStoreType: 'in-memory' })
    const table = b.table('t', Consumed.with(Serdes.String(), Serdes.String()), Materialized.as('t-store'))
    const values: KStream<string, string | null> = table.toStream()
    // @ts-expect-error the values of a table's stream may be null (deletions)
    const unchecked: KStream<string, string> = values
    const present: KStream<string, string> = values.filter((_k, v): v is string => v !== null)
    present.mapValues((v) => v.toUpperCase()).to('upper', Produced.with(Serdes.String(), Serdes.String()))
    expect(unchecked).toBe(values)
    const d = new TopologyTestDriver(b.build(), { applicationId: 'narrow' })
    try {
      const input = d.createInputTopic('t', Serdes.String(), Serdes.String())
      await input.pipeInput('a', 'x')
      await input.pipeInput('a', null)
      expect(d.createOutputTopic('upper', Serdes.String(), Serdes.String()).readKeyValuesToList()).toEqual([{ key: 'a', value: 'X' }])
    } finally {
      await d.close()
    }
  })
})

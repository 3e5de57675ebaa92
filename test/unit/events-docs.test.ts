/**
 * docs/events.md's catalog table must say what the code does: same types, topics, producers, consumers,
 * required (added ones in bold) and optional fields, in the same order.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { eventCatalog } from '../../events'

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'events.md'), 'utf8')

function catalogRows (): string[][] {
  const lines = doc.split('\n')
  const header = lines.findIndex((l) => l.startsWith('| Type | Topic | Producer | Consumers | Required fields | Optional fields |'))
  expect(header).toBeGreaterThan(-1)
  const rows: string[][] = []
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()))
  }
  return rows
}

const list = (cell: string): string[] => cell === '' ? [] : cell.split(',').map((s) => s.trim())

describe('docs/events.md catalog table', () => {
  it('matches eventCatalog() row by row', () => {
    const documented = catalogRows().map(([type, topic, producer, consumers, required, optional]) => ({
      type: type!.replace(/`/g, ''),
      topic: topic!.replace(/`/g, ''),
      producer,
      consumers: list(consumers!),
      requiredFields: list(required!).map((f) => f.replace(/\*\*/g, '')),
      addedFields: list(required!).filter((f) => f.startsWith('**')).map((f) => f.replace(/\*\*/g, '')),
      optionalFields: list(optional!)
    }))
    const actual = eventCatalog().map(({ type, topic, producer, consumers, requiredFields, addedFields, optionalFields }) =>
      ({ type, topic, producer, consumers, requiredFields, addedFields, optionalFields }))
    expect(documented).toEqual(actual)
  })

  it('has the section that explains every departure from the seed', () => {
    const section = doc.slice(doc.indexOf("## Resolving the seed's inconsistencies"))
    for (const topic of ['mission.completed', 'evaluation.completed', 'auth.*', '{service}.{event-type}', 'resource-events', 'Fields added for keying']) {
      expect(section).toContain(topic)
    }
  })
})

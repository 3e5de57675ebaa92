/**
 * The record key of every event on a domain topic: its userId as a string.
 *
 * One key rule for all six topics is what makes them co-partitioned: with equal partition counts and the
 * default murmur2 partitioner, user 123's signup, payments, missions and evaluations all land on the same
 * partition number of their topics, so one stream task sees all of one user's events and can join them
 * without a repartition. The string form makes 123 and "123" the same key.
 */
import { DevtripError } from './errors'
import { idProblem } from './schemas/common'

export function recordKeyFor (event: { readonly userId: number | string }): string {
  const problem = idProblem(event?.userId)
  if (problem !== undefined) {
    throw new DevtripError('DEVTRIP_INVALID_EVENT', `cannot key the event: userId ${problem}`, {
      details: { userId: event?.userId, hint: 'key only events returned by normalizeEvent()' }
    })
  }
  return String(event.userId)
}

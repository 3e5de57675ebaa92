/**
 * Member user data carried in a client id, for client libraries that cannot put bytes into the consumer
 * protocol's subscription (librdkafka: the subscription's user_data field is filled by its assignors only).
 * `GroupConsumerOptions.userData` then travels as a suffix of the member's client id, which the group coordinator
 * stores and every DescribeGroups answer returns, so any adapter's `describeGroups` can read it back.
 *
 * Layout of such a client id (all ASCII, so it survives every client and broker unchanged):
 *   <client id> "~ud." <user data in base64url, no padding>
 * A client id without the marker carries no user data. docs/kafka-port.md describes which adapter uses it.
 */
const MARKER = '~ud.'

/** The client id to announce: `clientId` with `userData` appended (unchanged when there is none). */
export function clientIdWithUserData (clientId: string, userData: Buffer | null): string {
  if (userData === null) return clientId
  return `${clientId}${MARKER}${userData.toString('base64url')}`
}

/** The user data a client id carries, or null. */
export function userDataFromClientId (clientId: string): Buffer | null {
  const at = clientId.lastIndexOf(MARKER)
  if (at < 0) return null
  const encoded = clientId.slice(at + MARKER.length)
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return null
  return Buffer.from(encoded, 'base64url')
}

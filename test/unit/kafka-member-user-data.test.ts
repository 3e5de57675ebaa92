/**
 * Member user data carried in a client id (streams/kafka/member-user-data.ts): what the librdkafka adapter's members
 * announce, and what every adapter's describeGroups reads back.
 */
import { clientIdWithUserData, userDataFromClientId } from '../../streams/kafka/member-user-data'

describe('member user data in a client id', () => {
  test('bytes of any value survive the round trip, behind the client id', () => {
    const bytes = Buffer.from([0, 1, 0xfe, 0xff, 0x7f, 0x80, 0x3e, 0x3f])
    const clientId = clientIdWithUserData('app-consumer', bytes)
    expect(clientId).toBe(`app-consumer~ud.${bytes.toString('base64url')}`)
    expect(clientId).toMatch(/^[A-Za-z0-9._~-]+$/)
    expect(userDataFromClientId(clientId)).toEqual(bytes)
    expect(userDataFromClientId(clientIdWithUserData('x', Buffer.from('127.0.0.1:8081')))!.toString()).toBe('127.0.0.1:8081')
  })

  test('no user data: the client id is unchanged and reads back as null; empty bytes stay empty', () => {
    expect(clientIdWithUserData('app-consumer', null)).toBe('app-consumer')
    expect(userDataFromClientId('app-consumer')).toBeNull()
    expect(userDataFromClientId(clientIdWithUserData('a', Buffer.alloc(0)))).toEqual(Buffer.alloc(0))
  })

  test('a client id whose suffix is not base64url carries nothing', () => {
    expect(userDataFromClientId('weird~ud.not base64!')).toBeNull()
  })
})

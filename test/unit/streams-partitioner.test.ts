import { murmur2, partitionForKey, toPositive } from '../../streams'

/*
 * Expected values computed independently with Kafka 4.3.1's own implementation:
 *   java -cp "/work/main/.cache/kafka/4.3.1/libs/*" M2.java
 * calling org.apache.kafka.common.utils.Utils.murmur2(bytes) and Utils.toPositive(h) % n on the UTF-8 bytes
 * (or the raw bytes) below.
 */
const STRING_VECTORS: Array<[string, number, number, number]> = [
  // key, murmur2, partition of 3, partition of 12
  ['', 275646681, 0, 9],
  ['a', -1563381124, 1, 4],
  ['ab', 316155434, 2, 2],
  ['abc', 479470107, 0, 3],
  ['abcd', -1323649548, 2, 8],
  ['abcde', 461995741, 1, 1],
  ['user-42', 1459644460, 1, 4],
  ['21', -973932308, 0, 0],
  ['kafka', -798503068, 1, 4],
  ['안녕하세요', 394177072, 1, 4],
  ['the quick brown fox jumps over the lazy dog', -890066680, 1, 4]
]

const BYTE_VECTORS: Array<[string, number, number, number]> = [
  ['fffe80', -160726397, 0, 3],
  ['0000000000000001', 2100486060, 0, 0],
  ['8000000000000000', 1290709624, 1, 4],
  ['deadbeef01', -306773845, 1, 7]
]

describe('murmur2 partitioner matches Kafka', () => {
  test.each(STRING_VECTORS)('UTF-8 key %j', (key, hash, p3, p12) => {
    const bytes = Buffer.from(key, 'utf8')
    expect(murmur2(bytes)).toBe(hash)
    expect(partitionForKey(bytes, 3)).toBe(p3)
    expect(partitionForKey(bytes, 12)).toBe(p12)
  })

  test.each(BYTE_VECTORS)('raw bytes %s (every tail length, high bytes)', (hex, hash, p3, p12) => {
    const bytes = Buffer.from(hex, 'hex')
    expect(murmur2(bytes)).toBe(hash)
    expect(partitionForKey(bytes, 3)).toBe(p3)
    expect(partitionForKey(bytes, 12)).toBe(p12)
  })

  test('toPositive clears the sign bit, as Kafka Utils.toPositive', () => {
    expect(toPositive(-1)).toBe(0x7fffffff)
    expect(toPositive(-2147483648)).toBe(0)
    expect(toPositive(42)).toBe(42)
  })
})

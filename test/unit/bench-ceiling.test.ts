/**
 * Parsing of Kafka's perf tools. The sample outputs are real, captured from kafka-tools 4.3.1 on the dev broker
 * (ProducerPerformance with --reporting-interval 1000, so the periodic lines come first; a ConsumerPerformance that
 * timed out before reading all records prints its warning between the header and the data row).
 */
import { parseConsumerPerformance, parseProducerPerformance } from '../../bench/ceiling'

const PRODUCER_200K = [
  'Option --producer-props has been deprecated and will be removed in a future version. Use --command-property instead.',
  '42886 records sent, 42672.6 records/sec (8.14 MB/sec), 58.4 ms avg latency, 441.0 ms max latency.',
  '114874 records sent, 114874.0 records/sec (21.91 MB/sec), 137.6 ms avg latency, 308.0 ms max latency.',
  '200000 records sent, 90049.527240 records/sec (17.18 MB/sec), 99.76 ms avg latency, 441.00 ms max latency, 67 ms 50th, 250 ms 95th, 279 ms 99th, 306 ms 99.9th.',
  ''
].join('\n')

const PRODUCER_100 = '100 records sent, 467.289720 records/sec (0.09 MB/sec), 18.60 ms avg latency, 195.00 ms max latency, 18 ms 50th, 19 ms 95th, 195 ms 99th, 195 ms 99.9th.\n'

const CONSUMER_200K = [
  'Warning: --messages is deprecated. Use --num-records instead.',
  'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
  '2026-11-24 00:45:55:383, 2026-11-24 00:45:56:441, 38.1470, 36.0557, 200000, 189035.9168, 400, 658, 57.9741, 303951.3678',
  ''
].join('\n')

const CONSUMER_TIMED_OUT = [
  'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
  'WARNING: Exiting before consuming the expected number of records: timeout (2000 ms) exceeded. You can use the --timeout option to increase the timeout.',
  '2026-11-24 00:56:03:960, 2026-11-24 00:56:06:280, 0.0191, 0.0082, 100, 43.1034, 245, 2075, 0.0092, 48.1928',
  ''
].join('\n')

describe('ProducerPerformance output', () => {
  test('the final summary line, not the periodic ones', () => {
    expect(parseProducerPerformance(PRODUCER_200K)).toEqual({
      records: 200000, recordsPerSec: 90049.52724, mbPerSec: 17.18, avgLatencyMs: 99.76, maxLatencyMs: 441,
      p50Ms: 67, p95Ms: 250, p99Ms: 279, p999Ms: 306
    })
    expect(parseProducerPerformance(PRODUCER_100)).toMatchObject({ records: 100, recordsPerSec: 467.28972, p99Ms: 195 })
  })

  test('output without a summary (the tool failed) is an error that shows the output', () => {
    const periodicOnly = PRODUCER_200K.split('\n').slice(0, 3).join('\n')
    expect(() => parseProducerPerformance(periodicOnly)).toThrow(/no ProducerPerformance summary line[\s\S]*114874 records sent/)
    expect(() => parseProducerPerformance('Exception in thread "main" org.apache.kafka.common.errors.TimeoutException')).toThrow('TimeoutException')
  })
})

describe('ConsumerPerformance output', () => {
  test('columns are read by name from the header row', () => {
    expect(parseConsumerPerformance(CONSUMER_200K)).toEqual({
      records: 200000, mb: 38.147, recordsPerSec: 189035.9168, mbPerSec: 36.0557, rebalanceMs: 400, fetchMs: 658,
      fetchRecordsPerSec: 303951.3678, fetchMbPerSec: 57.9741
    })
  })

  test('a warning between header and data row is skipped; the short count is reported as read', () => {
    expect(parseConsumerPerformance(CONSUMER_TIMED_OUT)).toMatchObject({ records: 100, fetchRecordsPerSec: 48.1928, rebalanceMs: 245 })
  })

  test('reordered columns still land in the right fields', () => {
    const lines = CONSUMER_200K.split('\n')
    const header = (lines[1] as string).split(', ')
    const row = (lines[2] as string).split(', ')
    const order = header.map((_h, i) => i).reverse()
    const reordered = `${order.map((i) => header[i]).join(', ')}\n${order.map((i) => row[i]).join(', ')}\n`
    expect(parseConsumerPerformance(reordered)).toEqual(parseConsumerPerformance(CONSUMER_200K))
  })

  test('missing header, missing row, missing column and non-numbers are errors', () => {
    expect(() => parseConsumerPerformance('Exception in thread "main"')).toThrow('no ConsumerPerformance header row')
    expect(() => parseConsumerPerformance(CONSUMER_200K.split('\n').slice(0, 2).join('\n'))).toThrow('no ConsumerPerformance data row')
    const withoutFetchRate = CONSUMER_200K.replace(', fetch.nMsg.sec', ', something.else')
    expect(() => parseConsumerPerformance(withoutFetchRate)).toThrow('no column "fetch.nMsg.sec"')
    const badNumber = CONSUMER_200K.replace('303951.3678', 'n/a')
    expect(() => parseConsumerPerformance(badNumber)).toThrow('"fetch.nMsg.sec" is not a number')
  })
})

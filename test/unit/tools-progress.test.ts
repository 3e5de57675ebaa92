/**
 * The CLI progress bar's line (cli/progress.ts) and its silence when stderr is not a terminal.
 */
import { PassThrough } from 'node:stream'
import { createProgressBar, formatDuration, renderProgress } from '../../cli/progress'

test('renderProgress shows bar, percentage, counts, rate and ETA', () => {
  expect(renderProgress('replaying', 90, 200, 9000, 'records', 20)).toBe('replaying [#########-----------]  45%  90/200 records  10/s  ETA 11s')
  expect(renderProgress('reading', 0, 0, 0, 'records', 10)).toBe('reading [----------]   ?%  0/? records')
  expect(renderProgress('x', 200, 200, 4000, 'records', 4)).toBe('x [####] 100%  200/200 records  50/s')
  expect(renderProgress('x', 3, 10, 2000, 'offsets', 10)).toBe('x [###-------]  30%  3/10 offsets  1.5/s  ETA 5s')
})

test('formatDuration', () => {
  expect([formatDuration(5.4), formatDuration(75), formatDuration(3725), formatDuration(-1), formatDuration(Infinity)]).toEqual(['5s', '1m15s', '1h02m', '?', '?'])
})

test('nothing is drawn when the stream is not a terminal; the final message still is', () => {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream
  let written = ''
  ;(stream as unknown as PassThrough).on('data', (d: Buffer) => { written += d.toString() })
  const bar = createProgressBar('reading', 'records', stream)
  bar.update(5, 10)
  bar.finish('done')
  expect(written).toBe('done\n')
})

test('on a terminal the bar is redrawn in place and cleared at the end', () => {
  const chunks: string[] = []
  const stream = { isTTY: true, columns: 200, write: (s: string) => { chunks.push(s); return true } } as unknown as NodeJS.WriteStream
  const bar = createProgressBar('reading', 'records', stream)
  bar.update(10, 10)
  bar.finish()
  expect(chunks[0]).toMatch(/^\r\x1b\[2Kreading \[#+\] 100%  10\/10 records/)
  expect(chunks[chunks.length - 1]).toBe('\r\x1b[2K')
})

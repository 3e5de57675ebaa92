/**
 * A progress bar for long CLI operations, drawn on stderr so stdout stays clean for --json and pipes.
 * It is drawn only when stderr is a terminal (a log file full of carriage returns helps nobody) and at most
 * every 100 ms; `finish` clears the line.
 */

export interface ProgressBar {
  /** `done` of `total` units; total 0 means "unknown yet" */
  update (done: number, total: number): void
  /** clears the bar (and prints `message`, if any, on its own line) */
  finish (message?: string): void
}

function formatDuration (seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?'
  if (seconds < 60) return `${Math.round(seconds)}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`
}

/**
 * One line of the bar: `label [#######-------]  45%  90/200 records  12/s  ETA 9s`, `width` characters of bar.
 * Pure, so it can be tested.
 */
export function renderProgress (label: string, done: number, total: number, elapsedMs: number, unit = 'records', width = 24): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0
  const filled = Math.round(fraction * width)
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled)
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0
  const percent = total > 0 ? `${String(Math.floor(fraction * 100)).padStart(3)}%` : '  ?%'
  const eta = total > 0 && rate > 0 && done < total ? `  ETA ${formatDuration((total - done) / rate)}` : ''
  const rateText = rate > 0 ? `  ${rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/s` : ''
  return `${label} [${bar}] ${percent}  ${done}/${total > 0 ? total : '?'} ${unit}${rateText}${eta}`
}

/** A bar on `stream` (stderr by default); a no-op when it is not a terminal. */
export function createProgressBar (label: string, unit = 'records', stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (stream.isTTY !== true) return { update: () => {}, finish: (message) => { if (message !== undefined) stream.write(message + '\n') } }
  const started = Date.now()
  let lastDraw = 0
  let drawn = false
  const clear = (): void => { if (drawn) stream.write('\r\x1b[2K') }
  return {
    update (done, total) {
      const now = Date.now()
      if (now - lastDraw < 100 && done < total) return
      lastDraw = now
      const columns = stream.columns ?? 100
      const line = renderProgress(label, done, total, now - started, unit)
      stream.write('\r\x1b[2K' + (line.length > columns - 1 ? line.slice(0, columns - 1) : line))
      drawn = true
    },
    finish (message) {
      clear()
      drawn = false
      if (message !== undefined) stream.write(message + '\n')
    }
  }
}

export { formatDuration }

/**
 * A seeded random source for the chaos run: the workload, the kill moments and the killed instances are all drawn
 * from it, so `--seed S` reproduces a run's input and its schedule exactly (the wall-clock timing of the processes
 * themselves of course differs).
 *
 * sfc32 ("small fast chaotic", 128-bit state) seeded by splitting the seed with splitmix32; identical on every
 * platform because it uses only 32-bit integer operations.
 */

function splitmix32 (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

export class Random {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor (seed: number) {
    const split = splitmix32(seed)
    this.a = split()
    this.b = split()
    this.c = split()
    this.d = split()
    for (let i = 0; i < 12; i++) this.next()
  }

  /** uniform in [0, 1) */
  next (): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0
    this.c = (this.c + t) >>> 0
    return t / 4294967296
  }

  /** integer in [min, max] */
  int (min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance (p: number): boolean {
    return this.next() < p
  }

  pick<T> (items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!
  }

  /** an item chosen with probability proportional to its weight */
  weighted<T> (choices: ReadonlyArray<readonly [T, number]>): T {
    const total = choices.reduce((n, [, w]) => n + w, 0)
    let x = this.next() * total
    for (const [item, w] of choices) {
      x -= w
      if (x < 0) return item
    }
    return choices[choices.length - 1]![0]
  }

  /** a lower-case version-4-shaped UUID (reproducible, unlike crypto.randomUUID) */
  uuid (): string {
    const hex: string[] = []
    for (let i = 0; i < 32; i++) hex.push(this.int(0, 15).toString(16))
    hex[12] = '4'
    hex[16] = (8 + this.int(0, 3)).toString(16)
    const s = hex.join('')
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
  }

  /** a new independent stream (e.g. one per user), derived from this one */
  fork (): Random {
    return new Random(this.int(0, 0xffffffff))
  }
}

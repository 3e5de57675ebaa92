/**
 * A small OpenAI-compatible HTTP server on loopback for the evaluator's tests: POST /v1/chat/completions answers
 * according to a mode, and every request is recorded (method, path, headers, parsed body, arrival order).
 *
 * Modes:
 *   good          200 with a chat completion whose content is `answer` as JSON
 *   malformed     200 with content that is not JSON
 *   wrong-shape   200 with JSON content that breaks the answer schema (score is a string, details missing)
 *   slow          like good, but only after `slowMs`
 *   hold          no answer until release() (or the client goes away) — to kill a worker mid-request
 *   rate-limited  429 with an OpenAI-style error body and `retry-after-ms: 0`
 *   server-error  500
 * Which mode answers a request: `modeFor(body)` when it returns one (tests running requests in parallel key the
 * mode on the prompt), else the next of `script(modes)`, else `mode`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type FakeMode = 'good' | 'malformed' | 'wrong-shape' | 'slow' | 'hold' | 'rate-limited' | 'server-error'

export interface RecordedRequest {
  readonly seq: number
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** the parsed JSON body (undefined when it was not JSON) */
  readonly body: any
  /** the mode that answered it */
  readonly mode: FakeMode
}

export interface FakeAnswer {
  score: unknown
  feedback: unknown
  details: unknown
}

export class FakeOpenAIServer {
  readonly requests: RecordedRequest[] = []
  mode: FakeMode = 'good'
  answer: FakeAnswer = { score: 85, feedback: 'Clear code; consider edge cases for empty input.', details: { syntax: 90, logic: 85, performance: 80, bestPractices: 85 } }
  slowMs = 5_000
  /** picks the mode from the request body; undefined falls through to the script and `mode` */
  modeFor: ((body: any) => FakeMode | undefined) | undefined
  private readonly scripted: FakeMode[] = []
  private readonly held = new Set<ServerResponse>()
  private readonly waiters: Array<{ count: number, resolve: () => void }> = []

  private constructor (private readonly server: Server, readonly baseUrl: string) {}

  static async start (): Promise<FakeOpenAIServer> {
    let instance: FakeOpenAIServer | undefined
    const server = createServer((req, res) => { instance!.handle(req, res) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const { port } = server.address() as AddressInfo
    instance = new FakeOpenAIServer(server, `http://127.0.0.1:${port}/v1`)
    return instance
  }

  /** the next requests get these modes, in order */
  script (modes: FakeMode[]): void {
    this.scripted.push(...modes)
  }

  /** answers every held request (mode `good`) */
  release (): void {
    for (const res of this.held) this.reply(res, 'good')
    this.held.clear()
  }

  /** resolves once `count` requests have arrived in total */
  async waitForRequests (count: number, timeoutMs = 30_000): Promise<void> {
    if (this.requests.length >= count) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake OpenAI server: ${this.requests.length} of ${count} requests after ${timeoutMs} ms`)), timeoutMs)
      this.waiters.push({ count, resolve: () => { clearTimeout(timer); resolve() } })
    })
  }

  async close (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private handle (req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      let body: unknown
      try { body = JSON.parse(text) } catch { body = undefined }
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        this.json(res, 404, { error: { message: `no route ${req.method ?? ''} ${req.url ?? ''}`, type: 'invalid_request_error' } })
        return
      }
      const mode = this.modeFor?.(body) ?? this.scripted.shift() ?? this.mode
      this.requests.push({ seq: this.requests.length + 1, method: req.method, path: req.url, headers: req.headers, body, mode })
      for (const w of this.waiters.filter((w) => this.requests.length >= w.count)) {
        this.waiters.splice(this.waiters.indexOf(w), 1)
        w.resolve()
      }
      if (mode === 'hold') {
        this.held.add(res)
        res.on('close', () => this.held.delete(res))
        return
      }
      if (mode === 'slow') {
        const timer = setTimeout(() => this.reply(res, 'good'), this.slowMs)
        res.on('close', () => clearTimeout(timer))
        return
      }
      this.reply(res, mode)
    })
  }

  private reply (res: ServerResponse, mode: FakeMode): void {
    if (res.writableEnded || res.destroyed) return
    switch (mode) {
      case 'rate-limited':
        this.json(res, 429, { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } }, { 'retry-after-ms': '0' })
        return
      case 'server-error':
        this.json(res, 500, { error: { message: 'The server had an error while processing your request.', type: 'server_error' } })
        return
      case 'malformed':
        this.json(res, 200, completion('Sure! Here is my evaluation: the code looks great, 9/10.'))
        return
      case 'wrong-shape':
        this.json(res, 200, completion(JSON.stringify({ score: 'eighty', feedback: 'ok' })))
        return
      default:
        this.json(res, 200, completion(JSON.stringify(this.answer)))
    }
  }

  private json (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }
}

let ids = 0
function completion (content: string): Record<string, unknown> {
  ids += 1
  return {
    id: `chatcmpl-fake-${ids}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'fake-model',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 }
  }
}

/**
 * One GET to a `run` instance's query endpoint (api/instance/), with a deadline, turned into what the caller decides
 * on. Plain node:http with a fresh keep-alive agent per client: the instances are few and long-lived, and a
 * request must never wait behind a connection to an instance that died.
 */
import { Agent, request as httpRequest } from 'node:http'
import { formatHostInfo, type HostInfo } from '../../streams'
import { SERVED_BY_HEADER } from '../queries'

export type InstanceAnswer =
  | { readonly kind: 'found', readonly value: unknown, readonly partition: number, readonly servedBy: string }
  /** the key is not in the partitions the instance checked */
  | { readonly kind: 'absent', readonly checked: readonly number[] }
  /** some of the partitions asked are restoring there */
  | { readonly kind: 'restoring', readonly checked: readonly number[], readonly notReady: readonly number[], readonly retryAfterSeconds: number | undefined }
  /** the instance does not hold the partition (any more); `owner` is where it says the partition went */
  | { readonly kind: 'not-owner', readonly owner: string | null }
  /** no answer in time, connection refused, or an answer that makes no sense (a bug or another program on the port) */
  | { readonly kind: 'unreachable', readonly problem: string }

export interface InstanceRequest {
  readonly host: HostInfo
  readonly applicationId: string
  readonly store: string
  readonly key: string
  /** omitted: the instance asks every local partition of the store */
  readonly partition?: number
}

export interface InstanceClientOptions {
  /** the whole request, connect to last byte (default 3000 ms) */
  readonly timeoutMs?: number
}

export class InstanceClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 })
  private readonly timeoutMs: number

  constructor (options: InstanceClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 3000
  }

  async get (req: InstanceRequest): Promise<InstanceAnswer> {
    const path = `/v1/instance/apps/${encodeURIComponent(req.applicationId)}/stores/${encodeURIComponent(req.store)}/keys/${encodeURIComponent(req.key)}` +
      (req.partition === undefined ? '' : `?partition=${req.partition}`)
    let response: { status: number, body: string, servedBy: string | undefined, retryAfter: string | undefined }
    try {
      response = await this.fetch(req.host, path)
    } catch (error) {
      return { kind: 'unreachable', problem: `${formatHostInfo(req.host)}: ${(error as Error).message}` }
    }
    let body: any
    try {
      body = JSON.parse(response.body)
    } catch {
      return { kind: 'unreachable', problem: `${formatHostInfo(req.host)} answered ${response.status} without JSON` }
    }
    const details = body?.error?.details ?? {}
    const numbers = (value: unknown): number[] => Array.isArray(value) ? value.filter((n): n is number => Number.isInteger(n)) : []
    switch (response.status) {
      case 200:
        if (body === null || typeof body !== 'object' || !('value' in body)) break
        return { kind: 'found', value: body.value, partition: Number(body.partition), servedBy: response.servedBy ?? formatHostInfo(req.host) }
      case 404:
        if (details.missing === 'key') return { kind: 'absent', checked: numbers(details.checked) }
        break
      case 503: {
        const retry = Number(response.retryAfter)
        return { kind: 'restoring', checked: numbers(details.checked), notReady: numbers(details.notReady), retryAfterSeconds: Number.isFinite(retry) && retry > 0 ? retry : undefined }
      }
      case 421:
        return { kind: 'not-owner', owner: typeof details.owner === 'string' ? details.owner : null }
    }
    // a 404 for the application or store, a 400, a 500: the instance cannot serve this (wrong app on that address?)
    const message = typeof body?.error?.message === 'string' ? body.error.message : `status ${response.status}`
    return { kind: 'unreachable', problem: `${formatHostInfo(req.host)} answered ${response.status}: ${message}` }
  }

  close (): void {
    this.agent.destroy()
  }

  private async fetch (host: HostInfo, path: string): Promise<{ status: number, body: string, servedBy: string | undefined, retryAfter: string | undefined }> {
    return await new Promise((resolve, reject) => {
      const req = httpRequest({
        host: host.host.replace(/^\[(.*)\]$/, '$1'),
        port: host.port,
        path,
        method: 'GET',
        agent: this.agent,
        headers: { accept: 'application/json' },
        timeout: this.timeoutMs
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          clearTimeout(deadline)
          const served = res.headers[SERVED_BY_HEADER]
          const retry = res.headers['retry-after']
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), servedBy: typeof served === 'string' ? served : undefined, retryAfter: typeof retry === 'string' ? retry : undefined })
        })
        res.on('error', (error) => { clearTimeout(deadline); reject(error) })
      })
      // `timeout` above is idle time on the socket; this bounds the whole exchange
      const deadline = setTimeout(() => { req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)) }, this.timeoutMs)
      req.on('timeout', () => { req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)) })
      req.on('error', (error) => { clearTimeout(deadline); reject(error) })
      req.end()
    })
  }
}

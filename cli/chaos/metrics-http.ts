/**
 * The Prometheus endpoint of `run`: GET /metrics (text exposition format) and GET /metrics.json (prom-client's JSON
 * form, which a supervisor reads from each child to serve one aggregated /metrics for all its instances).
 */
import { createServer, get, type Server } from 'node:http'
import { AggregatorRegistry, type Registry } from 'prom-client'

export interface MetricsSource {
  text (): Promise<{ body: string, contentType: string }>
  json (): Promise<unknown[]>
}

/** A source reading one registry (an in-process `run`). */
export function registrySource (registry: Registry): MetricsSource {
  return {
    text: async () => ({ body: await registry.metrics(), contentType: registry.contentType }),
    json: async () => await registry.getMetricsAsJSON()
  }
}

/** A source summing the /metrics.json of child processes (counters and gauges add up across instances). */
export function aggregatedSource (childPorts: () => readonly number[]): MetricsSource {
  const collect = async (): Promise<unknown[][]> => (await Promise.all(childPorts().map(async (port) => await fetchJson(port).catch(() => undefined))))
    .filter((m): m is unknown[] => Array.isArray(m))
  return {
    text: async () => {
      const registry = AggregatorRegistry.aggregate(await collect() as object[])
      return { body: await registry.metrics(), contentType: registry.contentType }
    },
    json: async () => await AggregatorRegistry.aggregate(await collect() as object[]).getMetricsAsJSON()
  }
}

async function fetchJson (port: number): Promise<unknown> {
  return await new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path: '/metrics.json', timeout: 5000 }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
        } catch (error) {
          reject(error)
        }
      })
      response.on('error', reject)
    })
    request.on('timeout', () => request.destroy(new Error(`metrics of the child on port ${port} timed out`)))
    request.on('error', reject)
  })
}

/** Listens on host:port; resolves once listening (rejects when the port is taken). */
export async function serveMetrics (source: MetricsSource, port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    const answer = path === '/metrics'
      ? source.text().then(({ body, contentType }) => { response.writeHead(200, { 'content-type': contentType }).end(body) })
      : path === '/metrics.json'
        ? source.json().then((json) => { response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json)) })
        : Promise.resolve().then(() => { response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n') })
    answer.catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' })
      response.end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port, host }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server
}

export async function closeServer (server: Server | undefined): Promise<void> {
  if (server === undefined) return
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

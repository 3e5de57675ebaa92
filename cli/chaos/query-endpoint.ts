/**
 * The interactive-query endpoint of `run` (api/instance/): one small HTTP server per process, listening on the
 * `--application-server` address (port 0: a free one), serving the stores of the StreamsApps of this process. The
 * address it really listens on is what the apps advertise to their groups (StreamsConfig.applicationServer), so
 * the server starts BEFORE the apps are created, and the apps join its table as they are.
 */
import type { FastifyInstance } from 'fastify'
import { buildInstanceServer, type QueryableApp } from '../../api'
import { CliError, EXIT_USAGE } from '../output'

export interface QueryEndpoint {
  /** "host:port" as advertised */
  readonly applicationServer: string
  /** applicationId → app; add the apps once created */
  readonly apps: Map<string, QueryableApp>
  close (): Promise<void>
}

export interface ListenAddress {
  readonly host: string
  /** 0: any free port */
  readonly port: number
}

/** `--application-server host:port` → where to listen; exit 2 for anything else, or for a host nobody can reach. */
export function parseListenAddress (text: string, flag = '--application-server'): ListenAddress {
  const match = /^([A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text.trim())
  const port = match === null ? NaN : Number(match[2])
  if (match === null || !(port >= 0 && port <= 65535)) {
    throw new CliError(`${flag} must be host:port (port 0 picks a free one), got ${JSON.stringify(text)}`, `e.g. ${flag} 127.0.0.1:0`, EXIT_USAGE)
  }
  const host = match[1] as string
  if (host === '0.0.0.0') {
    throw new CliError(`${flag} ${text}: the address is advertised to the other instances and the API, so it must be one they can reach`, `give this machine's address or name, e.g. ${flag} 10.0.0.5:${port}`, EXIT_USAGE)
  }
  return { host, port }
}

export async function serveQueries (address: ListenAddress): Promise<QueryEndpoint> {
  const apps = new Map<string, QueryableApp>()
  let advertised: string | undefined
  const server: FastifyInstance = await buildInstanceServer({ apps, applicationServer: () => advertised })
  try {
    await server.listen({ host: address.host, port: address.port })
  } catch (error) {
    await server.close().catch(() => undefined)
    throw new CliError(`cannot serve queries on ${address.host}:${address.port}: ${(error as Error).message}`, 'pick another --application-server (port 0 picks a free one)')
  }
  const bound = server.server.address()
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port
  advertised = `${address.host}:${port}`
  return {
    applicationServer: advertised,
    apps,
    close: async () => { await server.close() }
  }
}

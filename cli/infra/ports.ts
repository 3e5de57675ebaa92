/**
 * Free-port discovery and TCP reachability checks. Everything binds and connects to 127.0.0.1
 * (never `localhost`: Node may resolve it to ::1 while the servers only listen on IPv4).
 */
import { createConnection, createServer, type Server } from 'node:net'

export const LOOPBACK = '127.0.0.1'

function listen (server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => {
      const address = server.address()
      if (address === null || typeof address === 'string') reject(new Error('no TCP address after listen'))
      else resolve(address.port)
    })
  })
}

function close (server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

/**
 * `count` distinct free ports, found by letting the kernel pick (binding port 0). All sockets are
 * held open together so the kernel cannot hand out the same port twice, then released for the
 * server that will use them. Another program could still grab one in between; the servers then
 * fail to bind and the caller's readiness wait reports it.
 */
export async function freePorts (count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer())
  try {
    const ports: number[] = []
    for (const server of servers) ports.push(await listen(server, 0))
    return ports
  } finally {
    await Promise.all(servers.filter((s) => s.listening).map(close))
  }
}

/** True when nothing listens on 127.0.0.1:port right now (we could bind it). */
export async function isPortFree (port: number): Promise<boolean> {
  const server = createServer()
  try {
    await listen(server, port)
    return true
  } catch {
    return false
  } finally {
    if (server.listening) await close(server)
  }
}

/** True when a TCP connection to host:port is accepted within timeoutMs. */
export function canConnect (host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    const done = (ok: boolean): void => {
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Splits "host:port" (the KAFKA_BROKERS element form); throws on anything else. */
export function parseHostPort (address: string): { host: string, port: number } {
  const match = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(address.trim())
  const port = match === null ? NaN : Number(match[2])
  if (match === null || port < 1 || port > 65535) throw new Error(`"${address}" is not host:port`)
  return { host: match[1]!, port }
}

/**
 * Request bodies: JSON only, optionally gzip-compressed, never larger than `maxBodyBytes` once decompressed.
 *
 *   Content-Encoding: gzip (or x-gzip) → decompressed on the fly; the decompressed bytes are counted and the
 *     stream is cut off with 413 the moment they pass the limit, so a gzip bomb (a few KiB that inflate to
 *     gigabytes) costs at most maxBodyBytes of work and memory. The compressed bytes are counted too
 *     (`receivedEncodedLength`, which Fastify checks against the limit and Content-Length).
 *   identity or no Content-Encoding → as sent (Fastify's bodyLimit applies).
 *   anything else (br, deflate, …) → 415.
 *
 * JSON is parsed by our own parser so a syntax error says where it is, and keys that could reach an
 * object's prototype (`__proto__`, `constructor.prototype`) are refused rather than silently dropped.
 */
import type { Readable } from 'node:stream'
import { Transform } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { ApiError } from '../api-error'
import { globalPlugin } from './global-plugin'

function tooLarge (limit: number): ApiError {
  return new ApiError('DEVTRIP_API_PAYLOAD_TOO_LARGE', `the body is larger than ${limit} bytes after gzip decompression`, {
    details: { maxBodyBytes: limit, hint: 'split the batch' }
  })
}

/** The request stream, decompressed and capped at `limit` decompressed bytes. */
export function gunzipWithLimit (payload: Readable, limit: number): Readable & { receivedEncodedLength: number } {
  let decoded = 0
  const limited = new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      decoded += chunk.length
      if (decoded > limit) callback(tooLarge(limit))
      else callback(null, chunk)
    }
  }) as Transform & { receivedEncodedLength: number }
  limited.receivedEncodedLength = 0
  const gunzip = createGunzip()
  const stop = (): void => {
    payload.unpipe(gunzip)
    gunzip.destroy()
    // keep reading (and discarding) what the client still sends, so it gets our answer instead of a reset
    payload.resume()
  }
  payload.on('data', (chunk: Buffer) => { limited.receivedEncodedLength += chunk.length })
  gunzip.on('error', (error) => {
    stop()
    limited.destroy(new ApiError('DEVTRIP_API_BAD_REQUEST', `the body is not valid gzip: ${error.message}`))
  })
  limited.on('error', stop)
  payload.pipe(gunzip).pipe(limited)
  return limited
}

/** JSON.parse, refusing prototype-reaching keys; throws ApiError 400 with the parser's reason. */
export function parseJsonBody (text: string): unknown {
  if (text.trim() === '') throw new ApiError('DEVTRIP_API_BAD_REQUEST', 'the body is empty: send an event object or an array of events')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ApiError('DEVTRIP_API_BAD_REQUEST', `the body is not valid JSON: ${(error as Error).message}`)
  }
  if (text.includes('__proto__') || text.includes('prototype')) rejectPrototypeKeys(value, '')
  return value
}

function rejectPrototypeKeys (value: unknown, pointer: string): void {
  if (value === null || typeof value !== 'object') return
  if (Array.isArray(value)) {
    value.forEach((item, i) => rejectPrototypeKeys(item, `${pointer}/${i}`))
    return
  }
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (key === '__proto__' || (key === 'prototype' && pointer.endsWith('/constructor'))) {
      throw new ApiError('DEVTRIP_API_BAD_REQUEST', `the body has a "${key}" key at ${pointer || '/'}, which is refused`)
    }
    rejectPrototypeKeys(record[key], `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)
  }
}

export const bodyPlugin = globalPlugin<{ maxBodyBytes: number }>('devtrip-body', async (app, options) => {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const header = request.headers['content-encoding']
    const encoding = (Array.isArray(header) ? header.join(',') : header ?? '').trim().toLowerCase()
    if (encoding === '' || encoding === 'identity') return payload
    if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipWithLimit(payload, options.maxBodyBytes)
    throw new ApiError('DEVTRIP_API_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${encoding.slice(0, 50)}" is not supported: send gzip or an uncompressed body`)
  })

  // JSON is the only body this API reads: Fastify's text/plain parser would hand a string to the routes
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string))
    } catch (error) {
      done(error as Error, undefined)
    }
  })
})

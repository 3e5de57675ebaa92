/**
 * The API's own description, public:
 *   GET /docs/openapi.json   the OpenAPI 3.1 document (api/openapi.ts), built once on first request, when
 *                            every route module has been registered
 *   GET /docs                a plain HTML index of the routes, linking to the JSON (no scripts, nothing
 *                            loaded from elsewhere)
 */
import type { FastifyInstance } from 'fastify'
import { buildOpenApiDocument } from '../openapi'

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

export default async function docsRoutes (app: FastifyInstance): Promise<void> {
  let document: Record<string, unknown> | undefined
  const openApi = (): Record<string, unknown> => {
    document ??= buildOpenApiDocument(app.devtrip.routes, app.devtrip.config)
    return document
  }
  const open = { auth: 'public', rateLimit: false } as const

  app.get('/docs/openapi.json', { config: { ...open, description: 'This OpenAPI 3.1 document.' } }, async () => openApi())

  app.get('/docs', { config: { ...open, description: 'An HTML index of the routes.' } }, async (_request, reply) => {
    const paths = openApi().paths as Record<string, Record<string, { summary?: string, security?: unknown[], 'x-devtrip-scopes'?: string[] }>>
    const rows = Object.entries(paths).flatMap(([path, operations]) => Object.entries(operations).map(([method, op]) => {
      const auth = Array.isArray(op.security) && op.security.length === 0 ? 'public' : (op['x-devtrip-scopes']?.join(', ') ?? 'token')
      return `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary ?? '')}</td><td>${escapeHtml(auth)}</td></tr>`
    }))
    reply.type('text/html; charset=utf-8')
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DevTrip ingest API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}</style>
</head><body>
<h1>DevTrip ingest API</h1>
<p>The machine-readable description is <a href="/docs/openapi.json">/docs/openapi.json</a> (OpenAPI 3.1, event schemas included). Routes need <code>Authorization: Bearer &lt;token&gt;</code> unless marked public.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Auth / scopes</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
</body></html>
`
  })
}

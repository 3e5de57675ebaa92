/**
 * The bull-board dashboard at /admin/queues in the API server: admin token required (401 / 403 otherwise, for
 * the page, its JSON API and its static files), the evaluation queue listed with its jobs; 503 when the API was
 * started without queues.
 */
import { openDashboardQueues } from '../../evaluator'
import { bearer, testServer } from '../unit/api-fakes'
import { EvaluatorKit } from './evaluator-kit'

jest.setTimeout(60_000)

const kit = new EvaluatorKit('board')

let dashboard: ReturnType<typeof openDashboardQueues> | undefined

afterAll(async () => {
  await dashboard?.close()
  await kit.close()
})

test('without queues the dashboard answers 503 to admins, 401 to anonymous callers', async () => {
  const { app } = await testServer()
  try {
    expect((await app.inject({ method: 'GET', url: '/admin/queues' })).statusCode).toBe(401)
    const response = await app.inject({ method: 'GET', url: '/admin/queues', headers: bearer('admin') })
    expect(response.statusCode).toBe(503)
    expect(response.json().error.message).toBe('no queues are configured for the dashboard in this API process')
  } finally {
    await app.close()
  }
})

test('with the evaluation queue: admins see the page and the queue\'s jobs; other tokens get 403, no token 401', async () => {
  const input = kit.serviceInput(kit.topicPrefix('q'))
  dashboard = openDashboardQueues(kit.redisUrl, { queueName: input.queueName, keyPrefix: input.keyPrefix })
  const [queue] = dashboard.queues
  await queue!.add('evaluate', { missionAttemptId: 'board-1', userId: 1, missionId: null, attempt: 1, evaluationId: 'e', originalEvaluationId: null, causeEventId: 'c', causeEventType: 'MissionCompleted', requestedAt: 0 }, { jobId: 'board-1#1' })
  const { app } = await testServer({}, { extras: { adminQueues: dashboard.queues } })
  try {
    for (const url of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/favicon-32x32.png']) {
      expect({ url, status: (await app.inject({ method: 'GET', url })).statusCode }).toEqual({ url, status: 401 })
      expect({ url, status: (await app.inject({ method: 'GET', url, headers: bearer('reader') })).statusCode }).toEqual({ url, status: 403 })
    }
    const page = await app.inject({ method: 'GET', url: '/admin/queues', headers: bearer('admin') })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toContain('/admin/queues')

    const api = await app.inject({ method: 'GET', url: '/admin/queues/api/queues?activeQueue=' + encodeURIComponent(input.queueName!) + '&status=waiting&page=1', headers: bearer('admin') })
    expect(api.statusCode).toBe(200)
    const listed = (api.json() as { queues: Array<{ name: string, counts: Record<string, number>, jobs: Array<{ id: string }> }> }).queues
    expect(listed.map((q) => q.name)).toEqual([input.queueName])
    expect(listed[0]!.counts.waiting).toBe(1)
    expect(listed[0]!.jobs.map((j) => j.id)).toEqual(['board-1#1'])
  } finally {
    await app.close()
  }
})

/**
 * The demo's workload: a few DevTrip users going through the seed's three flows (§3.1 signup, §3.3 payment and
 * subscription, §3.2 mission completion and AI evaluation), posted through the ingest API as their services would.
 * Timestamps start at the moment of posting and increase strictly per user, so the topologies see each user's
 * events in order, and the evaluation topology's start timeout (2 minutes of event time after MissionCompleted)
 * measures from when the mission really completed: the evaluator stamps its events with its own clock.
 */
import { randomUUID } from 'node:crypto'

export interface DemoUser { readonly userId: number, readonly email: string, readonly plan: 'FREE' | 'BASIC' | 'PRO' }

/** Three users on the three plans; user ids are new on every run, so a second demo on the same broker starts fresh accounts. */
export function demoUsers (runNumber: number): DemoUser[] {
  const base = 1_000_000 + (runNumber % 100_000_000) * 10
  return [
    { userId: base + 1, email: `ada+${runNumber}@devtrip.dev`, plan: 'PRO' },
    { userId: base + 2, email: `grace+${runNumber}@devtrip.dev`, plan: 'BASIC' },
    { userId: base + 3, email: `linus+${runNumber}@devtrip.dev`, plan: 'FREE' }
  ]
}

export const DEMO_MISSIONS_PER_USER = 3

const SOLUTIONS: ReadonlyArray<{ title: string, code: string }> = [
  { title: 'Sum of an array', code: 'export function sum (values) {\n  return values.reduce((total, v) => total + v, 0)\n}\n' },
  { title: 'FizzBuzz', code: 'var out = []\nfor (var i = 1; i <= 15; i++) { if (i % 15 == 0) out.push("FizzBuzz"); else if (i % 3 == 0) out.push("Fizz"); else out.push(i) }\nconsole.log(out)\n' },
  { title: 'Broken parser', code: 'function parse (text {\n  return JSON.parse(text)\n' }
]

/** Events per producing service (the API checks each token's topic scope), in the order they happened. */
export function demoWorkload (users: readonly DemoUser[], runId: string, now: number = Date.now()): Array<{ service: string, event: Record<string, unknown> }> {
  const out: Array<{ service: string, event: Record<string, unknown> }> = []
  users.forEach((user, u) => {
    let t = now + u * 1000
    const at = (): number => (t += 10)
    const base = (eventType: string): Record<string, unknown> => ({ eventId: randomUUID(), eventType, timestamp: at(), userId: user.userId })
    out.push({ service: 'auth-service', event: { ...base('UserSignedUp'), authUserId: `auth_${user.userId}`, email: user.email, ipAddress: '127.0.0.1' } })
    out.push({ service: 'auth-service', event: { ...base('UserLoggedIn'), email: user.email, ipAddress: '127.0.0.1', userAgent: 'devtrip-demo' } })
    if (user.plan !== 'FREE') {
      out.push({ service: 'payment-service', event: { ...base('PaymentCompleted'), paymentId: `pay_${runId}_${user.userId}`, amount: user.plan === 'PRO' ? 49000 : 29000, planType: user.plan } })
      out.push({ service: 'payment-service', event: { ...base('PlanUpgraded'), fromPlan: 'FREE', toPlan: user.plan } })
    }
    SOLUTIONS.forEach((solution, m) => {
      const missionId = `mission_${m + 1}`
      out.push({ service: 'mission-service', event: { ...base('MissionStarted'), missionId } })
      out.push({
        service: 'mission-service',
        event: {
          ...base('MissionCompleted'), missionId, missionAttemptId: `attempt_${runId}_${user.userId}_${m + 1}`,
          missionTitle: solution.title, code: solution.code, language: 'javascript', executionTime: 1200 + m * 100
        }
      })
    })
  })
  return out
}

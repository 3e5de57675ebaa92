/**
 * The submitted code of each mission attempt, kept in Redis so that a retry (which carries only ids) can
 * evaluate the same code again.
 *
 * Key   `<keyPrefix>:evaluator:submission:<encodeURIComponent(missionAttemptId)>`
 * Value JSON of StoredSubmission (below), written with SET … NX PX <retentionMs>: the FIRST MissionCompleted of
 *       an attempt wins (the evaluation topology ignores a second one too), and the key lives as long as the
 *       jobs do, so every retry the topology can still ask for finds its code.
 */
import type { Redis } from 'ioredis'
import { DevtripError, type EventByType, type Id } from '../events'

export interface StoredSubmission {
  readonly missionAttemptId: Id
  readonly userId: Id
  readonly missionId: Id
  readonly code: string
  readonly language: string | null
  readonly missionTitle: string | null
  readonly email: string | null
  readonly completedAt: number
  /** the MissionCompleted event the code came from */
  readonly eventId: string
}

export function submissionFromEvent (event: EventByType['MissionCompleted']): StoredSubmission {
  return {
    missionAttemptId: event.missionAttemptId,
    userId: event.userId,
    missionId: event.missionId,
    code: event.code,
    language: event.language ?? null,
    missionTitle: event.missionTitle ?? null,
    email: event.email ?? null,
    completedAt: event.completedAt ?? event.timestamp,
    eventId: event.eventId
  }
}

export class SubmissionStore {
  constructor (
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly retentionMs: number
  ) {}

  key (missionAttemptId: Id): string {
    return `${this.keyPrefix}:evaluator:submission:${encodeURIComponent(String(missionAttemptId))}`
  }

  /** Stores each submission unless its attempt already has one; resolves once Redis acknowledged every write. */
  async saveAll (submissions: readonly StoredSubmission[]): Promise<void> {
    if (submissions.length === 0) return
    const pipeline = this.redis.pipeline()
    for (const s of submissions) pipeline.set(this.key(s.missionAttemptId), JSON.stringify(s), 'PX', this.retentionMs, 'NX')
    const results = await pipeline.exec()
    const failed = (results ?? []).find(([error]) => error !== null)
    if (results === null || failed !== undefined) {
      throw new DevtripError('DEVTRIP_PROCESSING', `could not store ${submissions.length} submission(s) in Redis: ${failed?.[0]?.message ?? 'the pipeline was discarded'}`, {
        cause: failed?.[0], canRetry: true
      })
    }
  }

  /** The stored submission, or null when none is stored (never seen, or older than the retention). */
  async load (missionAttemptId: Id): Promise<StoredSubmission | null> {
    const text = await this.redis.get(this.key(missionAttemptId))
    if (text === null) return null
    try {
      return JSON.parse(text) as StoredSubmission
    } catch (error) {
      throw new DevtripError('DEVTRIP_PROCESSING', `the stored submission of attempt ${String(missionAttemptId)} is not JSON`, { cause: error })
    }
  }
}

/**
 * The verifier's own implementation of the deterministic output ids of docs/topologies.md ("Output ids and
 * replay"): every pipeline output's eventId is a name-based UUID (RFC 9562 §5.5, version 5) of what caused it.
 * Written independently of processors/ on purpose: if the pipeline's derivation changed, or stopped being a pure
 * function of the cause, the verifier would find outputs under ids it does not expect.
 *
 * Layout: SHA-1 over the 16 namespace bytes followed by the UTF-8 bytes of the name, where
 *   namespace = a3a1c2f0-5d7e-4c59-9a3e-64d0c0b7e911 (the pipeline's output namespace)
 *   name      = the JSON text of the array of parts, e.g. ["<cause eventId>","TicketDeducted"] or
 *               ["attempt-7","EvaluationRetryRequested",1]
 * The first 16 of the 20 digest bytes are kept; byte 6's high nibble becomes 0101 (version 5) and byte 8's two high
 * bits become 10 (the RFC variant); printed as 8-4-4-4-12 lower-case hex.
 */
import { createHash } from 'node:crypto'

const NAMESPACE = Buffer.from('a3a1c2f05d7e4c599a3e64d0c0b7e911', 'hex')

export function outputId (...parts: Array<string | number>): string {
  const bytes = createHash('sha1').update(NAMESPACE).update(JSON.stringify(parts), 'utf8').digest().subarray(0, 16)
  bytes[6] = 0x50 | (bytes[6]! & 0x0f)
  bytes[8] = 0x80 | (bytes[8]! & 0x3f)
  const hex = bytes.toString('hex')
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-')
}

/** The evaluationId the evaluation topology names for run `run` of an attempt when it requests a retry. */
export function namedEvaluationId (missionAttemptId: string | number, run: number): string {
  return outputId(String(missionAttemptId), 'evaluation', run)
}

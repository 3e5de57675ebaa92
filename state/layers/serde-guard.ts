/**
 * Serdes applied at the top of a store, with failures reported as DEVTRIP_SERDE naming the store and the
 * serde, whatever the (possibly user-written) serde threw. A serializer must return a Buffer: anything else
 * would be stored as garbage or crash the engine.
 */
import { DevtripError } from '../../events/errors'
import type { Serde } from '../serdes'

export class SerdeGuard<T> {
  constructor (
    private readonly store: string,
    private readonly role: 'key' | 'value',
    readonly serde: Serde<T>
  ) {}

  serialize (value: T): Buffer {
    let out: unknown
    try {
      out = this.serde.serialize(value)
    } catch (error) {
      throw this.failure('serialize', error)
    }
    if (!Buffer.isBuffer(out)) throw this.failure('serialize', new TypeError(`the serializer returned ${out === null ? 'null' : typeof out}, not a Buffer`))
    return out
  }

  deserialize (data: Buffer): T {
    let out: T
    try {
      out = this.serde.deserialize(data)
    } catch (error) {
      throw this.failure('deserialize', error)
    }
    if (out === null || out === undefined) throw this.failure('deserialize', new TypeError(`the deserializer returned ${String(out)}; null is a tombstone, not a value`))
    return out
  }

  private failure (action: string, cause: unknown): DevtripError {
    const reason = cause instanceof Error ? cause.message : String(cause)
    return new DevtripError('DEVTRIP_SERDE', `state store "${this.store}": cannot ${action} the ${this.role} with serde "${this.serde.name}": ${reason}`, {
      cause,
      details: { store: this.store, role: this.role, serde: this.serde.name }
    })
  }
}

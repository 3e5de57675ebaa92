/**
 * The port's producer life cycle, for adapters whose library keeps no usable state of its own about it
 * (@platformatic/kafka and kafkajs both initialize lazily and accept calls in any order): which calls are allowed
 * when, the errors for the others, and "once fenced, always fenced".
 *
 *   uninitialized ──initTransactions──▶ ready ──beginTransaction──▶ in-transaction ──commit/abort──▶ ready
 *   (a non-transactional producer starts in `ready`; any call that fails with DEVTRIP_KAFKA_FENCED → fenced;
 *    close → closed)
 *
 * Every call runs through `serialized`: one at a time, in call order, whatever the earlier ones did. The libraries
 * assign sequence numbers and register transaction partitions assuming one request at a time, and the port promises
 * that a call made after another sees its effects.
 */
import { DevtripError } from '../../../events/errors'

export type ProducerState = 'uninitialized' | 'ready' | 'in-transaction' | 'fenced' | 'closed'

export class ProducerStateMachine {
  /** The adapter sets it to 'closed' in close() and moves it through a transaction; fencing is set here. */
  state: ProducerState
  private queue: Promise<unknown> = Promise.resolve()

  constructor (
    readonly transactionalId: string | null,
    /** the adapter's library-error translation: what a failed call throws */
    private readonly translateError: (error: unknown, operation: string) => DevtripError
  ) {
    this.state = transactionalId === null ? 'ready' : 'uninitialized'
  }

  /** Runs `work` after every call queued before it; its failure is translated and fences the producer if it says so. */
  serialized<T> (operation: string, work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work).catch((error: unknown) => {
      const translated = this.translateError(error, operation)
      if (translated.code === 'DEVTRIP_KAFKA_FENCED') this.state = 'fenced'
      throw translated
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Resolves once every call queued so far has ended, whatever its outcome (close() waits for them). */
  async drained (): Promise<void> {
    await this.queue.catch(() => undefined)
  }

  /** `send`: a transactional producer sends only inside a transaction. */
  checkSend (operation: string): void {
    this.assertUsable(operation)
    if (this.transactionalId !== null && this.state !== 'in-transaction') {
      throw this.stateError(operation, 'a transactional producer can only send inside a transaction: call beginTransaction() first')
    }
  }

  checkInitTransactions (operation: string): void {
    this.assertTransactional(operation)
    this.assertUsable(operation)
    if (this.state !== 'uninitialized') throw this.stateError(operation, 'transactions are already initialized')
  }

  checkBeginTransaction (operation: string): void {
    this.assertTransactional(operation)
    this.assertUsable(operation)
    if (this.state === 'uninitialized') throw this.stateError(operation, 'call initTransactions() first')
    if (this.state === 'in-transaction') throw this.stateError(operation, 'a transaction is already open')
  }

  /**
   * For the calls that need an open transaction (sendOffsetsToTransaction, commit, abort): returns the adapter's
   * library transaction object, which exists exactly while the state is 'in-transaction'.
   */
  openTransaction<T> (operation: string, transaction: T | undefined): T {
    this.assertTransactional(operation)
    this.assertUsable(operation)
    if (this.state !== 'in-transaction' || transaction === undefined) throw this.stateError(operation, 'no transaction is open')
    return transaction
  }

  private assertUsable (operation: string): void {
    if (this.state === 'closed') throw new DevtripError('DEVTRIP_CLOSED', `${operation}: the producer is closed`)
    if (this.state === 'fenced') {
      throw new DevtripError('DEVTRIP_KAFKA_FENCED', `${operation}: the producer was fenced by a newer one with transactional id "${this.transactionalId}"; close it and create a new one`)
    }
  }

  private assertTransactional (operation: string): void {
    if (this.transactionalId === null) throw this.stateError(operation, 'the producer is not transactional (create it with a transactionalId)')
  }

  private stateError (operation: string, problem: string): DevtripError {
    return new DevtripError('DEVTRIP_INVALID_OPTIONS', `${operation}: ${problem}`, { details: { operation, state: this.state } })
  }
}

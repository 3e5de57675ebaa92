/**
 * The live processor graph of one task and the ProcessorContext its processors share.
 *
 * One context object serves every node of the task; it tracks the node that is running (`currentNode`) so that
 * forward() reaches that node's children and getStateStore() checks that node's store connections. forward() runs
 * children depth first and synchronously, as Kafka Streams does, and catches a child's exception right there: the
 * processing-exception handler is told which node failed, and on `continue`/`dlq` the siblings still run.
 */
import { DevtripError } from '../../../events/errors'
import type { StateStore } from '../../../state/base/types'
import type { Deserializer, Serializer } from '../../../state/serdes'
import { partitionForKey, type StreamPartitioner } from '../../partitioner'
import type { Cancellable, Processor, ProcessorContext, PunctuationType, Punctuator } from '../../processor'
import type { Record, RecordMetadata } from '../../record'
import type { ProducedRecord } from '../../record-collector'

/** Thrown once a handler decided `fail`; nodes upstream let it pass instead of handling it again. */
export class TaskFailure extends DevtripError {}

/** What the nodes and the context need from their task. */
export interface TaskServices {
  readonly applicationId: string
  readonly taskId: string
  /** handles a processor's exception per the processing handler; throws TaskFailure on `fail` */
  onProcessingError (node: RuntimeNode, error: unknown): void
  /** handles a sink's serialization failure per the production handler; throws TaskFailure on `fail` */
  onProductionError (node: RuntimeNode, error: unknown): void
  onSkippedRecord (node: RuntimeNode, reason: string): void
  send (record: ProducedRecord): void
  partitionsFor (topic: string): number
  schedule (nodeName: string, intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable
  streamTimeMs (): number
  systemTimeMs (): number
  store (name: string): StateStore | undefined
}

/** The context as DSL processors see it: the public one plus reporting of records they drop on purpose. */
export interface InternalProcessorContext<KForward = unknown, VForward = unknown> extends ProcessorContext<KForward, VForward> {
  /** counts and reports a record dropped on purpose (a null key before an aggregation, a record after grace ...) */
  recordSkipped (reason: string): void
  /** the timestamp of the record at the current node (what store changelog records are stamped with) */
  readonly currentTimestamp: number
}

export abstract class RuntimeNode {
  readonly children: RuntimeNode[] = []
  readonly childByName = new Map<string, RuntimeNode>()
  constructor (readonly name: string) {}
  abstract process (record: Record<unknown, unknown>): void

  addChild (child: RuntimeNode): void {
    this.children.push(child)
    this.childByName.set(child.name, child)
  }
}

export class SourceNode extends RuntimeNode {
  constructor (name: string, readonly context: TaskContext,
    readonly keyDeserializer: Deserializer<unknown> | undefined, readonly valueDeserializer: Deserializer<unknown> | undefined) {
    super(name)
  }

  process (record: Record<unknown, unknown>): void {
    this.context.forward(record)
  }
}

export class ProcessorNode extends RuntimeNode {
  constructor (name: string, readonly processor: Processor<unknown, unknown, unknown, unknown>, readonly stores: ReadonlySet<string>) {
    super(name)
  }

  process (record: Record<unknown, unknown>): void {
    this.processor.process(record)
  }
}

export class SinkNode extends RuntimeNode {
  constructor (name: string, readonly topic: string, private readonly services: TaskServices,
    private readonly keySerializer: Serializer<unknown> | undefined, private readonly valueSerializer: Serializer<unknown> | undefined,
    private readonly partitioner: StreamPartitioner<unknown, unknown> | undefined) {
    super(name)
  }

  process (record: Record<unknown, unknown>): void {
    let key: Buffer | null
    let value: Buffer | null
    try {
      key = this.serialize(record.key, this.keySerializer, 'key')
      value = this.serialize(record.value, this.valueSerializer, 'value')
    } catch (error) {
      this.services.onProductionError(this, error)
      return
    }
    let partition: number | undefined
    if (this.partitioner !== undefined) {
      partition = this.partitioner(this.topic, record.key, record.value, this.services.partitionsFor(this.topic))
    }
    if (partition === undefined && key !== null) partition = partitionForKey(key, this.services.partitionsFor(this.topic))
    this.services.send({ topic: this.topic, partition, key, value, timestamp: record.timestamp, headers: record.headers })
  }

  private serialize (data: unknown, serializer: Serializer<unknown> | undefined, what: string): Buffer | null {
    if (data === null || data === undefined) return null
    if (serializer !== undefined) return serializer.serialize(data)
    if (Buffer.isBuffer(data)) return data
    throw new DevtripError('DEVTRIP_SERDE', `sink "${this.name}" has no ${what} serializer and the ${what} is not a Buffer (give Produced.with(...) serdes)`,
      { details: { sink: this.name, topic: this.topic } })
  }
}

export class TaskContext implements InternalProcessorContext {
  currentNode: RuntimeNode
  currentTimestamp = 0
  /** the source record being processed; undefined inside punctuators */
  metadata: RecordMetadata | undefined

  constructor (private readonly services: TaskServices, root: RuntimeNode) {
    this.currentNode = root
  }

  get applicationId (): string {
    return this.services.applicationId
  }

  get taskId (): string {
    return this.services.taskId
  }

  forward<K, V> (record: Record<K, V>, childName?: string): void {
    const node = this.currentNode
    if (childName !== undefined) {
      const child = node.childByName.get(childName)
      if (child === undefined) {
        throw new DevtripError('DEVTRIP_TOPOLOGY', `"${node.name}" forwarded to "${childName}", which is not one of its children (${[...node.childByName.keys()].join(', ')})`)
      }
      this.run(child, record as Record<unknown, unknown>)
      return
    }
    const children = node.children
    for (let i = 0; i < children.length; i++) this.run(children[i] as RuntimeNode, record as Record<unknown, unknown>)
  }

  /** Runs one node with it as the current node; its exception goes to the handler (or up, once handled as fail). */
  run (node: RuntimeNode, record: Record<unknown, unknown>): void {
    const previousNode = this.currentNode
    const previousTimestamp = this.currentTimestamp
    this.currentNode = node
    this.currentTimestamp = record.timestamp
    try {
      node.process(record)
    } catch (error) {
      if (error instanceof TaskFailure) throw error
      this.services.onProcessingError(node, error)
    } finally {
      this.currentNode = previousNode
      this.currentTimestamp = previousTimestamp
    }
  }

  getStateStore<S extends StateStore> (name: string): S {
    const node = this.currentNode
    if (!(node instanceof ProcessorNode) || !node.stores.has(name)) {
      throw new DevtripError('DEVTRIP_TOPOLOGY', `processor "${node.name}" is not connected to store "${name}" (connect it with addStateStore(builder, "${node.name}") or pass the store name to process())`,
        { details: { processor: node.name, store: name } })
    }
    const store = this.services.store(name)
    if (store === undefined) throw new DevtripError('DEVTRIP_STORE_NOT_OPEN', `store "${name}" is not initialized in task ${this.taskId}`)
    return store as S
  }

  schedule (intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `punctuation interval must be a positive integer of milliseconds, got ${String(intervalMs)}`)
    if (type !== 'stream-time' && type !== 'wall-clock') throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `punctuation type must be 'stream-time' or 'wall-clock', got ${String(type)}`)
    if (typeof punctuator !== 'function') throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'schedule() needs a punctuator function')
    return this.services.schedule(this.currentNode.name, intervalMs, type, punctuator)
  }

  recordMetadata (): RecordMetadata | undefined {
    return this.metadata
  }

  currentStreamTimeMs (): number {
    return this.services.streamTimeMs()
  }

  currentSystemTimeMs (): number {
    return this.services.systemTimeMs()
  }

  recordSkipped (reason: string): void {
    this.services.onSkippedRecord(this.currentNode, reason)
  }
}

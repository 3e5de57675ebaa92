/**
 * Serdes turn typed keys and values into the bytes that Kafka and the stores keep.
 * `null` on the wire is a tombstone, so serializers never receive null and deserializers never return it.
 */
export interface Serializer<T> {
  serialize (value: T): Buffer
}
export interface Deserializer<T> {
  deserialize (data: Buffer): T
}
export interface Serde<T> extends Serializer<T>, Deserializer<T> {
  /** a short name for errors and metrics, e.g. 'string', 'json', 'int64' */
  readonly name: string
}

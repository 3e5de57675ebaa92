/**
 * Local infrastructure for development, tests and benchmarks: a real Apache Kafka broker (KRaft,
 * single node) and a throw-away redis-server. The CLI (`devtrip-streams infra`), the jest global
 * setup and the chaos tests / benchmarks all go through these exports.
 */
export { startInfra, stopInfra, infraStatus, type InfraInfo, type ServiceStatus, type StopInfraResult } from './infra'
export {
  startKafka, stopKafka, restartKafka, readKafkaBroker, isKafkaRunning,
  type KafkaBroker, type StopKafkaResult, type RestartKafkaOptions
} from './kafka-broker'
export { startRedis, stopRedis, readRedisServer, isRedisRunning, ensureRedisServer, type RedisServer } from './redis-server'
export { ensureKafkaJars, kafkaClasspath, kafkaLibsDir, kafkaLog4jConfig, javaExecutable, KAFKA_VERSION } from './kafka-jars'
export { kafkaHealth, redisHealth, splitBrokers, type HealthResult, type KafkaHealth } from './health'
export { infraLocalDir, infraPaths, LOCAL_DIR_ENV, type InfraPaths } from './local-dir'
export { readInfraState, parseEnvFile, type InfraState, type RecordedService } from './infra-files'
export { serverProperties, generateClusterId } from './kafka-config'
export { freePorts } from './ports'
export type {
  ProgressFn, StartKafkaInput, StartRedisInput, StartInfraInput, StopInfraInput, StopServiceInput
} from './options'

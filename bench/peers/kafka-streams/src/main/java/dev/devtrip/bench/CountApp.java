package dev.devtrip.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The Kafka Streams side of `devtrip-streams bench all`: the benchmark's topology written the way a Kafka Streams
 * user writes it with the DSL.
 *
 *   stream(input, String key, JSON value) → groupByKey → count(persistent RocksDB store, change-logged, record
 *   cache OFF) → toStream → to(output, String, Long as 8 bytes big-endian)
 *
 * The record cache is off because the benchmark's contract is one output per input (the cache would fold several
 * updates of a key into one output and one changelog write per commit interval, which the other systems do not do).
 * exactly_once_v2, commit.interval.ms from the arguments, one stream thread (the other systems run one loop too).
 *
 * Arguments: --bootstrap B --application-id A --input I --output O --state-dir D --store S
 *            --commit-interval-ms N --session-timeout-ms N
 *
 * Protocol: one JSON object per line on stdout, nothing else there (the library's logging goes to stderr):
 *   {"event":"state","state":"RUNNING","atMs":…}                 every state change
 *   {"event":"restored","store":S,"partition":P,"records":N,"startOffset":…,"endOffset":…,"atMs":…}  per restored store partition
 *   {"event":"closed","atMs":…}                                  after a clean close (SIGTERM)
 *   {"event":"error","message":…}                               on an uncaught exception (then the process exits 1)
 */
public final class CountApp {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final PrintStream OUT = System.out;

    private CountApp() {
    }

    private static synchronized void emit(Map<String, Object> fields) {
        fields.put("atMs", System.currentTimeMillis());
        try {
            OUT.println(JSON.writeValueAsString(fields));
            OUT.flush();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> event(String name) {
        Map<String, Object> m = new HashMap<>();
        m.put("event", name);
        return m;
    }

    /** Parses every input value (the other systems parse theirs too); the count does not read it. */
    private static Serde<JsonNode> jsonSerde() {
        Deserializer<JsonNode> deserializer = (topic, data) -> {
            if (data == null) {
                return null;
            }
            try {
                return JSON.readTree(data);
            } catch (IOException e) {
                throw new IllegalArgumentException("input value is not JSON", e);
            }
        };
        Serializer<JsonNode> serializer = (topic, node) -> node == null ? null : node.toString().getBytes(StandardCharsets.UTF_8);
        return Serdes.serdeFrom(serializer, deserializer);
    }

    static Topology topology(String input, String output, String store) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), jsonSerde()))
            .groupByKey()
            .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as(store).withCachingDisabled())
            .toStream()
            .to(output, Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build();
    }

    private static Map<String, String> parseArgs(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got " + String.join(" ", args));
            }
            out.put(args[i].substring(2), args[i + 1]);
        }
        for (String required : new String[] {"bootstrap", "application-id", "input", "output", "state-dir", "store",
            "commit-interval-ms", "session-timeout-ms"}) {
            if (!out.containsKey(required)) {
                throw new IllegalArgumentException("missing --" + required);
            }
        }
        return out;
    }

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> a = parseArgs(args);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, a.get("application-id"));
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Integer.parseInt(a.get("commit-interval-ms")));
        props.put(StreamsConfig.STATE_DIR_CONFIG, a.get("state-dir"));
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), Integer.parseInt(a.get("session-timeout-ms")));
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

        KafkaStreams streams = new KafkaStreams(topology(a.get("input"), a.get("output"), a.get("store")), props);
        streams.setStateListener((next, previous) -> {
            Map<String, Object> m = event("state");
            m.put("state", next.name());
            emit(m);
        });
        streams.setGlobalStateRestoreListener(new StateRestoreListener() {
            private final Map<TopicPartition, Long> starts = new HashMap<>();
            private final Map<TopicPartition, Long> ends = new HashMap<>();

            @Override
            public synchronized void onRestoreStart(TopicPartition tp, String store, long startOffset, long endOffset) {
                starts.put(tp, startOffset);
                ends.put(tp, endOffset);
            }

            @Override
            public void onBatchRestored(TopicPartition tp, String store, long batchEndOffset, long numRestored) {
            }

            @Override
            public synchronized void onRestoreEnd(TopicPartition tp, String store, long totalRestored) {
                Map<String, Object> m = event("restored");
                m.put("store", store);
                m.put("partition", tp.partition());
                m.put("records", totalRestored);
                m.put("startOffset", starts.get(tp));
                m.put("endOffset", ends.get(tp));
                emit(m);
            }
        });
        streams.setUncaughtExceptionHandler(error -> {
            Map<String, Object> m = event("error");
            m.put("message", String.valueOf(error));
            emit(m);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });

        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(30));
            emit(event("closed"));
            done.countDown();
        }, "bench-shutdown"));
        streams.start();
        done.await();
    }
}

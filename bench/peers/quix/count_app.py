"""
The Quix Streams side of `devtrip-streams bench all`: the benchmark's topology written the way a Quix Streams user
writes it.

    input (str key, JSON value) -> stateful apply: per-key count in the RocksDB State (store "default",
    change-logged)
    -> to_topic(output, str key, count as 8 bytes big-endian)

exactly-once, commit_interval from the arguments; one output per input. Quix forwards each input's headers and
timestamp to its output, which is how the benchmark finds each record's intended send time on the output side.

Arguments: --bootstrap B --application-id A --input I --output O --state-dir D
           --commit-interval-ms N --session-timeout-ms N

Protocol: one JSON object per line on stdout, nothing else there (Quix logs to stderr):
    {"event":"state","state":"STARTING","atMs":...}     just before the app starts (Quix has no state callback)
    {"event":"restored","records":N,"atMs":...}        after each recovery (changelog records applied or skipped)
    {"event":"closed","atMs":...}                      after a clean stop (SIGTERM)
    {"event":"error","message":...}                    on a failure (then the process exits 1)
"""
import argparse
import json
import struct
import sys
import time

from quixstreams import Application
from quixstreams.models.serializers import Serializer
from quixstreams.state.recovery import RecoveryManager, RecoveryPartition


def emit(event: str, **fields) -> None:
    fields.update({"event": event, "atMs": int(time.time() * 1000)})
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Int64Serializer(Serializer):
    """The count as a signed 64-bit big-endian integer, the same bytes Kafka Streams' LongSerializer writes."""

    def __call__(self, value, ctx) -> bytes:
        return struct.pack(">q", value)


# Quix reports recovery only in its logs, so count the changelog records its recovery reads by wrapping the one
# method every such record goes through, and report the total when a recovery pass ends.
_restored = {"records": 0}
_recover_one = RecoveryPartition.recover_from_changelog_message
_do_recovery = RecoveryManager.do_recovery


def _counting_recover(self, changelog_message):
    _restored["records"] += 1
    return _recover_one(self, changelog_message)


def _reporting_do_recovery(self):
    before = _restored["records"]
    result = _do_recovery(self)
    emit("restored", records=_restored["records"] - before)
    return result


RecoveryPartition.recover_from_changelog_message = _counting_recover
RecoveryManager.do_recovery = _reporting_do_recovery


def count(value, state):
    n = state.get("count", 0) + 1
    state.set("count", n)
    return n


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("bootstrap", "application-id", "input", "output", "state-dir"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--commit-interval-ms", type=int, required=True)
    parser.add_argument("--session-timeout-ms", type=int, required=True)
    args = parser.parse_args()

    app = Application(
        broker_address=args.bootstrap,
        consumer_group=args.application_id,
        auto_offset_reset="earliest",
        processing_guarantee="exactly-once",
        commit_interval=args.commit_interval_ms / 1000,
        state_dir=args.state_dir,
        consumer_extra_config={"session.timeout.ms": args.session_timeout_ms},
        loglevel="WARNING",
    )
    source = app.topic(args.input, key_deserializer="str", value_deserializer="json")
    sink = app.topic(args.output, key_serializer="str", value_serializer=Int64Serializer())
    sdf = app.dataframe(source)
    sdf = sdf.apply(count, stateful=True)
    sdf.to_topic(sink)
    emit("state", state="STARTING")
    try:
        app.run()
    except Exception as error:  # noqa: BLE001 - reported to the benchmark, which fails the run
        emit("error", message=repr(error))
        return 1
    emit("closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Builds the optional librdkafka binding (@confluentinc/kafka-javascript) for the "rdkafka" Kafka adapter.
#
# Why a separate step: the binding is native and has no prebuilt binary we can download here (node-pre-gyp's
# download host is unreachable), so it is compiled from the registry package, librdkafka included, which takes
# about a minute and a half on two cores. `npm install` stays fast and never needs a compiler; only this script does.
#
# Where it goes: .local/rdkafka/ (its own package.json), not the project's node_modules, so a later
# `npm install <pkg>` of the project cannot prune it; streams/kafka/rdkafka/library.ts looks there.
# CKJS_LINKING=dynamic makes the package build its bundled librdkafka as a shared library linked against
# Debian's OpenSSL, zlib and zstd (the static mode wants to download OpenSSL's sources, which fails here).
# Idempotent: an existing build of the same version is kept (FORCE=1 rebuilds).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.10.1
DIR=.local/rdkafka
BINDING="$DIR/node_modules/@confluentinc/kafka-javascript"

if [ "${FORCE:-0}" != 1 ] && [ -f "$BINDING/build/Release/confluent-kafka-javascript.node" ] \
  && node -e "process.exit(require('./$BINDING/package.json').version === '$VERSION' ? 0 : 1)" 2>/dev/null; then
  echo "setup:rdkafka: @confluentinc/kafka-javascript $VERSION already built in $DIR"
  exit 0
fi

# compiler, headers of the libraries librdkafka links against, python for node-gyp
need_apt=()
for pkg in build-essential python3 pkg-config libssl-dev zlib1g-dev libzstd-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup:rdkafka: installing Debian packages: ${need_apt[*]}" >&2
    (apt-get install -y -qq "${need_apt[@]}" >/dev/null 2>&1) || { apt-get update -qq >/dev/null && apt-get install -y -qq "${need_apt[@]}" >/dev/null; }
  else
    echo "setup:rdkafka: missing Debian packages ${need_apt[*]}; run: sudo apt-get install -y ${need_apt[*]} (then rerun)" >&2
    exit 1
  fi
fi

mkdir -p "$DIR"
# npm >= 11.18 runs a dependency's install script only when package.json allows it
cat > "$DIR/package.json" <<JSON
{
  "name": "devtrip-rdkafka-binding",
  "private": true,
  "description": "the optional native Kafka binding of the rdkafka adapter, built by scripts/setup-rdkafka.sh",
  "dependencies": { "@confluentinc/kafka-javascript": "$VERSION" },
  "allowScripts": { "@confluentinc/kafka-javascript": true }
}
JSON
echo "setup:rdkafka: building @confluentinc/kafka-javascript $VERSION with librdkafka (about 1.5 min on 2 cores)"
start=$(date +%s)
log="$DIR/build.log"
if ! (cd "$DIR" && CKJS_LINKING=dynamic npm install --no-audit --no-fund --no-package-lock --foreground-scripts >build.log 2>&1) \
  || [ ! -f "$BINDING/build/Release/confluent-kafka-javascript.node" ]; then
  tail -n 30 "$log" >&2
  echo "setup:rdkafka: the build failed (full log: $log)" >&2
  exit 1
fi
node -e "const k = require('./$BINDING'); console.log('setup:rdkafka: built with librdkafka ' + k.librdkafkaVersion + ' (' + k.features.join(',') + ') in $(( $(date +%s) - start )) s')"

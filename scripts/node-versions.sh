#!/usr/bin/env bash
# The code must also run on Node 22 and 24 (only one Node is installed here): fetch each from the npm
# registry (the `node` package ships the official binaries) and run the quick start, the command surface,
# the native addons (the runner's spawn, the digests from node's own OpenSSL, the journald copy,
# SO_PEERCRED), the pseudo-terminal path, the placeholder relay (its upstream reads use tls.connect's
# `onread`) and the preload that routes node children's fetch and https agents through the proxy under it.
# The addons are N-API, so the build made with the installed Node must load unchanged; native/digest also
# needs that Node to export its OpenSSL.
set -euo pipefail
cd "$(dirname "$0")/.."
for v in 22 24; do
  bin=$(npm exec --yes --package="node@$v" -- node -e 'process.stdout.write(process.execPath)')
  echo "node-versions: $("$bin" --version)"
  PATH="$(dirname "$bin"):$PATH" node node_modules/vitest/vitest.mjs run \
    test/e2e/readme.test.ts test/e2e/commands.test.ts test/audit/journal.test.ts test/system/peer.test.ts test/run/exec-pty.test.ts test/runner/native-spawn.test.ts \
    test/core/digest.test.ts test/boot/exec-modules.test.ts test/placeholder/relay.test.ts test/placeholder/pooled-writer.test.ts test/placeholder/exec-e2e.test.ts \
    test/placeholder/sdk-e2e.test.ts test/placeholder/node-proxy.test.ts
done

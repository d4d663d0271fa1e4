#!/usr/bin/env bash
# The code must also run on Node 22 and 24 (only one Node is installed here): fetch each from the npm
# registry (the `node` package ships the official binaries) and run the whole suite under it, as root (CI).
# The copy goes to /opt/outloop-node-<major>/bin, as an installed node would be: the daemon's own user
# can run it there, and the sandbox, which binds the folder a child's node lives in, shows nothing of
# /root (from the npm cache in /root, system mode and the sandbox's tests fail for that alone). Not
# root: a subset that needs neither (the quick start, the command surface, the native addons, the
# pseudo-terminal path, the placeholder relay and node children's proxy preload). The addons are N-API, so
# the build made with the installed Node must load unchanged; native/digest also needs that Node to export
# its OpenSSL.
set -euo pipefail
cd "$(dirname "$0")/.."
for v in 22 24; do
  bin=$(npm exec --yes --package="node@$v" -- node -e 'process.stdout.write(process.execPath)')
  if [ "$(id -u)" = 0 ]; then
    dir=/opt/outloop-node-$v/bin
    install -D -m 755 "$bin" "$dir/node"
    echo "node-versions: $("$dir/node" --version), the whole suite"
    PATH="$dir:$PATH" node node_modules/vitest/vitest.mjs run
  else
    echo "node-versions: $("$bin" --version), a subset (not root)"
    PATH="$(dirname "$bin"):$PATH" node node_modules/vitest/vitest.mjs run \
      test/e2e/readme.test.ts test/e2e/commands.test.ts test/audit/journal.test.ts test/system/peer.test.ts test/run/exec-pty.test.ts \
      test/runner/native-spawn.test.ts test/core/digest.test.ts test/boot/exec-modules.test.ts test/placeholder/relay.test.ts \
      test/placeholder/pooled-writer.test.ts test/placeholder/exec-e2e.test.ts test/placeholder/sdk-e2e.test.ts test/placeholder/node-proxy.test.ts
  fi
done

#!/bin/sh
# Run a command inside a throwaway D-Bus session that has a Secret Service (gnome-keyring) with an unlocked
# default collection, so keychain code paths can run headless: tests, CI, containers.
#
#   scripts/with-keyring.sh npx vitest run test/store
#
# Needs: dbus (dbus-run-session, dbus-send), gnome-keyring. libsecret-tools (secret-tool) for the tests' probe.
# The keyring lives in a fresh temporary folder, created with and unlocked by a throwaway password, so the
# user's own login keyring is never opened, unlocked or written; it is deleted when the command ends.
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 64
fi
for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "with-keyring.sh: $tool not found; install with: apt-get install -y dbus gnome-keyring libsecret-tools" >&2
    exit 69
  fi
done

exec dbus-run-session -- sh -c '
  set -eu
  dir=$(mktemp -d "${TMPDIR:-/tmp}/outloop-keyring.XXXXXX")
  pid=
  cleanup() {
    # Stop the daemon before deleting its folder, or it may write a keyring back into it on the way out.
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      n=0
      while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    fi
    rm -rf "$dir"
  }
  trap cleanup EXIT
  trap "exit 130" INT
  trap "exit 143" TERM

  # --unlock with no login keyring present creates one with this password and makes it the default
  # collection, which is where the keyring library puts new items.
  printf %s outloop-throwaway |
    XDG_DATA_HOME="$dir" XDG_RUNTIME_DIR="$dir" gnome-keyring-daemon --unlock --components=secrets >/dev/null

  bus() {
    dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus "org.freedesktop.DBus.$1" "string:org.freedesktop.secrets" 2>/dev/null
  }
  # The daemon forks before claiming its bus name; a client arriving first would trigger D-Bus activation
  # of a second, unconfigured daemon instead.
  n=0
  until bus NameHasOwner | grep -q true; do
    n=$((n + 1))
    if [ "$n" -ge 100 ]; then
      echo "with-keyring.sh: gnome-keyring-daemon did not appear on the session bus" >&2
      exit 69
    fi
    sleep 0.1
  done
  pid=$(bus GetConnectionUnixProcessID | awk "{print \$NF}")

  set +e
  "$@"
  status=$?
  set -e
  exit "$status"
' with-keyring.sh "$@"

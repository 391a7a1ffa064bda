#!/usr/bin/env bash
# PostgreSQL 15 + pgvector for tests, CI and the scale-out benchmark, from Debian's packages only.
#
#   tools/pg_setup.sh install            (root) Debian postgresql + postgresql-server-dev-15, then pgvector
#                                        built from the next Debian release's source package
#   tools/pg_setup.sh start DIR [PORT]   a throwaway cluster under DIR (initdb + pg_ctl as the postgres user
#                                        when run as root), listening on 127.0.0.1 only; prints its URL and
#                                        writes it to DIR/url (PORT: default a free one from 55432 up)
#   tools/pg_setup.sh stop DIR           stop that cluster by its postmaster pid (DIR/data/postmaster.pid)
#   tools/pg_setup.sh restart DIR        stop (fast) and start again on the same port (for fault drills)
#
# Developers: `sudo tools/pg_setup.sh install` once, then
#   dir=$(mktemp -d); export LIKENESS_TEST_PG_URL=$(tools/pg_setup.sh start "$dir"); ...; tools/pg_setup.sh stop "$dir"
#
# Why build pgvector: bookworm has PostgreSQL 15 but no pgvector binary, and trixie's binary needs a newer C
# library. Trixie's *source* package builds against PostgreSQL 15 in seconds. Its deb-src entry is derived from
# this machine's own Debian archive entry (same URI and keyring, suite trixie) and kept in its own list file and its
# own lists folder, passed to apt only for `apt-get source`, so no other package is ever upgraded from trixie.
set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
PG_CONFIG=$PGBIN/pg_config

log() { echo "pg_setup: $*" >&2; }

# The machine's Debian archive URI and keyring, from deb822 (.sources) or one-line (.list) entries.
debian_archive() {
  local uri="" key=""
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # First stanza whose URIs line names a Debian archive that is not the security one.
    local block
    block=$(awk -v RS= '/URIs:[^\n]*debian/ && !/debian-security/ { print; exit }' "$f")
    if [ -n "$block" ]; then
      uri=$(printf '%s\n' "$block" | sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' | head -1)
      key=$(printf '%s\n' "$block" | sed -n 's/^Signed-By:[[:space:]]*\(.*\)$/\1/p' | head -1)
      break
    fi
  done
  if [ -z "$uri" ]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      local line
      line=$(grep -E '^deb(-src)?[[:space:]]' "$f" | grep -v debian-security | grep -m1 debian || true)
      if [ -n "$line" ]; then
        uri=$(printf '%s\n' "$line" | sed -E 's/^deb(-src)?[[:space:]]+(\[[^]]*\][[:space:]]+)?//' | awk '{print $1}')
        key=$(printf '%s\n' "$line" | sed -n 's/.*signed-by=\([^] ]*\).*/\1/p')
        break
      fi
    done
  fi
  [ -n "$uri" ] || {
    log "no Debian archive entry found in /etc/apt; cannot derive a deb-src entry for trixie"
    exit 1
  }
  [ -n "$key" ] || key=/usr/share/keyrings/debian-archive-keyring.gpg
  echo "$uri $key"
}

install() {
  [ "$(id -u)" = 0 ] || {
    log "install needs root (apt-get and make install)"
    exit 1
  }
  export DEBIAN_FRONTEND=noninteractive
  local need=()
  for p in postgresql postgresql-15 postgresql-server-dev-15 make gcc dpkg-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  local ext
  ext=$($PG_CONFIG --sharedir)/extension
  if [ -f "$ext/vector.control" ] && [ -f "$($PG_CONFIG --pkglibdir)/vector.so" ]; then
    log "pgvector already installed ($(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ext/vector.control"))"
    return
  fi
  local work
  work=$(mktemp -d)
  read -r uri key < <(debian_archive)
  mkdir -p "$work/lists/partial" "$work/parts"
  echo "deb-src [signed-by=$key] $uri trixie main" >"$work/trixie-src.list"
  log "deb-src for trixie from $uri (own list file and lists folder: $work)"
  local opts=(-o "Dir::Etc::SourceList=$work/trixie-src.list" -o "Dir::Etc::SourceParts=$work/parts"
    -o "Dir::State::Lists=$work/lists" -o "APT::Sandbox::User=root")
  apt-get "${opts[@]}" update -qq
  (cd "$work" && apt-get "${opts[@]}" source -qq pgvector >/dev/null 2>&1)
  local src
  src=$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -1)
  [ -n "$src" ] || {
    log "apt-get source pgvector gave no source tree"
    exit 1
  }
  log "building $(basename "$src") against PostgreSQL $($PG_CONFIG --version)"
  make -s -C "$src" PG_CONFIG=$PG_CONFIG with_llvm=no >/dev/null
  make -s -C "$src" PG_CONFIG=$PG_CONFIG with_llvm=no install >/dev/null
  rm -rf "$work"
  log "pgvector installed"
}

# Run a command as the postgres user when we are root (initdb refuses root), else as ourselves.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_busy() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local dir=${1:?give a directory}
  local port=${2:-}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$dir"
    # The postgres user must be able to reach DIR: open the search bit on each parent that lacks it.
    local p=$dir
    while [ "$p" != / ]; do
      p=$(dirname "$p")
      runuser -u postgres -- test -x "$p" || chmod o+x "$p"
    done
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
  fi
  local tries=0
  while :; do
    if [ -z "$port" ] || [ $tries -gt 0 ]; then
      port=$((55432 + tries * 7 + RANDOM % 7))
      while port_busy "$port"; do port=$((port + 1)); done
    fi
    if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c max_connections=200 -c fsync=on" \
      start >/dev/null; then
      break
    fi
    tries=$((tries + 1))
    [ $tries -lt 5 ] || {
      tail -20 "$dir/server.log" >&2
      exit 1
    }
  done
  echo "$port" >"$dir/port"
  local url="postgres://postgres@127.0.0.1:$port/postgres"
  echo "$url" >"$dir/url"
  echo "$url"
}

stop() {
  local dir=${1:?give a directory}
  local pidf="$dir/data/postmaster.pid"
  [ -f "$pidf" ] || return 0
  local pid
  pid=$(head -1 "$pidf")
  # SIGINT = fast shutdown; wait up to 30 s, then SIGQUIT (immediate).
  kill -INT "$pid" 2>/dev/null || return 0
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -QUIT "$pid" 2>/dev/null || true
}

restart() {
  local dir=${1:?give a directory}
  local port
  port=$(cat "$dir/port")
  stop "$dir"
  start "$dir" "$port" >/dev/null
}

cmd=${1:-}
shift || true
case "$cmd" in
install) install ;;
start) start "$@" ;;
stop) stop "$@" ;;
restart) restart "$@" ;;
*)
  sed -n '2,16p' "$0" >&2
  exit 2
  ;;
esac

# shellcheck shell=bash
# PostgreSQL for the test run, sourced by .ci/run (not executed on its own).
#
#   durar_pg_install   installs Debian's `postgresql` when no server binaries exist (/usr/lib/postgresql/*/bin/initdb)
#   durar_pg_start     starts a private, throwaway server (temp dir, free loopback port, trust auth, fsync off),
#                      creates database durar_test and exports DURAR_TEST_POSTGRES for the tests
#   durar_pg_stop      stops that server and deletes its directory (call it from an EXIT trap)
#
# Every function returns non-zero on failure after printing why; the caller decides whether to continue.
# The tests (tests/Durar.Testing/PostgresServer.cs) use DURAR_TEST_POSTGRES when set, and otherwise start the same kind of
# server themselves from the installed binaries, so plain `dotnet test` works once PostgreSQL is installed.

durar_pg_dir=""
durar_pg_bin=""

# The newest /usr/lib/postgresql/<version>/bin holding initdb, or nothing.
durar_pg_find_bin() {
  local candidate best=""
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] || continue
    if [ -z "$best" ] || [ "$(basename "$(dirname "$candidate")")" -gt "$(basename "$(dirname "$best")")" ] 2>/dev/null; then
      best="$candidate"
    fi
  done
  [ -n "$best" ] && echo "$best"
}

# Runs a command as the postgres user when we are root (initdb and postgres refuse to run as root), else as ourselves.
durar_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"  # util-linux, essential on Debian
  else
    "$@"
  fi
}

durar_pg_install() {
  if durar_pg_bin="$(durar_pg_find_bin)"; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      echo "postgres: no PostgreSQL server binaries and not root (no passwordless sudo): cannot install them" >&2
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "postgres: no PostgreSQL server binaries and no apt-get to install them" >&2
    return 1
  fi
  echo "postgres: installing PostgreSQL from Debian packages (apt-get install postgresql)..."
  local log started=$SECONDS
  log="$(mktemp)"
  if ! { $sudo apt-get update && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; } >"$log" 2>&1; then
    echo "postgres: installation failed; last lines of the apt-get output:" >&2
    tail -n 20 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  if ! durar_pg_bin="$(durar_pg_find_bin)"; then
    echo "postgres: apt-get succeeded but no /usr/lib/postgresql/*/bin/initdb exists" >&2
    return 1
  fi
  echo "postgres: installed in $((SECONDS - started)) s ($durar_pg_bin)"
}

# True when something already accepts connections on 127.0.0.1:$1.
durar_pg_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

durar_pg_start() {
  [ -n "$durar_pg_bin" ] || durar_pg_bin="$(durar_pg_find_bin)" || { echo "postgres: no server binaries" >&2; return 1; }
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "postgres: running as root but there is no postgres user to run the server as" >&2
    return 1
  fi

  local started=$SECONDS
  # Short path: the unix socket lives here too and socket paths are limited to about 100 characters.
  durar_pg_dir="$(mktemp -d /tmp/durar-pg.XXXXXX)" || return 1
  chmod 700 "$durar_pg_dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$durar_pg_dir"

  # --no-sync and fsync=off: a throwaway test server, so durability against power loss is not worth the time.
  if ! durar_pg_as_owner "$durar_pg_bin/initdb" -D "$durar_pg_dir/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C --no-sync >"$durar_pg_dir/initdb.log" 2>&1; then
    echo "postgres: initdb failed:" >&2
    tail -n 20 "$durar_pg_dir/initdb.log" >&2
    return 1
  fi

  local port attempt=0
  for port in $(seq 55432 55531); do
    durar_pg_port_busy "$port" && continue
    attempt=$((attempt + 1))
    # -l: the server's output goes to a file, so it never holds this script's stdout/stderr open.
    if durar_pg_as_owner "$durar_pg_bin/pg_ctl" -D "$durar_pg_dir/data" -l "$durar_pg_dir/server.log" -w -t 60 \
          -o "-p $port -k $durar_pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
          start >/dev/null 2>&1; then
      if durar_pg_as_owner "$durar_pg_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt \
            -c 'CREATE DATABASE durar_test' >/dev/null 2>"$durar_pg_dir/createdb.log"; then
        export DURAR_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Database=durar_test;Username=postgres"
        echo "postgres: private server on 127.0.0.1:$port ($durar_pg_dir) started in $((SECONDS - started)) s"
        return 0
      fi
      echo "postgres: CREATE DATABASE durar_test failed:" >&2
      cat "$durar_pg_dir/createdb.log" >&2
      return 1
    fi
    [ "$attempt" -ge 3 ] && break
  done
  echo "postgres: the server did not start; last lines of its log:" >&2
  tail -n 20 "$durar_pg_dir/server.log" >&2 2>/dev/null
  return 1
}

durar_pg_stop() {
  [ -n "$durar_pg_dir" ] && [ -d "$durar_pg_dir" ] || return 0
  if [ -f "$durar_pg_dir/data/postmaster.pid" ]; then
    # immediate: nothing in it is worth a checkpoint.
    durar_pg_as_owner "$durar_pg_bin/pg_ctl" -D "$durar_pg_dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1
  fi
  rm -rf "$durar_pg_dir"
  durar_pg_dir=""
}

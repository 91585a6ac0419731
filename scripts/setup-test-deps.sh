#!/usr/bin/env bash
# Installs what the test suites need beyond npm packages, each only when missing:
#   squid (Debian's package), for packages/node/test/Squid.test.ts;
#   tinyproxy (Debian's package), for packages/node/test/HostilePeers.test.ts;
#   dante-server (binary danted) and libnss-wrapper (its auth users without system
#   accounts), for packages/node/test/Socks.test.ts (and dante for the bench's socks5 scenario);
#   python3-socks (PySocks), for the bench's urllib3 SOCKSProxyManager client;
#   nginx-light (binary nginx), the server of the bench's 64 B single-origin scenarios.
# The suites start their own squid and tinyproxy on free loopback ports; the packages'
# services are never left running or enabled. When something cannot be installed this prints one line and
# exits 0: the suite that needs it says it is skipped and the rest still runs.
set -uo pipefail

export DEBIAN_FRONTEND=noninteractive

# have <binary or absolute file>: whether it is installed (PATH, /usr/sbin, /usr/bin; a
# path beginning with / is checked as it is, for a library).
have() {
  case "$1" in /*) [ -e "$1" ]; return ;; esac
  local found
  found=$(command -v "$1" 2>/dev/null) && [ -x "$found" ] && return 0
  [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

# libnss_wrapper.so wherever the architecture puts it (empty when it is not installed).
nss_wrapper() {
  local file
  for file in /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so /usr/lib64/libnss_wrapper.so; do
    [ -e "$file" ] && { echo "$file"; return 0; }
  done
  echo /usr/lib/libnss_wrapper.so
}

# stop_service <name>: stops and disables the service the package may have started (squid
# on 3128, tinyproxy on 8888), whatever the init system, and kills what is left of it by its
# pid file.
stop_service() {
  local name=$1
  if command -v systemctl >/dev/null 2>&1; then
    if [ -d /run/systemd/system ]; then
      systemctl disable --now "$name.service" >/dev/null 2>&1 || true
    else
      # No systemd running (a container): only remove the unit's enablement links.
      systemctl disable "$name.service" >/dev/null 2>&1 || true
    fi
  fi
  if command -v update-rc.d >/dev/null 2>&1; then
    update-rc.d "$name" disable >/dev/null 2>&1 || true
  fi
  if [ -x "/etc/init.d/$name" ]; then
    "/etc/init.d/$name" stop >/dev/null 2>&1 || true
  fi
  local pidfile pid
  for pidfile in "/run/$name.pid" "/var/run/$name.pid" "/run/$name/$name.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(tr -dc '0-9' <"$pidfile")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

policy=/usr/sbin/policy-rc.d
added_policy=0
remove_policy() {
  if [ "$added_policy" -eq 1 ]; then rm -f "$policy"; added_policy=0; fi
}
trap remove_policy EXIT

# install_package <package> [<binary or file>]: apt-get install without starting its service.
install_package() {
  local package=$1 provides=${2:-$1}
  command -v apt-get >/dev/null 2>&1 || { echo "no apt-get"; return 1; }
  [ "$(id -u)" -eq 0 ] || { echo "not root"; return 1; }

  # Keep the package's maintainer scripts from starting the service (Docker images ship
  # such a policy already; elsewhere we add one for the length of the install only).
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added_policy=1
  fi

  local apt_opts=(-y -q --no-install-recommends -o Acquire::Retries=2 -o Acquire::http::Timeout=30
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  local updated=0 status=0
  # Only refresh the package lists when they do not know the package yet.
  if ! apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -q && updated=1
  fi
  apt-get install "${apt_opts[@]}" "$package" || status=$?
  # Stale lists (a 404 from the mirror) need a refresh and one more try.
  if [ "$status" -ne 0 ] && [ "$updated" -eq 0 ]; then
    status=0
    apt-get update -q && apt-get install "${apt_opts[@]}" "$package" || status=$?
  fi

  remove_policy
  stop_service "$package"
  [ "$provides" = danted ] && stop_service danted
  [ "$provides" = nginx ] && stop_service nginx
  [ "$status" -eq 0 ] && have "$(resolve "$provides")"
}

# resolve <binary or file>: the name `have` checks (the library's path found now).
resolve() {
  if [ "$1" = libnss_wrapper.so ]; then nss_wrapper; else echo "$1"; fi
}

# ensure <package> <suite> [<binary or file it provides>]: installs the package when missing;
# says so in one line either way.
ensure() {
  local package=$1 suite=$2 provides=${3:-$1}
  have "$(resolve "$provides")" && return 0
  local log
  log=$(mktemp "${TMPDIR:-/tmp}/setup-test-deps-$package.XXXXXX.log")
  if install_package "$package" "$provides" >"$log" 2>&1 </dev/null; then
    echo "setup-test-deps: installed $package"
    rm -f "$log"
  else
    echo "setup-test-deps: $package is unavailable (apt-get install failed, see $log); $suite will be skipped"
  fi
}

ensure squid "the squid suite"
ensure tinyproxy "the tinyproxy cases of HostilePeers.test.ts"
ensure dante-server "the dante cases of Socks.test.ts" danted
ensure libnss-wrapper "the dante authentication cases of Socks.test.ts" libnss_wrapper.so
ensure python3-socks "the bench's urllib3 SOCKS client" /usr/lib/python3/dist-packages/socks.py
ensure nginx-light "the bench's nginx server (node:http answers its 64 B scenarios instead)" nginx
exit 0

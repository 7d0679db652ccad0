#!/usr/bin/env bash
# A 3-node NATS JetStream cluster on loopback for trying netsend's hub (issue 14; docs/hub.md).
#   scripts/hub-dev.sh [start]   start n1..n3 on 127.0.0.1, wait until JetStream is ready, print the
#                                --hub-servers line to give netsend
#   scripts/hub-dev.sh status    which of the recorded servers run, and their /healthz
#   scripts/hub-dev.sh stop      stop exactly the PIDs that start recorded (SIGTERM, then SIGKILL)
#   scripts/hub-dev.sh clean     stop, then delete the data dir (configs, logs, JetStream stores)
# Clients on 4222-4224, routes on 6222-6224, HTTP monitoring on 8222-8224, all on 127.0.0.1 only;
# move them with HUB_DEV_CLIENT_PORT / HUB_DEV_ROUTE_PORT / HUB_DEV_HTTP_PORT (first node's port).
# Data (configs, logs, JetStream stores, the PID file) in HUB_DEV_DIR, by default
# ${XDG_RUNTIME_DIR:-/tmp}/netsend-hub-dev; the stores outlive stop, so a restart keeps the streams.
# nats-server is Debian's (scripts/install-peers.sh), or NATS_SERVER=/path/to/nats-server.
set -euo pipefail

dir=${HUB_DEV_DIR:-${XDG_RUNTIME_DIR:-/tmp}/netsend-hub-dev}
client_port=${HUB_DEV_CLIENT_PORT:-4222}
route_port=${HUB_DEV_ROUTE_PORT:-6222}
http_port=${HUB_DEV_HTTP_PORT:-8222}
pidfile=$dir/pids
nodes=3
ready_seconds=20

die() { echo "hub-dev: $*" >&2; exit 1; }

server_bin() {
  if [ -n "${NATS_SERVER:-}" ]; then echo "$NATS_SERVER"
  elif [ -x /usr/sbin/nats-server ]; then echo /usr/sbin/nats-server
  else command -v nats-server || die "nats-server is not installed (sudo scripts/install-peers.sh installs it)"
  fi
}

# GET http://127.0.0.1:PORT/PATH with bash's /dev/tcp (no curl needed); prints the body.
http_get() {
  timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1 && printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3 && sed "1,/^\r\{0,1\}$/d" <&3' _ "$1" "$2" 2>/dev/null
}

# Whether PID is a live nats-server running one of this dir's configs (a recycled PID is not ours).
is_ours() {
  local pid=$1 args
  args=$(ps -ww -o args= -p "$pid" 2>/dev/null) || return 1
  case "$args" in *nats-server*" -c $dir/n"[0-9]".conf"*) return 0 ;; *) return 1 ;; esac
}

recorded_pids() { [ -f "$pidfile" ] && grep -E '^[0-9]+$' "$pidfile" || true; }

stop() {
  local pids=() pid i
  for pid in $(recorded_pids); do
    if is_ours "$pid"; then pids+=("$pid"); else echo "hub-dev: pid $pid is no longer one of ours; left alone"; fi
  done
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      local left=()
      for pid in "${pids[@]}"; do is_ours "$pid" && left+=("$pid"); done
      [ ${#left[@]} -eq 0 ] && break
      sleep 0.2
    done
    for pid in "${pids[@]}"; do
      if is_ours "$pid"; then echo "hub-dev: pid $pid ignored SIGTERM for 10 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    done
    echo "hub-dev: stopped ${pids[*]}"
  else
    echo "hub-dev: nothing running"
  fi
  rm -f "$pidfile"
}

status() {
  local pid n=0
  for pid in $(recorded_pids); do
    n=$((n + 1))
    if is_ours "$pid"; then
      echo "n$n pid $pid running, /healthz $(http_get $((http_port + n - 1)) /healthz | tr -d '\n' || echo '(no answer)')"
    else
      echo "n$n pid $pid not running"
    fi
  done
  [ $n -gt 0 ] || echo "hub-dev: not started (no $pidfile)"
}

start() {
  local bin i pid running=0
  bin=$(server_bin)
  for pid in $(recorded_pids); do is_ours "$pid" && running=$((running + 1)); done
  [ $running -eq 0 ] || die "already running ($running of the PIDs in $pidfile); scripts/hub-dev.sh stop first"
  for ((i = 0; i < nodes; i++)); do
    for port in $((client_port + i)) $((route_port + i)) $((http_port + i)); do
      if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
        die "port $port is in use on this machine (Debian's nats-server.service listens on 4222 when enabled: sudo systemctl disable --now nats-server; or set HUB_DEV_CLIENT_PORT)"
      fi
    done
  done
  mkdir -p "$dir"
  chmod 700 "$dir"
  local routes=""
  for ((i = 0; i < nodes; i++)); do routes+="${routes:+, }\"nats-route://127.0.0.1:$((route_port + i))\""; done
  for ((i = 1; i <= nodes; i++)); do
    cat >"$dir/n$i.conf" <<EOF
# written by scripts/hub-dev.sh
server_name: n$i
listen: "127.0.0.1:$((client_port + i - 1))"
http: "127.0.0.1:$((http_port + i - 1))"
# the largest sealed message is ~1.4 MB (docs/hub.md); NATS takes 1 MB by default
max_payload: 2MB
jetstream {
  store_dir: "$dir/n$i/store"
}
cluster {
  name: "netsend-hub-dev"
  listen: "127.0.0.1:$((route_port + i - 1))"
  routes: [$routes]
}
EOF
  done
  : >"$pidfile"
  for ((i = 1; i <= nodes; i++)); do
    mkdir -p "$dir/n$i"
    # A simple command in the background: $! is nats-server's own PID.
    "$bin" -c "$dir/n$i.conf" </dev/null >>"$dir/n$i.log" 2>&1 &
    echo $! >>"$pidfile"
  done
  echo "hub-dev: started PIDs $(tr '\n' ' ' <"$pidfile")(logs in $dir/n*.log)"
  # Ready: every node answers /healthz ok (which needs a JetStream meta leader) and names the same leader.
  local tries ok body
  for ((tries = 0; tries < ready_seconds * 4; tries++)); do
    ok=0
    local leaders=()
    for ((i = 0; i < nodes; i++)); do
      body=$(http_get $((http_port + i)) /healthz || true)
      if [[ $body == *'"status":"ok"'* ]]; then
        body=$(http_get $((http_port + i)) /jsz || true)
        # /jsz without ?streams names one leader only: the meta leader's, once this node knows it
        if [[ $body =~ \"leader\":\ *\"([^\"]+)\" ]]; then
          ok=$((ok + 1))
          leaders+=("${BASH_REMATCH[1]}")
        fi
      fi
    done
    if [ $ok -eq $nodes ] && [ "$(printf '%s\n' "${leaders[@]}" | sort -u | wc -l)" -eq 1 ]; then
      local servers=""
      for ((i = 0; i < nodes; i++)); do servers+="${servers:+,}nats://127.0.0.1:$((client_port + i))"; done
      echo "hub-dev: JetStream ready after ~$((tries / 4)) s, meta leader ${leaders[0]}; monitoring http://127.0.0.1:$http_port/jsz"
      echo "--hub-servers $servers"
      return 0
    fi
    for pid in $(recorded_pids); do is_ours "$pid" || { tail -n 5 "$dir"/n*.log >&2; stop; die "a server exited while starting (logs above)"; }; done
    sleep 0.25
  done
  tail -n 5 "$dir"/n*.log >&2
  stop
  die "not ready after $ready_seconds s (logs above)"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  clean) stop; rm -rf -- "$dir"; echo "hub-dev: removed $dir" ;;
  *) die "usage: scripts/hub-dev.sh [start|stop|status|clean]" ;;
esac

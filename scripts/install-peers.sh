#!/usr/bin/env bash
# Installs the real peers the interop tests talk to (Debian 12): Samba's smbd and smbclient,
# nmblookup, tshark, iproute2 for network namespaces; dbus-daemon (a private session bus for the
# desktop notification tests), xvfb and dunst (a real desktop and notification daemon), python3 (real pseudo-terminals for the tty tests) and chromium (the
# web inbox's browser tests drive Debian's Chromium through playwright-core, which never downloads
# a browser), and nats-server (Debian's 2.9.10: the real NATS JetStream engine the hub tests of issue
# 14 start as a 3-node cluster on loopback, through test/helpers/nats.ts and scripts/hub-dev.sh), and
# systemd (systemd-analyze for the tests of the systemd units, test/packaging/systemd.test.ts).
# Idempotent; needs root.
# Never installs Debian's package "netsend": it is an unrelated tool.
set -euo pipefail
pkgs=(samba smbclient samba-common-bin tshark iproute2 dbus-daemon python3 chromium xvfb dunst nats-server systemd)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture: answer no, without a prompt
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# A package script may have started a Samba daemon in the root namespace: stop it, by PID.
for pid in $(ss -Hlntup 'sport = :137 or sport = :138 or sport = :139 or sport = :445' | grep -oE 'pid=[0-9]+' | cut -d= -f2 | sort -u); do
  case "$(ps -o comm= -p "$pid")" in smbd|nmbd|winbindd|samba*) kill "$pid" ;; esac
done
# Installing nats-server enables and starts its systemd unit (plain NATS on 127.0.0.1:4222, the
# port scripts/hub-dev.sh uses); the tests start their own servers, so when this run installed it,
# disable that unit again.
if [[ " ${missing[*]} " == *" nats-server "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now nats-server.service >/dev/null 2>&1 || true
fi

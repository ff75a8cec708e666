#!/usr/bin/env bash
# Installs the Debian packages the tests and the lab use, only those missing.
# One list for both, so the lab never needs something the tests do not install.
set -uo pipefail
APT_PACKAGES=(openssl ca-certificates iproute2 nftables gobgpd bird2 frr dnsmasq-base ipvsadm
  user-mode-linux iputils-arping ndisc6 tcpdump procps kmod iptables)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing apt packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then echo "run as root to install ${missing[*]}" >&2; exit 1; fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Installs the Debian packages callrec builds and tests with. Idempotent and fast
# when everything is present: it asks dpkg first and calls apt-get only for what
# is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev   # Asio + Beast (HTTP), JSON
  libsqlite3-dev                           # embedded state store
  libssl-dev                               # SHA-256, HMAC, constant-time compare
  libspdlog-dev                            # structured logging
  libcli11-dev                             # one option table for flags and config file
  libsofia-sip-ua-dev                      # SIP stack (transactions, dialogs, session timers, SDP, multipart)
  libxml2-dev                              # SIPREC rs-metadata (RFC 7865) XML
  libgtest-dev libgmock-dev                # unit tests
  clang-format
  sip-tester                               # SIPp: the SIPREC interop peer
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The interop tests' real peers: the AWS CLI and boto3. This machine's own
# Python usually has both; Debian's packages stand in where it does not.
if ! command -v aws >/dev/null 2>&1; then
  missing+=(awscli)
fi
if ! python3 -c 'import boto3' 2>/dev/null && ! /usr/bin/python3 -c 'import boto3' 2>/dev/null; then
  missing+=(python3-boto3)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when an install fails for lack of them.
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

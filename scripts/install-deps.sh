#!/usr/bin/env bash
# Installs the Debian packages callrec builds and tests with. Idempotent and fast
# when everything is present: it asks dpkg first and calls apt-get only for what
# is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config  # g++ 12, with libasan8/libubsan1 for make test-sanitize
  libboost1.81-dev libboost-json1.81-dev   # Asio + Beast (HTTP), JSON
  libsqlite3-dev                           # embedded state store
  libpq-dev                                # --store postgresql://: libpq (pipeline mode; libpqxx 6.4 has none)
  postgresql                               # the interop tests' and bench's PostgreSQL 15 (tests/interop/postgres.py)
  libssl-dev                               # SHA-256, HMAC, constant-time compare
  libspdlog-dev                            # structured logging
  libcli11-dev                             # one option table for flags and config file
  libsofia-sip-ua-dev                      # SIP stack (transactions, dialogs, session timers, SDP, multipart)
  libxml2-dev                              # SIPREC rs-metadata (RFC 7865) XML
  libsrtp2-dev                             # SRTP (RFC 3711) for SDES-keyed media over SIP TLS
  liburing-dev                             # callrec-callgen: a wake-up's RTP packets to many sockets in one io_uring_enter
  libgtest-dev libgmock-dev                # unit tests
  libbenchmark-dev                         # bench/media_packet_bench (Google Benchmark)
  clang-format
  clang libclang-rt-14-dev                 # libFuzzer, ASan, UBSan: make fuzz, make fuzz-smoke
  sip-tester                               # SIPp: the SIPREC interop peer
  curl                                     # test_recording_access: downloads and ranged reads as an operator makes them
  chromium                                 # the workspace's end-to-end tests (tests/e2e)
  espeak-ng                                # make run's demo call: the dialogue's voices
  python3-prometheus-client                # test_metrics: /metrics read by Prometheus's own text parser
  dpkg-dev                                 # make deb: dpkg-shlibdeps names the package's library dependencies
  systemd                                  # test_package: systemd-analyze verify on the packaged unit
  radosgw ceph-mon ceph-osd ceph-common    # test S3: a one-node Ceph RGW (tests/interop/ceph_rgw.py)
  kamailio haproxy                         # test_cluster: deploy/kamailio (dispatcher) and deploy/haproxy in front of several nodes; test_s3_faults SlowDownTest: HAProxy answers 503 SlowDown in front of RGW
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

# The SRTP interop test's own sender (RFC 3711 from AES-CTR and HMAC-SHA1).
if ! python3 -c 'import cryptography' 2>/dev/null && ! /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
  missing+=(python3-cryptography)
fi

if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

# tests/e2e's node_modules (playwright-core) as its package-lock.json says;
# npm ci only when they are missing or older than the lock file.
e2e_modules() {
  local dir
  dir="$(dirname "$0")/../tests/e2e"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  e2e_modules
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
e2e_modules

#!/usr/bin/env bash
# Builds deploy/Dockerfile and runs the image, with no Docker engine: buildah builds it
# (chroot isolation, no daemon) and runs its processes. What it checks, in order:
#   the image builds; it runs as uid 10001; no compiler or make in the final stage;
#   `migrate` brings an empty database to head, `keys rotate` makes the first signing key,
#   `seed` loads the synthetic register; `serve --service register` and
#   `serve --service matching` answer /healthz, /readyz and /metrics, and the API with a
#   token (`tokens issue`, run from the image); `match` runs a national match; SIGTERM
#   stops a server cleanly (exit 0).
#
# Usage (root, from anywhere):  deploy/check_image.sh
#   CHECK_DATABASE_URL  server for a throwaway database (default postgresql://postgres@127.0.0.1:5432)
#   PYTHON_IMAGE        base image (default: a Debian bookworm + python3 image built here
#                       with debootstrap, for machines that reach no container registry)
#   KEEP=1              keep the database and the image afterwards
# Needs: buildah, psql, curl; debootstrap unless PYTHON_IMAGE is given
#   (Debian: apt-get install buildah debootstrap postgresql-client curl).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=localhost/adoption-register:check
SERVER_URL=${CHECK_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432}
DB_NAME=image_check_$$
DATABASE_URL=$SERVER_URL/$DB_NAME
WORK=$(mktemp -d)
CONTAINERS=()
PIDS=()
PORTS=()

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
  for port in "${PORTS[@]}"; do pkill -TERM -f "$(server_pattern "$port")" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for c in "${CONTAINERS[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  if [[ -z ${KEEP:-} ]]; then
    buildah rmi "$IMAGE" >/dev/null 2>&1 || true
    psql "$SERVER_URL/postgres" -qc "drop database if exists $DB_NAME" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A stand-in for python:3.11-slim-bookworm: the same Debian release, its python3 (3.11) and
# venv. The machine's own CA certificates go in, so pip works behind an inspecting proxy.
build_base_image() {
  local base=localhost/python-bookworm-base:3.11
  if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
    step "base image $base from debootstrap (once)"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" \
      || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
      cp /usr/local/share/ca-certificates/*.crt "$WORK/rootfs/usr/local/share/ca-certificates/"
      chroot "$WORK/rootfs" update-ca-certificates >/dev/null 2>&1
    fi
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$WORK/rootfs/etc/pip.conf"
    rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
    local c
    c=$(buildah from scratch)
    tar -C "$WORK/rootfs" -c . | tar -C "$(buildah mount "$c")" -x
    buildah unmount "$c" >/dev/null
    buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd python3 "$c"
    buildah commit --quiet "$c" "$base" >/dev/null
    buildah rm "$c" >/dev/null
  fi
  PYTHON_IMAGE=$base
}

# Runs the image's entrypoint with arguments, as the image's user, on the host's network.
in_image() {
  buildah run --isolation chroot --env DATABASE_URL="$DATABASE_URL" "${RUN_ENV[@]}" \
    "$CONTAINER" -- "${ENTRYPOINT[@]}" "$@"
}

# The server's own process (the container's main process), not the `buildah run` around it.
server_pattern() {  # port
  echo "^/opt/app/bin/python3? /opt/app/bin/adoption-register serve --host 127.0.0.1 --port $1 "
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

serve_in_image() {  # port service; sets SERVER_PID to the `buildah run` process
  PORTS+=("$1")
  buildah run --isolation chroot --env DATABASE_URL="$DATABASE_URL" "${RUN_ENV[@]}" "$CONTAINER" -- \
    "${ENTRYPOINT[@]}" serve --host 127.0.0.1 --port "$1" --service "$2" >"$WORK/$2.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
}

wait_ready() {  # url
  for _ in $(seq 1 60); do
    curl -fsS "$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  fail "$1 did not become ready"
}

expect_status() {  # status url [curl args...]
  local want=$1 url=$2; shift 2
  local got
  got=$(curl -s -o "$WORK/body" -w '%{http_code}' "$@" "$url")
  [[ $got == "$want" ]] || { cat "$WORK/body" >&2; fail "$url answered $got, expected $want"; }
  printf '  %s %s\n' "$got" "$url"
}

[[ -n ${PYTHON_IMAGE:-} ]] || build_base_image

step "build $IMAGE (base $PYTHON_IMAGE)"
start=$(date +%s)
# No layer cache: buildah's cache key for a RUN step ignores what a bind mount from another
# stage holds, so a cached final stage could carry the previous build's wheels.
buildah bud --quiet --isolation chroot --no-cache --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" \
  -f "$ROOT/deploy/Dockerfile" -t "$IMAGE" "$ROOT" >/dev/null
echo "  built in $(( $(date +%s) - start )) s; $(buildah images --format '{{.Size}}' "$IMAGE") "

step "image configuration"
user=$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
[[ $user == 10001 ]] || fail "image user is '$user', expected 10001"
mapfile -t ENTRYPOINT < <(buildah inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{println .}}{{end}}' "$IMAGE" | sed '/^$/d')
[[ ${ENTRYPOINT[*]} == adoption-register ]] || fail "entrypoint is '${ENTRYPOINT[*]}'"
echo "  user $user, entrypoint ${ENTRYPOINT[*]}"
CONTAINER=$(buildah from --quiet "$IMAGE")
CONTAINERS+=("$CONTAINER")
RUN_ENV=()
uid=$(buildah run --isolation chroot "$CONTAINER" -- id -u)
[[ $uid == 10001 ]] || fail "processes run as uid $uid"
tools=$(buildah run --isolation chroot "$CONTAINER" -- sh -c 'for t in gcc cc c++ make ld; do command -v $t; done; true')
[[ -z $tools ]] || fail "build tools in the final stage: $tools"
echo "  processes run as uid $uid; no gcc, cc, c++, make or ld"

step "migrate an empty database"
psql "$SERVER_URL/postgres" -qc "create database $DB_NAME" >/dev/null
in_image migrate
in_image keys rotate
in_image seed --synthetic --seed 3 | tail -2

step "serve each service from the image"
PORT_REGISTER=$(free_port)
PORT_MATCHING=$(free_port)
RUN_ENV=(--env TOKEN_ISSUER=http://127.0.0.1:$PORT_REGISTER)
serve_in_image "$PORT_REGISTER" register
register_pid=$SERVER_PID
serve_in_image "$PORT_MATCHING" matching
wait_ready http://127.0.0.1:$PORT_REGISTER
wait_ready http://127.0.0.1:$PORT_MATCHING
token=$(in_image tokens issue --subject image-check --scopes "children:read matching:read" | tail -1)
auth=(-H "Authorization: Bearer $token")
for port in $PORT_REGISTER $PORT_MATCHING; do
  expect_status 200 http://127.0.0.1:$port/healthz
  expect_status 200 http://127.0.0.1:$port/readyz
  expect_status 200 http://127.0.0.1:$port/metrics
done
expect_status 200 "http://127.0.0.1:$PORT_REGISTER/v1/children?limit=2" "${auth[@]}"
expect_status 401 "http://127.0.0.1:$PORT_REGISTER/v1/children?limit=2"
expect_status 200 http://127.0.0.1:$PORT_REGISTER/.well-known/oauth-authorization-server
# Each Deployment serves only its own API.
expect_status 404 "http://127.0.0.1:$PORT_MATCHING/v1/children?limit=2" "${auth[@]}"
expect_status 404 "http://127.0.0.1:$PORT_REGISTER/v1/matching/policies" "${auth[@]}"
expect_status 200 "http://127.0.0.1:$PORT_MATCHING/v1/matching/policies" "${auth[@]}"

step "the nightly match run (the CronJob's command)"
in_image match | tail -3

step "SIGTERM stops the register server cleanly"
# What the kubelet does: SIGTERM to the container's main process.
pkill -TERM -f "$(server_pattern "$PORT_REGISTER")" || fail "no register server process"
status=0
wait "$register_pid" || status=$?
# Uvicorn finishes in-flight requests, runs the shutdown, then re-raises SIGTERM so the
# process ends "killed by SIGTERM" (what the kubelet expects); buildah reports that as
# "exited on terminated" with status 1, so the log says which it was.
grep -q "Application shutdown complete" "$WORK/register.log" \
  && grep -q "Finished server process" "$WORK/register.log" \
  && { [[ $status == 0 ]] || grep -q "exited on terminated" "$WORK/register.log"; } \
  || { tail -20 "$WORK/register.log" >&2; fail "the server did not shut down cleanly (status $status)"; }
echo "  shutdown complete, process ended by SIGTERM (status $status)"

printf '\nimage check passed\n'

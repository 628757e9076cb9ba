#!/usr/bin/env bash
# Builds deploy/Dockerfile and runs the image as containers, with no Docker engine: buildah
# builds it (no daemon), podman runs it (runc). What it checks, in order:
#   the image builds; its user is 10001; no compiler or make in the final stage;
#   `migrate` brings an empty database to head, `keys rotate` makes the first signing key,
#   `seed` loads the synthetic register; `serve --service register` and
#   `serve --service matching` answer /healthz, /readyz and /metrics, and the API with a
#   token (`tokens issue`, run from the image), each only its own API; `match` runs a
#   national match; `podman stop` (SIGTERM to the container's main process) ends a server
#   after a clean shutdown; deploy/compose.yaml brings up PostgreSQL, the migrations and
#   both services (podman-compose), which answer through their published ports.
# Every container runs as the Kubernetes manifests run it: read-only root filesystem with a
# writable /tmp, all capabilities dropped, no privilege escalation, uid 10001.
#
# Usage (root, from anywhere):  deploy/check_image.sh
#   CHECK_DATABASE_URL  server for a throwaway database (default postgresql://postgres@127.0.0.1:5432)
#   PYTHON_IMAGE        base image (default: a Debian bookworm + python3 image built here
#                       with debootstrap, for machines that reach no container registry)
#   POSTGRES_IMAGE      PostgreSQL for the compose stack (default: a Debian bookworm +
#                       PostgreSQL 15 image built here, honouring the official image's
#                       POSTGRES_USER/PASSWORD/DB)
#   KEEP=1              keep the database and the image afterwards
# Needs: buildah, podman, runc, podman-compose, psql, curl; debootstrap unless both base
#   images are given (Debian: apt-get install buildah podman runc podman-compose debootstrap
#   postgresql-client curl).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=localhost/adoption-register:check
SERVER_URL=${CHECK_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432}
DB_NAME=image_check_$$
DATABASE_URL=$SERVER_URL/$DB_NAME
WORK=$(mktemp -d)
NAMES=()
PROJECT=adoption-check-$$
COMPOSE=(podman-compose --project-name "$PROJECT" --file "$ROOT/deploy/compose.yaml")

# For this run only. Podman's default ulimits raise RLIMIT_NOFILE/NPROC, which a root
# without CAP_SYS_RESOURCE (a sandboxed machine) may not; cgroupfs needs no systemd.
cat >"$WORK/containers.conf" <<'EOF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
EOF
export CONTAINERS_CONF=$WORK/containers.conf

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
  for name in "${NAMES[@]}"; do podman rm --force --time 5 "$name" >/dev/null 2>&1 || true; done
  if [[ -n ${POSTGRES_PASSWORD:-} ]]; then
    "${COMPOSE[@]}" down --volumes >/dev/null 2>&1 || true
    podman network rm "${PROJECT}_default" >/dev/null 2>&1 || true
  fi
  if [[ -z ${KEEP:-} ]]; then
    podman rmi "$IMAGE" >/dev/null 2>&1 || true
    psql "$SERVER_URL/postgres" -qc "drop database if exists $DB_NAME" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A stand-in for python:3.11-slim-bookworm: the same Debian release, its python3 (3.11) and venv.
build_base_image() {
  local base=localhost/python-bookworm-base:3.11
  if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
    step "base image $base from debootstrap (once)"
    debootstrap_image "$base" python3,python3-venv,ca-certificates "" \
      --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd python3
  fi
  PYTHON_IMAGE=$base
}

debootstrap_image() {  # image packages entrypoint-or-empty [buildah config options...]
  local image=$1 packages=$2 entrypoint=$3; shift 3
  local rootfs=$WORK/rootfs-${image//[^a-z0-9]/-}
  debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" http://deb.debian.org/debian \
    >"$WORK/debootstrap.log" || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap $image"; }
  # The machine's own CA certificates, so pip works behind an inspecting proxy.
  if [[ -d $rootfs/usr/local/share/ca-certificates ]] && compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null 2>&1 || true
  fi
  [[ ! -x $rootfs/usr/bin/python3 ]] || printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
  rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
  [[ -z $entrypoint ]] || install -m 755 "$entrypoint" "$rootfs/usr/local/bin/docker-entrypoint.sh"
  local c
  c=$(buildah from scratch)
  tar -C "$rootfs" -c . | tar -C "$(buildah mount "$c")" -x
  buildah unmount "$c" >/dev/null
  buildah config "$@" "$c"
  buildah commit --quiet "$c" "$image" >/dev/null
  buildah rm "$c" >/dev/null
  rm -rf "$rootfs"
}

# A stand-in for postgres:16 where Docker Hub is out of reach: Debian's PostgreSQL 15 behind
# an entrypoint that honours the official image's POSTGRES_USER, POSTGRES_PASSWORD and
# POSTGRES_DB (only those).
build_postgres_image() {
  local image=localhost/postgres-bookworm:15
  if ! buildah inspect --type image "$image" >/dev/null 2>&1; then
    step "PostgreSQL image $image from debootstrap (once)"
    cat >"$WORK/pg-entrypoint.sh" <<'SCRIPT'
#!/bin/sh
set -eu
BIN=/usr/lib/postgresql/15/bin
USER_NAME=${POSTGRES_USER:-postgres}
DB_NAME=${POSTGRES_DB:-$USER_NAME}
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  chown postgres "$pwfile"
  as_postgres "$BIN/initdb" -D "$PGDATA" -U "$USER_NAME" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$DB_NAME" != postgres ]; then
    echo "CREATE DATABASE \"$DB_NAME\" OWNER \"$USER_NAME\";" | as_postgres "$BIN/postgres" --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*'
SCRIPT
    debootstrap_image "$image" postgresql-15,postgresql-client-15 "$WORK/pg-entrypoint.sh" \
      --env PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --env PGDATA=/var/lib/postgresql/data --entrypoint '["/usr/local/bin/docker-entrypoint.sh"]' --port 5432
    # The package's own cluster is not used: the entrypoint makes one in $PGDATA.
  fi
  POSTGRES_IMAGE=$image
}

# The pod's securityContext (deploy/kubernetes), on the host's network to reach PostgreSQL.
AS_DEPLOYED=(--network host --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges
             --env "DATABASE_URL=$DATABASE_URL")

in_image() {  # the image's entrypoint with these arguments
  podman run --rm "${AS_DEPLOYED[@]}" "${RUN_ENV[@]}" "$IMAGE" "$@"
}

serve_in_image() {  # service port
  local name=adoption-check-$1-$$
  NAMES+=("$name")
  podman run --detach --name "$name" "${AS_DEPLOYED[@]}" "${RUN_ENV[@]}" "$IMAGE" \
    serve --host 127.0.0.1 --port "$2" --service "$1" >/dev/null
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
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
echo "  built in $(( $(date +%s) - start )) s; $(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=si)B"

step "image configuration"
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
[[ $user == 10001 ]] || fail "image user is '$user', expected 10001"
RUN_ENV=()
uid=$(podman run --rm "${AS_DEPLOYED[@]}" --entrypoint id "$IMAGE" -u)
[[ $uid == 10001 ]] || fail "processes run as uid $uid"
tools=$(podman run --rm "${AS_DEPLOYED[@]}" --entrypoint sh "$IMAGE" \
  -c 'for t in gcc cc c++ make ld; do command -v $t; done; true')
[[ -z $tools ]] || fail "build tools in the final stage: $tools"
echo "  user $user; processes run as uid $uid; no gcc, cc, c++, make or ld"

step "migrate an empty database"
psql "$SERVER_URL/postgres" -qc "create database $DB_NAME" >/dev/null
in_image migrate
in_image keys rotate
in_image seed --synthetic --seed 3 | tail -2

step "serve each service from the image"
PORT_REGISTER=$(free_port)
PORT_MATCHING=$(free_port)
RUN_ENV=(--env "TOKEN_ISSUER=http://127.0.0.1:$PORT_REGISTER")
serve_in_image register "$PORT_REGISTER"
serve_in_image matching "$PORT_MATCHING"
wait_ready "http://127.0.0.1:$PORT_REGISTER"
wait_ready "http://127.0.0.1:$PORT_MATCHING"
token=$(in_image tokens issue --subject image-check --scopes "children:read matching:read" | tail -1)
auth=(-H "Authorization: Bearer $token")
for port in $PORT_REGISTER $PORT_MATCHING; do
  expect_status 200 "http://127.0.0.1:$port/healthz"
  expect_status 200 "http://127.0.0.1:$port/readyz"
  expect_status 200 "http://127.0.0.1:$port/metrics"
done
expect_status 200 "http://127.0.0.1:$PORT_REGISTER/v1/children?limit=2" "${auth[@]}"
expect_status 401 "http://127.0.0.1:$PORT_REGISTER/v1/children?limit=2"
expect_status 200 "http://127.0.0.1:$PORT_REGISTER/.well-known/oauth-authorization-server"
# Each Deployment serves only its own API.
expect_status 404 "http://127.0.0.1:$PORT_MATCHING/v1/children?limit=2" "${auth[@]}"
expect_status 404 "http://127.0.0.1:$PORT_REGISTER/v1/matching/policies" "${auth[@]}"
expect_status 200 "http://127.0.0.1:$PORT_MATCHING/v1/matching/policies" "${auth[@]}"

step "the nightly match run (the CronJob's command)"
in_image match | tail -3

step "podman stop: SIGTERM to the register container's main process"
register=adoption-check-register-$$
podman stop --time 30 "$register" >/dev/null
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$register")
podman logs "$register" >"$WORK/register.log" 2>&1
grep -q "Application shutdown complete" "$WORK/register.log" && grep -q "Finished server process" "$WORK/register.log" \
  || { tail -20 "$WORK/register.log" >&2; fail "no clean shutdown in the server's log"; }
# 0, or 143 where uvicorn's re-raised SIGTERM is not ignored (it is for a PID 1).
[[ $exit_code == 0 || $exit_code == 143 ]] || { tail -20 "$WORK/register.log" >&2; fail "exit code $exit_code"; }
echo "  shutdown complete, exit code $exit_code"

step "the compose stack: deploy/compose.yaml with podman-compose"
[[ -n ${POSTGRES_IMAGE:-} ]] || build_postgres_image
PORT_REGISTER=$(free_port)
PORT_MATCHING=$(free_port)
export APP_IMAGE=$IMAGE POSTGRES_IMAGE REGISTER_PORT=$PORT_REGISTER MATCHING_PORT=$PORT_MATCHING \
  TOKEN_ISSUER=http://127.0.0.1:$PORT_REGISTER POSTGRES_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))') \
  WEBHOOK_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
"${COMPOSE[@]}" up --detach --no-build >"$WORK/compose.log" 2>&1 || { tail -20 "$WORK/compose.log"; fail "compose up"; }
wait_ready "http://127.0.0.1:$PORT_REGISTER"
wait_ready "http://127.0.0.1:$PORT_MATCHING"
migrate_state=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "${PROJECT}_migrate_1")
[[ $migrate_state == "exited 0" ]] || fail "the migrate service ended '$migrate_state'"
echo "  migrate exited 0; register and matching ready on their published ports"
podman exec "${PROJECT}_register_1" adoption-register keys rotate >/dev/null
token=$(podman exec "${PROJECT}_register_1" adoption-register tokens issue --subject compose-check \
  --scopes "children:read matching:read" | tail -1)
auth=(-H "Authorization: Bearer $token")
expect_status 200 "http://127.0.0.1:$PORT_REGISTER/v1/children?limit=2" "${auth[@]}"
expect_status 200 "http://127.0.0.1:$PORT_MATCHING/v1/matching/policies" "${auth[@]}"
expect_status 401 "http://127.0.0.1:$PORT_MATCHING/v1/matching/policies"

printf '\nimage check passed\n'

#!/usr/bin/env bash
# Runs the whole stack on loopback: the CPA simulator with generated traffic
# on 127.0.0.1:8317 and Caddy with caddy-cpam on https://localhost:8443.
# Ctrl-C stops everything. State (database, Caddy's internal CA) lives in .demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin}
DEMO_DIR=${DEMO_DIR:-.demo}
SIM_ADDR=127.0.0.1:8317
PANEL_URL=https://localhost:8443/management.html

for bin in "$BIN/caddy" "$BIN/cpa-sim"; do
	[ -x "$bin" ] || { echo "demo: $bin is missing; run make build first" >&2; exit 1; }
done

command -v curl >/dev/null || { echo "demo: curl is needed to check that Caddy is up; install it (apt-get install -y curl)" >&2; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
for addr in "$SIM_ADDR" 127.0.0.1:8443 127.0.0.1:8080 127.0.0.1:2019; do
	if port_busy "$addr"; then
		echo "demo: $addr is already in use; stop what listens there (a CPA, another demo, a Caddy) and try again" >&2
		exit 1
	fi
done

random_key() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }

mkdir -p "$DEMO_DIR/data" "$DEMO_DIR/config"
# Keys persist across runs so a browser session and the database stay valid.
[ -s "$DEMO_DIR/management-key" ] || random_key >"$DEMO_DIR/management-key"
[ -s "$DEMO_DIR/admin-key" ] || random_key >"$DEMO_DIR/admin-key"
chmod 600 "$DEMO_DIR/management-key" "$DEMO_DIR/admin-key"
CPA_MANAGEMENT_KEY=$(cat "$DEMO_DIR/management-key")
CPAM_ADMIN_KEY=$(cat "$DEMO_DIR/admin-key")
export CPA_MANAGEMENT_KEY CPAM_ADMIN_KEY
export CPAM_DATABASE="$DEMO_DIR/cpam.db"
export XDG_DATA_HOME="$PWD/$DEMO_DIR/data" XDG_CONFIG_HOME="$PWD/$DEMO_DIR/config"

pids=()
stopped=
cleanup() {
	[ -z "$stopped" ] || return 0
	stopped=1
	echo
	echo "demo: stopping"
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'cleanup; exit 0' INT TERM

CPA_SIM_MANAGEMENT_KEY=$CPA_MANAGEMENT_KEY "$BIN/cpa-sim" \
	-addr "$SIM_ADDR" \
	-traffic-rate "${DEMO_TRAFFIC_RATE:-2}" \
	-traffic-models mock-gpt,claude-sonnet-4-5,gpt-5-codex,gemini-2.5-pro \
	-traffic-keys sk-cpa-test-1,sk-cpa-test-2 \
	-traffic-failure-ratio 0.05 \
	-device-auto-approve 5s \
	-panel-file web/dist/management.html \
	>"$DEMO_DIR/cpa-sim.log" 2>&1 &
pids+=($!)

"$BIN/caddy" run --config caddyfile-examples/localhost.caddyfile --adapter caddyfile \
	>"$DEMO_DIR/caddy.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 100); do
	if curl -fsk https://localhost:8443/cpam/health >/dev/null 2>&1; then
		break
	fi
	for pid in "${pids[@]}"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "demo: a process exited early; see $DEMO_DIR/cpa-sim.log and $DEMO_DIR/caddy.log" >&2
			tail -n 20 "$DEMO_DIR/caddy.log" "$DEMO_DIR/cpa-sim.log" >&2
			exit 1
		fi
	done
	sleep 0.2
done
curl -fsk https://localhost:8443/cpam/health >/dev/null || {
	echo "demo: Caddy did not answer on https://localhost:8443; see $DEMO_DIR/caddy.log" >&2
	exit 1
}

cat <<MSG

caddy-cpam demo is running.

  Panel        $PANEL_URL
  Admin key    $CPAM_ADMIN_KEY
  Health       curl -k https://localhost:8443/cpam/health
  CPA (sim)    http://$SIM_ADDR  (management key in $DEMO_DIR/management-key)
  CPA panel    http://$SIM_ADDR/management.html  (CPA panel mode: sign in with the management key,
               usage service https://localhost:8443/cpam; trust the root CA below first)
  Management   curl -k -H "Authorization: Bearer \$(cat $DEMO_DIR/admin-key)" https://localhost:8443/v0/management/config
  Root CA      $DEMO_DIR/data/caddy/pki/authorities/local/root.crt (trust it to drop -k)
  Logs         $DEMO_DIR/caddy.log, $DEMO_DIR/cpa-sim.log

Press Ctrl-C to stop.
MSG

wait -n "${pids[@]}" || true
echo "demo: a process exited; see $DEMO_DIR/caddy.log and $DEMO_DIR/cpa-sim.log" >&2

#!/bin/sh
# The workshop hub, from a bare Debian 12 / Ubuntu 22.04+ server to a room of learners. As root:
#
#   sh workshop/hub/setup.sh ROSTER INSTRUCTORS HUB_ADDRESS [https-mode]
#     ROSTER        a file, one learner name a line
#     INSTRUCTORS   comma-separated admin names (they get codes of their own)
#     HUB_ADDRESS   the IP address or DNS name learners type
#     https-mode    local-ca (default: an offline room; learners trust ca.crt) | acme (certbot,
#                   a public DNS name, port 80 reachable) | none (loopback tests only)
#
# Run it from a clone of the course at /opt/aml-course/repo. Each step prints its time; re-running
# is safe (every step is idempotent). See workshop/hub/README.md for what each step does and why.
set -eu
ROSTER="${1:?usage: sh setup.sh ROSTER INSTRUCTORS HUB_ADDRESS [local-ca|acme|none]}"
INSTRUCTORS="${2:?instructors}"
ADDR="${3:?hub address}"
HTTPS="${4:-local-ca}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
BASE=/opt/aml-course
STATE=/srv/aml-hub
export DEBIAN_FRONTEND=noninteractive
T0=$(date +%s)
step() { NOW=$(date +%s); echo "[setup $((NOW - T0)) s] $*"; }

step "1/8 system packages: Python venv, Node.js for the proxy, bubblewrap for course grade, openssl"
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3 python3-venv nodejs npm bubblewrap openssl ca-certificates passwd >/dev/null
PY="${COURSE_HUB_PYTHON:-$(command -v python3.12 || command -v python3.11 || command -v python3)}"
apt-get install -y -qq --no-install-recommends "$(basename "$PY")-venv" >/dev/null
command -v configurable-http-proxy >/dev/null || npm install -g --no-audit --no-fund configurable-http-proxy@5.3.0 >/dev/null

step "2/8 the hub's user environment ($BASE/hub-env, pinned: lock + hub.txt) and the course package"
[ "$REPO" = "$BASE/repo" ] || { mkdir -p "$BASE"; rm -rf "$BASE/repo"; cp -a "$REPO" "$BASE/repo"; }
COURSE_HUB_PYTHON="$PY" "$PY" "$BASE/repo/course/delivery/workshop/hub.py" hub-env "$BASE/hub-env"
"$BASE/hub-env/bin/python" -c "import sys; sys.path.insert(0, '$BASE/repo/course/delivery/workshop'); import hub; hub.install_course(__import__('pathlib').Path('$BASE/hub-env'))"

step "3/8 the hub's configuration ($BASE/hub) and the nbgrader exchange"
rm -rf "$BASE/hub" && cp -r "$BASE/repo/workshop/hub" "$BASE/hub"
mkdir -p /srv/nbgrader/exchange && chmod 777 /srv/nbgrader/exchange
mkdir -p "$STATE" && chmod 700 "$STATE"
cp "$ROSTER" "$BASE/roster.txt"

step "4/8 login codes (one per person; the sheet is the only copy of the codes)"
"$PY" "$BASE/repo/course/delivery/workshop/hub.py" codes "$BASE/roster.txt" --instructors "$INSTRUCTORS" \
  --codes-file "$STATE/codes.json" --sheet /root/room-codes.csv

step "5/8 HTTPS ($HTTPS)"
BIND="https://0.0.0.0:443"
case "$HTTPS" in
  local-ca) sh "$BASE/hub/local-ca.sh" "$ADDR" /etc/ssl/aml-hub
            CERT=/etc/ssl/aml-hub/fullchain.pem; KEY=/etc/ssl/aml-hub/privkey.pem ;;
  acme)     apt-get install -y -qq --no-install-recommends certbot >/dev/null
            certbot certonly --standalone --non-interactive --agree-tos --register-unsafely-without-email -d "$ADDR"
            CERT="/etc/letsencrypt/live/$ADDR/fullchain.pem"; KEY="/etc/letsencrypt/live/$ADDR/privkey.pem" ;;
  none)     BIND="http://127.0.0.1:8000"; CERT=""; KEY="" ;;
  *)        echo "https-mode must be local-ca, acme or none" >&2; exit 2 ;;
esac

step "6/8 settings (/etc/aml-hub.env, root only)"
umask 077
cat > /etc/aml-hub.env <<ENV
AML_HUB_INSTRUCTORS=$INSTRUCTORS
AML_HUB_ROSTER=$BASE/roster.txt
AML_HUB_AUTH=codes
AML_HUB_CODES=$STATE/codes.json
AML_HUB_SIGNUP=off
AML_HUB_SPAWNER=systemd
AML_HUB_MEM_LIMIT=${AML_HUB_MEM_LIMIT:-1G}
AML_HUB_CPU_LIMIT=${AML_HUB_CPU_LIMIT:-1.0}
AML_HUB_IDLE_TIMEOUT=${AML_HUB_IDLE_TIMEOUT:-3600}
AML_HUB_REPO=$BASE/repo
AML_HUB_BIND_URL=$BIND
AML_HUB_SSL_CERT=$CERT
AML_HUB_SSL_KEY=$KEY
ENV
umask 022

step "7/8 the systemd unit (aml-hub.service)"
cat > /etc/systemd/system/aml-hub.service <<UNIT
[Unit]
Description=JupyterHub for the adversarial ML workshop
After=network-online.target

[Service]
EnvironmentFile=/etc/aml-hub.env
Environment=PATH=$BASE/hub-env/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
ExecStart=$BASE/hub-env/bin/jupyterhub -f $BASE/hub/jupyterhub_config.py
WorkingDirectory=$STATE
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT

step "8/8 start"
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload && systemctl enable --now aml-hub && systemctl --no-pager status aml-hub | head -5
else
  echo "no systemd here (a container?): the per-user limits need it; start by hand for a loopback test only:"
  echo "  set -a; . /etc/aml-hub.env; AML_HUB_SPAWNER=local; $BASE/hub-env/bin/jupyterhub -f $BASE/hub/jupyterhub_config.py"
fi
step "done: print /root/room-codes.csv, cut it into slips, delete it; learners open https://$ADDR/"

#!/bin/sh
# An offline room's HTTPS: a local certificate authority that can sign for the hub's address only.
#
#   sh local-ca.sh HUB_ADDRESS [OUT_DIR]       e.g. sh local-ca.sh 10.0.0.5  or  sh local-ca.sh hub.room.lan
#
# Writes OUT_DIR (default /etc/ssl/aml-hub): ca.crt (hand this to learners), fullchain.pem and
# privkey.pem (the hub's, for AML_HUB_SSL_CERT / AML_HUB_SSL_KEY). The CA's own key is deleted at
# the end: nothing else can ever be signed with it. Its certificate carries X.509 name constraints
# (critical, permitted: that one IP address or DNS name), so even a stolen CA key could not
# impersonate another site to a learner who trusted ca.crt. Valid 14 days: a workshop's span.
set -eu
ADDR="${1:?usage: sh local-ca.sh HUB_ADDRESS [OUT_DIR]}"
OUT="${2:-/etc/ssl/aml-hub}"
DAYS="${AML_CA_DAYS:-14}"
umask 077
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

if printf '%s' "$ADDR" | grep -Eq '^[0-9]+(\.[0-9]+){3}$'; then
  SAN="IP:$ADDR"
  CONSTRAINT="permitted;IP:$ADDR/255.255.255.255"
else
  SAN="DNS:$ADDR"
  CONSTRAINT="permitted;DNS:$ADDR"
fi

cat > "$TMP/ca.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
x509_extensions = ca_ext
[dn]
CN = AML workshop CA for $ADDR
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
nameConstraints = critical, $CONSTRAINT
CNF

cat > "$TMP/leaf.cnf" <<CNF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $SAN
authorityKeyIdentifier = keyid
CNF

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$DAYS" \
  -keyout "$TMP/ca.key" -out "$OUT/ca.crt" -config "$TMP/ca.cnf" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$ADDR" \
  -keyout "$OUT/privkey.pem" -out "$TMP/hub.csr" 2>/dev/null
openssl x509 -req -in "$TMP/hub.csr" -CA "$OUT/ca.crt" -CAkey "$TMP/ca.key" -CAcreateserial \
  -CAserial "$TMP/ca.srl" -days "$DAYS" -extfile "$TMP/leaf.cnf" -out "$TMP/hub.crt" 2>/dev/null
rm -f "$OUT/ca.srl"
cat "$TMP/hub.crt" "$OUT/ca.crt" > "$OUT/fullchain.pem"
chmod 644 "$OUT/ca.crt" "$OUT/fullchain.pem"
openssl verify -CAfile "$OUT/ca.crt" "$TMP/hub.crt" >/dev/null
echo "hub certificate for $ADDR in $OUT (fullchain.pem, privkey.pem); give learners $OUT/ca.crt"
echo "fingerprint to read out in the room: $(openssl x509 -in "$OUT/ca.crt" -noout -fingerprint -sha256 | cut -d= -f2)"

#!/usr/bin/env bash
# Throwaway certificates for trying the secure configuration (docker-compose.secure.yml):
# a CA, a broker key store (PEM: key + chain) and a client certificate for mutual TLS.
# Never use these in production: issue real ones from the hospital's PKI.
set -euo pipefail
out="${1:-.cache/certs}"
mkdir -p "$out" && cd "$out"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout ca.key -out ca.pem -subj "/CN=vasowatch dev CA"
for name in broker client; do
  printf 'subjectAltName=DNS:kafka,DNS:localhost,IP:127.0.0.1\n' > "$name.ext"
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$name"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
    -out "$name.crt" -extfile "$name.ext"
done
cat broker.key broker.crt ca.pem > broker-keystore.pem
chmod 600 ./*.key broker-keystore.pem
echo "certificates in $out"

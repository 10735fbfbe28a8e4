#!/usr/bin/env bash
# Makes a throwaway CA (DIR/ca.pem) and a certificate it signed for 127.0.0.1 and localhost
# (DIR/server.pem, DIR/server.key), for the wrappers that start a TLS service for a test:
#   make_test_ca.sh DIR
set -euo pipefail
dir="$1"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 -subj "/CN=conformance CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$dir/ext.cnf"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/server.pem" \
  -days 2 -extfile "$dir/ext.cnf" 2>/dev/null

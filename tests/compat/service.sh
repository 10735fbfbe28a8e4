# What the wrappers that start a service for a test share (sourced, not run):
#   make_test_ca DIR   a throwaway CA (DIR/ca.pem) and a certificate it signed for 127.0.0.1
#                      and localhost (DIR/server.pem, DIR/server.key)
#   wait_until_listening NAME OUT ERR
#                      waits (30 s at most) for a line with "listening on ..." in the file OUT
#                      and prints what follows it; if none comes, shows ERR and fails (prints
#                      nothing: the caller checks)

make_test_ca() {
  local dir="$1"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 -subj "/CN=conformance CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/server.pem" \
    -days 2 -extfile "$dir/ext.cnf" 2>/dev/null
}

wait_until_listening() {
  local name="$1" out="$2" err="$3"
  for _ in $(seq 300); do
    if grep -q "listening on " "$out"; then
      sed -n 's/.*listening on //p' "$out" | head -n 1
      return 0
    fi
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$err" >&2
  return 1
}

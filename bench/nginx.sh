# bench/nginx.sh: nginx as the best-case proxy hop between the load and the fake upstream (issue 17), sourced by
# bench/run.sh after lib.sh. nginx only copies bytes: an upstream keep-alive pool, buffering off both ways, no access log,
# one worker per core. Durar's stateless path is measured against it in the same round as against the direct upstream.
# NGINX=0 leaves it out. Installs Debian's nginx-light when nginx is missing (as lib.sh does for wrk).

NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
NGX_PID=""
NGX=""

start_nginx() {
  if [ ! -x "$NGINX_BIN" ]; then
    log "installing nginx (Debian package nginx-light)"
    (apt-get update -qq && apt-get install -y -qq nginx-light) >"$WORK/apt-nginx.log" 2>&1 \
      || die "could not install nginx (see $WORK/apt-nginx.log); NGINX=0 leaves it out"
    NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
  fi
  local port dir="$WORK/nginx"
  port=$(bench freeport 1)
  mkdir -p "$dir/logs"
  cat >"$dir/nginx.conf" <<EOF
# Written by bench/nginx.sh: the best-case proxy hop in front of the fake upstream.
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 10000000;
  upstream fake {
    server 127.0.0.1:$UP_PORT;
    keepalive 256;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
EOF
  "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/stdout.log" 2>&1 &
  NGX_PID=$!
  PIDS+=("$NGX_PID")
  NGX="http://127.0.0.1:$port"
  wait_ready "$NGX/healthz" 30 "$NGX_PID"
  local code
  code=$(curl -s -o "$WORK/check.nginx" -w '%{http_code}' -H 'content-type: application/json' -H 'Authorization: Bearer sk-bench' \
    -d '{"model":"m","messages":[{"role":"user","content":"hi"}]}' "$NGX/v1/chat/completions")
  [ "$code" = 200 ] || die "sanity check through nginx answered $code: $(head -c 400 "$WORK/check.nginx")"
  log "nginx $("$NGINX_BIN" -v 2>&1 | sed 's/.*nginx\///') on $NGX (pid $NGX_PID, $(pgrep -c -P "$NGX_PID") workers)"
}

# CPU ticks of nginx: the master and its workers.
nginx_ticks() {
  local t=0 p
  for p in "$NGX_PID" $(pgrep -P "$NGX_PID"); do t=$((t + $(cpu_ticks "$p"))); done
  echo "$t"
}
CPU_NGX0=0
nginx_cpu_begin() { CPU_NGX0=$(nginx_ticks); }
nginx_cpu_end() { # name requests
  fig "$1.cpu_ngx_us" "$(awk -v t="$(($(nginx_ticks) - CPU_NGX0))" -v n="$2" -v hz="$CLK_TCK" 'BEGIN{ if (n>0) printf "%.1f", t*1e6/hz/n; else print "nan"}')"
}

/**
 * nginx configurations for the ALB benchmark: the upstream every front proxies to (answers "ok"),
 * and nginx doing what the emulator does on its verify listener: TLS termination with the same
 * certificate, client certificate verification against the same bundle, the same AWS headers
 * ($ssl_client_escaped_cert for the leaf), forwarded headers, keep-alive connections upstream.
 */

export interface NginxFiles {
  /** nginx -p prefix (logs, temp dirs, pid). */
  readonly prefix: string;
  readonly certFile: string;
  readonly keyFile: string;
}

function common(f: NginxFiles, workers: number | "auto"): string {
  return `worker_processes ${workers};
pid ${f.prefix}/nginx.pid;
error_log ${f.prefix}/error.log warn;
events { worker_connections 8192; multi_accept on; }
`;
}

function temps(f: NginxFiles): string {
  return `  client_body_temp_path ${f.prefix}/client_temp;
  proxy_temp_path ${f.prefix}/proxy_temp;
  fastcgi_temp_path ${f.prefix}/fastcgi_temp;
  uwsgi_temp_path ${f.prefix}/uwsgi_temp;
  scgi_temp_path ${f.prefix}/scgi_temp;
`;
}

/** The target behind every front: HTTPS, answers 200 "ok" with Content-Length. */
export function upstreamConfig(f: NginxFiles, port: number): string {
  return `${common(f, 1)}
http {
  access_log off;
${temps(f)}  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${f.certFile};
    ssl_certificate_key ${f.keyFile};
    location / { default_type text/plain; return 200 "ok\\n"; }
  }
}
`;
}

export interface FrontOptions {
  readonly port: number;
  readonly upstreamPort: number;
  readonly caBundleFile: string;
  readonly workers: number;
}

/**
 * nginx as the mTLS-verify front. No ssl_crl: nginx checks CRLs for every CA of the chain and the
 * lab has a CRL for the device CA only (the emulator does check it: slightly more work for us).
 */
export function frontConfig(f: NginxFiles, o: FrontOptions): string {
  return `${common(f, o.workers)}
http {
  access_log off;
${temps(f)}  keepalive_requests 1000000;
  keepalive_timeout 60s;
  upstream target { server 127.0.0.1:${o.upstreamPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${o.port} ssl;
    ssl_certificate ${f.certFile};
    ssl_certificate_key ${f.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets off;
    ssl_session_cache off;
    ssl_verify_client on;
    ssl_verify_depth 3;
    ssl_client_certificate ${o.caBundleFile};
    location / {
      proxy_pass https://target;
      proxy_ssl_verify off;
      proxy_ssl_session_reuse on;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Port ${o.port};
      proxy_set_header X-Amzn-Trace-Id "Root=1-$request_id";
      proxy_set_header X-Amzn-Mtls-Clientcert "";
      proxy_set_header X-Amzn-Mtls-Clientcert-Serial-Number $ssl_client_serial;
      proxy_set_header X-Amzn-Mtls-Clientcert-Issuer $ssl_client_i_dn;
      proxy_set_header X-Amzn-Mtls-Clientcert-Subject $ssl_client_s_dn;
      proxy_set_header X-Amzn-Mtls-Clientcert-Validity "NotBefore=$ssl_client_v_start;NotAfter=$ssl_client_v_end";
      proxy_set_header X-Amzn-Mtls-Clientcert-Leaf $ssl_client_escaped_cert;
    }
  }
}
`;
}

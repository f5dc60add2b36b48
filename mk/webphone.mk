# examples/webphone: SIP over WebSocket with SIP.js, JsSIP and Chromium.
#   make webphone-deps   npm ci: SIP.js, JsSIP, ws, playwright-core at the versions in package-lock.json
#   make webphone        make run, then open https://127.0.0.1:8443/ (accept the throwaway certificate)
#   make tls-cert        build/tls/{cert,key}.pem: a throwaway self-signed pair for 127.0.0.1
.PHONY: webphone webphone-deps tls-cert
WEBPHONE := examples/webphone
TLS_CERT := $(BUILD)/tls/cert.pem
TLS_KEY := $(BUILD)/tls/key.pem

webphone-deps: $(WEBPHONE)/node_modules/.package-lock.json
$(WEBPHONE)/node_modules/.package-lock.json: $(WEBPHONE)/package.json $(WEBPHONE)/package-lock.json
	@if command -v npm >/dev/null; then cd $(WEBPHONE) && npm ci --no-audit --no-fund; \
	else echo "npm not found: the webphone page and its tests need Node.js and npm (they skip without them)"; fi

tls-cert: $(TLS_CERT)
$(TLS_CERT):
	@mkdir -p $(dir $@)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
		-keyout $(TLS_KEY) -out $(TLS_CERT) 2>/dev/null

webphone: run

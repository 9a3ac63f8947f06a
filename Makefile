# Corral's front door. `make up` brings a local cluster up with a sample app; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := build
.PHONY: all deps npm build generate images test test-unit test-integration up down bench bench-api bench-scheduler bench-pod-startup bench-service bench-controllers clean

APT_PACKAGES := etcd-server etcd-client nats-server docker.io docker-compose containerd runc nftables iptables iproute2 \
	containernetworking-plugins busybox-static debootstrap docker-registry apache2-utils make jq curl ca-certificates

# Unit tests live beside the code; integration tests under test/.
UNIT_TESTS = $(shell find libs services cli -path '*/node_modules' -prune -o -path '*/dist/*' -name '*.test.js' -print 2>/dev/null | sort)
INTEGRATION_TESTS = $(shell find test/dist -name '*.test.js' 2>/dev/null | sort)

all: build

## deps: the Debian packages and npm modules Corral needs (idempotent)
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing:" $$missing; apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; fi
	@$(MAKE) --no-print-directory npm

npm:
	@[ -d node_modules/@corral/api ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund

## generate: TypeScript from proto/ (committed; run after changing a .proto)
generate:
	npx buf generate
	npx buf generate --template buf.gen.cri.yaml

## build: compile every workspace
build: npm
	npx tsc -b

## images: the container images tests start (built locally, no registry)
images:
	bash scripts/start-docker.sh
	bash scripts/build-images.sh

test-unit: build
	node --test --test-reporter=spec $(UNIT_TESTS)

test-integration: build images
	node --test --test-reporter=spec --test-concurrency=1 $(INTEGRATION_TESTS)

## test: unit tests, then integration tests against real etcd and NATS in containers
test: deps build images
	node --test --test-reporter=spec --test-concurrency=2 --test-timeout=600000 $(UNIT_TESTS) $(INTEGRATION_TESTS)

## up: install what is needed, start the local cluster, apply the sample app
up: deps build
	./bin/corral up
	./bin/corral apply -f examples/hello.yaml
	./bin/corral rollout status deploy/hello --timeout=120s
	./bin/corral get deploy,pods,svc,ep -o wide
	@ip=$$(./bin/corral get svc hello -o json | jq -r .spec.clusterIP); echo "curl http://$$ip/ (the Service's ClusterIP):"; curl -fsS "http://$$ip/"

## down: stop the local cluster (its state stays; `./bin/corral down --purge` removes it)
down:
	./bin/corral down

## bench: the benchmarks (they print their figures and the reference's)
bench: bench-api bench-scheduler bench-pod-startup bench-service bench-controllers
bench-api: build
	node bench/dist/api/main.js
bench-scheduler: build
	node bench/dist/scheduler/main.js
bench-pod-startup: deps build
	node bench/dist/pod-startup/main.js
bench-controllers: build
	node bench/dist/controllers/main.js
bench-service: deps build
	node bench/dist/service/main.js

clean:
	rm -rf libs/*/dist services/*/dist cli/dist test/dist bench/dist
	find . -name '*.tsbuildinfo' -not -path './node_modules/*' -delete

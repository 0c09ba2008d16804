//go:build tools

// The main engine/build.sh builds; this file makes `go mod tidy` keep its dependencies.
package tools

import _ "go.etcd.io/etcd/server/v3"

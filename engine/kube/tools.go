//go:build tools

// The mains engine/build.sh builds; this file makes `go mod tidy` keep their dependencies.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
